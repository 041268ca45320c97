package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"musicadmin/internal/access"
	"musicadmin/internal/accounts"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
)

// authenticate lets a request through with the user of its bearer token,
// their grants and an audit actor in its context, or answers 401 (no
// token, or one that is not valid), 429 (too many bad tokens from the
// address) or 503. A session cookie is never read here.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		if !ok {
			a.unauthorized(w, r, "Sign in with a token: send Authorization: Bearer TOKEN.")
			return
		}
		now := time.Now()
		user, grants, err := a.cfg.Tokens.AuthenticateGrants(r.Context(), token, now)
		var lastUse *accounts.LastUseError
		switch {
		case errors.As(err, &lastUse):
			// The request goes on: a read needs no write, and a write
			// fails on its own, with its own answer.
			a.cfg.Log.Warn("api: a token's last use not recorded", "err", err)
		case errors.Is(err, accounts.ErrTokenInvalid):
			a.badToken(w, r, now)
			return
		case err != nil:
			a.fail(w, r, fmt.Errorf("api: check token: %w", err))
			return
		}
		if grants == nil {
			// The store did not read them with the user.
			roles, perms, err := a.cfg.Grants.UserGrants(r.Context(), user.ID)
			if err != nil {
				a.fail(w, r, fmt.Errorf("api: load grants: %w", err))
				return
			}
			grants = access.NewGrants(roles, perms)
		}
		ctx := auth.WithUser(r.Context(), &user)
		ctx = access.WithGrants(ctx, grants)
		ctx = audit.With(ctx, audit.Actor{Username: user.Username})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// badToken counts a token that is not valid as a failed login of the
// client's address and answers 401, or 429 once the address has had too
// many.
func (a *API) badToken(w http.ResponseWriter, r *http.Request, now time.Time) {
	wait, err := a.cfg.Throttle.Failed(r.Context(), r, now)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if wait > 0 {
		a.fail(w, r, &apiError{status: http.StatusTooManyRequests, retryAfter: wait,
			Problem: Problem{Message: "Too many failed attempts from your address: wait, then try again."}})
		return
	}
	a.unauthorized(w, r, "The token is not valid: it may be mistyped, expired or revoked, or its user inactive.")
}

func (a *API) unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
	a.fail(w, r, refusal(http.StatusUnauthorized, msg))
}

// bearer returns the token of the request's Authorization header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
