package accounts

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/memstore"
	"musicadmin/internal/mongostore"
	"musicadmin/internal/mongostore/mongotest"
)

// testStore is a store's Together that remembers whose sessions ended.
type testStore struct {
	store datamodel.Together
	mu    sync.Mutex
	ended []string
}

func (s *testStore) Together(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return s.store.Together(ctx, name, fn)
}

func (s *testStore) EndSessions(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = append(s.ended, ids...)
	return nil
}

func (s *testStore) takeEnded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.ended
	s.ended = nil
	slices.Sort(out)
	return out
}

// testLog keeps the entries appended.
type testLog struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (l *testLog) Append(_ context.Context, e audit.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
	return nil
}

func (l *testLog) Entries() datamodel.Interface { return nil }

type fixture struct {
	acc           *Accounts
	st            *testStore
	log           *testLog
	tokens        *recorded // the tokens' model, audited as a store would
	admin, reader string    // the built-in roles' ids
	perm          map[string]string
}

// declarer is a store the accounts' models are declared on.
type declarer struct {
	name    string
	declare func(t *testing.T) (datamodel.Together, [6]datamodel.Interface)
}

// stores are the stores every test runs on: in memory, and MongoDB (whose
// sets, hashes and Together are its own; the SQL ones run in
// internal/backend and internal/server).
var stores = []declarer{
	{"memory", func(t *testing.T) (datamodel.Together, [6]datamodel.Interface) {
		mem := memstore.New()
		var m [6]datamodel.Interface
		for i, s := range Schemas() {
			model, err := mem.Declare(s)
			if err != nil {
				t.Fatal(err)
			}
			m[i] = model
		}
		return mem, m
	}},
	{"mongodb", func(t *testing.T) (datamodel.Together, [6]datamodel.Interface) {
		st := mongostore.New(mongotest.Database(t, mongotest.Connect(t)))
		var m [6]datamodel.Interface
		for i, s := range Schemas() {
			model, err := st.Declare(s)
			if err != nil {
				t.Fatal(err)
			}
			m[i] = model
		}
		if err := st.EnsureIndexes(context.Background()); err != nil {
			t.Fatal(err)
		}
		return st, m
	}},
}

// forEachStore runs test on a fixture of every store, in parallel.
func forEachStore(t *testing.T, test func(t *testing.T, f *fixture)) {
	t.Parallel()
	for _, d := range stores {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			test(t, newFixture(t, d))
		})
	}
}

