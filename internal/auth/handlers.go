package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"musicadmin/internal/audit"
	"musicadmin/internal/textutil"
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
	// logins, counted in the database.
	Throttle *LoginThrottle
	// Audit, when set, records every login, failed login and logout.
	Audit audit.Log
	// SecondStep, when set, says whether user, whose password was right,
	// owes a second factor's code (ask), or must enroll one first
	// (enroll, with ask): then no session starts yet, and the login goes
	// on at SecondStepURL.
	SecondStep func(ctx context.Context, user *User) (ask, enroll bool, err error)
	// PasswordOff turns the username and password form off: single
	// sign-on only (auth.password_login: false).
	PasswordOff bool
	// SignOnButton, when not empty, is the label of the login page's
	// single sign-on button, which starts the flow at SignOnURL.
	SignOnButton string
}

// SignOnURL starts a single sign-on.
const SignOnURL = "/login/oidc"

// MsgPasswordOff answers a password login while only single sign-on is on.
const MsgPasswordOff = "Sign-in with a password is turned off here. Use single sign-on."

// SecondStepURL is the login's second step: a second factor's code.
const SecondStepURL = "/login/2fa"

// record appends an entry of action by username to the audit log. A
// failure is logged, not shown: the login or logout itself is done.
func (h *Handlers) record(r *http.Request, action, username string) {
	h.Record(r, action, username)
}

// Record appends an entry of action by username to the audit log, as the
// login's own: for the second step's handlers.
func (h *Handlers) Record(r *http.Request, action, username string) {
	if h.Audit == nil {
		return
	}
	e := audit.Entry{Time: time.Now(), Username: username, Action: action}
	if err := h.Audit.Append(context.WithoutCancel(r.Context()), e); err != nil {
		h.Log.Error("audit log", "action", action, "username", username, "err", err)
	}
}

type loginPage struct {
	Error, Username, Next string
	// Password shows the username and password form; SignOn, when not
	// empty, the single sign-on button with this label.
	Password bool
	SignOn   string
}

// page returns the login page's data with the form and button the
// configuration shows.
func (h *Handlers) page(p loginPage) loginPage {
	p.Password, p.SignOn = !h.PasswordOff, h.SignOnButton
	return p
}

// Refuse answers the login page again, with status and msg: a login or
// a single sign-on that did not go through.
func (h *Handlers) Refuse(w http.ResponseWriter, r *http.Request, status int, msg, next string) {
	h.UI.Render(w, r, status, "login", "Sign in", h.page(loginPage{Error: msg, Next: SafeNext(next)}))
}

// ShowLogin handles "GET /login/". A user already logged in goes on to
// next; one who owes the second step, to it.
func (h *Handlers) ShowLogin(w http.ResponseWriter, r *http.Request) {
	next := SafeNext(r.URL.Query().Get("next"))
	if CurrentUser(r) != nil {
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	if PendingOf(r) != nil {
		http.Redirect(w, r, SecondStepURL, http.StatusFound)
		return
	}
	h.UI.Render(w, r, http.StatusOK, "login", "Sign in", h.page(loginPage{Next: next}))
}

// RefuseForm answers a request CheckCSRF refused, through the UI's error
// mapper, but for one case: a POST to the login form whose body is not a
// form (JSON, text) fails like a bad login, with the form again and 400.
func (h *Handlers) RefuseForm(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, view.ErrNotForm) && r.URL.Path == "/login/" {
		h.UI.Render(w, r, http.StatusBadRequest, "login", "Sign in", h.page(loginPage{Error: MsgInvalidLogin, Next: "/"}))
		return
	}
	h.UI.Fail(w, r, err)
}

// Login handles "POST /login/". CheckCSRF has parsed the form and checked
// its token.
func (h *Handlers) Login(w http.ResponseWriter, r *http.Request) {
	next := r.PostForm.Get("next")
	if next == "" {
		next = r.URL.Query().Get("next")
	}
	next = SafeNext(next)
	if h.PasswordOff {
		h.Refuse(w, r, http.StatusForbidden, MsgPasswordOff, next)
		return
	}
	username := r.PostForm.Get("username")
	shownName := textutil.Truncate(strings.ToValidUTF8(username, ""), 64)
	var attempt *Attempt
	if h.Throttle != nil {
		// Before the password is checked: a blocked guess costs no bcrypt.
		a, wait, err := h.Throttle.Begin(r.Context(), r, time.Now())
		if err != nil {
			// A 503, never a 500, and no password checked: see Begin.
			h.UI.Fail(w, r, fmt.Errorf("login: %w", err))
			return
		}
		if wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			h.Log.Warn("login throttled", "remote", r.RemoteAddr, "retry_after", secs)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			h.UI.Render(w, r, http.StatusTooManyRequests, "login", "Sign in", h.page(loginPage{
				Error: fmt.Sprintf("Too many failed logins. Try again in %d seconds.", secs), Username: shownName, Next: next}))
			return
		}
		attempt = a
	}
	user, err := h.Users.Authenticate(r.Context(), username, r.PostForm.Get("password"))
	var ask bool
	if err == nil {
		ask, err = h.begin(w, r, user, next)
	}
	if attempt != nil && !errors.Is(err, ErrInvalidLogin) {
		h.forget(r, attempt)
	}
	switch {
	case err == nil:
		h.finish(w, r, user, next, ask, audit.ActionLogin)
	case errors.Is(err, ErrInvalidLogin):
		// The attempt stays counted: it is the failure.
		loginFailures.Add(1)
		h.Log.Warn("login failed", "username", textutil.Truncate(username, 64), "remote", r.RemoteAddr)
		// The name tried, as shown back on the form; never the password.
		h.record(r, audit.ActionLoginFailed, shownName)
		h.UI.Render(w, r, http.StatusOK, "login", "Sign in",
			h.page(loginPage{Error: MsgInvalidLogin, Username: shownName, Next: next}))
	default:
		h.UI.Fail(w, r, fmt.Errorf("login: %w", err))
	}
}

