// Package authtest is the contract of auth.Store as a test suite: every
// implementation (the SQL store on each of its backends, the MongoDB store)
// runs the same checks, so a behaviour auth relies on cannot hold on one
// backend and not on another. It is imported only by tests.
package authtest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/access"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// Fixture is one implementation under test, over an empty database of its
// own. Roles and UserRoles look past the interface, which has no way to
// list roles yet, to check that CreateUser stored and shared them.
type Fixture struct {
	Store auth.Store
	// Roles returns the name of every stored role, once per stored role
	// (a role stored twice is listed twice), in any order.
	Roles func(ctx context.Context) ([]string, error)
	// UserRoles returns the names of the roles the user with id holds, in
	// any order.
	UserRoles func(ctx context.Context, userID string) ([]string, error)
}

// Run checks the contract of auth.Store on the fixtures open returns, one
// fresh fixture per subtest. The subtests run in parallel with each other,
// so open must be safe for that; Run returns when they are all done, so the
// caller may inspect what they did (the commands sent, say).
func Run(t *testing.T, open func(t *testing.T) Fixture) {
	t.Helper()
	t.Run("auth.Store", func(t *testing.T) {
		for _, c := range []struct {
			name string
			fn   func(t *testing.T, f Fixture)
		}{
			{"Users", users},
			{"Roles", roles},
			{"Permissions", permissions},
			{"Sessions", sessions},
			{"SessionOfInactiveUser", inactiveSession},
			{"ForeignIDs", foreignIDs},
			{"LoginFailures", loginFailures},
			{"Generations", generations},
		} {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.fn(t, open(t))
			})
		}
	})
}

func create(t *testing.T, s auth.Store, u auth.User, role string) auth.User {
	t.Helper()
	got, err := s.CreateUser(context.Background(), u, role)
	if err != nil {
		t.Fatalf("CreateUser(%q, %q): %v", u.Username, role, err)
	}
	if got.ID == "" {
		t.Fatalf("CreateUser(%q) returned no ID", u.Username)
	}
	want := u
	want.ID = got.ID
	if got != want {
		t.Errorf("CreateUser returned %+v, want %+v", got, want)
	}
	return got
}

// ada has her own settings, which every read of her returns.
func ada() auth.User {
	return auth.User{Username: "ada", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com",
		PasswordHash: "hash-ada", Active: true, Language: "de", TimeZone: "Europe/Berlin"}
}

func bob() auth.User {
	return auth.User{Username: "bob", FirstName: "Bob", LastName: "B", Email: "bob@example.com",
		PasswordHash: "hash-bob", Active: false}
}

// users: creating, reading back and counting users; usernames are exact
// (code point for code point, as the SQL stores' binary collation compares
// them) and unique.
func users(t *testing.T, f Fixture) {
	ctx := context.Background()
	s := f.Store
	if n, err := s.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers on an empty store = %d, %v; want 0", n, err)
	}
	if _, err := s.UserByUsername(ctx, "ada"); !errors.Is(err, datamodel.ErrNotFound) {
		t.Fatalf("unknown user: %v, want ErrNotFound", err)
	}
	a := create(t, s, ada(), auth.AdminRole)
	b := create(t, s, bob(), auth.AdminRole)
	if a.ID == b.ID {
		t.Fatalf("two users share the ID %q", a.ID)
	}

	dup := auth.User{Username: "ada", FirstName: "Other", LastName: "Person", Email: "o@example.com",
		PasswordHash: "hash-other", Active: true}
	if _, err := s.CreateUser(ctx, dup, auth.AdminRole); !errors.Is(err, auth.ErrUserExists) {
		t.Errorf("duplicate username: %v, want ErrUserExists", err)
	}
	if got, err := s.UserByUsername(ctx, "ada"); err != nil || got != a {
		t.Errorf("after a refused duplicate, UserByUsername(ada) = %+v, %v; want %+v", got, err, a)
	}

	// Not the same name: another case, a decomposed accent. Each is a user
	// of its own. (Not a trailing space: MySQL's utf8mb4_bin ignores it, so
	// auth trims usernames before any store sees them.)
	others := []string{"Ada", "Zoë 日本", "Zoe\u0308 日本"}
	for _, name := range others {
		u := ada()
		u.Username = name
		create(t, s, u, auth.AdminRole)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != int64(2+len(others)) {
		t.Errorf("CountUsers = %d, %v; want %d", n, err, 2+len(others))
	}
	for _, want := range []auth.User{a, b} {
		if got, err := s.UserByUsername(ctx, want.Username); err != nil || got != want {
			t.Errorf("UserByUsername(%q) = %+v, %v; want %+v", want.Username, got, err, want)
		}
	}
	for _, name := range others {
		got, err := s.UserByUsername(ctx, name)
		if err != nil || got.Username != name || got.ID == a.ID {
			t.Errorf("UserByUsername(%q) = %+v, %v; want that user, not ada", name, got, err)
		}
	}
}

