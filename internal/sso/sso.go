// Package sso is single sign-on over OpenID Connect: the authorization
// code flow with PKCE, its state and nonce kept in the session cookie and
// used once, the ID token verified (signature, issuer, audience, expiry)
// by github.com/coreos/go-oidc, and the provider's claims made into an
// accounts.ExternalSignIn (the subject, the mapped roles, the e-mail
// domain allowed). Who the user is here, whether they may be registered
// and which roles they hold is the accounts layer's rule; what follows
// (a second factor, a session) is the login's own. Every refusal is the
// login page with a message and an audit entry, never a 500.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"musicadmin/internal/accounts"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/textutil"
)

// CallbackPath is where the provider sends the user back.
const CallbackPath = "/login/oidc/callback"

// providerTimeout bounds each call to the provider (discovery, keys,
// token, userinfo).
const providerTimeout = 10 * time.Second

// What a user reads when a sign-on is refused. The reason in the audit
// log and the server's log is more precise; the page says what the user
// can do.
const (
	msgUnavailable = "Single sign-on is unavailable right now. Please try again later."
	msgRetry       = "The sign-in could not be completed. Please try again."
	msgCancelled   = "The sign-in was cancelled at the identity provider."
	msgNoAccount   = "There is no account here for this sign-in. Ask an administrator for access."
	msgDomain      = "Your e-mail address is not allowed to sign in here."
	msgDisabled    = "Your account cannot sign in here. Ask an administrator."
)

// Users finds a user by name: the session's user of a sign-on.
type Users interface {
	UserByUsername(ctx context.Context, username string) (auth.User, error)
}

// Flow serves /login/oidc and its callback.
type Flow struct {
	cfg        config.OIDC
	secure     bool // the app is served over HTTPS (server.secure_cookies)
	identities *accounts.Identities
	users      Users
	sessions   *auth.Sessions
	login      *auth.Handlers
	audit      audit.Log
	log        *slog.Logger
	client     *http.Client

	mu       sync.Mutex
	provider *oidc.Provider // discovered at the first sign-on, then kept
}

// New returns the flow of cfg; the provider is discovered at the first
// sign-on (and again after a failure), so that the app starts while its
// provider is down.
func New(cfg config.OIDC, secure bool, identities *accounts.Identities, users Users, sessions *auth.Sessions,
	login *auth.Handlers, log audit.Log, logger *slog.Logger) *Flow {
	return &Flow{cfg: cfg, secure: secure, identities: identities, users: users, sessions: sessions, login: login,
		audit: log, log: logger, client: &http.Client{Timeout: providerTimeout}}
}

// discover returns the provider, discovered once.
func (f *Flow) discover() (*oidc.Provider, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.provider != nil {
		return f.provider, nil
	}
	// The context is kept by the provider for its key set's fetches: it
	// must outlive this request. The client's timeout bounds each call.
	p, err := oidc.NewProvider(oidc.ClientContext(context.Background(), f.client), f.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("sso: discovery at %s: %w", f.cfg.Issuer, err)
	}
	f.provider = p
	return p, nil
}

// oauth returns the OAuth 2 client of the provider p for request r.
func (f *Flow) oauth(p *oidc.Provider, r *http.Request) *oauth2.Config {
	return &oauth2.Config{ClientID: f.cfg.ClientID, ClientSecret: f.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: f.callbackURL(r), Scopes: f.cfg.Scopes}
}

// callbackURL is this app's callback as the browser reaches it: the
// provider checks it against the client's registered redirect URIs, so a
// forged Host header gets the provider's refusal, not a code.
func (f *Flow) callbackURL(r *http.Request) string {
	scheme := "http"
	if f.secure || r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + CallbackPath
}

