package accounts

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// Users is the users model with its rules, passwords hashed on their way
// to the store: a store takes a datamodel.Hash, never the Secret a form or
// the command line read.
type Users struct {
	base   datamodel.Interface
	roles  *Roles
	tokens *Tokens // which go with their user
	// factors are the second factors, which go with their user too
	factors *SecondFactors
	// identities are the users' identities at OpenID providers, which go
	// with their user too
	identities *Identities
	st         Store
	log        audit.Log
	hasher     *auth.Users
}

var _ datamodel.Interface = (*Users)(nil)

// Refusals of the last active Admin.
const (
	msgLastAdminUpdate = "This is the last active Admin: make another user an active Admin first, then deactivate this one or take its Admin role."
	msgLastAdminDelete = "The last active Admin cannot be deleted: make another user an active Admin first."
)

// Schema returns the declaration.
func (u *Users) Schema() *datamodel.Schema { return u.base.Schema() }

// ValidID accepts the store's ids.
func (u *Users) ValidID(id string) bool { return u.base.ValidID(id) }

// Get returns the user with id.
func (u *Users) Get(ctx context.Context, id string) (datamodel.Record, error) {
	return u.base.Get(ctx, id)
}

// List returns a page of users.
func (u *Users) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	return u.base.List(ctx, q)
}

// Each calls fn with every user matching q.
func (u *Users) Each(ctx context.Context, q datamodel.Query, fn func(datamodel.Record) error) error {
	return u.base.Each(ctx, q, fn)
}

// Count returns how many users match filters.
func (u *Users) Count(ctx context.Context, filters []datamodel.Filter) (int64, error) {
	return u.base.Count(ctx, filters)
}

// Group groups the users matching q as the store does.
func (u *Users) Group(ctx context.Context, q datamodel.GroupQuery) (datamodel.Grouping, error) {
	return u.base.Group(ctx, q)
}

// Exists reports whether another user has field == value.
func (u *Users) Exists(ctx context.Context, field *datamodel.Field, value any, exceptID string) (bool, error) {
	return u.base.Exists(ctx, field, value, exceptID)
}

// Choices lists the roles a user may hold, by name.
func (u *Users) Choices(ctx context.Context, field *datamodel.Field) ([]datamodel.Ref, error) {
	return u.base.Choices(ctx, field)
}

// hashed returns v with its password, if any, hashed.
func (u *Users) hashed(v datamodel.Values) (datamodel.Values, error) {
	secret, ok := v[FieldPassword].(datamodel.Secret)
	if !ok {
		return v, nil
	}
	// The form checked it; a caller that did not gets the rules' refusal.
	if err := auth.ValidatePassword(string(secret)); err != nil {
		return nil, &datamodel.RefusedError{Field: FieldPassword, Message: passwordProblem(err)}
	}
	hash, err := u.hasher.HashPassword(string(secret))
	if err != nil {
		return nil, err
	}
	out := maps.Clone(v)
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

// Create stores a new user; a new user cannot take the last Admin away.
func (u *Users) Create(ctx context.Context, v datamodel.Values) (string, error) {
	v, err := u.hashed(v)
	if err != nil {
		return "", err
	}
	return u.base.Create(ctx, v)
}

// Update writes v to the user with id.
func (u *Users) Update(ctx context.Context, id string, v datamodel.Values) error {
	return u.update(ctx, id, nil, v)
}

// UpdateIf writes v to the user with id if it still has version.
func (u *Users) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	return u.update(ctx, id, &version, v)
}

// update checks the last Admin rule on the user as stored and writes,
// under the accounts' lock; a user who lost a role, was deactivated or
// has a new password is logged out everywhere.
func (u *Users) update(ctx context.Context, id string, version *string, v datamodel.Values) error {
	v, err := u.hashed(v)
	if err != nil {
		return err
	}
	return u.st.Together(ctx, lockName, func(ctx context.Context) error {
		return u.updateLocked(ctx, id, version, v)
	})
}

// updateLocked is update's check and write, inside the accounts' lock, of
// v with any password hashed already.
func (u *Users) updateLocked(ctx context.Context, id string, version *string, v datamodel.Values) error {
	cur, err := u.base.Get(ctx, id)
	if err != nil {
		return err
	}
	admin, err := u.adminRoleID(ctx)
	if err != nil {
		return err
	}
	if activeAdmin(cur.Values, admin) && !activeAdmin(merged(cur.Values, v), admin) {
		if err := u.keepsAnAdmin(ctx, admin, 1, lastAdminUpdate(v)); err != nil {
			return err
		}
	}
	if version != nil {
		err = u.base.UpdateIf(ctx, id, *version, v)
	} else {
		err = u.base.Update(ctx, id, v)
	}
	if err != nil || !endsSessions(cur.Values, v) {
		return err
	}
	return u.st.EndSessions(ctx, []string{id})
}

// merged returns cur with v written over it.
func merged(cur map[string]any, v datamodel.Values) map[string]any {
	out := maps.Clone(cur)
	maps.Copy(out, v)
	return out
}

// activeAdmin reports whether a user with values is active and holds the
// role admin ("" for none).
func activeAdmin(values map[string]any, admin string) bool {
	active, _ := values[FieldActive].(bool)
	return admin != "" && active && slices.Contains(datamodel.IDs(values[FieldRoles]), admin)
}

