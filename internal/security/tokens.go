package security

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/accounts"
	"musicadmin/internal/admin"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
)

// The tokens page: every logged-in user lists, makes and revokes their own
// API tokens at /users/tokens, and no one else's. A token made is shown
// on the page the form's post answers, once: never in a flash or a URL,
// which a session or a log would keep.

// Routes and form fields of the tokens page.
const (
	tokensPattern = "/tokens"
	revokePattern = "/tokens/{id}/revoke"
	fieldExpires  = "expires"
	tokensHeading = "Your API tokens"
)

// Refusals of an expiry date that is no date to come.
const (
	msgExpiresDate = "Must be a date, such as 2027-01-31."
	msgExpiresPast = "Must be a date after today."
)

type tokensPage struct {
	svc  *Service
	view *admin.ModelView // users
}

// TokensData is what the tokens page template shows.
type TokensData struct {
	Heading   string
	Action    string // where the new token form posts
	Tokens    []TokenRow
	New       string // the token just made, shown this once; "" otherwise
	NewName   string
	Name      string // the form's name, kept after a refusal
	Expires   string // the form's expiry date, kept after a refusal
	MinDate   string // the first date an expiry may be: tomorrow
	Errors    map[string]string
	FormError string
}

// TokenRow is one token of the list, with the route that revokes it.
type TokenRow struct {
	Name, RevokeURL            string
	Created, Expires, LastUsed ShownTime
	Expired                    bool
}

// ShownTime is a token's time as the page shows it: Text as its reader
// reads it, Exact the stored UTC value for a <time datetime> ("" when
// there is no time, and Text says what that means).
type ShownTime struct{ Text, Exact string }

// shownTime is how the page shows a token's stored time to the reader of
// ctx: "2026-12-07 03:04 UTC", in their own time zone when they have one
// ("2026-12-07 04:04 CET"); none for "".
func shownTime(ctx context.Context, stamp, none string) ShownTime {
	at, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return ShownTime{Text: none}
	}
	return ShownTime{Text: at.In(i18n.ZoneOf(ctx)).Format("2006-01-02 15:04 MST"), Exact: at.UTC().Format(time.RFC3339)}
}

// render shows the request's user's tokens, with the new one if any.
func (p *tokensPage) render(w http.ResponseWriter, r *http.Request, status int, data TokensData) {
	me := auth.CurrentUser(r)
	recs, err := p.svc.Tokens.Of(r.Context(), me.ID)
	if err != nil {
		p.view.Fail(w, r, err)
		return
	}
	now := time.Now()
	data.Heading, data.Action = tokensHeading, p.view.PathOf(tokensPattern)
	data.MinDate = now.UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	for _, rec := range recs {
		text := func(f string) string { s, _ := rec.Values[f].(string); return s }
		ctx := r.Context()
		row := TokenRow{Name: text(accounts.FieldName), Created: shownTime(ctx, text(accounts.FieldCreatedAt), ""),
			Expires: shownTime(ctx, text(accounts.FieldExpiresAt), "Never"), LastUsed: shownTime(ctx, text(accounts.FieldLastUsedAt), "Never"),
			RevokeURL: p.view.PathOf("/tokens/" + rec.ID + "/revoke")}
		if at, err := time.Parse(time.RFC3339, text(accounts.FieldExpiresAt)); err == nil && !now.Before(at) {
			row.Expired = true
		}
		data.Tokens = append(data.Tokens, row)
	}
	p.view.Render(w, r, status, "tokens", tokensHeading, data)
}

// show handles "GET /users/tokens".
func (p *tokensPage) show(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, TokensData{})
}

// create handles "POST /users/tokens": a name, and an optional expiry
// date (the token works until that day starts, in UTC). The answer is the
// page itself, 200 with the token shown once; 422 with the problems beside
// the fields, nothing made.
func (p *tokensPage) create(w http.ResponseWriter, r *http.Request) {
	me := auth.CurrentUser(r)
	name, expires := r.PostForm.Get(accounts.FieldName), strings.TrimSpace(r.PostForm.Get(fieldExpires))
	data := TokensData{Name: name, Expires: expires, Errors: map[string]string{}}
	var until time.Time
	if expires != "" {
		at, err := time.Parse(time.DateOnly, expires)
		switch {
		case err != nil:
			data.Errors[fieldExpires] = msgExpiresDate
		case !at.After(time.Now()):
			data.Errors[fieldExpires] = msgExpiresPast
		}
		until = at
	}
	if len(data.Errors) > 0 {
		p.render(w, r, http.StatusUnprocessableEntity, data)
		return
	}
	plain, rec, err := p.svc.Tokens.Create(r.Context(), me.ID, name, until)
	var refused *datamodel.RefusedError
	if errors.As(err, &refused) {
		field := accounts.FieldName
		if refused.Field == accounts.FieldExpiresAt {
			field = fieldExpires
		}
		data.Errors[field] = refused.Message
		p.render(w, r, http.StatusUnprocessableEntity, data)
		return
	}
	if err != nil {
		p.view.Fail(w, r, err)
		return
	}
	p.view.Log().Info("token created", "username", me.Username, "token", rec.ID)
	data = TokensData{New: plain}
	data.NewName, _ = rec.Values[accounts.FieldName].(string)
	// The page holds the token: no cache may keep it.
	w.Header().Set("Cache-Control", "no-store")
	p.render(w, r, http.StatusOK, data)
}

// revoke handles "POST /users/tokens/{id}/revoke": 404 for a token that
// is not the request's user's.
func (p *tokensPage) revoke(w http.ResponseWriter, r *http.Request) {
	me := auth.CurrentUser(r)
	id := chi.URLParam(r, "id")
	var name string
	if rec, err := p.svc.Tokens.Model().Get(r.Context(), id); err == nil {
		name, _ = rec.Values[accounts.FieldName].(string)
	}
	if err := p.svc.Tokens.Revoke(r.Context(), me.ID, id); err != nil {
		p.view.Fail(w, r, err)
		return
	}
	p.view.Log().Info("token revoked", "username", me.Username, "token", id)
	p.view.Flash(w, r, i18n.Text(r.Context(), "The token “{{.Name}}” was revoked.", "Name", name))
	http.Redirect(w, r, p.view.PathOf(tokensPattern), http.StatusFound)
}
