package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"musicadmin/internal/store"
	"musicadmin/internal/view"
)

// MsgInvalidLogin is the one message for every failed login.
const MsgInvalidLogin = "Invalid login. Please try again."

// Handlers serves /login/ and /logout/.
type Handlers struct {
	Users    *Users
	Sessions *Sessions
	UI       *view.Engine
	Log      *slog.Logger
	// Throttle, when set, answers 429 to an address after too many failed
	// logins.
	Throttle *LoginThrottle
}

type loginPage struct {
	Error, Username, Next string
}

// ShowLogin handles "GET /login/". A user already logged in goes on to next.
func (h *Handlers) ShowLogin(w http.ResponseWriter, r *http.Request) {
	next := SafeNext(r.URL.Query().Get("next"))
	if CurrentUser(r) != nil {
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	h.UI.Render(w, r, http.StatusOK, "login", "Sign in", loginPage{Next: next})
}

// Login handles "POST /login/".
func (h *Handlers) Login(w http.ResponseWriter, r *http.Request) {
	if status := ParseForm(r); status != 0 {
		if status == http.StatusUnsupportedMediaType {
			// A JSON or text body is not a login form: fail like one.
			h.UI.Render(w, r, http.StatusBadRequest, "login", "Sign in", loginPage{Error: MsgInvalidLogin, Next: "/"})
			return
		}
		h.UI.Error(w, r, status, http.StatusText(status))
		return
	}
	if !h.Sessions.ValidCSRF(r) {
		h.UI.Error(w, r, http.StatusForbidden, "The form has expired or did not come from this site. Reload the page and try again.")
		return
	}
	next := r.PostForm.Get("next")
	if next == "" {
		next = r.URL.Query().Get("next")
	}
	next = SafeNext(next)
	username := r.PostForm.Get("username")
	shownName := truncate(strings.ToValidUTF8(username, ""), 64)
	if h.Throttle != nil {
		// Before the password is checked: a blocked guess costs no bcrypt.
		if wait := h.Throttle.Wait(r); wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			h.Log.Warn("login throttled", "remote", r.RemoteAddr, "retry_after", secs)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			h.UI.Render(w, r, http.StatusTooManyRequests, "login", "Sign in", loginPage{
				Error: fmt.Sprintf("Too many failed logins. Try again in %d seconds.", secs), Username: shownName, Next: next})
			return
		}
	}
	user, err := h.Users.Authenticate(r.Context(), username, r.PostForm.Get("password"))
	if err == nil {
		err = h.Sessions.Login(w, r, user)
	}
	switch {
	case err == nil:
		h.Log.Info("login succeeded", "username", user.Username, "remote", r.RemoteAddr)
		http.Redirect(w, r, next, http.StatusFound)
	case errors.Is(err, ErrInvalidLogin):
		h.Log.Warn("login failed", "username", truncate(username, 64), "remote", r.RemoteAddr)
		if h.Throttle != nil {
			h.Throttle.Failed(r)
		}
		h.UI.Render(w, r, http.StatusOK, "login", "Sign in",
			loginPage{Error: MsgInvalidLogin, Username: shownName, Next: next})
	case store.Unavailable(err):
		h.Log.Warn("login: database unavailable", "err", err)
		h.UI.Error(w, r, http.StatusServiceUnavailable, "The database is busy, try again in a moment.")
	default:
		h.Log.Error("login", "err", err)
		h.UI.Error(w, r, http.StatusInternalServerError, "Internal error.")
	}
}

// Logout handles "GET /logout/" and "POST /logout/". A GET from another
// site (an <img> on a hostile page) does not end the session.
func (h *Handlers) Logout(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if status := ParseForm(r); status != 0 {
			h.UI.Error(w, r, status, http.StatusText(status))
			return
		}
		if !h.Sessions.ValidCSRF(r) {
			h.UI.Error(w, r, http.StatusForbidden, "The form has expired or did not come from this site.")
			return
		}
	} else if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	if u := CurrentUser(r); u != nil {
		h.Log.Info("logout", "username", u.Username)
	}
	if err := h.Sessions.Logout(w, r); err != nil {
		h.Log.Error("logout", "err", err)
	}
	http.Redirect(w, r, "/login/", http.StatusFound)
}

// RequireLogin sends anonymous requests to the login page, remembering
// where they were going.
func RequireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if CurrentUser(r) == nil {
			http.Redirect(w, r, "/login/?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CheckCSRF refuses state-changing requests whose form lacks the session's
// token: 403, or 413/400/415 when the body is not a readable form.
func (s *Sessions) CheckCSRF(onError func(w http.ResponseWriter, r *http.Request, status int)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				next.ServeHTTP(w, r)
				return
			}
			if status := ParseForm(r); status != 0 {
				onError(w, r, status)
				return
			}
			if !s.ValidCSRF(r) {
				onError(w, r, http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// maxMultipartMemory bounds what a multipart form may hold in memory; the
// body itself is already capped by the server.
const maxMultipartMemory = 1 << 20

// ParseForm parses a POST body and returns 0, or the status to answer: 413
// when the body is over the cap, 400 when it does not parse (too many
// fields), 415 when it is not a form at all.
func ParseForm(r *http.Request) int {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch ct {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxMultipartMemory)
	default:
		return http.StatusUnsupportedMediaType
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusBadRequest
	}
}

// SafeNext returns next when it is a local path on this site, and "/"
// otherwise: no scheme, no host, no "//" or backslash that a browser would
// read as another host, no control characters.
func SafeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' {
		return "/"
	}
	if strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	// The decoded path is checked too: "/%5Cevil.example" is "/\evil.example"
	// to any proxy or server that decodes before it normalises.
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(u.Path, "//") || strings.Contains(u.Path, "\\") {
		return "/"
	}
	if strings.HasPrefix(u.Path, "/login") || strings.HasPrefix(u.Path, "/logout") {
		return "/"
	}
	return next
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