// roles: CreateUser gives the user the named role, creating it once and
// sharing it after.
func roles(t *testing.T, f Fixture) {
	ctx := context.Background()
	s := f.Store
	a := create(t, s, ada(), auth.AdminRole)
	b := create(t, s, bob(), auth.AdminRole)
	c := ada()
	c.Username = "carol"
	carol := create(t, s, c, "Editor")

	got, err := f.Roles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{auth.AdminRole, "Editor"}; !slices.Equal(got, want) {
		t.Errorf("stored roles %q, want %q (one each)", got, want)
	}
	for _, c := range []struct {
		user auth.User
		role string
	}{{a, auth.AdminRole}, {b, auth.AdminRole}, {carol, "Editor"}} {
		got, err := f.UserRoles(ctx, c.user.ID)
		if err != nil || !slices.Equal(got, []string{c.role}) {
			t.Errorf("roles of %s = %q, %v; want [%s]", c.user.Username, got, err, c.role)
		}
	}
}

// sessionTime is the tests' now: a whole second, as the SQL stores keep
// Unix seconds, and a day ahead, so that no session of the tests is past
// for a server that removes expired documents by itself (a TTL index).
func sessionTime() time.Time {
	return time.Now().Add(24 * time.Hour).Truncate(time.Second)
}

