package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"

	"musicadmin/internal/view"
)

// CheckCSRF is middleware that refuses every state-changing request whose
// form lacks the session's token, the login and logout forms included. A
// refusal goes to fail with view.ErrCSRF, or with view.ErrTooLarge,
// view.ErrBadForm or view.ErrNotForm when the body is not a readable form.
// Safe methods pass untouched.
func (s *Sessions) CheckCSRF(fail func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				next.ServeHTTP(w, r)
				return
			}
			if err := ParseForm(r); err != nil {
				fail(w, r, err)
				return
			}
			if !s.ValidCSRF(r) {
				fail(w, r, view.ErrCSRF)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ValidCSRF reports whether the form's csrf_token is a masking of the
// session's token (maskCSRF). Only the POST body counts, never the query
// string.
func (s *Sessions) ValidCSRF(r *http.Request) bool {
	want, _ := s.session(r).Values[keyCSRF].(string)
	got := unmaskCSRF(r.PostForm.Get("csrf_token"))
	return want != "" && subtle.ConstantTimeCompare([]byte(want), got) == 1
}

// maskCSRF returns the session's token secret as a page carries it: a
// fresh random pad as long as the secret, then the pad XOR the secret,
// base64url-encoded (as Django masks its token). Every page thus carries
// other bytes for the same secret, so a compressed page's size tells an
// attacker who injects guesses into it nothing about the token (BREACH).
func maskCSRF(secret string) string {
	n := len(secret)
	b := make([]byte, 2*n)
	_, _ = rand.Read(b[:n]) // never fails (crypto/rand)
	for i := range n {
		b[n+i] = b[i] ^ secret[i]
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// unmaskCSRF returns the secret of a token maskCSRF made, or nil when
// token is not one.
func unmaskCSRF(token string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) == 0 || len(b)%2 != 0 {
		return nil
	}
	n := len(b) / 2
	secret := make([]byte, n)
	for i := range n {
		secret[i] = b[i] ^ b[n+i]
	}
	return secret
}

// maxMultipartMemory bounds what a multipart form may hold in memory; the
// body itself is already capped by the server.
const maxMultipartMemory = 1 << 20

// ParseForm parses a POST body. It returns view.ErrTooLarge when the body is
// over the cap, view.ErrBadForm when it does not parse (too many fields),
// view.ErrNotForm when it is not a form at all.
func ParseForm(r *http.Request) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch ct {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxMultipartMemory)
	default:
		return view.ErrNotForm
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return view.ErrTooLarge
	default:
		return view.ErrBadForm
	}
}
