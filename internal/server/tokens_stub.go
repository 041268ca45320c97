package server

import (
	"context"
	"strings"
	"time"

	"musicadmin/internal/accounts"
	"musicadmin/internal/api"
	"musicadmin/internal/auth"
	"musicadmin/internal/security"
)

// tokensOf: placeholder until the tokens branch lands (then sec.Tokens):
// "stub-USERNAME" signs in as USERNAME.
func tokensOf(sec *security.Service) api.Tokens { return stubTokens{sec} }

type stubTokens struct{ sec *security.Service }

func (s stubTokens) Authenticate(ctx context.Context, plain string, _ time.Time) (auth.User, error) {
	name, ok := strings.CutPrefix(plain, "stub-")
	if !ok {
		return auth.User{}, accounts.ErrTokenInvalid
	}
	rec, err := s.sec.UserByName(ctx, name)
	if err != nil {
		return auth.User{}, accounts.ErrTokenInvalid
	}
	if active, _ := rec.Values[accounts.FieldActive].(bool); !active {
		return auth.User{}, accounts.ErrTokenInvalid
	}
	return auth.User{ID: rec.ID, Username: name, Active: true}, nil
}