// newFixture declares the accounts on the store d with the built-in
// roles and a few permissions, as create-db leaves a database.
func newFixture(t *testing.T, d declarer) *fixture {
	t.Helper()
	ctx := context.Background()
	together, m := d.declare(t)
	st := &testStore{store: together}
	hasher, err := auth.NewUsers(nil, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	log := &testLog{}
	tokens := &recorded{Interface: m[3]}
	acc, err := New(Models{Permissions: m[0], Roles: m[1], Users: m[2], Tokens: tokens, SecondFactors: m[4], Identities: m[5]}, st, log, hasher)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{acc: acc, st: st, log: log, tokens: tokens, perm: map[string]string{}}
	for _, p := range []access.Permission{access.On("songsview", access.CanList), access.On("songsview", access.CanAdd),
		access.On("albumview", access.CanList)} {
		id, err := m[0].Create(ctx, datamodel.Values{FieldName: p.Name, FieldView: p.View, FieldLabel: p.String()})
		if err != nil {
			t.Fatal(err)
		}
		f.perm[p.Key()] = id
	}
	f.admin = f.role(t, access.AdminRole)
	f.reader = f.role(t, access.ReadOnlyRole, "can_list:songsview")
	return f
}

func (f *fixture) role(t *testing.T, name string, perms ...string) string {
	t.Helper()
	refs := []datamodel.Ref{}
	for _, p := range perms {
		refs = append(refs, datamodel.Ref{ID: p})
	}
	id, err := f.acc.Roles.Create(context.Background(), datamodel.Values{FieldName: name, FieldPermissions: refs})
	if err != nil {
		t.Fatalf("role %s: %v", name, err)
	}
	return id
}

func (f *fixture) user(t *testing.T, name string, active bool, roles ...string) string {
	t.Helper()
	refs := []datamodel.Ref{}
	for _, r := range roles {
		refs = append(refs, datamodel.Ref{ID: r})
	}
	id, err := f.acc.Users.Create(context.Background(), datamodel.Values{FieldUsername: name, "first_name": "F",
		"last_name": "L", "email": name + "@example.com", FieldActive: active, FieldRoles: refs,
		FieldPassword: datamodel.Secret("password-" + name)})
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return id
}

func refused(t *testing.T, what string, err error, want string) {
	t.Helper()
	var r *datamodel.RefusedError
	if !errors.As(err, &r) || r.Message != want {
		t.Fatalf("%s: %v, want the refusal %q", what, err, want)
	}
}

// TestLastActiveAdminStays: no deactivation, role change, delete or bulk
// delete leaves no active Admin; once another is active, each goes.
func TestLastActiveAdminStays(t *testing.T) { forEachStore(t, testLastActiveAdminStays) }

func testLastActiveAdminStays(t *testing.T, f *fixture) {
	ctx := context.Background()
	users := f.acc.Users
	ann := f.user(t, "ann", true, f.admin)
	bob := f.user(t, "bob", false, f.admin) // an Admin, but not active
	cid := f.user(t, "cid", true, f.reader) // active, no Admin
	for _, c := range []struct {
		what, field string
		v           datamodel.Values
	}{
		{"deactivate", FieldActive, datamodel.Values{FieldActive: false}},
		{"take the role", FieldRoles, datamodel.Values{FieldRoles: []datamodel.Ref{{ID: f.reader}}}},
	} {
		err := users.Update(ctx, ann, c.v)
		refused(t, c.what, err, msgLastAdminUpdate)
		if r := (*datamodel.RefusedError)(nil); errors.As(err, &r) && r.Field != c.field {
			t.Errorf("%s: refused beside %q, want %q", c.what, r.Field, c.field)
		}
	}
	refused(t, "delete", users.Delete(ctx, ann), msgLastAdminDelete)
	if _, err := users.DeleteMany(ctx, []string{bob, ann, cid}); err == nil {
		t.Fatal("bulk delete with the last Admin in it went through")
	} else {
		refused(t, "bulk delete", err, msgLastAdminDelete)
	}
	if n, _ := users.Count(ctx, nil); n != 3 {
		t.Fatalf("%d users after refusals, want 3: a refusal wrote", n)
	}
	if got := f.st.takeEnded(); len(got) != 0 {
		t.Errorf("refused writes ended sessions of %v", got)
	}
	// Another active Admin: now ann may go.
	if err := users.Update(ctx, bob, datamodel.Values{FieldActive: true}); err != nil {
		t.Fatal(err)
	}
	if err := users.Update(ctx, ann, datamodel.Values{FieldActive: false}); err != nil {
		t.Fatalf("deactivate with another Admin: %v", err)
	}
	if got := f.st.takeEnded(); !slices.Equal(got, []string{ann}) {
		t.Errorf("sessions ended: %v, want ann's", got)
	}
	if n, err := users.DeleteMany(ctx, []string{ann, cid}); err != nil || n != 2 {
		t.Fatalf("bulk delete of two non-last users: %d, %v", n, err)
	}
	refused(t, "delete the last", users.Delete(ctx, bob), msgLastAdminDelete)
}

// TestBuiltinRoles: Admin and ReadOnly keep their names and stay; Admin
// reads as holding every permission and its set is never written.
func TestBuiltinRoles(t *testing.T) { forEachStore(t, testBuiltinRoles) }

func testBuiltinRoles(t *testing.T, f *fixture) {
	ctx := context.Background()
	roles := f.acc.Roles
	refused(t, "rename ReadOnly", roles.Update(ctx, f.reader, datamodel.Values{FieldName: "Viewer"}),
		"The built-in role ReadOnly keeps its name.")
	if _, err := roles.DeleteMany(ctx, []string{f.admin}); err == nil {
		t.Fatal("deleting Admin went through")
	} else {
		refused(t, "delete Admin", err, "The built-in role Admin cannot be deleted.")
	}
	if err := roles.Update(ctx, f.admin, datamodel.Values{FieldPermissions: []datamodel.Ref{}}); err != nil {
		t.Fatal(err)
	}
	rec, err := roles.Get(ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if got := datamodel.IDs(rec.Values[FieldPermissions]); len(got) != len(f.perm) {
		t.Errorf("Admin holds %v, want all %d permissions", got, len(f.perm))
	}
	rec, err = roles.Get(ctx, f.reader)
	if err != nil {
		t.Fatal(err)
	}
	refs := rec.Values[FieldPermissions].([]datamodel.Ref)
	if len(refs) != 1 || refs[0] != (datamodel.Ref{ID: "can_list:songsview", Label: "songsview: can list"}) {
		t.Errorf("ReadOnly holds %v, want can_list:songsview by key and label", refs)
	}
}

// TestRolePermissionsByKey: a role takes and gives its permissions by key;
// an unknown key is an InvalidRefError; a stale version is ErrStale.
func TestRolePermissionsByKey(t *testing.T) { forEachStore(t, testRolePermissionsByKey) }

func testRolePermissionsByKey(t *testing.T, f *fixture) {
	ctx := context.Background()
	roles := f.acc.Roles
	ed := f.role(t, "Editor", "can_add:songsview", "can_list:albumview")
	if _, err := roles.Create(ctx, datamodel.Values{FieldName: "Bad",
		FieldPermissions: []datamodel.Ref{{ID: "can_fly:songsview"}}}); !errors.Is(err, datamodel.ErrInvalidRef) {
		t.Errorf("unknown permission: %v, want an InvalidRefError", err)
	}
	rec, err := roles.Get(ctx, ed)
	if err != nil {
		t.Fatal(err)
	}
	if got := datamodel.IDs(rec.Values[FieldPermissions]); !slices.Equal(got, []string{"can_add:songsview", "can_list:albumview"}) {
		t.Errorf("Editor holds %v", got)
	}
	version := roles.Schema().Version(rec)
	if err := roles.UpdateIf(ctx, ed, version, datamodel.Values{FieldPermissions: []datamodel.Ref{{ID: "can_list:songsview"}}}); err != nil {
		t.Fatalf("UpdateIf with the version read: %v", err)
	}
	if err := roles.UpdateIf(ctx, ed, version, datamodel.Values{FieldName: "Writer"}); !errors.Is(err, datamodel.ErrStale) {
		t.Errorf("UpdateIf with an old version: %v, want ErrStale", err)
	}
	n, err := roles.Count(ctx, []datamodel.Filter{holding(roles.Schema().Field(FieldPermissions), "can_list:songsview")})
	if err != nil || n != 2 {
		t.Errorf("roles holding can_list:songsview: %d, %v; want 2 (ReadOnly, Editor)", n, err)
	}
}

// TestSessionsEnd: a role taken away, a deactivation, a new password and a
// role deleted end the holder's sessions; a rename does not.
func TestSessionsEnd(t *testing.T) { forEachStore(t, testSessionsEnd) }

func testSessionsEnd(t *testing.T, f *fixture) {
	ctx := context.Background()
	users := f.acc.Users
	f.user(t, "root", true, f.admin)
	ed := f.role(t, "Editor", "can_add:songsview")
	dan := f.user(t, "dan", true, f.reader, ed)
	eve := f.user(t, "eve", true, ed)
	if err := users.Update(ctx, dan, datamodel.Values{"first_name": "Daniel"}); err != nil {
		t.Fatal(err)
	}
	if got := f.st.takeEnded(); len(got) != 0 {
		t.Errorf("a rename ended sessions of %v", got)
	}
	if err := users.Update(ctx, dan, datamodel.Values{FieldRoles: []datamodel.Ref{{ID: f.reader}}}); err != nil {
		t.Fatal(err)
	}
	if got := f.st.takeEnded(); !slices.Equal(got, []string{dan}) {
		t.Errorf("role taken: ended %v, want dan's", got)
	}
	if err := users.SetPassword(audit.With(ctx, audit.Actor{Username: "root"}), dan, datamodel.Hash("$2a$04$x")); err != nil {
		t.Fatal(err)
	}
	if got := f.st.takeEnded(); !slices.Equal(got, []string{dan}) {
		t.Errorf("new password: ended %v, want dan's", got)
	}
	if len(f.log.entries) != 1 || f.log.entries[0].Action != audit.ActionPassword || f.log.entries[0].RecordID != dan {
		t.Errorf("password entries: %+v", f.log.entries)
	}
	if err := f.acc.Roles.Delete(ctx, ed); err != nil {
		t.Fatal(err)
	}
	if got := f.st.takeEnded(); !slices.Equal(got, []string{eve}) {
		t.Errorf("role deleted: ended %v, want eve's", got)
	}
	rec, err := users.Get(ctx, eve)
	if err != nil || len(datamodel.IDs(rec.Values[FieldRoles])) != 0 {
		t.Errorf("eve after her role went: %v, %v", rec.Values[FieldRoles], err)
	}
	if err := users.SetPassword(ctx, "650000000000000000000999", datamodel.Hash("$2a$04$x")); !errors.Is(err, datamodel.ErrNotFound) {
		t.Errorf("password of nobody: %v", err)
	}
}

// TestPasswordsHashed: a password reaches the store as a bcrypt hash of
// what was typed; a bad one is refused by the rules, nothing written.
func TestPasswordsHashed(t *testing.T) { forEachStore(t, testPasswordsHashed) }

func testPasswordsHashed(t *testing.T, f *fixture) {
	ctx := context.Background()
	_, err := f.acc.Users.Create(ctx, datamodel.Values{FieldUsername: "x", "first_name": "F", "last_name": "L",
		"email": "x@example.com", FieldActive: true, FieldPassword: datamodel.Secret("")})
	var r *datamodel.RefusedError
	if !errors.As(err, &r) || r.Field != FieldPassword {
		t.Fatalf("empty password: %v, want a refusal of the password", err)
	}
	id := f.user(t, "ann", true, f.reader)
	rec, err := f.acc.Users.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.Values[FieldPassword]; ok {
		t.Errorf("a read returned the password: %v", rec.Values)
	}
}
