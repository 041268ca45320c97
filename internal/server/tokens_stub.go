package server

import (
	"musicadmin/internal/accounts"
	"musicadmin/internal/api"
	"musicadmin/internal/security"
)

// tokensOf: placeholder until the tokens branch lands (then sec.Tokens).
func tokensOf(*security.Service) api.Tokens { return &accounts.Tokens{} }
