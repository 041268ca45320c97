package transfer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/seed"
	"musicadmin/internal/transfer"
)

// migrated opens a new database of b fresh from create-db.
func migrated(t *testing.T, b apptest.Backend) backend.Backend {
	t.Helper()
	return apptest.OpenBackend(t, apptest.NewMigratedDatabase(t, b))
}

// snapshot is a database's records by content: ids differ between
// backends (digits, ObjectId hex), so each record is written as its
// values, with references as the label of what they point at (album names
// and role names are unique), each list sorted.
type snapshot struct {
	roles, users, albums, songs []string
}

func (s snapshot) String() string {
	return fmt.Sprintf("%d roles, %d users, %d albums, %d songs", len(s.roles), len(s.users), len(s.albums), len(s.songs))
}

func take(t *testing.T, b backend.Backend) snapshot {
	t.Helper()
	ctx := context.Background()
	acc, err := backend.Transfer(b)
	if err != nil {
		t.Fatal(err)
	}
	var s snapshot
	roles, err := acc.ExportRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roleName := map[string]string{}
	for _, r := range roles {
		roleName[r.ID] = r.Name
		s.roles = append(s.roles, r.Name)
	}
	err = acc.ExportAccounts(ctx, func(a auth.Account) error {
		var names []string
		for _, id := range a.RoleIDs {
			names = append(names, roleName[id])
		}
		slices.Sort(names)
		s.users = append(s.users, fmt.Sprintf("%q %q %q %q %q active=%v roles=%q created=%d", a.Username, a.FirstName,
			a.LastName, a.Email, a.PasswordHash, a.Active, names, a.CreatedAt.Unix()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Catalog().Albums.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		s.albums = append(s.albums, r.Values["name"].(string))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Catalog().Songs.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		album := "(none)"
		if ref, _ := r.Values["album"].(*datamodel.Ref); ref != nil {
			album = fmt.Sprintf("%q", ref.Label)
		}
		s.songs = append(s.songs, fmt.Sprintf("%q rating=%d album=%s", r.Values["title"], r.Values["rating"], album))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range [][]string{s.roles, s.users, s.albums, s.songs} {
		slices.Sort(l)
	}
	return s
}

// diff fails t with the first differences between two snapshots.
func diff(t *testing.T, step string, got, want snapshot) {
	t.Helper()
	for _, c := range []struct {
		what      string
		got, want []string
	}{{"roles", got.roles, want.roles}, {"users", got.users, want.users},
		{"albums", got.albums, want.albums}, {"songs", got.songs, want.songs}} {
		if slices.Equal(c.got, c.want) {
			continue
		}
		t.Errorf("%s: %s differ: %d, want %d", step, c.what, len(c.got), len(c.want))
		for i := 0; i < len(c.got) || i < len(c.want); i++ {
			var g, w string
			if i < len(c.got) {
				g = c.got[i]
			}
			if i < len(c.want) {
				w = c.want[i]
			}
			if g != w {
				t.Errorf("  first difference at %d:\n   got %s\n  want %s", i, g, w)
				break
			}
		}
	}
}

// fill writes the test catalogue and accounts into b: seeded albums and
// songs (every seventh song without an album), text the seed does not make,
// and users with roles, one inactive, one with no role, plus a role no one
// holds.
func fill(t *testing.T, b backend.Backend, albums, songs int) {
	t.Helper()
	ctx := context.Background()
	opts := seed.Options{Albums: albums, Songs: songs, NoAlbumEvery: 7}
	switch db := b.(type) {
	case *backend.SQL:
		sqlDB, err := db.DB().DB()
		if err != nil {
			t.Fatal(err)
		}
		if err := seed.Run(ctx, sqlDB, opts, nil); err != nil {
			t.Fatal(err)
		}
	case *backend.Mongo:
		if err := seed.RunMongo(ctx, db.Database(), opts, nil); err != nil {
			t.Fatal(err)
		}
	}
	album, err := b.Catalog().Albums.Create(ctx, datamodel.Values{"name": `Ça va <b>"東京"</b> & 🎷`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Catalog().Songs.Create(ctx, datamodel.Values{"title": "Tab\there, back\\slash, 100%_",
		"rating": int64(9), "album": &datamodel.Ref{ID: album}}); err != nil {
		t.Fatal(err)
	}
	users := auth.Store(b.Accounts())
	for _, u := range []struct {
		name, role string
		active     bool
	}{{"admin", auth.AdminRole, true}, {"reader", "ReadOnly", true}, {"former", "ReadOnly", false}} {
		if _, err := users.CreateUser(ctx, auth.User{Username: u.name, FirstName: "Ada " + u.name, LastName: "Lovelace",
			Email: u.name + "@example.com", PasswordHash: "$2a$04$hash-of-" + u.name, Active: u.active}, u.role); err != nil {
			t.Fatal(err)
		}
	}
	acc, err := backend.Transfer(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.ImportRole(ctx, "Auditor"); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.ImportAccount(ctx, auth.Account{User: auth.User{Username: "roleless", FirstName: "Rô", LastName: "Le",
		Email: "r@example.com", PasswordHash: "x", Active: true}, CreatedAt: time.Date(2020, 2, 29, 12, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
}

// TestRoundTrip is the test: a seeded catalogue with users and
// roles, copied SQLite -> MongoDB -> PostgreSQL -> MySQL -> SQLite, ends
// with the same records and references as it started, and is the same
// after every step; a dump of the last database twice gives the same file.
func TestRoundTrip(t *testing.T) {
	for _, b := range apptest.Backends {
		apptest.RequireBackend(t, b)
	}
	ctx := context.Background()
	first := migrated(t, apptest.SQLite)
	fill(t, first, 60, 3000)
	want := take(t, first)
	if len(want.songs) != 3001 || len(want.albums) != 61 || len(want.users) != 4 || len(want.roles) != 3 {
		t.Fatalf("seeded %s, want 3 roles, 4 users, 61 albums, 3001 songs", want)
	}
	albumless := 0
	for _, s := range want.songs {
		if strings.HasSuffix(s, "album=(none)") {
			albumless++
		}
	}
	if albumless < 100 {
		t.Fatalf("%d songs without an album, want a few hundred", albumless)
	}
	src := first
	for _, to := range []apptest.Backend{apptest.MongoDB, apptest.Postgres, apptest.MySQL, apptest.SQLite} {
		// The target is a new, empty database: Copy runs create-db on it.
		dst := apptest.OpenBackend(t, apptest.NewDatabase(t, to))
		start := time.Now()
		counts, err := transfer.Copy(ctx, src, dst, t.TempDir(), nil)
		if err != nil {
			t.Fatalf("copy %s -> %s: %v", src.Driver(), to.Name, err)
		}
		t.Logf("copy %s -> %s: %s in %s", src.Driver(), to.Name, counts, time.Since(start).Round(time.Millisecond))
		if counts.Total() != 3+4+61+3001 {
			t.Errorf("copy %s -> %s: copied %s", src.Driver(), to.Name, counts)
		}
		diff(t, "after the copy to "+to.Name, take(t, dst), want)
		src = dst
	}
	var one, two bytes.Buffer
	if _, err := transfer.Dump(ctx, src, &one, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := transfer.Dump(ctx, src, &two, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one.Bytes(), two.Bytes()) || one.Len() == 0 {
		t.Errorf("two dumps of one database differ (%d and %d bytes)", one.Len(), two.Len())
	}
}

// TestDumpFormat: the header, then one line per record in dependency order,
// references as the source's ids.
func TestDumpFormat(t *testing.T) {
	ctx := context.Background()
	b := migrated(t, apptest.SQLite)
	album, err := b.Catalog().Albums.Create(ctx, datamodel.Values{"name": "Blue <Train>"})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []datamodel.Values{
		{"title": "Locomotion", "rating": int64(7), "album": &datamodel.Ref{ID: album}},
		{"title": "Loose", "rating": int64(0)},
	} {
		if _, err := b.Catalog().Songs.Create(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Accounts().CreateUser(ctx, auth.User{Username: "ada", FirstName: "Ada", LastName: "L",
		Email: "ada@example.com", PasswordHash: "$2a$04$h", Active: true}, auth.AdminRole); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	counts, err := transfer.Dump(ctx, b, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := counts.String(); got != "1 role, 1 user, 1 album, 2 songs" {
		t.Errorf("counts %q", got)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		`{"format":"musicadmin-dump","version":1}`,
		`{"model":"role","id":"1","fields":{"name":"Admin"}}`,
		`{"model":"user","id":"1","fields":{"username":"ada","first_name":"Ada","last_name":"L","email":"ada@example.com","password_hash":"$2a$04$h","active":true,"roles":["1"],"created_at":"`,
		`{"model":"album","id":"1","fields":{"name":"Blue <Train>"}}`,
		`{"model":"song","id":"1","fields":{"album":"1","rating":7,"title":"Locomotion"}}`,
		`{"model":"song","id":"2","fields":{"album":null,"rating":0,"title":"Loose"}}`,
		`{"end":true,"records":5}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], want[i])
		}
	}
}

const header = `{"format":"musicadmin-dump","version":1}` + "\n"

// goodFile is a small valid dump.
const goodFile = header +
	`{"model":"role","id":"r1","fields":{"name":"Admin"}}` + "\n" +
	`{"model":"user","id":"u1","fields":{"username":"ada","first_name":"Ada","last_name":"L","email":"a@example.com","password_hash":"h","active":true,"roles":["r1"],"created_at":"2026-01-02T03:04:05Z"}}` + "\n" +
	`{"model":"album","id":"a1","fields":{"name":"One"}}` + "\n" +
	`{"model":"song","id":"s1","fields":{"title":"First","rating":3,"album":"a1"}}` + "\n" +
	`{"model":"song","id":"s2","fields":{"title":"Second","rating":0,"album":null}}` + "\n" +
	`{"end":true,"records":5}` + "\n"

func writeFile(t *testing.T, body string) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dump.jsonl")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// wantEmpty fails t unless b holds no user, role, album or song.
func wantEmpty(t *testing.T, b backend.Backend, when string) {
	t.Helper()
	if s := take(t, b); len(s.roles)+len(s.users)+len(s.albums)+len(s.songs) != 0 {
		t.Errorf("%s: the database holds %s, want nothing written", when, s)
	}
}

// TestLoadMalformed: a file load cannot read is refused with the number of
// its first bad line, and nothing is written, even when the bad line comes
// after good ones.
func TestLoadMalformed(t *testing.T) {
	song := func(id, fields string) string { return `{"model":"song","id":"` + id + `","fields":` + fields + "}\n" }
	goodHead := strings.Join(strings.SplitAfter(goodFile, "\n")[:5], "") // header, role, user, album, one song
	end := func(n int) string { return fmt.Sprintf(`{"end":true,"records":%d}`+"\n", n) }
	cases := []struct {
		name, body string
		line       int
		msg        string
	}{
		{"empty file", "", 1, "empty"},
		{"not a dump", `{"hello":"world"}` + "\n", 1, "not a dump"},
		{"newer version", `{"format":"musicadmin-dump","version":2}` + "\n", 1, "version 2"},
		{"not JSON", goodHead + "{not json\n", 6, "not a record"},
		{"blank line", goodHead + "\n", 6, "not a record"},
		{"unknown model", goodHead + `{"model":"planet","id":"p","fields":{}}` + "\n", 6, `unknown model "planet"`},
		{"no id", goodHead + `{"model":"album","fields":{"name":"X"}}` + "\n", 6, "no id"},
		{"unknown key", goodHead + `{"model":"album","id":"a2","fields":{"name":"X"},"extra":1}` + "\n", 6, "extra"},
		{"unknown field", goodHead + song("s9", `{"title":"T","rating":1,"album":null,"colour":"red"}`), 6, `unknown field "colour"`},
		{"missing field", goodHead + song("s9", `{"title":"T","album":null}`), 6, `"rating" is missing`},
		{"rating out of range", goodHead + song("s9", `{"title":"T","rating":10,"album":null}`), 6, "from 0 to 9"},
		{"rating not whole", goodHead + song("s9", `{"title":"T","rating":1.5,"album":null}`), 6, "rating"},
		{"title a number", goodHead + song("s9", `{"title":5,"rating":1,"album":null}`), 6, "title"},
		{"title empty", goodHead + song("s9", `{"title":"","rating":1,"album":null}`), 6, "title is required"},
		{"title too long", goodHead + song("s9", `{"title":"`+strings.Repeat("é", 201)+`","rating":1,"album":null}`), 6, "at most 200"},
		{"title taken", goodHead + song("s9", `{"title":"First","rating":1,"album":null}`), 6, `title "First" is taken`},
		{"dangling album", goodHead + song("s9", `{"title":"T","rating":1,"album":"a7"}`), 6, `album "a7" is not on an earlier line`},
		{"album after its song", header + song("s1", `{"title":"T","rating":1,"album":"a1"}`) +
			`{"model":"album","id":"a1","fields":{"name":"One"}}` + "\n", 2, "not on an earlier line"},
		{"album id twice", goodHead + `{"model":"album","id":"a1","fields":{"name":"Two"}}` + "\n", 6, `album id "a1" is on an earlier line too`},
		{"username taken", goodHead + `{"model":"user","id":"u2","fields":{"username":"ada","active":true,"created_at":"2026-01-02T03:04:05Z"}}` + "\n", 6, "username"},
		{"unknown role", goodHead + `{"model":"user","id":"u2","fields":{"username":"bob","active":true,"roles":["r9"],"created_at":"2026-01-02T03:04:05Z"}}` + "\n", 6, `role "r9"`},
		{"user without active", goodHead + `{"model":"user","id":"u2","fields":{"username":"bob","created_at":"2026-01-02T03:04:05Z"}}` + "\n", 6, "active is required"},
		{"cut short", goodHead, 6, "cut short"},
		{"wrong count", goodHead + end(3), 6, "counts 3 records, the file holds 4"},
		{"line after the end", goodHead + end(4) + song("s9", `{"title":"T","rating":1,"album":null}`), 7, "after the dump's last line"},
		{"too long", goodHead + song("s9", `{"title":"`+strings.Repeat("x", 2<<20)+`","rating":1,"album":null}`), 6, "longer than"},
	}
	b := migrated(t, apptest.SQLite)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := transfer.Load(context.Background(), b, writeFile(t, c.body), nil)
			var le *transfer.LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LineError", err)
			}
			want := fmt.Sprintf("line %d: ", c.line)
			if le.Line != c.line || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %q, want line %d and %q", err, c.line, c.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("err holds a newline: %q", err)
			}
			wantEmpty(t, b, c.name)
		})
	}
	// The good file itself loads, which shows the cases fail for what they
	// add to it.
	counts, err := transfer.Load(context.Background(), b, writeFile(t, goodFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	if counts.String() != "1 role, 1 user, 1 album, 2 songs" {
		t.Errorf("loaded %s", counts)
	}
}

// TestLoadRefusesNonEmpty: a database holding a user or a catalogue record
// is refused on every backend, and the file's records are not written; a
// role alone (create-db's built-in ones) is no reason to refuse, and is
// matched by name.
func TestLoadRefusesNonEmpty(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, bk apptest.Backend) {
		ctx := context.Background()
		for _, c := range []struct {
			name string
			fill func(b backend.Backend) error
		}{
			{"a user", func(b backend.Backend) error {
				_, err := b.Accounts().CreateUser(ctx, auth.User{Username: "someone", Active: true}, "Other")
				return err
			}},
			{"an album", func(b backend.Backend) error {
				_, err := b.Catalog().Albums.Create(ctx, datamodel.Values{"name": "There"})
				return err
			}},
		} {
			b := migrated(t, bk)
			if err := c.fill(b); err != nil {
				t.Fatal(err)
			}
			before := take(t, b)
			_, err := transfer.Load(ctx, b, writeFile(t, goodFile), nil)
			if !errors.Is(err, transfer.ErrNotEmpty) {
				t.Errorf("%s: load into a database with %s: err = %v, want ErrNotEmpty", bk.Name, c.name, err)
			}
			diff(t, "after the refused load", take(t, b), before)
		}

		// Roles only: loaded, the existing role kept under its id.
		b := migrated(t, bk)
		acc, err := backend.Transfer(b)
		if err != nil {
			t.Fatal(err)
		}
		adminID, err := acc.ImportRole(ctx, auth.AdminRole)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := transfer.Load(ctx, b, writeFile(t, goodFile), nil); err != nil {
			t.Fatal(err)
		}
		roles, err := acc.ExportRoles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(roles) != 1 || roles[0].ID != adminID {
			t.Errorf("roles after the load %v, want the one Admin role %s", roles, adminID)
		}
		want := snapshot{roles: []string{"Admin"},
			users:  []string{`"ada" "Ada" "L" "a@example.com" "h" active=true roles=["Admin"] created=1767323045`},
			albums: []string{"One"}, songs: []string{`"First" rating=3 album="One"`, `"Second" rating=0 album=(none)`}}
		diff(t, "after the load", take(t, b), want)
	})
}

// TestLoadManyRoles: a user with two roles (as MongoDB and SQL since
// user_roles both keep) loads with both.
func TestLoadManyRoles(t *testing.T) {
	b := migrated(t, apptest.SQLite)
	body := header + `{"model":"role","id":"r1","fields":{"name":"Admin"}}` + "\n" +
		`{"model":"role","id":"r2","fields":{"name":"ReadOnly"}}` + "\n" +
		`{"model":"user","id":"u1","fields":{"username":"ada","first_name":"Ada","last_name":"L","email":"ada@example.com",` +
		`"password_hash":"$2a$04$abcdefghijklmnopqrstuu5Wn5y0WqYbGq9F7mXh3s0y8bPq0wFQa","active":true,"roles":["r1","r2"],` +
		`"created_at":"2026-01-02T03:04:05Z"}}` + "\n" + `{"end":true,"records":3}` + "\n"
	if _, err := transfer.Load(context.Background(), b, writeFile(t, body), nil); err != nil {
		t.Fatalf("load: %v", err)
	}
	roles, _, err := b.Accounts().UserGrants(context.Background(), "1")
	slices.Sort(roles)
	if err != nil || !slices.Equal(roles, []string{"Admin", "ReadOnly"}) {
		t.Errorf("ada's roles = %q, %v; want Admin and ReadOnly", roles, err)
	}
}

// TestLoadFailsMidway: a write the file's checks cannot foresee (here a
// trigger refusing one title) stops the load with its line; the batch it
// was in is rolled back and the records before it stay, as the error says.
func TestLoadFailsMidway(t *testing.T) {
	b := migrated(t, apptest.SQLite)
	if err := b.(*backend.SQL).DB().Exec(`CREATE TRIGGER refuse_boom BEFORE INSERT ON songs
		WHEN NEW.title = 'Boom' BEGIN SELECT RAISE(ABORT, 'no boom'); END`).Error; err != nil {
		t.Fatal(err)
	}
	body := goodFile[:strings.Index(goodFile, `{"end"`)] +
		`{"model":"song","id":"s3","fields":{"title":"Boom","rating":1,"album":null}}` + "\n" +
		`{"end":true,"records":6}` + "\n"
	_, err := transfer.Load(context.Background(), b, writeFile(t, body), nil)
	if err == nil || !strings.Contains(err.Error(), "line 7: song s3") || !strings.Contains(err.Error(), "the 3 records before it are written") {
		t.Fatalf("err = %v, want line 7 and 3 records written", err)
	}
	got := take(t, b)
	if len(got.roles) != 1 || len(got.users) != 1 || len(got.albums) != 1 || len(got.songs) != 0 {
		t.Errorf("after the failed load: %s; want the role, user and album, and no song of the failed batch", got)
	}
}
