package security

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// The guards keep a user who may manage users or roles, but is no Admin,
// from handing out more than they hold (SECURITY-TESTS 58; FAB #2466: a
// role-edit permission let anyone edit any role, Admin included). A user
// may give, and act on someone holding, only permissions they hold
// themselves (access.Grants.Covers), and the Admin role, which holds every
// permission, is for Admins to give and to touch. So nobody raises their
// own permissions: the roles they could give themselves hold nothing they
// lack. An Admin may do anything these rules cover; the stores' own rules
// (the last active Admin, the built-in roles) still hold for them.

// Messages of the guards.
const (
	msgUserAbove  = "You may not change this user: they hold permissions you do not have."
	msgRoleAbove  = "You may not change this role: it holds permissions you do not have."
	msgGiveRoles  = "You may only give roles whose permissions you hold yourself."
	msgGivePerms  = "You may only give permissions you hold yourself."
	noteBuiltin   = "A built-in role keeps its name."
	noteAdminRole = "The Admin role holds every permission, always, those of views added later included."
)

// grantsOf returns the permissions the roles with ids hold together, and
// whether one of them is Admin (which holds every permission).
func grantsOf(ctx context.Context, roles datamodel.Interface, ids []string) ([]access.Permission, bool, error) {
	var perms []access.Permission
	isAdmin := false
	for _, id := range ids {
		rec, err := roles.Get(ctx, id)
		if errors.Is(err, datamodel.ErrNotFound) {
			continue // a role deleted meanwhile grants nothing
		}
		if err != nil {
			return nil, false, err
		}
		if name, _ := rec.Values[FieldName].(string); name == access.AdminRole {
			isAdmin = true
		}
		held, err := permissionsOf(rec)
		if err != nil {
			return nil, false, err
		}
		perms = append(perms, held...)
	}
	return perms, isAdmin, nil
}

// permissionsOf returns the permissions a role's record holds.
func permissionsOf(rec datamodel.Record) ([]access.Permission, error) {
	var out []access.Permission
	for _, key := range datamodel.IDs(rec.Values[FieldPermissions]) {
		p, ok := access.ParseKey(key)
		if !ok {
			return nil, fmt.Errorf("security: role %s holds %q, no permission", rec.ID, key)
		}
		out = append(out, p)
	}
	return out, nil
}

// covers reports whether g allows everything perms (and, with isAdmin, the
// Admin role) allow.
func covers(g *access.Grants, perms []access.Permission, isAdmin bool) bool {
	if g.Admin() {
		return true
	}
	return !isAdmin && g.Covers(perms)
}

