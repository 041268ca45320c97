package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

const codecSecret = "test-secret-key-0123456789abcdef0123456789"

// TestCookieWrittenInGobStillReads: a session cookie of before the switch
// to JSON (gorilla's default gob, same keys) is read, so an upgrade logs
// nobody out; and a new cookie is JSON.
func TestCookieWrittenInGobStillReads(t *testing.T) {
	s := NewSessions(nil, codecSecret, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, []byte(codecSecret))
		m.Write([]byte(purpose))
		return m.Sum(nil)
	}
	old := sessions.NewCookieStore(derive("cookie-hash"), derive("cookie-block"))
	value, err := securecookie.EncodeMulti(s.cookieName, map[any]any{keyCSRF: "old-csrf", "_flash": []any{"hello"}},
		old.Codecs...)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: s.cookieName, Value: value})
	w := httptest.NewRecorder()
	if got := string(unmaskCSRF(s.CSRFToken(w, r))); got != "old-csrf" {
		t.Fatalf("CSRF token of a gob cookie = %q, want old-csrf", got)
	}
	if got := s.PopFlashes(w, r); len(got) != 1 || got[0] != "hello" {
		t.Fatalf("flashes of a gob cookie = %q, want [hello]", got)
	}

	// The cookie saved after popping the flash is JSON, and reads back.
	set := w.Result().Cookies()
	if len(set) == 0 {
		t.Fatal("no cookie saved after the flash was read")
	}
	var raw []byte
	if err := securecookie.DecodeMulti(s.cookieName, set[len(set)-1].Value, &raw,
		rawCodecs(derive("cookie-hash"), derive("cookie-block"))...); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), "{") || !strings.Contains(string(raw), `"csrf":"old-csrf"`) {
		t.Fatalf("new cookie holds %q, want a JSON object with the CSRF token", raw)
	}
	r2 := httptest.NewRequest(http.MethodGet, "/", nil)
	r2.AddCookie(set[len(set)-1])
	if got := string(unmaskCSRF(s.CSRFToken(httptest.NewRecorder(), r2))); got != "old-csrf" {
		t.Fatalf("CSRF token of the JSON cookie = %q, want old-csrf", got)
	}
}

// rawCodecs decode a cookie's payload as bytes, without deserialising it.
func rawCodecs(hashKey, blockKey []byte) []securecookie.Codec {
	return []securecookie.Codec{securecookie.New(hashKey, blockKey).SetSerializer(securecookie.NopEncoder{})}
}