// Start handles "GET /login/oidc": a new state, nonce and PKCE verifier
// in the cookie, and off to the provider.
func (f *Flow) Start(w http.ResponseWriter, r *http.Request) {
	next := auth.SafeNext(r.URL.Query().Get("next"))
	if auth.CurrentUser(r) != nil {
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	p, err := f.discover()
	if err != nil {
		f.log.Warn("single sign-on unavailable", "err", err)
		f.login.Refuse(w, r, http.StatusServiceUnavailable, msgUnavailable, next)
		return
	}
	note := auth.SignOnNote{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(), Next: next}
	f.sessions.BeginSignOn(w, r, note)
	http.Redirect(w, r, f.oauth(p, r).AuthCodeURL(note.State, oidc.Nonce(note.Nonce), oauth2.S256ChallengeOption(note.Verifier)),
		http.StatusFound)
}

// refusal is a sign-on refused: the status and message the user sees,
// the reason the audit log keeps, and the name the provider gave, if
// known.
type refusal struct {
	status   int
	msg      string
	reason   string
	username string
	err      error
}

func (e *refusal) Error() string { return "sso: " + e.reason }

func refuse(status int, msg, reason string, err error) *refusal {
	return &refusal{status: status, msg: msg, reason: reason, err: err}
}

// Callback handles "GET /login/oidc/callback": the state checked against
// the cookie's (which is then gone), the code exchanged with its
// verifier, the ID token verified with its nonce, the claims checked and
// the user found, registered or synced; then the login goes on as after
// a right password.
func (f *Flow) Callback(w http.ResponseWriter, r *http.Request) {
	note, ok := f.sessions.TakeSignOn(w, r)
	if !ok {
		f.refused(w, r, refuse(http.StatusBadRequest, msgRetry, "no sign-on begun, or it expired", nil), "/")
		return
	}
	user, err := f.complete(r, note)
	var ref *refusal
	switch {
	case errors.As(err, &ref):
		f.refused(w, r, ref, note.Next)
		return
	case err != nil:
		f.log.Error("single sign-on", "err", err)
		f.login.UI.Fail(w, r, fmt.Errorf("sso: %w", err))
		return
	}
	if err := f.login.SignedOn(w, r, user, note.Next, accounts.ActionLoginSSO); err != nil {
		f.log.Error("single sign-on: start the session", "err", err)
		f.login.UI.Fail(w, r, fmt.Errorf("sso: %w", err))
	}
}

// refused answers the login page with e's message, and records e.
func (f *Flow) refused(w http.ResponseWriter, r *http.Request, e *refusal, next string) {
	f.log.Warn("single sign-on refused", "reason", e.reason, "username", e.username, "remote", r.RemoteAddr, "err", e.err)
	if f.audit != nil {
		name := textutil.Truncate(e.username, 64)
		if name == "" {
			name = "(unknown)"
		}
		entry := audit.Entry{Time: time.Now().UTC(), Username: name, Action: accounts.ActionLoginRefused,
			RecordLabel: e.reason}
		if err := f.audit.Append(context.WithoutCancel(r.Context()), entry); err != nil {
			f.log.Error("audit log", "action", accounts.ActionLoginRefused, "err", err)
		}
	}
	f.login.Refuse(w, r, e.status, e.msg, next)
}

// claims are the ID token's (and userinfo's) claims the sign-on reads.
type claims struct {
	Subject           string `json:"sub"`
	Email             string `json:"email"`
	EmailVerified     *bool  `json:"email_verified"`
	PreferredUsername string `json:"preferred_username"`
	GivenName         string `json:"given_name"`
	FamilyName        string `json:"family_name"`
	Name              string `json:"name"`
}

// complete checks the provider's answer to r and returns the user it
// signs in. A *refusal is the provider's answer refused; another error,
// the database's.
func (f *Flow) complete(r *http.Request, note auth.SignOnNote) (*auth.User, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			return nil, refuse(http.StatusForbidden, msgCancelled, "cancelled at the provider", nil)
		}
		return nil, refuse(http.StatusBadRequest, msgRetry, "the provider answered an error: "+textutil.Truncate(e, 64), nil)
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(note.State)) != 1 {
		return nil, refuse(http.StatusBadRequest, msgRetry, "wrong state", nil)
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		return nil, refuse(http.StatusBadRequest, msgRetry, "no code", nil)
	}
	p, err := f.discover()
	if err != nil {
		return nil, refuse(http.StatusServiceUnavailable, msgUnavailable, "provider unavailable", err)
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), f.client), 2*providerTimeout)
	defer cancel()
	token, err := f.oauth(p, r).Exchange(ctx, code, oauth2.VerifierOption(note.Verifier))
	if err != nil {
		return nil, refuse(http.StatusBadRequest, msgRetry, "code not exchanged", err)
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return nil, refuse(http.StatusBadRequest, msgRetry, "no ID token", nil)
	}
	// Signature, issuer, audience and expiry.
	idToken, err := p.Verifier(&oidc.Config{ClientID: f.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, msgRetry, "ID token refused", err)
	}
	// go-oidc leaves the nonce to the caller.
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(note.Nonce)) != 1 {
		return nil, refuse(http.StatusBadRequest, msgRetry, "wrong nonce", nil)
	}
	var c claims
	all := map[string]any{}
	if err := idToken.Claims(&c); err != nil {
		return nil, refuse(http.StatusBadRequest, msgRetry, "ID token claims unreadable", err)
	}
	if err := idToken.Claims(&all); err != nil {
		return nil, refuse(http.StatusBadRequest, msgRetry, "ID token claims unreadable", err)
	}
	if _, has := all[f.cfg.RolesClaim]; !has || c.Email == "" {
		// Some providers give the profile only at userinfo.
		f.fromUserInfo(ctx, p, token, idToken.Subject, &c, all)
	}
	in := accounts.ExternalSignIn{Issuer: idToken.Issuer, Subject: idToken.Subject, PreferredUsername: c.PreferredUsername,
		Email: c.Email, FirstName: c.GivenName, LastName: c.FamilyName, Roles: f.mappedRoles(all[f.cfg.RolesClaim]),
		Sync: f.cfg.SyncRolesAtLogin, Register: f.cfg.Registration, RegistrationRole: f.cfg.RegistrationRole}
	if in.FirstName == "" && in.LastName == "" && c.Name != "" {
		in.FirstName = c.Name
	}
	shown := c.PreferredUsername
	if shown == "" {
		shown = c.Email
	}
	if reason := f.domainRefused(c); reason != "" {
		e := refuse(http.StatusForbidden, msgDomain, reason, nil)
		e.username = shown
		return nil, e
	}
	out, err := f.identities.SignIn(r.Context(), in, time.Now())
	if err != nil {
		e := signInRefusal(err)
		if e == nil {
			return nil, err
		}
		e.username = shown
		return nil, e
	}
	if out.Registered {
		f.log.Info("single sign-on registered a user", "username", out.Username, "issuer", in.Issuer)
	}
	if out.RolesChanged {
		f.log.Info("single sign-on synced a user's roles", "username", out.Username, "roles", in.Roles)
	}
	user, err := f.users.UserByUsername(r.Context(), out.Username)
	if err != nil {
		return nil, fmt.Errorf("the user of a sign-on: %w", err)
	}
	return &user, nil
}