// checkEach allows a delete of the records of m with ids when check
// allows editing each (an Admin may always); one gone meanwhile is
// skipped.
func checkEach(ctx context.Context, g *access.Grants, m datamodel.Interface, ids []string,
	check func(context.Context, *access.Grants, datamodel.Record) error) error {
	if g.Admin() {
		return nil
	}
	for _, id := range ids {
		rec, err := m.Get(ctx, id)
		if errors.Is(err, datamodel.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := check(ctx, g, rec); err != nil {
			return err
		}
	}
	return nil
}

// userGuard is the Guard of the users view.
type userGuard struct {
	users    datamodel.Interface
	roles    datamodel.Interface
	sessions *auth.Sessions
}

var _ admin.Guard = (*userGuard)(nil)

// CheckEdit allows a user whose roles the acting user covers.
func (gd *userGuard) CheckEdit(ctx context.Context, g *access.Grants, rec datamodel.Record) error {
	if g.Admin() {
		return nil
	}
	perms, isAdmin, err := grantsOf(ctx, gd.roles, datamodel.IDs(rec.Values[FieldRoles]))
	if err != nil {
		return err
	}
	if !covers(g, perms, isAdmin) {
		return &admin.Forbidden{Message: msgUserAbove}
	}
	return nil
}

// CheckWrite allows roles the acting user covers.
func (gd *userGuard) CheckWrite(ctx context.Context, g *access.Grants, _ *datamodel.Record, v datamodel.Values) error {
	given, ok := v[FieldRoles]
	if !ok || g.Admin() {
		return nil
	}
	perms, isAdmin, err := grantsOf(ctx, gd.roles, datamodel.IDs(given))
	if err != nil {
		return err
	}
	if !covers(g, perms, isAdmin) {
		return &datamodel.RefusedError{Field: FieldRoles, Message: msgGiveRoles}
	}
	return nil
}

// CheckDelete allows users the acting user covers.
func (gd *userGuard) CheckDelete(ctx context.Context, g *access.Grants, ids []string) error {
	return checkEach(ctx, g, gd.users, ids, gd.CheckEdit)
}

// Fixed: every field of a user may change.
func (gd *userGuard) Fixed(*datamodel.Record) map[string]string { return nil }

// Saved renews the session of a user who changed their own account: a role
// taken away ends their sessions, and the one they made the change in
// stays. A user who deactivated themselves is not renewed: they are out.
func (gd *userGuard) Saved(w http.ResponseWriter, r *http.Request, id string) {
	me := auth.CurrentUser(r)
	if gd.sessions == nil || me == nil || me.ID != id {
		return
	}
	rec, err := gd.users.Get(r.Context(), id)
	if err != nil {
		return
	}
	if active, _ := rec.Values[FieldActive].(bool); !active {
		return
	}
	if err := gd.sessions.Renew(w, r, me); err != nil {
		return // the save stands; the user logs in again
	}
}

// roleGuard is the Guard of the roles view.
type roleGuard struct {
	roles datamodel.Interface
}

var _ admin.Guard = (*roleGuard)(nil)

func roleName(rec datamodel.Record) string {
	s, _ := rec.Values[FieldName].(string)
	return s
}

// CheckEdit allows a role the acting user covers; Admin is for Admins.
func (gd *roleGuard) CheckEdit(_ context.Context, g *access.Grants, rec datamodel.Record) error {
	if g.Admin() {
		return nil
	}
	perms, err := permissionsOf(rec)
	if err != nil {
		return err
	}
	if !covers(g, perms, roleName(rec) == access.AdminRole) {
		return &admin.Forbidden{Message: msgRoleAbove}
	}
	return nil
}

// CheckWrite allows permissions the acting user holds.
func (gd *roleGuard) CheckWrite(_ context.Context, g *access.Grants, _ *datamodel.Record, v datamodel.Values) error {
	given, ok := v[FieldPermissions]
	if !ok || g.Admin() {
		return nil
	}
	var perms []access.Permission
	for _, key := range datamodel.IDs(given) {
		p, ok := access.ParseKey(key)
		if !ok {
			return &datamodel.RefusedError{Field: FieldPermissions, Message: "Not a valid choice."}
		}
		perms = append(perms, p)
	}
	if !g.Covers(perms) {
		return &datamodel.RefusedError{Field: FieldPermissions, Message: msgGivePerms}
	}
	return nil
}

// CheckDelete allows roles the acting user covers.
func (gd *roleGuard) CheckDelete(ctx context.Context, g *access.Grants, ids []string) error {
	return checkEach(ctx, g, gd.roles, ids, gd.CheckEdit)
}

// Fixed: a built-in role's name, and the Admin role's permissions, which
// are all of them by its name.
func (gd *roleGuard) Fixed(rec *datamodel.Record) map[string]string {
	if rec == nil {
		return nil
	}
	switch roleName(*rec) {
	case access.AdminRole:
		return map[string]string{FieldName: noteBuiltin, FieldPermissions: noteAdminRole}
	case access.ReadOnlyRole:
		return map[string]string{FieldName: noteBuiltin}
	}
	return nil
}

// Saved has nothing to do: grants are read on every request.
func (gd *roleGuard) Saved(http.ResponseWriter, *http.Request, string) {}