// sessions: a session names its user until it expires (exclusive) or is
// deleted; DeleteExpiredSessions removes exactly the user's expired ones.
func sessions(t *testing.T, f Fixture) {
	ctx := context.Background()
	s := f.Store
	a := create(t, s, ada(), auth.AdminRole)
	c := ada()
	c.Username = "carol"
	carol := create(t, s, c, auth.AdminRole)

	now := sessionTime()
	expires := map[string]time.Time{}
	for _, sess := range []auth.Session{
		{TokenHash: "live", UserID: a.ID, AuthTag: "tag-live", CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{TokenHash: "barely-live", UserID: a.ID, AuthTag: "tag-barely", CreatedAt: now, ExpiresAt: now.Add(time.Second)},
		{TokenHash: "expired", UserID: a.ID, AuthTag: "tag-old", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now},
		{TokenHash: "long-expired", UserID: a.ID, AuthTag: "tag-older", CreatedAt: now.Add(-3 * time.Hour), ExpiresAt: now.Add(-time.Hour)},
		{TokenHash: "carols-expired", UserID: carol.ID, AuthTag: "tag-carol", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now},
	} {
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession(%s): %v", sess.TokenHash, err)
		}
		expires[sess.TokenHash] = sess.ExpiresAt
	}
	check := func(token string, at time.Time, want auth.User, wantTag string) {
		t.Helper()
		user, tag, err := s.SessionUser(ctx, token, at)
		if wantTag == "" {
			if !errors.Is(err, datamodel.ErrNotFound) {
				t.Errorf("SessionUser(%s, %s) = %+v, %q, %v; want ErrNotFound", token, at, user, tag, err)
			}
			if sg, ok := s.(auth.SessionGrantsReader); ok {
				if _, err := sg.SessionUserGrants(ctx, token, at); !errors.Is(err, datamodel.ErrNotFound) {
					t.Errorf("SessionUserGrants(%s, %s): %v, want ErrNotFound", token, at, err)
				}
			}
			return
		}
		if err != nil || user != want || tag != wantTag {
			t.Errorf("SessionUser(%s, %s) = %+v, %q, %v; want %+v, %q", token, at, user, tag, err, want, wantTag)
		}
		// A store that reads the grants with the session finds the same
		// session.
		if sg, ok := s.(auth.SessionGrantsReader); ok {
			read, err := sg.SessionUserGrants(ctx, token, at)
			if err != nil || read.User != want || read.Tag != wantTag || read.Grants == nil {
				t.Errorf("SessionUserGrants(%s, %s) = %+v, %v; want %+v, %q and grants", token, at, read, err, want, wantTag)
			}
			if wantUntil := expires[token]; !read.ExpiresAt.Equal(wantUntil) {
				t.Errorf("SessionUserGrants(%s, %s): expires at %s, want %s", token, at, read.ExpiresAt, wantUntil)
			}
		}
	}
	check("live", now, a, "tag-live")
	check("barely-live", now, a, "tag-barely")
	// Expiry is exclusive: a session expiring at now is over.
	check("expired", now, auth.User{}, "")
	check("carols-expired", now, auth.User{}, "")
	check("nope", now, auth.User{}, "")
	// Asked for an earlier time, the expired sessions are still there:
	// what the checks after DeleteExpiredSessions rely on.
	before := now.Add(-2 * time.Hour)
	check("expired", before, a, "tag-old")
	check("long-expired", before, a, "tag-older")
	check("carols-expired", before, carol, "tag-carol")

	if err := s.DeleteExpiredSessions(ctx, a.ID, now); err != nil {
		t.Fatal(err)
	}
	// Ada's sessions that expired at or before now are gone; her live ones
	// and carol's expired one stay.
	check("expired", before, auth.User{}, "")
	check("long-expired", before, auth.User{}, "")
	check("live", now, a, "tag-live")
	check("barely-live", now, a, "tag-barely")
	check("carols-expired", before, carol, "tag-carol")

	if err := s.DeleteSession(ctx, "live"); err != nil {
		t.Fatal(err)
	}
	check("live", now, auth.User{}, "")
	check("live", before, auth.User{}, "")
	if err := s.DeleteSession(ctx, "live"); err != nil {
		t.Errorf("deleting a session twice: %v", err)
	}
	if err := s.DeleteSession(ctx, "never-was"); err != nil {
		t.Errorf("deleting an unknown session: %v", err)
	}
	check("barely-live", now, a, "tag-barely")
}

// inactiveSession: SessionUser returns the user as stored, inactive or
// not; refusing an inactive user is auth's decision, not the store's.
func inactiveSession(t *testing.T, f Fixture) {
	ctx := context.Background()
	b := create(t, f.Store, bob(), auth.AdminRole)
	now := sessionTime()
	if err := f.Store.CreateSession(ctx, auth.Session{TokenHash: "bobs", UserID: b.ID, AuthTag: "tag-bob",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	user, tag, err := f.Store.SessionUser(ctx, "bobs", now)
	if err != nil || user != b || user.Active || tag != "tag-bob" {
		t.Errorf("SessionUser of inactive bob = %+v, %q, %v; want %+v, tag-bob", user, tag, err, b)
	}
}

// foreignIDs: an ID the store never made (the wrong shape for every
// backend: neither digits nor an ObjectId's hex) names nobody.
func foreignIDs(t *testing.T, f Fixture) {
	ctx := context.Background()
	create(t, f.Store, ada(), auth.AdminRole)
	now := sessionTime()
	for _, id := range []string{"65f0c0ffee", "not an id", ""} {
		err := f.Store.CreateSession(ctx, auth.Session{TokenHash: "x", UserID: id, AuthTag: "t", CreatedAt: now,
			ExpiresAt: now.Add(time.Hour)})
		if !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("CreateSession for user id %q: %v, want ErrNotFound", id, err)
		}
		if err := f.Store.DeleteExpiredSessions(ctx, id, now); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("DeleteExpiredSessions for user id %q: %v, want ErrNotFound", id, err)
		}
	}
	if _, _, err := f.Store.SessionUser(ctx, "x", now); !errors.Is(err, datamodel.ErrNotFound) {
		t.Errorf("a session for a foreign id was stored: %v", err)
	}
}

