package accounts

import (
	"context"
	"fmt"

	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// Store is what the accounts need of a backend besides the three models.
type Store interface {
	datamodel.Together
	// EndSessions ends every session of the users with ids, as a write of
	// a Together's ctx when made with one.
	EndSessions(ctx context.Context, userIDs []string) error
}

// Models are the accounts' models as a backend declared them from Schemas.
type Models struct {
	Permissions datamodel.Interface
	Roles       datamodel.Interface
	Users       datamodel.Interface
	Tokens      datamodel.Interface
	// SecondFactors are the users' TOTP second factors.
	SecondFactors datamodel.Interface
	// Identities are the users' identities at OpenID providers.
	Identities datamodel.Interface
}

// Accounts are the users and roles of one backend with their rules: the
// models the Security views and the command line read and write through.
type Accounts struct {
	Users       *Users
	Roles       *Roles
	Tokens      *Tokens
	TOTP        *SecondFactors
	Identities  *Identities
	Permissions datamodel.Interface
	// Auth hashes and checks passwords at the configured cost.
	Auth *auth.Users
}

// New returns the accounts over m, kept in st, passwords hashed by
// hasher; log receives the entries of password changes, which are no
// record's change.
func New(m Models, st Store, log audit.Log, hasher *auth.Users) (*Accounts, error) {
	for _, c := range []struct {
		model datamodel.Interface
		want  *datamodel.Schema
	}{{m.Permissions, &PermissionSchema}, {m.Roles, &RoleSchema}, {m.Users, &UserSchema}, {m.Tokens, &TokenSchema},
		{m.SecondFactors, &SecondFactorSchema}, {m.Identities, &IdentitySchema}} {
		if c.model == nil || c.model.Schema().Name != c.want.Name {
			return nil, fmt.Errorf("accounts: the %s model is missing", c.want.Name)
		}
	}
	roles := &Roles{base: m.Roles, perms: m.Permissions, st: st}
	tokens := newTokens(m.Tokens, m.Users, st)
	factors := newSecondFactors(m.SecondFactors, m.Users, m.Roles, st, log)
	users := &Users{base: m.Users, roles: roles, tokens: tokens, factors: factors, st: st, log: log, hasher: hasher}
	identities := &Identities{base: m.Identities, users: users, roles: roles, st: st, log: log}
	users.identities = identities
	roles.holders = users
	return &Accounts{Users: users, Roles: roles, Tokens: tokens, TOTP: factors, Identities: identities,
		Permissions: m.Permissions, Auth: hasher}, nil
}

// UserByName returns the user named username, or datamodel.ErrNotFound.
func (a *Accounts) UserByName(ctx context.Context, username string) (datamodel.Record, error) {
	return byLabel(ctx, a.Users, username)
}

// RoleByName returns the role named name, or datamodel.ErrNotFound.
func (a *Accounts) RoleByName(ctx context.Context, name string) (datamodel.Record, error) {
	return byLabel(ctx, a.Roles, name)
}

// byLabel finds the record of m whose label is text, exactly.
func byLabel(ctx context.Context, m datamodel.Interface, text string) (datamodel.Record, error) {
	s := m.Schema()
	page, err := m.List(ctx, datamodel.Query{Filters: []datamodel.Filter{{Field: s.LabelField(), Op: datamodel.OpEq, Value: text}},
		Limit: 1, NoCount: true})
	if err != nil {
		return datamodel.Record{}, err
	}
	if len(page.Records) == 0 {
		return datamodel.Record{}, datamodel.ErrNotFound
	}
	return page.Records[0], nil
}

// holding returns the filter of the records whose set field holds id.
func holding(set *datamodel.Field, id string) datamodel.Filter {
	return datamodel.Filter{Field: set, Op: datamodel.OpEq, Value: []datamodel.Ref{{ID: id}}}
}

// Declare declares permissions, roles, users, tokens, second factors and identities on d, in that
// order: a model refers only to models declared before it.
func Declare(d datamodel.Declarer) (Models, error) {
	var m Models
	var err error
	if m.Permissions, err = d.Declare(PermissionSchema); err != nil {
		return m, err
	}
	if m.Roles, err = d.Declare(RoleSchema); err != nil {
		return m, err
	}
	if m.Users, err = d.Declare(UserSchema); err != nil {
		return m, err
	}
	if m.Tokens, err = d.Declare(TokenSchema); err != nil {
		return m, err
	}
	if m.SecondFactors, err = d.Declare(SecondFactorSchema); err != nil {
		return m, err
	}
	m.Identities, err = d.Declare(IdentitySchema)
	return m, err
}
