package security

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
)

// The password pages: a user changes their own password (the current one
// required, the new one twice) at /users/password, and a user holding
// can_reset_password on users sets another's at /users/resetpassword/{id},
// reached from that user's show page. Either ends every other session of
// the user at once (the stores remove them, and they were bound to the old
// hash anyway); the session the change was made in is renewed when it is
// the user's own.

// Form fields of the password pages.
const (
	fieldCurrent = "current_password"
	fieldNew     = FieldPassword
)

// Messages of the password pages.
const (
	msgWrongCurrent = "This is not your current password."
	msgMismatch     = "The two passwords differ."
)

type passwords struct {
	svc      *Service
	sessions *auth.Sessions
	throttle *auth.LoginThrottle
	view     *admin.ModelView // users
	guard    admin.Guard
}

// CheckPassword checks a new password as every form does (the Password
// kind of the users model: not empty, at most 72 bytes, valid UTF-8), and
// phrases a problem for the user.
func CheckPassword(p string) error {
	f := UserSchema.Field(FieldPassword)
	return f.Kind.Validate(datamodel.Secret(p))
}

// newPasswordErrors checks the new password and its repeat.
func newPasswordErrors(r *http.Request, errs map[string]string) string {
	p := r.PostForm.Get(fieldNew)
	if err := CheckPassword(p); err != nil {
		errs[fieldNew] = i18n.Error(r.Context(), err)
	} else if p != r.PostForm.Get(fieldNew+"_confirm") {
		errs[fieldNew] = msgMismatch
	}
	return p
}

func (p *passwords) ownForm(username string, errs map[string]string) admin.FormPage {
	return admin.FormPage{Heading: ownPasswordHeading, Action: p.view.PathOf(passwordPattern), CancelURL: "/",
		Fields: []admin.FormField{
			// Shown, never read: which account a password manager saves
			// the new password for.
			{Name: "account", Label: "Username", Type: "text", Value: username, ReadOnly: true, Autocomplete: "username"},
			{Name: fieldCurrent, Label: "Current password", Type: "password", Required: true, Error: errs[fieldCurrent]},
			{Name: fieldNew, Label: "New password", Type: "password", Confirm: true, Required: true, Error: errs[fieldNew]},
		}}
}

// showOwn handles "GET /users/password".
func (p *passwords) showOwn(w http.ResponseWriter, r *http.Request) {
	p.view.RenderForm(w, r, http.StatusOK, p.ownForm(auth.CurrentUser(r).Username, nil))
}

// changeOwn handles "POST /users/password": the current password must be
// right (it is checked as a login is, at bcrypt's cost), the new one valid
// and typed twice alike; otherwise 422 and nothing is written.
func (p *passwords) changeOwn(w http.ResponseWriter, r *http.Request) {
	me := auth.CurrentUser(r)
	errs := map[string]string{}
	// The current password is a guess like a login's, and throttled as
	// one: whoever holds a stolen session may not try passwords freely.
	var attempt *auth.Attempt
	if p.throttle != nil {
		a, wait, err := p.throttle.Begin(r.Context(), r, time.Now())
		if err != nil {
			p.view.Fail(w, r, err)
			return
		}
		if wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			form := p.ownForm(me.Username, nil)
			form.FormError = i18n.Text(r.Context(), "Too many wrong passwords. Try again in {{.Seconds}} seconds.", "Seconds", secs)
			p.view.RenderForm(w, r, http.StatusTooManyRequests, form)
			return
		}
		attempt = a
	}
	_, err := p.svc.Auth.Authenticate(r.Context(), me.Username, r.PostForm.Get(fieldCurrent))
	if attempt != nil && !errors.Is(err, auth.ErrInvalidLogin) {
		// No wrong guess: the attempt does not count.
		if ferr := attempt.Forget(context.WithoutCancel(r.Context())); ferr != nil {
			p.view.Log().Warn("password check stays counted by the throttle", "err", ferr)
		}
	}
	switch {
	case errors.Is(err, auth.ErrInvalidLogin):
		errs[fieldCurrent] = msgWrongCurrent
	case err != nil:
		p.view.Fail(w, r, err)
		return
	}
	password := newPasswordErrors(r, errs)
	if len(errs) > 0 {
		p.view.RenderForm(w, r, http.StatusUnprocessableEntity, p.ownForm(me.Username, errs))
		return
	}
	hash, err := p.set(r, me.ID, password)
	if err != nil {
		p.view.Fail(w, r, err)
		return
	}
	renewed := *me
	renewed.PasswordHash = hash
	if err := p.sessions.Renew(w, r, &renewed); err != nil {
		p.view.Fail(w, r, err)
		return
	}
	p.view.Log().Info("password changed", "username", me.Username)
	p.view.Flash(w, r, i18n.Text(r.Context(), "Your password was changed. Your other sessions have ended."))
	http.Redirect(w, r, "/", http.StatusFound)
}