// endsSessions reports whether writing v over cur logs the user out: a
// new password, a role taken away, or a deactivation.
func endsSessions(cur map[string]any, v datamodel.Values) bool {
	if _, ok := v[FieldPassword]; ok {
		return true
	}
	if active, ok := v[FieldActive].(bool); ok && !active {
		return true
	}
	if roles, ok := v[FieldRoles]; ok {
		kept := datamodel.IDs(roles)
		for _, id := range datamodel.IDs(cur[FieldRoles]) {
			if !slices.Contains(kept, id) {
				return true
			}
		}
	}
	return false
}

// adminRoleID returns the id of the Admin role, or "" when there is none
// (a database create-db has not prepared).
func (u *Users) adminRoleID(ctx context.Context) (string, error) {
	rec, err := byLabel(ctx, u.roles.base, access.AdminRole)
	if errors.Is(err, datamodel.ErrNotFound) {
		return "", nil
	}
	return rec.ID, err
}

// lastAdminUpdate is the refusal of v taking the last active Admin away,
// beside the field that does it: the active box, or else the roles.
func lastAdminUpdate(v datamodel.Values) *datamodel.RefusedError {
	field := FieldRoles
	if active, ok := v[FieldActive].(bool); ok && !active {
		field = FieldActive
	}
	return &datamodel.RefusedError{Field: field, Message: msgLastAdminUpdate}
}

// keepsAnAdmin returns refusal for a write that takes leaving active
// Admins away when no other one stays.
func (u *Users) keepsAnAdmin(ctx context.Context, admin string, leaving int, refusal *datamodel.RefusedError) error {
	f := u.Schema()
	n, err := u.base.Count(ctx, []datamodel.Filter{
		{Field: f.Field(FieldActive), Op: datamodel.OpEq, Value: true},
		holding(f.Field(FieldRoles), admin),
	})
	if err != nil {
		return err
	}
	if n <= int64(leaving) {
		return refusal
	}
	return nil
}

// holdersOf returns the ids of the users holding the role with id.
func (u *Users) holdersOf(ctx context.Context, role string) ([]string, error) {
	var ids []string
	q := datamodel.Query{Filters: []datamodel.Filter{holding(u.Schema().Field(FieldRoles), role)}}
	err := u.base.Each(ctx, q, func(rec datamodel.Record) error {
		ids = append(ids, rec.ID)
		return nil
	})
	return ids, err
}

// Delete removes the user with id, unless they are the last active Admin.
func (u *Users) Delete(ctx context.Context, id string) error {
	n, err := u.DeleteMany(ctx, []string{id})
	if err == nil && n == 0 {
		return datamodel.ErrNotFound
	}
	return err
}

// DeleteMany removes the users with ids, or none of them when that would
// leave no active Admin; their sessions and their tokens go with them (the
// tokens first: a store without transactions that fails in between leaves
// the user without tokens, not tokens without a user).
func (u *Users) DeleteMany(ctx context.Context, ids []string) (int, error) {
	var removed int
	err := u.st.Together(ctx, lockName, func(ctx context.Context) error {
		admin, err := u.adminRoleID(ctx)
		if err != nil {
			return err
		}
		leaving, err := u.activeAdminsAmong(ctx, ids, admin)
		if err != nil {
			return err
		}
		if leaving > 0 {
			if err := u.keepsAnAdmin(ctx, admin, leaving, &datamodel.RefusedError{Message: msgLastAdminDelete}); err != nil {
				return err
			}
		}
		if err := u.tokens.deleteOf(ctx, ids); err != nil {
			return err
		}
		if err := u.factors.deleteOf(ctx, ids); err != nil {
			return err
		}
		if err := u.identities.deleteOf(ctx, ids); err != nil {
			return err
		}
		if removed, err = u.base.DeleteMany(ctx, ids); err != nil {
			return err
		}
		return u.st.EndSessions(ctx, ids)
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}

// activeAdminsAmong counts the active Admins among the users with ids,
// each once.
func (u *Users) activeAdminsAmong(ctx context.Context, ids []string, admin string) (int, error) {
	n := 0
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] || !u.ValidID(id) {
			continue
		}
		seen[id] = true
		rec, err := u.base.Get(ctx, id)
		if errors.Is(err, datamodel.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if activeAdmin(rec.Values, admin) {
			n++
		}
	}
	return n, nil
}

// SetPassword stores hash as the password of the user with id and ends
// every session of theirs; datamodel.ErrNotFound when no user has id. The
// audit log says that it happened, by whom, to whom; never the hash.
func (u *Users) SetPassword(ctx context.Context, id string, hash datamodel.Hash) error {
	if hash == "" {
		return datamodel.ErrNotFound
	}
	return u.st.Together(ctx, lockName, func(ctx context.Context) error {
		cur, err := u.base.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := u.base.Update(audit.Without(ctx), id, datamodel.Values{FieldPassword: hash}); err != nil {
			return err
		}
		if err := u.st.EndSessions(ctx, []string{id}); err != nil {
			return err
		}
		actor, ok := audit.From(ctx)
		if !ok {
			return nil
		}
		return u.log.Append(ctx, audit.NewEntry(actor, audit.ActionPassword, u.Schema(), &cur, &cur, time.Now()))
	})
}
