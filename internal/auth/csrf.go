package auth

import (
	"crypto/subtle"
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

// ValidCSRF reports whether the form's csrf_token is the session's. Only the
// POST body counts, never the query string.
func (s *Sessions) ValidCSRF(r *http.Request) bool {
	want, _ := s.session(r).Values[keyCSRF].(string)
	got := r.PostForm.Get("csrf_token")
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
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
