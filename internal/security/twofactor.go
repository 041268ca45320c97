package security

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"image/png"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/pquerna/otp"

	"musicadmin/internal/accounts"
	"musicadmin/internal/admin"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/i18n"
	"musicadmin/internal/view"
)

// The second factor's pages: the login's second step at /login/2fa (a
// code after the password; or, for a user whose role requires a second
// factor and who has none, the enrollment, before any page answers them),
// and every user's own page at /users/2fa (enroll: the secret as a QR code
// and as text, confirmed by a first code, then 10 recovery codes shown
// once; disable with a code). A code is a guess like a password: every
// form that checks one is throttled by the login's throttle, counted in
// the database.

// Routes, the form field and the messages of the second factor's pages.
const (
	twoFactorPattern  = "/2fa"
	disablePattern    = "/2fa/disable"
	fieldCode         = "code"
	twoFactorHeading  = "Two-factor authentication"
	secondStepHeading = "Enter your code"
	msgWrongCode      = "This code is not valid. Enter the current code of your authenticator app, or an unused recovery code."
	msgWrongFirstCode = "This code is not valid. Enter the code your authenticator app shows now."
	msgTooManyCodes   = "Too many wrong codes. Try again in {{.Seconds}} seconds."
	msgRequired       = "Your role requires two-factor authentication: it cannot be turned off."
	// qrSize is the QR code's side in pixels.
	qrSize = 200
)

// TwoFactorData is what the second factor's page template shows.
type TwoFactorData struct {
	Heading string
	// Mode is "verify" (a code of the login's second step), "enroll" (the
	// QR code, the secret and a first code), "codes" (the recovery codes,
	// shown once) or "enabled" (the own page of an enrolled user, with
	// the disable form).
	Mode          string
	Action        string // where the code form posts
	DisableAction string
	QR            template.URL // a data: PNG, which the CSP's img-src allows
	Secret        string
	Codes         []string
	Continue      string // where to go after the recovery codes
	Error         string
	Required      bool // the enrollment a role requires
}

// TwoFactor is what the second factor's pages share: the own page's
// (Deps) and the login's second step (LoginStep).
type TwoFactor struct {
	svc      *Service
	sessions *auth.Sessions
	throttle *auth.LoginThrottle
	log      *slog.Logger
	issuer   string // the authenticator app's name of the account: the app's
	// now is the clock codes are checked at: time.Now, or a test's.
	now func() time.Time
}

// NewTwoFactor returns the second factor's pages over svc, whose TOTP is
// configured; issuer names the account in the authenticator app; codes
// are checked at now() (nil: time.Now).
func NewTwoFactor(svc *Service, sessions *auth.Sessions, throttle *auth.LoginThrottle, log *slog.Logger, issuer string,
	now func() time.Time) *TwoFactor {
	if now == nil {
		now = time.Now
	}
	return &TwoFactor{svc: svc, sessions: sessions, throttle: throttle, log: log, issuer: issuer, now: now}
}

// LoginStep serves the login's second step at /login/2fa.
type LoginStep struct {
	*TwoFactor
	ui    *view.Engine
	login *auth.Handlers // records the login's entries
}

// LoginStep returns the login's second step, rendered by ui, its entries
// recorded as login's.
func (t *TwoFactor) LoginStep(ui *view.Engine, login *auth.Handlers) *LoginStep {
	return &LoginStep{TwoFactor: t, ui: ui, login: login}
}

// SecondStep is auth.Handlers.SecondStep: a user enrolled owes a code; one
// whose role requires a second factor and who has none must enroll.
func (t *TwoFactor) SecondStep(ctx context.Context, user *auth.User) (ask, enroll bool, err error) {
	on, err := t.svc.TOTP.Enrolled(ctx, user.ID)
	if err != nil || on {
		return on, false, err
	}
	required, err := t.svc.TOTP.Required(ctx, user.ID)
	return required, required, err
}