// permissions: SyncPermissions creates the built-in roles, gives Admin
// every permission and ReadOnly its share; a second sync with a new view's
// permissions gives ReadOnly only the new share; UserGrants tells each
// user's roles and permissions.
func permissions(t *testing.T, f Fixture) {
	ctx := context.Background()
	s := f.Store
	list, show, add := access.On("albumview", access.CanList), access.On("albumview", access.CanShow),
		access.On("albumview", access.CanAdd)
	if err := s.SyncPermissions(ctx, []access.Permission{list, show, add}, []access.Permission{list, show}); err != nil {
		t.Fatalf("SyncPermissions: %v", err)
	}
	// Again, as every start-up does: nothing changes, nothing fails.
	if err := s.SyncPermissions(ctx, []access.Permission{list, show, add}, []access.Permission{list, show}); err != nil {
		t.Fatalf("SyncPermissions again: %v", err)
	}
	admin := create(t, s, ada(), access.AdminRole)
	ro := create(t, s, bob(), access.ReadOnlyRole)
	c := ada()
	c.Username = "carol"
	nobody := create(t, s, c, "Nobody")

	grants := func(u auth.User) ([]string, []access.Permission) {
		t.Helper()
		roles, perms, err := s.UserGrants(ctx, u.ID)
		if err != nil {
			t.Fatalf("UserGrants(%s): %v", u.Username, err)
		}
		slices.SortFunc(perms, access.Compare)
		return roles, perms
	}
	sorted := func(ps ...access.Permission) []access.Permission {
		out := slices.Clone(ps)
		slices.SortFunc(out, access.Compare)
		return out
	}
	// An Admin holds every permission by the role's name: the store may
	// leave its rows out of the grants, which every request reads.
	if roles, perms := grants(admin); !slices.Equal(roles, []string{access.AdminRole}) ||
		!access.NewGrants(roles, perms).Covers([]access.Permission{list, show, add}) {
		t.Errorf("Admin's grants = %q %v, want [Admin] and every permission", roles, perms)
	}
	if roles, perms := grants(ro); !slices.Equal(roles, []string{access.ReadOnlyRole}) || !slices.Equal(perms, sorted(list, show)) {
		t.Errorf("ReadOnly's grants = %q %v, want [ReadOnly] %v", roles, perms, sorted(list, show))
	}
	if roles, perms := grants(nobody); !slices.Equal(roles, []string{"Nobody"}) || len(perms) != 0 {
		t.Errorf("a role with no permission: grants = %q %v", roles, perms)
	}

	// A new view appears: its permissions are created at the next sync,
	// Admin holds them all, ReadOnly its share of the new ones.
	songList, songDelete := access.On("songsview", access.CanList), access.On("songsview", access.CanDelete)
	all := []access.Permission{list, show, add, songList, songDelete}
	if err := s.SyncPermissions(ctx, all, []access.Permission{list, show, songList}); err != nil {
		t.Fatalf("SyncPermissions with a new view: %v", err)
	}
	if roles, perms := grants(admin); !access.NewGrants(roles, perms).Covers(all) {
		t.Errorf("Admin after a new view = %q %v, want every permission of %v", roles, perms, sorted(all...))
	}
	if _, perms := grants(ro); !slices.Equal(perms, sorted(list, show, songList)) {
		t.Errorf("ReadOnly after a new view = %v, want %v", perms, sorted(list, show, songList))
	}
	sessionGrants(t, s, all, admin, ro, nobody)
	if roles, perms, err := s.UserGrants(ctx, "999999"); err != nil && !errors.Is(err, datamodel.ErrNotFound) || len(roles)+len(perms) != 0 {
		t.Errorf("UserGrants of an unknown user = %q %v %v, want nothing", roles, perms, err)
	}
}

