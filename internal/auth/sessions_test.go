package auth_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"musicadmin/internal/auth"
)

// TestFlashCaps: however many flashes pile up unread, the newest 3 are
// kept, each at most 160 characters, and reading them clears them.
func TestFlashCaps(t *testing.T) {
	// No request below logs anyone in, so the sessions never reach a store.
	s := auth.NewSessions(nil, "test-secret-key-0123456789abcdef0123456789", false,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	fail := func(w http.ResponseWriter, r *http.Request, err error) { t.Errorf("load: %v", err) }
	var cookies []*http.Cookie
	serve := func(h http.HandlerFunc) {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		s.Load(fail)(h).ServeHTTP(w, r)
		// Each save sets the cookie again; as in a browser, the last wins.
		if set := w.Result().Cookies(); len(set) > 0 {
			cookies = set[len(set)-1:]
		}
	}

	long := strings.Repeat("é", 200)
	serve(func(w http.ResponseWriter, r *http.Request) {
		for _, msg := range []string{"one", "two", "three"} {
			s.AddFlash(w, r, msg)
		}
	})
	// A later request adds two more: the oldest go.
	serve(func(w http.ResponseWriter, r *http.Request) {
		s.AddFlash(w, r, "four")
		s.AddFlash(w, r, long)
	})
	var got []string
	serve(func(w http.ResponseWriter, r *http.Request) { got = s.PopFlashes(w, r) })
	if len(got) != 3 || got[0] != "three" || got[1] != "four" {
		t.Fatalf("flashes = %q, want three, four and the long one", got)
	}
	if n := utf8.RuneCountInString(got[2]); n != 160 || !strings.HasSuffix(got[2], "…") {
		t.Errorf("long flash: %d characters %q, want 160 ending in …", n, got[2])
	}
	serve(func(w http.ResponseWriter, r *http.Request) { got = s.PopFlashes(w, r) })
	if len(got) != 0 {
		t.Errorf("flashes shown twice: %q", got)
	}
}
