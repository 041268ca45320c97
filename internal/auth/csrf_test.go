package auth_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"musicadmin/internal/auth"
)

// browser is one anonymous session of s: its cookie, kept as a browser
// keeps it.
type browser struct {
	t       *testing.T
	s       *auth.Sessions
	cookies []*http.Cookie
}

func (b *browser) serve(r *http.Request, h http.HandlerFunc) {
	b.t.Helper()
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.s.Load(func(w http.ResponseWriter, r *http.Request, err error) { b.t.Errorf("load: %v", err) })(h).ServeHTTP(w, r)
	if set := w.Result().Cookies(); len(set) > 0 {
		b.cookies = set[len(set)-1:]
	}
}

// token renders a form: the token it carries.
func (b *browser) token() string {
	var tok string
	b.serve(httptest.NewRequest(http.MethodGet, "/", nil), func(w http.ResponseWriter, r *http.Request) {
		tok = b.s.CSRFToken(w, r)
	})
	return tok
}

// accepts posts a form carrying token and reports whether ValidCSRF takes it.
func (b *browser) accepts(token string) bool {
	var ok bool
	body := url.Values{"csrf_token": {token}}.Encode()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	b.serve(r, func(w http.ResponseWriter, r *http.Request) {
		if err := auth.ParseForm(r); err != nil {
			b.t.Fatal(err)
		}
		ok = b.s.ValidCSRF(r)
	})
	return ok
}

// TestCSRFMaskedPerPage: every form of a session carries its token masked
// afresh (BREACH), every masking of it is accepted, and a token changed by
// one character, cut short or from another session is refused.
func TestCSRFMaskedPerPage(t *testing.T) {
	s := auth.NewSessions(nil, "test-secret-key-0123456789abcdef0123456789", false,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	b := &browser{t: t, s: s}
	first, second := b.token(), b.token()
	if first == "" || first == second {
		t.Fatalf("two pages carry %q and %q: want two different tokens", first, second)
	}
	for _, tok := range []string{first, second} {
		if !b.accepts(tok) {
			t.Errorf("token %q of this session refused", tok)
		}
	}
	other := &browser{t: t, s: s}
	tampered := []byte(first)
	if i := len(tampered) * 3 / 4; tampered[i] == 'A' { // in the masked half
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	for name, tok := range map[string]string{
		"other session's":       other.token(),
		"one character changed": string(tampered),
		"cut short":             first[:len(first)-4],
		"not base64":            first[:len(first)-1] + "!",
		"empty":                 "",
	} {
		if b.accepts(tok) {
			t.Errorf("%s token %q accepted", name, tok)
		}
	}
}