// loginFailures: failures are kept per address (exactly: no prefix of
// another matches it) to the millisecond, read newest first after a time
// (exclusive) and at most n, deleted one by id, and pruned before a time
// (exclusive) for every address.
func loginFailures(t *testing.T, f Fixture) {
	ctx := context.Background()
	s := f.Store
	const a, b, v6 = "192.0.2.1", "192.0.2.10", "2001:db8:1:2::/64"
	long := strings.Repeat("x", auth.MaxAddrBytes)
	t0 := time.Now().Truncate(time.Millisecond)
	ms := time.Millisecond
	read := func(addr string, since time.Time, n int) []time.Duration {
		t.Helper()
		times, err := s.LoginFailures(ctx, addr, since, n)
		if err != nil {
			t.Fatalf("LoginFailures(%s, %s, %d): %v", addr, since, n, err)
		}
		out := []time.Duration{}
		for _, at := range times {
			out = append(out, at.Sub(t0))
		}
		return out
	}
	check := func(addr string, since time.Time, n int, want ...time.Duration) {
		t.Helper()
		if want == nil {
			want = []time.Duration{}
		}
		if got := read(addr, since, n); !slices.Equal(got, want) {
			t.Errorf("LoginFailures(%s, t0%+v, %d) = t0 + %v, want t0 + %v", addr, since.Sub(t0), n, got, want)
		}
	}
	check(a, t0.Add(-time.Hour), 10)

	ids := map[string]bool{}
	add := func(addr string, at time.Time) string {
		t.Helper()
		id, err := s.AddLoginFailure(ctx, addr, at)
		if err != nil {
			t.Fatalf("AddLoginFailure(%s, %s): %v", addr, at, err)
		}
		if id == "" || ids[id] {
			t.Fatalf("AddLoginFailure returned the id %q twice or empty", id)
		}
		ids[id] = true
		return id
	}
	// Two failures in one millisecond are two; a time's nanoseconds are
	// cut to the millisecond.
	for _, d := range []time.Duration{0, ms, ms, 2 * time.Second} {
		add(a, t0.Add(d))
	}
	newest := add(a, t0.Add(10*time.Second+999*time.Microsecond))
	add(b, t0.Add(5*time.Second))
	add(v6, t0.Add(6*time.Second))
	add(long, t0.Add(7*time.Second))

	check(a, t0.Add(-ms), 10, 10*time.Second, 2*time.Second, ms, ms, 0)
	check(a, t0, 10, 10*time.Second, 2*time.Second, ms, ms) // since is exclusive
	check(a, t0.Add(-ms), 2, 10*time.Second, 2*time.Second)
	check(a, t0.Add(10*time.Second), 10)
	check(b, t0, 10, 5*time.Second)
	check(v6, t0, 10, 6*time.Second)
	check(long, t0, 10, 7*time.Second)
	check("192.0.2.", t0.Add(-time.Hour), 10)

	// A delete removes its failure and nothing else; again, nothing.
	for range 2 {
		if err := s.DeleteLoginFailure(ctx, newest); err != nil {
			t.Fatalf("DeleteLoginFailure(%s): %v", newest, err)
		}
		check(a, t0.Add(-ms), 10, 2*time.Second, ms, ms, 0)
	}
	for _, id := range []string{"not an id", ""} {
		if err := s.DeleteLoginFailure(ctx, id); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("DeleteLoginFailure(%q): %v, want ErrNotFound", id, err)
		}
	}

	// Pruning takes every address's failures before the time, and keeps
	// those at it and after.
	if err := s.PruneLoginFailures(ctx, t0.Add(2*time.Second)); err != nil {
		t.Fatalf("PruneLoginFailures: %v", err)
	}
	check(a, t0.Add(-time.Hour), 10, 2*time.Second)
	check(b, t0.Add(-time.Hour), 10, 5*time.Second)
	if err := s.PruneLoginFailures(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatalf("PruneLoginFailures: %v", err)
	}
	for _, addr := range []string{a, b, v6, long} {
		check(addr, t0.Add(-time.Hour), 10)
	}
}

