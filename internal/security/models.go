// Package security is the Security menu: the users and roles of the
// accounts layer (internal/accounts, where their rules are) as admin views
// (List Users, List Roles) built with the same generic ModelView as the
// catalogue's, the rules about who may change whom (Guard), the password
// pages, and the roles file the command line exports and imports.
package security

import (
	"musicadmin/internal/accounts"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
)

// Field names of the users and roles models, as the views and the command
// line name them.
const (
	FieldUsername    = accounts.FieldUsername
	FieldActive      = accounts.FieldActive
	FieldRoles       = accounts.FieldRoles
	FieldPassword    = accounts.FieldPassword
	FieldName        = accounts.FieldName
	FieldPermissions = accounts.FieldPermissions
)

// UserSchema is the users model's declaration.
var UserSchema = accounts.UserSchema

// Service is the accounts of one backend, with passwords hashed at the
// auth service's cost on their way to the store: what the views and the
// command line share.
type Service struct {
	*accounts.Accounts
}

// NewService returns the accounts over the models a backend declared,
// kept in st; hasher hashes passwords (nil where nothing is written, as in
// create-db's permission sync).
func NewService(m accounts.Models, st accounts.Store, log audit.Log, hasher *auth.Users) (*Service, error) {
	acc, err := accounts.New(m, st, log, hasher)
	if err != nil {
		return nil, err
	}
	return &Service{Accounts: acc}, nil
}
