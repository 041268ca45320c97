package accounts

import (
	"context"
	"errors"
	"time"

	"musicadmin/internal/auth"
)

// ErrTokenInvalid: placeholder until the tokens branch lands (removed at its merge).
var ErrTokenInvalid = errors.New("token invalid")

// Tokens: placeholder until the tokens branch lands.
type Tokens struct{}

// Authenticate refuses every token.
func (*Tokens) Authenticate(context.Context, string, time.Time) (auth.User, error) {
	return auth.User{}, ErrTokenInvalid
}