// sessionGrants: a store that reads the grants with the session
// (auth.SessionGrantsReader) gives each user the roles UserGrants gives,
// and the same answer to every permission of all.
func sessionGrants(t *testing.T, s auth.Store, all []access.Permission, users ...auth.User) {
	t.Helper()
	sg, ok := s.(auth.SessionGrantsReader)
	if !ok {
		return
	}
	ctx := context.Background()
	now := sessionTime()
	for _, u := range users {
		token := "grants-" + u.Username
		if err := s.CreateSession(ctx, auth.Session{TokenHash: token, UserID: u.ID, AuthTag: "tag",
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatalf("CreateSession(%s): %v", token, err)
		}
		read, err := sg.SessionUserGrants(ctx, token, now)
		got := read.Grants
		if err != nil {
			t.Fatalf("SessionUserGrants(%s): %v", u.Username, err)
		}
		roles, perms, err := s.UserGrants(ctx, u.ID)
		if err != nil {
			t.Fatalf("UserGrants(%s): %v", u.Username, err)
		}
		want := access.NewGrants(roles, perms)
		if !slices.Equal(got.Roles, want.Roles) || got.Admin() != want.Admin() {
			t.Errorf("%s: session grants roles %q (admin %v), UserGrants %q (admin %v)", u.Username, got.Roles, got.Admin(), want.Roles, want.Admin())
		}
		for _, p := range all {
			if got.Can(p) != want.Can(p) {
				t.Errorf("%s: session grants Can(%v) = %v, UserGrants %v", u.Username, p, got.Can(p), want.Can(p))
			}
		}
	}
}

// generations: a store that numbers its accounts' states (auth.Generations)
// moves the number when a session is deleted, or every session of a user
// ended; the session's read with its grants sees the number of then.
func generations(t *testing.T, f Fixture) {
	gs, ok := f.Store.(auth.Generations)
	if !ok {
		t.Skip("the store keeps no generation of its accounts")
	}
	ctx := context.Background()
	s := f.Store
	now := sessionTime()
	a := create(t, s, ada(), auth.AdminRole)
	gen := func() int64 {
		t.Helper()
		n, err := gs.AccountsGeneration(ctx)
		if err != nil {
			t.Fatalf("AccountsGeneration: %v", err)
		}
		return n
	}
	for _, token := range []string{"one", "two", "three"} {
		if err := s.CreateSession(ctx, auth.Session{TokenHash: token, UserID: a.ID, AuthTag: "tag",
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatalf("CreateSession(%s): %v", token, err)
		}
	}
	before := gen()
	if sg, ok := s.(auth.SessionGrantsReader); ok {
		read, err := sg.SessionUserGrants(ctx, "one", now)
		if err != nil || read.Generation != before {
			t.Errorf("SessionUserGrants: generation %d, %v; the store's is %d", read.Generation, err, before)
		}
	}
	if err := s.DeleteSession(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	afterDelete := gen()
	if afterDelete == before {
		t.Errorf("DeleteSession left the generation at %d", before)
	}
	if es, ok := s.(interface {
		EndSessions(ctx context.Context, userIDs []string) error
	}); ok {
		if err := es.EndSessions(ctx, []string{a.ID}); err != nil {
			t.Fatal(err)
		}
		if gen() == afterDelete {
			t.Errorf("EndSessions left the generation at %d", afterDelete)
		}
		if _, _, err := s.SessionUser(ctx, "two", now); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("a session after EndSessions: %v, want ErrNotFound", err)
		}
	}
}
