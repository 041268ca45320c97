// Package accounts is users, roles, their permissions and their API
// tokens, written once above the seam: four models declared like any
// catalogue model over datamodel.Interface, and the rules about their data
// that every path to a write meets (a form, a bulk action, the command
// line, a load), on every backend alike:
//
//   - the last active Admin stays: a write that would leave no active
//     user holding the Admin role (a deactivation, the role taken away, a
//     delete, one or many) is refused with a RefusedError;
//   - the built-in roles (Admin, ReadOnly) keep their names and are never
//     deleted; the Admin role holds every permission by its name, those of
//     views added later included, so its own set is never written;
//   - a user deactivated, a role taken from them, a role they hold
//     deleted, or a new password, ends their sessions;
//   - a password reaches a store only as its hash;
//   - a user's own settings (a shipped language, an IANA time zone) are
//     only what the app can show, and changing them is no audited change
//     (settings.go);
//   - an API token is stored only as its digest (a Hidden field), and
//     works while unexpired, unrevoked and its user active; a user's
//     tokens go with them (Tokens).
//
// The rules that span records are checked and written inside one
// datamodel.Together, so that no other write (in this process or another
// one on the same database) slips in between the check and the write.
// What the stores offer for it is generic: a Set field (users' roles,
// roles' permissions), a WriteOnly Password field kept as its hash, the
// Together primitive and the ending of a user's sessions.
package accounts

import (
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// Field names of the users, roles and permissions models.
const (
	FieldUsername    = "username"
	FieldActive      = "active"
	FieldRoles       = "roles"
	FieldPassword    = "password"
	FieldName        = "name"
	FieldPermissions = "permissions"
	FieldView        = "view_name"
	FieldLabel       = "label"
)

// Field names of the tokens model.
const (
	FieldUser       = "user"
	FieldCreatedAt  = "created_at"
	FieldExpiresAt  = "expires_at"
	FieldLastUsedAt = "last_used_at"
	FieldDigest     = "digest"
)

// The models' names: the SQL tables' and the MongoDB collections'.
const (
	UsersModel       = "users"
	RolesModel       = "roles"
	PermissionsModel = "permissions"
	TokensModel      = "tokens"
)

// lockName is the Together lock every write to users, roles and tokens
// takes: its takings are the accounts' generation (auth.Generations),
// which tells every instance that the logins it remembers may have
// changed.
const lockName = auth.AccountsLock

// Schemas of users, roles and permissions: each stated once, in the order
// a store declares them (a model refers only to models before it). The
// rules of users are those of the command line's create-admin
// (auth.NewUser.Validate): names of at most 64 characters, a plain email
// address, a password of at most 72 bytes. A permission is named by its
// label ("can list on songsview"), which create-db writes.
var (
	PermissionSchema = datamodel.Schema{Name: PermissionsModel, Label: FieldLabel, Fields: []datamodel.Field{
		{Name: FieldName, Label: "Action", Kind: datamodel.Text{MaxRunes: 64}, Required: true},
		{Name: FieldView, Label: "View", Kind: datamodel.Text{MaxRunes: 64}, Required: true},
		{Name: FieldLabel, Label: "Permission", Kind: datamodel.Text{MaxRunes: 200}, Required: true},
	}}
	RoleSchema = datamodel.Schema{Name: RolesModel, Label: FieldName, Fields: []datamodel.Field{
		{Name: FieldName, Label: "Name", Kind: datamodel.Text{MaxRunes: 64}, Required: true, Unique: true},
		{Name: FieldPermissions, Label: "Permissions", Kind: datamodel.Set{Of: PermissionsModel}},
	}}
	UserSchema = datamodel.Schema{Name: UsersModel, Label: FieldUsername, Fields: []datamodel.Field{
		{Name: FieldUsername, Label: "Username", Kind: datamodel.Text{MaxRunes: 64}, Required: true, Unique: true},
		{Name: "first_name", Label: "First name", Kind: datamodel.Text{MaxRunes: 64}, Required: true},
		{Name: "last_name", Label: "Last name", Kind: datamodel.Text{MaxRunes: 64}, Required: true},
		{Name: "email", Label: "Email", Kind: datamodel.Text{MaxRunes: 254, Email: true}, Required: true},
		{Name: FieldActive, Label: "Active", Kind: datamodel.Bool{DefaultOn: true}},
		{Name: FieldRoles, Label: "Roles", Kind: datamodel.Set{Of: RolesModel}},
		{Name: FieldPassword, Label: "Password", Kind: datamodel.Password{MaxBytes: auth.MaxPasswordBytes},
			Required: true, WriteOnly: true},
		// The user's own settings (settings.go): Hidden, as only the
		// user sets them, on their settings page, and no list, form,
		// export or audit entry holds them.
		{Name: FieldLanguage, Label: "Language", Kind: datamodel.Text{MaxRunes: 16}, Hidden: true},
		{Name: FieldTimeZone, Label: "Time zone", Kind: datamodel.Text{MaxRunes: 64}, Hidden: true},
	}}
)

// TokenSchema is the API tokens': each is a user's, named by them, with
// its times as RFC 3339 text in UTC to the second, as the audit log's (""
// for an expiry: never; for the last use: not yet), and the hex SHA-256 of
// the token, the one thing stored of it, Hidden: only Tokens reads it.
var TokenSchema = datamodel.Schema{Name: TokensModel, Label: FieldName, Fields: []datamodel.Field{
	{Name: FieldName, Label: "Name", Kind: datamodel.Text{MaxRunes: 100}, Required: true},
	{Name: FieldUser, Label: "User", Kind: datamodel.Reference{Model: UsersModel}, Required: true},
	{Name: FieldCreatedAt, Label: "Created", Kind: datamodel.Text{MaxRunes: 32}, Required: true},
	{Name: FieldExpiresAt, Label: "Expires", Kind: datamodel.Text{MaxRunes: 32}},
	{Name: FieldLastUsedAt, Label: "Last used", Kind: datamodel.Text{MaxRunes: 32}},
	{Name: FieldDigest, Label: "Digest", Kind: datamodel.Text{MaxRunes: 64}, Required: true, Unique: true, Hidden: true},
}}

// Schemas lists the accounts' models in the order a store declares them.
func Schemas() []datamodel.Schema {
	return []datamodel.Schema{PermissionSchema, RoleSchema, UserSchema, TokenSchema, SecondFactorSchema, IdentitySchema}
}
