// Package security is the Security menu: users and roles as models of the
// datamodel seam, their admin views (List Users, List Roles) built with the
// same generic ModelView as the catalogue's, the rules about who may change
// whom (Guard), the password pages, and the roles file the command line
// exports and imports. The rules about the data itself (the last active
// Admin stays, the built-in roles keep their names, a deactivated user's
// sessions end) are the stores' (store.UserModel, mongostore.UserModel),
// where every path to a write meets them.
package security

import (
	"context"
	"strings"

	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/mongostore"
	"musicadmin/internal/store"
)

// Field names of the users and roles models.
const (
	FieldUsername    = "username"
	FieldActive      = "active"
	FieldRoles       = "roles"
	FieldPassword    = "password"
	FieldName        = "name"
	FieldPermissions = "permissions"
)

// Schemas of users and roles: each stated once. The model names are the
// tables' and the MongoDB collections'. The rules are those of the
// command line's create-admin (auth.NewUser.Validate): names of at most 64
// characters, a plain email address, a password of at most 72 bytes.
var (
	UserSchema = datamodel.Schema{Name: "users", Label: FieldUsername, Fields: []datamodel.Field{
		{Name: FieldUsername, Label: "Username", Kind: datamodel.Text{MaxRunes: 64}, Required: true, Unique: true},
		{Name: "first_name", Label: "First name", Kind: datamodel.Text{MaxRunes: 64}, Required: true},
		{Name: "last_name", Label: "Last name", Kind: datamodel.Text{MaxRunes: 64}, Required: true},
		{Name: "email", Label: "Email", Kind: datamodel.Text{MaxRunes: 254, Email: true}, Required: true},
		{Name: FieldActive, Label: "Active", Kind: datamodel.Bool{DefaultOn: true}},
		{Name: FieldRoles, Label: "Roles", Kind: datamodel.Set{Of: "roles"}},
		{Name: FieldPassword, Label: "Password", Kind: datamodel.Password{MaxBytes: auth.MaxPasswordBytes},
			Required: true, WriteOnly: true},
	}}
	RoleSchema = datamodel.Schema{Name: "roles", Label: FieldName, Fields: []datamodel.Field{
		{Name: FieldName, Label: "Name", Kind: datamodel.Text{MaxRunes: 64}, Required: true, Unique: true},
		{Name: FieldPermissions, Label: "Permissions", Kind: datamodel.Set{Of: "permissions"}},
	}}
)

// UserStore is the users model of a backend, with the one write that is no
// record's: a new password.
type UserStore interface {
	datamodel.Interface
	// SetPassword stores hash as the password hash of the user with id and
	// ends every session of theirs; datamodel.ErrNotFound when no user has
	// id.
	SetPassword(ctx context.Context, id string, hash datamodel.Hash) error
}

// Models are the users and roles of one backend.
type Models struct {
	Users UserStore
	Roles datamodel.Interface
}

// OnSQL declares users and roles on a SQL store.
func OnSQL(st *store.Store) (*Models, error) {
	roles, err := store.NewRoleModel(st, RoleSchema)
	if err != nil {
		return nil, err
	}
	users, err := store.NewUserModel(st, UserSchema)
	if err != nil {
		return nil, err
	}
	return &Models{Users: users, Roles: roles}, nil
}

// OnMongo declares users and roles on a MongoDB store, over the
// collections the accounts keep.
func OnMongo(st *mongostore.Store) (*Models, error) {
	roles, err := st.DeclareRoles(RoleSchema)
	if err != nil {
		return nil, err
	}
	users, err := st.DeclareUsers(UserSchema)
	if err != nil {
		return nil, err
	}
	return &Models{Users: users, Roles: roles}, nil
}

// hashing is the users model with passwords hashed on the way in: the
// stores take a datamodel.Hash, never the Secret a form or the command
// line read.
type hashing struct {
	UserStore
	users *auth.Users
}

// hashed returns v with its password, if any, hashed.
func (h hashing) hashed(v datamodel.Values) (datamodel.Values, error) {
	secret, ok := v[FieldPassword].(datamodel.Secret)
	if !ok {
		return v, nil
	}
	// The form checked it; a caller that did not gets the rules' refusal.
	if err := auth.ValidatePassword(string(secret)); err != nil {
		return nil, &datamodel.RefusedError{Field: FieldPassword, Message: passwordProblem(err)}
	}
	hash, err := h.users.HashPassword(string(secret))
	if err != nil {
		return nil, err
	}
	out := make(datamodel.Values, len(v))
	for k, val := range v {
		out[k] = val
	}
	out[FieldPassword] = datamodel.Hash(hash)
	return out, nil
}

// passwordProblem phrases a refused password ("password is empty") as a
// form shows it ("Password is empty.").
func passwordProblem(err error) string {
	msg := err.Error()
	if msg == "" {
		return "Not a valid password."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (h hashing) Create(ctx context.Context, v datamodel.Values) (string, error) {
	v, err := h.hashed(v)
	if err != nil {
		return "", err
	}
	return h.UserStore.Create(ctx, v)
}

func (h hashing) Update(ctx context.Context, id string, v datamodel.Values) error {
	v, err := h.hashed(v)
	if err != nil {
		return err
	}
	return h.UserStore.Update(ctx, id, v)
}

func (h hashing) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	v, err := h.hashed(v)
	if err != nil {
		return err
	}
	return h.UserStore.UpdateIf(ctx, id, version, v)
}