// set hashes password and stores it for the user with id, the request's
// user acting, and returns the hash.
func (p *passwords) set(r *http.Request, id, password string) (string, error) {
	hash, err := p.svc.Auth.HashPassword(password)
	if err != nil {
		return "", err
	}
	ctx := r.Context()
	if a, ok := audit.From(ctx); ok {
		a.View = UsersView
		ctx = audit.With(ctx, a)
	}
	if err := p.svc.Users.SetPassword(ctx, id, datamodel.Hash(hash)); err != nil {
		return "", err
	}
	return hash, nil
}

func (p *passwords) resetForm(ctx context.Context, rec datamodel.Record, errs map[string]string) admin.FormPage {
	name, _ := rec.Values[FieldUsername].(string)
	return admin.FormPage{Heading: i18n.Text(ctx, "Reset the password of {{.Name}}", "Name", name), Action: p.view.PathOf(resetPath + rec.ID),
		CancelURL: p.view.ShowURL(rec.ID),
		Fields: []admin.FormField{
			{Name: "account", Label: "Username", Type: "text", Value: name, ReadOnly: true, Autocomplete: "off"},
			{Name: fieldNew, Label: "New password", Type: "password", Confirm: true, Required: true, Error: errs[fieldNew]},
		}}
}

// target loads the {id} user and checks that the request's user may
// change them (the users view's guard): 404 or 403 are answered here.
func (p *passwords) target(w http.ResponseWriter, r *http.Request) (datamodel.Record, bool) {
	rec, ok := p.view.RecordOf(w, r)
	if !ok {
		return rec, false
	}
	if err := p.guard.CheckEdit(r.Context(), access.GrantsOf(r), rec); err != nil {
		p.view.Fail(w, r, err)
		return rec, false
	}
	return rec, true
}

// showReset handles "GET /users/resetpassword/{id}".
func (p *passwords) showReset(w http.ResponseWriter, r *http.Request) {
	rec, ok := p.target(w, r)
	if !ok {
		return
	}
	p.view.RenderForm(w, r, http.StatusOK, p.resetForm(r.Context(), rec, nil))
}

// reset handles "POST /users/resetpassword/{id}": the new password, twice;
// the user's sessions end (the request's own is renewed when the user
// reset is themselves).
func (p *passwords) reset(w http.ResponseWriter, r *http.Request) {
	rec, ok := p.target(w, r)
	if !ok {
		return
	}
	errs := map[string]string{}
	password := newPasswordErrors(r, errs)
	if len(errs) > 0 {
		p.view.RenderForm(w, r, http.StatusUnprocessableEntity, p.resetForm(r.Context(), rec, errs))
		return
	}
	hash, err := p.set(r, rec.ID, password)
	if err != nil {
		p.view.Fail(w, r, err)
		return
	}
	name, _ := rec.Values[FieldUsername].(string)
	if me := auth.CurrentUser(r); me != nil && me.ID == rec.ID {
		renewed := *me
		renewed.PasswordHash = hash
		if err := p.sessions.Renew(w, r, &renewed); err != nil {
			p.view.Fail(w, r, err)
			return
		}
	}
	p.view.Log().Info("password reset", "username", name)
	p.view.Flash(w, r, i18n.Text(r.Context(), "The password of “{{.Name}}” was reset. Their sessions have ended.", "Name", name))
	http.Redirect(w, r, p.view.ShowURL(rec.ID), http.StatusFound)
}