// qrOf returns key as a QR code, a data: PNG.
func qrOf(key *otp.Key) (template.URL, error) {
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return "", fmt.Errorf("security: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("security: QR code: %w", err)
	}
	// Built here from a PNG's bytes: no input of a user is in it.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// enrollData returns the enrollment's page for user: the key begun (or a
// new one) as a QR code and as text.
func (t *TwoFactor) enrollData(ctx context.Context, user *auth.User, action string) (TwoFactorData, error) {
	key, err := t.svc.TOTP.Start(ctx, user.ID, user.Username, t.issuer)
	if err != nil {
		return TwoFactorData{}, err
	}
	qr, err := qrOf(key)
	if err != nil {
		return TwoFactorData{}, err
	}
	return TwoFactorData{Heading: twoFactorHeading, Mode: "enroll", Action: action, QR: qr, Secret: key.Secret()}, nil
}

// ShowStep handles "GET /login/2fa": the code form, or the enrollment a
// role requires. Without a second step owed: the login page (or home).
func (t *LoginStep) ShowStep(w http.ResponseWriter, r *http.Request) {
	p := auth.PendingOf(r)
	if p == nil {
		t.away(w, r)
		return
	}
	if p.Enroll {
		data, err := t.enrollData(r.Context(), p.User, auth.SecondStepURL)
		if err != nil {
			t.ui.Fail(w, r, err)
			return
		}
		data.Required = true
		t.ui.Render(w, r, http.StatusOK, "twofactor", twoFactorHeading, data)
		return
	}
	t.ui.Render(w, r, http.StatusOK, "twofactor", secondStepHeading,
		TwoFactorData{Heading: secondStepHeading, Mode: "verify", Action: auth.SecondStepURL})
}

// away sends a request of the second step that owes none: home when
// logged in, else to the login page.
func (t *LoginStep) away(w http.ResponseWriter, r *http.Request) {
	to := "/login/"
	if auth.CurrentUser(r) != nil {
		to = "/"
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// begin starts a throttled attempt; a false return has answered (429, or
// the database's error).
func (t *TwoFactor) begin(w http.ResponseWriter, r *http.Request, fail func(http.ResponseWriter, *http.Request, error),
	refuse func(status int, msg string)) (*auth.Attempt, bool) {
	if t.throttle == nil {
		return nil, true
	}
	a, wait, err := t.throttle.Begin(r.Context(), r, time.Now())
	if err != nil {
		fail(w, r, err)
		return nil, false
	}
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		t.log.Warn("second factor throttled", "remote", r.RemoteAddr, "retry_after", secs)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		refuse(http.StatusTooManyRequests, i18n.Text(r.Context(), msgTooManyCodes, "Seconds", secs))
		return nil, false
	}
	return a, true
}

// settle uncounts attempt unless err is a wrong code, which stays counted.
func (t *TwoFactor) settle(r *http.Request, attempt *auth.Attempt, err error) {
	if attempt == nil || errors.Is(err, accounts.ErrCodeInvalid) {
		return
	}
	if ferr := attempt.Forget(context.WithoutCancel(r.Context())); ferr != nil {
		attempt.RetryLater(time.Now())
		t.log.Warn("second factor attempt not yet uncounted by the throttle", "remote", r.RemoteAddr, "err", ferr)
	}
}

// Step handles "POST /login/2fa": the code (a 6-digit one, or a recovery
// code) of the pending login, which then starts its session; or the first
// code of the enrollment a role requires, which starts it too and shows
// the recovery codes once. A wrong code is a failed login: counted by the
// throttle (429 after too many), audited, the form again.
func (t *LoginStep) Step(w http.ResponseWriter, r *http.Request) {
	p := auth.PendingOf(r)
	if p == nil {
		t.away(w, r)
		return
	}
	user := p.User
	refuse := func(status int, msg string) {
		data := TwoFactorData{Heading: secondStepHeading, Mode: "verify", Action: auth.SecondStepURL}
		if p.Enroll {
			d, err := t.enrollData(r.Context(), user, auth.SecondStepURL)
			if err != nil {
				t.ui.Fail(w, r, err)
				return
			}
			d.Required = true
			data = d
		}
		data.Error = msg
		t.ui.Render(w, r, status, "twofactor", data.Heading, data)
	}
	attempt, ok := t.begin(w, r, t.ui.Fail, refuse)
	if !ok {
		return
	}
	code := r.PostForm.Get(fieldCode)
	now := t.now()
	var (
		codes    []string
		recovery bool
		left     int
		err      error
	)
	if p.Enroll {
		codes, err = t.svc.TOTP.Confirm(r.Context(), user.ID, user.Username, code, now)
	} else {
		recovery, left, err = t.svc.TOTP.Verify(r.Context(), user.ID, user.Username, code, now)
	}
	t.settle(r, attempt, err)
	switch {
	case errors.Is(err, accounts.ErrCodeInvalid):
		t.log.Warn("second factor failed", "username", user.Username, "remote", r.RemoteAddr)
		t.login.Record(r, audit.ActionLoginFailed, user.Username)
		msg := msgWrongCode
		if p.Enroll {
			msg = msgWrongFirstCode
		}
		refuse(http.StatusOK, msg)
		return
	case err != nil:
		t.ui.Fail(w, r, err)
		return
	}
	if err := t.sessions.Login(w, r, user); err != nil {
		t.ui.Fail(w, r, err)
		return
	}
	t.log.Info("login succeeded", "username", user.Username, "remote", r.RemoteAddr, "second_factor", true)
	t.login.Record(r, audit.ActionLogin, user.Username)
	if p.Enroll {
		showCodes(w, r, t.ui.Render, codes, p.Next)
		return
	}
	if recovery {
		t.sessions.AddFlash(w, r, i18n.Plural(r.Context(), "You signed in with a recovery code. {{.Count}} recovery codes are left.", left))
	}
	http.Redirect(w, r, p.Next, http.StatusFound)
}

// renderer renders a page: view.Engine's or a ModelView's Render.
type renderer func(w http.ResponseWriter, r *http.Request, status int, page, title string, data any)

// showCodes shows the recovery codes, once: the page is kept by no cache.
func showCodes(w http.ResponseWriter, r *http.Request, render renderer, codes []string, next string) {
	w.Header().Set("Cache-Control", "no-store")
	render(w, r, http.StatusOK, "twofactor", twoFactorHeading,
		TwoFactorData{Heading: twoFactorHeading, Mode: "codes", Codes: codes, Continue: next})
}

// ownPage is the own page of the second factor, a page of the users view.
type ownPage struct {
	t    *TwoFactor
	view *admin.ModelView // users
}

// render shows the request's user's second factor: the disable form when
// enrolled, else the enrollment.
func (p *ownPage) render(w http.ResponseWriter, r *http.Request, status int, msg string) {
	me := auth.CurrentUser(r)
	on, err := p.t.svc.TOTP.Enrolled(r.Context(), me.ID)
	if err != nil {
		p.view.Fail(w, r, err)
		return
	}
	data := TwoFactorData{Heading: twoFactorHeading, Mode: "enabled", DisableAction: p.view.PathOf(disablePattern)}
	if !on {
		if data, err = p.t.enrollData(r.Context(), me, p.view.PathOf(twoFactorPattern)); err != nil {
			p.view.Fail(w, r, err)
			return
		}
	}
	data.Error = msg
	p.view.Render(w, r, status, "twofactor", twoFactorHeading, data)
}

// show handles "GET /users/2fa".
func (p *ownPage) show(w http.ResponseWriter, r *http.Request) { p.render(w, r, http.StatusOK, "") }

// confirm handles "POST /users/2fa": the first code of the enrollment
// shown; then the recovery codes, once. A wrong code: 422, nothing
// enrolled.
func (p *ownPage) confirm(w http.ResponseWriter, r *http.Request) {
	me := auth.CurrentUser(r)
	codes, err := p.t.svc.TOTP.Confirm(r.Context(), me.ID, me.Username, r.PostForm.Get(fieldCode), p.t.now())
	switch {
	case errors.Is(err, accounts.ErrCodeInvalid):
		p.render(w, r, http.StatusUnprocessableEntity, msgWrongFirstCode)
		return
	case errors.Is(err, accounts.ErrEnrolled), errors.Is(err, accounts.ErrNotEnrolled):
		// A second tab's confirmation, or none begun: the page as it is.
		http.Redirect(w, r, p.view.PathOf(twoFactorPattern), http.StatusFound)
		return
	case err != nil:
		p.view.Fail(w, r, err)
		return
	}
	p.view.Log().Info("second factor enrolled", "username", me.Username)
	showCodes(w, r, p.view.Render, codes, p.view.PathOf(twoFactorPattern))
}

// disable handles "POST /users/2fa/disable": a current code (or a
// recovery code) proves the user holds the second factor, and is
// throttled as a login's; a wrong one is 422, nothing changed, as is any
// code of a user whose role requires a second factor.
func (p *ownPage) disable(w http.ResponseWriter, r *http.Request) {
	me := auth.CurrentUser(r)
	// A role that requires it keeps it: turned off, the next login would
	// ask the enrollment again anyway.
	required, err := p.t.svc.TOTP.Required(r.Context(), me.ID)
	if err != nil {
		p.view.Fail(w, r, err)
		return
	}
	if required {
		p.render(w, r, http.StatusUnprocessableEntity, msgRequired)
		return
	}
	attempt, ok := p.t.begin(w, r, p.view.Fail, func(status int, msg string) { p.render(w, r, status, msg) })
	if !ok {
		return
	}
	err = p.t.svc.TOTP.Disable(r.Context(), me.ID, me.Username, r.PostForm.Get(fieldCode), p.t.now())
	p.t.settle(r, attempt, err)
	switch {
	case errors.Is(err, accounts.ErrCodeInvalid):
		p.render(w, r, http.StatusUnprocessableEntity, msgWrongCode)
		return
	case errors.Is(err, accounts.ErrNotEnrolled):
		http.Redirect(w, r, p.view.PathOf(twoFactorPattern), http.StatusFound)
		return
	case err != nil:
		p.view.Fail(w, r, err)
		return
	}
	p.view.Log().Info("second factor disabled", "username", me.Username)
	p.view.Flash(w, r, i18n.Text(r.Context(), "Two-factor authentication is off."))
	http.Redirect(w, r, p.view.PathOf(twoFactorPattern), http.StatusFound)
}