// begin starts what follows a login whose user is known (a right
// password, a single sign-on): the second step when one is owed (ask),
// else the session.
func (h *Handlers) begin(w http.ResponseWriter, r *http.Request, user *User, next string) (ask bool, err error) {
	var enroll bool
	if h.SecondStep != nil {
		if ask, enroll, err = h.SecondStep(r.Context(), user); err != nil {
			return false, err
		}
	}
	if ask {
		return true, h.Sessions.BeginPending(w, r, user, next, enroll)
	}
	return false, h.Sessions.Login(w, r, user)
}

// finish answers a login begun: on to the second step, or to next with
// the login recorded in the audit log as action.
func (h *Handlers) finish(w http.ResponseWriter, r *http.Request, user *User, next string, ask bool, action string) {
	if ask {
		// The login is recorded after the second step, the one that
		// starts a session.
		h.Log.Info("sign-in accepted: second factor asked", "username", user.Username, "remote", r.RemoteAddr)
		http.Redirect(w, r, SecondStepURL, http.StatusFound)
		return
	}
	h.Log.Info("login succeeded", "username", user.Username, "remote", r.RemoteAddr, "action", action)
	h.record(r, action, user.Username)
	http.Redirect(w, r, next, http.StatusFound)
}

// SignedOn goes on with a single sign-on's user as with a right
// password: the second step when owed, else a session; the sign-in is
// recorded as action. An error is the database's: nothing was started.
func (h *Handlers) SignedOn(w http.ResponseWriter, r *http.Request, user *User, next, action string) error {
	next = SafeNext(next)
	ask, err := h.begin(w, r, user, next)
	if err != nil {
		return err
	}
	if ask {
		// The provider's part is done: recorded now, the second step's
		// login after it.
		h.record(r, action, user.Username)
	}
	h.finish(w, r, user, next, ask, action)
	return nil
}

// forgetTimeout bounds the write that uncounts a login attempt.
const forgetTimeout = 5 * time.Second

// forget uncounts attempt, which turned out no failed guess: only a wrong
// password counts. It runs even when the client has gone (the password was
// checked all the same). When it fails (the database that just refused the
// session refuses this too: a full disk, an outage), the throttle forgets
// the attempt again before it counts the next one, so the outage costs
// the address no try once the database takes writes again.
func (h *Handlers) forget(r *http.Request, attempt *Attempt) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), forgetTimeout)
	defer cancel()
	if err := attempt.Forget(ctx); err != nil {
		attempt.RetryLater(time.Now())
		h.Log.Warn("login attempt not yet uncounted by the throttle: retried at the next attempt", "remote", r.RemoteAddr, "err", err)
	}
}

// Logout handles "GET /logout/" and "POST /logout/" (whose token CheckCSRF
// has checked). A GET from another site (an <img> on a hostile page) does
// not end the session.
func (h *Handlers) Logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	if u := CurrentUser(r); u != nil {
		h.Log.Info("logout", "username", u.Username)
		h.record(r, audit.ActionLogout, u.Username)
	}
	if err := h.Sessions.Logout(w, r); err != nil {
		h.Log.Error("logout", "err", err)
	}
	http.Redirect(w, r, "/login/", http.StatusFound)
}

// RequireLogin sends anonymous requests to the login page, remembering
// where they were going, and those of a login whose second step is owed
// to that step: no page answers before it.
func RequireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if CurrentUser(r) == nil && PendingOf(r) != nil {
			http.Redirect(w, r, SecondStepURL, http.StatusFound)
			return
		}
		if CurrentUser(r) == nil {
			http.Redirect(w, r, "/login/?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
			return
		}
		next.ServeHTTP(w, r)
	})
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
