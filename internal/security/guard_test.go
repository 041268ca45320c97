package security

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"musicadmin/internal/access"
	"musicadmin/internal/accounts"
	"musicadmin/internal/admin"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/memstore"
)

// memStore is a memory store whose sessions end without a trace.
type memStore struct{ *memstore.Store }

func (memStore) EndSessions(context.Context, []string) error { return nil }

// Declare makes the memory store a datamodel.Declarer.
func (s memStore) Declare(decl datamodel.Schema) (datamodel.Interface, error) {
	return s.Store.Declare(decl)
}

type noLog struct{}

func (noLog) Append(context.Context, audit.Entry) error { return nil }
func (noLog) Entries() datamodel.Interface              { return nil }

// guardRig is the accounts on a memory store with the built-in roles, an
// Editor role (list and add songs) and a user of each.
type guardRig struct {
	svc                  *Service
	users                *userGuard
	roles                *roleGuard
	admin, reader, editr string // role ids
	boss, viewer, writer string // user ids
}

func newGuardRig(t *testing.T) *guardRig {
	t.Helper()
	ctx := context.Background()
	mem := memStore{memstore.New()}
	m, err := accounts.Declare(mem)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []access.Permission{access.On("songsview", access.CanList), access.On("songsview", access.CanAdd),
		access.On("songsview", access.CanDelete), access.On(UsersView, access.CanEdit)} {
		if _, err := m.Permissions.Create(ctx, datamodel.Values{accounts.FieldName: p.Name, accounts.FieldView: p.View,
			accounts.FieldLabel: p.String()}); err != nil {
			t.Fatal(err)
		}
	}
	hasher, err := auth.NewUsers(nil, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(m, mem, noLog{}, hasher)
	if err != nil {
		t.Fatal(err)
	}
	r := &guardRig{svc: svc, users: &userGuard{users: svc.Users, roles: svc.Roles}, roles: &roleGuard{roles: svc.Roles}}
	role := func(name string, perms ...string) string {
		refs := []datamodel.Ref{}
		for _, p := range perms {
			refs = append(refs, datamodel.Ref{ID: p})
		}
		id, err := svc.Roles.Create(ctx, datamodel.Values{FieldName: name, FieldPermissions: refs})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	user := func(name, role string) string {
		id, err := svc.Users.Create(ctx, datamodel.Values{FieldUsername: name, "first_name": "F", "last_name": "L",
			"email": name + "@example.com", FieldActive: true, FieldRoles: []datamodel.Ref{{ID: role}},
			FieldPassword: datamodel.Secret("password-1")})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	r.admin, r.reader = role(access.AdminRole), role(access.ReadOnlyRole, "can_list:songsview")
	r.editr = role("Editor", "can_list:songsview", "can_add:songsview")
	r.boss, r.viewer, r.writer = user("boss", r.admin), user("viewer", r.reader), user("writer", r.editr)
	return r
}

// manager may edit users and holds what Editor holds, and no more.
var manager = access.NewGrants([]string{"Manager"}, []access.Permission{access.On(UsersView, access.CanEdit),
	access.On("songsview", access.CanList), access.On("songsview", access.CanAdd)})

func forbidden(err error) bool {
	var f *admin.Forbidden
	return errors.As(err, &f)
}

func refusedWith(err error, msg string) bool {
	var r *datamodel.RefusedError
	return errors.As(err, &r) && r.Message == msg
}

// TestUserGuard: a manager who is no Admin acts on and hands out only what
// they hold themselves; an Admin on anyone.
func TestUserGuard(t *testing.T) {
	ctx := context.Background()
	r := newGuardRig(t)
	get := func(id string) datamodel.Record {
		rec, err := r.svc.Users.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	if err := r.users.CheckEdit(ctx, manager, get(r.writer)); err != nil {
		t.Errorf("edit a user whose roles the manager holds: %v", err)
	}
	if err := r.users.CheckEdit(ctx, manager, get(r.boss)); !forbidden(err) {
		t.Errorf("edit an Admin: %v, want Forbidden", err)
	}
	give := func(role string) datamodel.Values { return datamodel.Values{FieldRoles: []datamodel.Ref{{ID: role}}} }
	if err := r.users.CheckWrite(ctx, manager, nil, give(r.editr)); err != nil {
		t.Errorf("give Editor: %v", err)
	}
	if err := r.users.CheckWrite(ctx, manager, nil, give(r.admin)); !refusedWith(err, msgGiveRoles) {
		t.Errorf("give Admin: %v, want %q", err, msgGiveRoles)
	}
	if err := r.users.CheckDelete(ctx, manager, []string{r.writer, r.boss}); !forbidden(err) {
		t.Errorf("delete an Admin among others: %v, want Forbidden", err)
	}
	all := access.NewGrants([]string{access.AdminRole}, nil)
	if err := r.users.CheckDelete(ctx, all, []string{r.boss}); err != nil {
		t.Errorf("an Admin deletes an Admin (the last-Admin rule is the accounts'): %v", err)
	}
}

// TestRoleGuard: a manager gives only the permissions they hold, never
// touches Admin, and the built-in roles' names (and Admin's permissions)
// are fixed on the form.
func TestRoleGuard(t *testing.T) {
	ctx := context.Background()
	r := newGuardRig(t)
	perms := func(keys ...string) datamodel.Values {
		refs := []datamodel.Ref{}
		for _, k := range keys {
			refs = append(refs, datamodel.Ref{ID: k})
		}
		return datamodel.Values{FieldPermissions: refs}
	}
	if err := r.roles.CheckWrite(ctx, manager, nil, perms("can_add:songsview")); err != nil {
		t.Errorf("give a permission held: %v", err)
	}
	if err := r.roles.CheckWrite(ctx, manager, nil, perms("can_delete:songsview")); !refusedWith(err, msgGivePerms) {
		t.Errorf("give a permission not held: %v, want %q", err, msgGivePerms)
	}
	if err := r.roles.CheckWrite(ctx, manager, nil, perms("not a key")); !refusedWith(err, "Not a valid choice.") {
		t.Errorf("give no permission at all: %v", err)
	}
	adminRec, err := r.svc.Roles.Get(ctx, r.admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.roles.CheckEdit(ctx, manager, adminRec); !forbidden(err) {
		t.Errorf("edit Admin: %v, want Forbidden", err)
	}
	if fixed := r.roles.Fixed(&adminRec); fixed[FieldName] == "" || fixed[FieldPermissions] == "" {
		t.Errorf("Admin's fixed fields: %v", fixed)
	}
	reader, err := r.svc.Roles.Get(ctx, r.reader)
	if err != nil {
		t.Fatal(err)
	}
	if fixed := r.roles.Fixed(&reader); fixed[FieldName] == "" || fixed[FieldPermissions] != "" {
		t.Errorf("ReadOnly's fixed fields: %v", fixed)
	}
	if err := r.roles.CheckDelete(ctx, manager, []string{r.editr}); err != nil {
		t.Errorf("delete a role the manager covers: %v", err)
	}
}