// signInRefusal is the refusal of the accounts layer's err, or nil for
// an error of the database.
func signInRefusal(err error) *refusal {
	var refused *datamodel.RefusedError
	switch {
	case errors.Is(err, accounts.ErrUnknownIdentity):
		return refuse(http.StatusForbidden, msgNoAccount, "unknown subject, registration off", nil)
	case errors.Is(err, accounts.ErrInactive):
		return refuse(http.StatusForbidden, msgDisabled, "inactive user", nil)
	case errors.Is(err, accounts.ErrNoRole):
		return refuse(http.StatusForbidden, msgDisabled, "no role mapped", nil)
	case errors.Is(err, accounts.ErrIncomplete):
		return refuse(http.StatusForbidden, msgNoAccount, "no e-mail address to register", nil)
	case errors.As(err, &refused):
		return refuse(http.StatusForbidden, msgDisabled, "roles sync refused: "+refused.Message, nil)
	}
	return nil
}

// fromUserInfo fills what the ID token lacked from the provider's
// userinfo answer, whose subject must be the token's: a failure leaves c
// and all as they are.
func (f *Flow) fromUserInfo(ctx context.Context, p *oidc.Provider, token *oauth2.Token, subject string, c *claims, all map[string]any) {
	if p.UserInfoEndpoint() == "" {
		return
	}
	info, err := p.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err != nil || info.Subject != subject {
		f.log.Warn("single sign-on: userinfo not read", "err", err)
		return
	}
	var more claims
	extra := map[string]any{}
	if info.Claims(&more) != nil || info.Claims(&extra) != nil {
		return
	}
	if c.Email == "" {
		c.Email, c.EmailVerified = more.Email, more.EmailVerified
	}
	if c.PreferredUsername == "" {
		c.PreferredUsername = more.PreferredUsername
	}
	if c.GivenName == "" && c.FamilyName == "" {
		c.GivenName, c.FamilyName, c.Name = more.GivenName, more.FamilyName, more.Name
	}
	if _, has := all[f.cfg.RolesClaim]; !has {
		if v, ok := extra[f.cfg.RolesClaim]; ok {
			all[f.cfg.RolesClaim] = v
		}
	}
}

// mappedRoles returns the role names the values of the roles claim map
// to, each once: the claim is a list of strings, or one string.
func (f *Flow) mappedRoles(claim any) []string {
	var groups []string
	switch v := claim.(type) {
	case string:
		groups = []string{v}
	case []any:
		for _, g := range v {
			if s, ok := g.(string); ok {
				groups = append(groups, s)
			}
		}
	}
	var roles []string
	for _, g := range groups {
		for _, role := range f.cfg.RolesMapping[g] {
			if !slices.Contains(roles, role) {
				roles = append(roles, role)
			}
		}
	}
	return roles
}

// domainRefused returns why c's e-mail address may not sign in, or "":
// with domains configured, the address must be there, not said to be
// unverified, and its domain one of them, compared whole and without
// case ("evil-example.com" and "sub.example.com" are not "example.com").
func (f *Flow) domainRefused(c claims) string {
	if len(f.cfg.EmailDomains) == 0 {
		return ""
	}
	at := strings.LastIndexByte(c.Email, '@')
	if at < 1 || at == len(c.Email)-1 {
		return "no e-mail address to check the domain of"
	}
	if c.EmailVerified != nil && !*c.EmailVerified {
		return "e-mail address not verified"
	}
	if !slices.Contains(f.cfg.EmailDomains, strings.ToLower(c.Email[at+1:])) {
		return "e-mail domain not allowed"
	}
	return ""
}
