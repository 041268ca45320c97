package transfer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"

	"musicadmin/internal/access"
	"musicadmin/internal/accounts"
	"musicadmin/internal/app"
	"musicadmin/internal/apptest"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/server"
	"musicadmin/internal/transfer"
)

// migrated opens a new database of b fresh from its migrations (no roles).
func migrated(t *testing.T, b apptest.Backend) *app.App {
	t.Helper()
	return apptest.OpenBackend(t, apptest.NewMigratedDatabase(t, b))
}

// createdDB opens a new database of b as create-db leaves it: migrated,
// with the built-in roles and every view's permissions.
func createdDB(t *testing.T, b apptest.Backend) *app.App {
	t.Helper()
	db := migrated(t, b)
	if err := server.SyncPermissions(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// Bcrypt hashes (cost 4) for the files and records of the tests: load
// refuses a password_hash that is not one.
const (
	hashAda = apptest.HashAda
	hashBob = apptest.HashBob
)

// perm reads a permission key of a test.
func perm(t *testing.T, key string) access.Permission {
	t.Helper()
	p, ok := access.ParseKey(key)
	if !ok {
		t.Fatalf("bad permission key %q", key)
	}
	return p
}

// authenticates fails t unless plain is a token of reader in b at used
// (no later: the use is not written again, so the database stays as
// copied).
func authenticates(t *testing.T, b *app.App, plain string, used time.Time) {
	t.Helper()
	acc, err := accounts.New(b.AccountModels(), b.Accounts(), b.Audit(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := acc.Tokens.Authenticate(context.Background(), plain, used); err != nil || u.Username != "reader" {
		t.Errorf("%s: the token copied: %+v, %v; want reader's", b.Driver(), u, err)
	}
}

// historyOf returns how many entries the history page of the record id of
// view reads (the same query as admin's handleHistory).
func historyOf(t *testing.T, b *app.App, view, id string) int64 {
	t.Helper()
	s := b.Audit().Entries().Schema()
	n, err := b.Audit().Entries().Count(context.Background(), []datamodel.Filter{
		{Field: s.Field("view_name"), Op: datamodel.OpEq, Value: view},
		{Field: s.Field("record_id"), Op: datamodel.OpEq, Value: id},
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// albumID returns the id of the album called name in b.
func albumID(t *testing.T, b *app.App, name string) string {
	t.Helper()
	s := b.Catalog().Albums.Schema()
	page, err := b.Catalog().Albums.List(context.Background(), datamodel.Query{
		Filters: []datamodel.Filter{{Field: s.Field("name"), Op: datamodel.OpEq, Value: name}}, Limit: 1})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("album %q: %v, %d found", name, err, len(page.Records))
	}
	return page.Records[0].ID
}

// TestRoundTrip is the test: a seeded catalogue with users, roles
// holding permissions and an audit log, copied SQLite -> MongoDB ->
// PostgreSQL -> MySQL -> SQLite, ends with the same records, references,
// permissions and entries as it started, and is the same after every
// step: each entry still names its record (its history page lists it), or
// is marked as naming one deleted before the copy. A dump of the last
// database twice gives the same file.
func TestRoundTrip(t *testing.T) {
	for _, b := range apptest.Backends {
		apptest.RequireBackend(t, b)
	}
	ctx := context.Background()
	first := migrated(t, apptest.SQLite)
	apptest.FillEverything(t, first, 60, 3000)
	plain, used := apptest.FillTokens(t, first)
	secret := apptest.FillSecondFactor(t, first)
	want := apptest.TakeContents(t, first)
	if len(want.Songs) != 3002 || len(want.Albums) != 62 || len(want.Users) != 4 || len(want.Roles) != 3 ||
		len(want.Entries) < 12 {
		t.Fatalf("seeded %s, want 3 roles, 4 users, 62 albums, 3002 songs and a dozen entries", want)
	}
	if want.Unmarked != 7 {
		// Doomed (created, deleted, and in Naima's change), Gone
		// (created, deleted), the token "old" (created, revoked).
		t.Fatalf("the source's log names %d records no longer there, want 7:\n%s", want.Unmarked, strings.Join(want.Entries, "\n"))
	}
	if len(want.Tokens) != 2 || strings.Contains(strings.Join(want.Entries, "\n"), "digest") {
		t.Fatalf("the source's tokens: %q; its entries must not name their digests", want.Tokens)
	}
	if len(want.Factors) != 1 || strings.Contains(strings.Join(want.Factors, "\n"), secret) ||
		strings.Contains(strings.Join(want.Entries, "\n"), secret) {
		t.Fatalf("the source's second factors: %q; the secret must be sealed, and in no entry", want.Factors)
	}
	if len(want.Identities) != 1 {
		t.Fatalf("the source's identities: %q, want the reader's one", want.Identities)
	}
	if n := strings.Count(strings.Join(want.Users, "\n"), `language="ar" time_zone="America/Argentina/Buenos_Aires"`); n != 1 {
		t.Fatalf("the source's users: %q; want the reader's own settings", want.Users)
	}
	for _, r := range want.Roles {
		if strings.HasPrefix(r, "ReadOnly ") && strings.Contains(r, "can_show:songsview") ||
			strings.HasPrefix(r, "Auditor ") && !strings.Contains(r, "can_fly:planetview") {
			t.Fatalf("roles of the source: %q", want.Roles)
		}
	}
	albumless := 0
	for _, s := range want.Songs {
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
		if n := len(want.Roles) + len(want.Users) + len(want.Tokens) + len(want.Factors) + len(want.Identities) + len(want.Albums) + len(want.Songs) + len(want.Entries); counts.Total() != n {
			t.Errorf("copy %s -> %s: copied %s, want %d records", src.Driver(), to.Name, counts, n)
		}
		got := apptest.TakeContents(t, dst)
		apptest.DiffContents(t, "after the copy to "+to.Name, got, want)
		authenticates(t, dst, plain, used)
		if got.Unmarked != 0 {
			t.Errorf("after the copy to %s: %d entries name a record no longer there by a bare id, want deleted:ID",
				to.Name, got.Unmarked)
		}
		if n := historyOf(t, dst, "albumview", albumID(t, dst, "Giant Steps (1960)")); n != 2 {
			t.Errorf("after the copy to %s: the history of Giant Steps lists %d entries, want 2", to.Name, n)
		}
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
	if !strings.Contains(one.String(), `"model":"second_factors"`) || strings.Contains(one.String(), secret) {
		t.Errorf("the dump carries no second factor, or its secret in clear")
	}
	// The second factor copied four times works, under the same secret_key.
	acc, err := accounts.New(src.AccountModels(), src.Accounts(), src.Audit(), nil)
	if err != nil {
		t.Fatal(err)
	}
	acc.TOTP.Configure(apptest.SecretKey, nil)
	reader, err := acc.UserByName(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	code, err := totp.GenerateCode(secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := acc.TOTP.Verify(ctx, reader.ID, "reader", code, now); err != nil {
		t.Errorf("a code of the second factor copied: %v", err)
	}
}

// TestDumpFormat: the header, then one line per record in dependency order,
// references as the source's ids, roles with their permissions, the audit
// log last.
func TestDumpFormat(t *testing.T) {
	ctx := context.Background()
	b := migrated(t, apptest.SQLite)
	album, err := b.Catalog().Albums.Create(audit.With(ctx, audit.Actor{Username: "ada", View: "albumview"}),
		datamodel.Values{"name": "Blue <Train>"})
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
		Email: "ada@example.com", PasswordHash: hashAda, Active: true}, auth.AdminRole); err != nil {
		t.Fatal(err)
	}
	acc := b.Accounts()
	role, err := acc.ImportRole(ctx, "Lister")
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.ImportPermissions(ctx, role, []access.Permission{perm(t, "can_show:songsview"), perm(t, "can_list:songsview"),
		perm(t, "can_list:albumview")}, []string{"albumview", "songsview"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Audit().Append(ctx, audit.Entry{Time: time.Date(2026, 1, 2, 3, 4, 5, 600000, time.UTC),
		Username: "ada", Action: audit.ActionLogin}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	counts, err := transfer.Dump(ctx, b, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := counts.String(); got != "2 roles, 1 user, 1 album, 2 songs, 2 audit entries" {
		t.Errorf("counts %q", got)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		`{"format":"musicadmin-dump","version":2}`,
		`{"model":"role","id":"1","fields":{"name":"Admin","permissions":[]}}`,
		`{"model":"role","id":"2","fields":{"name":"Lister","permissions":["can_list:albumview","can_list:songsview","can_show:songsview"]}}`,
		`{"model":"user","id":"1","fields":{"username":"ada","first_name":"Ada","last_name":"L","email":"ada@example.com","password_hash":"` + hashAda + `","active":true,"roles":["1"],"created_at":"`,
		`{"model":"album","id":"1","fields":{"name":"Blue <Train>"}}`,
		`{"model":"song","id":"1","fields":{"album":"1","rating":7,"title":"Locomotion"}}`,
		`{"model":"song","id":"2","fields":{"album":null,"rating":0,"title":"Loose"}}`,
		`{"model":"audit_entry","id":"1","fields":{"at":"20`,
		`{"model":"audit_entry","id":"2","fields":{"at":"2026-01-02T03:04:05.000600Z","username":"ada","action":"login","view_name":"","record_id":"","record_label":"","changes":[]}}`,
		`{"end":true,"records":8}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], want[i])
		}
	}
	if entry := `"username":"ada","action":"create","view_name":"albumview","record_id":"1","record_label":"Blue <Train>",` +
		`"changes":[{"field":"name","old":"","new":"Blue <Train>"}]}}`; !strings.HasSuffix(lines[7], entry) {
		t.Errorf("line 8:\n got %s\nwant …%s", lines[7], entry)
	}
}

const (
	header   = `{"format":"musicadmin-dump","version":2}` + "\n"
	headerV1 = `{"format":"musicadmin-dump","version":1}` + "\n"
)

// goodFile is a small valid dump of the current version.
const goodFile = header +
	`{"model":"role","id":"r1","fields":{"name":"Admin","permissions":["can_list:albumview"]}}` + "\n" +
	`{"model":"user","id":"u1","fields":{"username":"ada","first_name":"Ada","last_name":"L","email":"a@example.com","password_hash":"` + hashAda + `","active":true,"roles":["r1"],"created_at":"2026-01-02T03:04:05Z"}}` + "\n" +
	`{"model":"album","id":"a1","fields":{"name":"One"}}` + "\n" +
	`{"model":"song","id":"s1","fields":{"title":"First","rating":3,"album":"a1"}}` + "\n" +
	`{"model":"song","id":"s2","fields":{"title":"Second","rating":0,"album":null}}` + "\n" +
	`{"model":"audit_entry","id":"e1","fields":{"at":"2026-01-02T03:04:05.000001Z","username":"ada","action":"update","view_name":"songsview","record_id":"s1","record_label":"First","changes":[{"field":"album","old":"","new":"One (a1)"}]}}` + "\n" +
	`{"end":true,"records":6}` + "\n"

// goodFileV1 is goodFile as version 1 wrote it: no permissions, no audit log.
const goodFileV1 = headerV1 +
	`{"model":"role","id":"r1","fields":{"name":"Admin"}}` + "\n" +
	`{"model":"user","id":"u1","fields":{"username":"ada","first_name":"Ada","last_name":"L","email":"a@example.com","password_hash":"` + hashAda + `","active":true,"roles":["r1"],"created_at":"2026-01-02T03:04:05Z"}}` + "\n" +
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

// wantEmpty fails t unless b holds no user, role, album, song or audit
// entry.
func wantEmpty(t *testing.T, b *app.App, when string) {
	t.Helper()
	if s := apptest.TakeContents(t, b); len(s.Roles)+len(s.Users)+len(s.Albums)+len(s.Songs)+len(s.Entries) != 0 {
		t.Errorf("%s: the database holds %s, want nothing written", when, s)
	}
}

// TestLoadMalformed: a file load cannot read is refused with the number of
// its first bad line, and nothing is written, even when the bad line comes
// after good ones.
func TestLoadMalformed(t *testing.T) {
	song := func(id, fields string) string { return `{"model":"song","id":"` + id + `","fields":` + fields + "}\n" }
	role := func(fields string) string { return `{"model":"role","id":"r9","fields":` + fields + "}\n" }
	user := func(hash string) string {
		return `{"model":"user","id":"u2","fields":{"username":"bob","active":true,"password_hash":"` + hash +
			`","created_at":"2026-01-02T03:04:05Z"}}` + "\n"
	}
	entry := func(fields string) string { return `{"model":"audit_entry","id":"e9","fields":` + fields + "}\n" }
	const entryOK = `{"at":"2026-01-02T03:04:05.000001Z","username":"ada","action":"login","view_name":"","record_id":"","record_label":"","changes":[]}`
	goodHead := strings.Join(strings.SplitAfter(goodFile, "\n")[:5], "")     // header, role, user, album, one song
	goodHeadV1 := strings.Join(strings.SplitAfter(goodFileV1, "\n")[:5], "") // the same in version 1
	end := func(n int) string { return fmt.Sprintf(`{"end":true,"records":%d}`+"\n", n) }
	cases := []struct {
		name, body string
		line       int
		msg        string
	}{
		{"empty file", "", 1, "empty"},
		{"not a dump", `{"hello":"world"}` + "\n", 1, "not a dump"},
		{"newer version", `{"format":"musicadmin-dump","version":3}` + "\n" + goodHead[len(header):] + end(4), 1,
			"dump format version 3 is newer than this app reads (versions 1 to 2)"},
		{"version 0", `{"format":"musicadmin-dump","version":0}` + "\n", 1, "version 0"},
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
		{"username taken", goodHead + `{"model":"user","id":"u2","fields":{"username":"ada","active":true,"password_hash":"` + hashBob + `","created_at":"2026-01-02T03:04:05Z"}}` + "\n", 6, "username"},
		{"unknown role", goodHead + `{"model":"user","id":"u2","fields":{"username":"bob","active":true,"password_hash":"` + hashBob + `","roles":["r9"],"created_at":"2026-01-02T03:04:05Z"}}` + "\n", 6, `role "r9"`},
		{"language not shipped", goodHead + `{"model":"user","id":"u2","fields":{"username":"bob","active":true,"password_hash":"` + hashBob + `","created_at":"2026-01-02T03:04:05Z","language":"<b>fr"}}` + "\n", 6, `language "<b>fr" is not one this app speaks`},
		{"time zone unknown", goodHead + `{"model":"user","id":"u2","fields":{"username":"bob","active":true,"password_hash":"` + hashBob + `","created_at":"2026-01-02T03:04:05Z","time_zone":"Local"}}` + "\n", 6, `time_zone "Local" is not a time zone`},
		{"user without active", goodHead + `{"model":"user","id":"u2","fields":{"username":"bob","password_hash":"` + hashBob + `","created_at":"2026-01-02T03:04:05Z"}}` + "\n", 6, "active is required"},
		{"clear-text password", goodHead + user("Tr0ub4dor&3"), 6, "password_hash is not a bcrypt hash"},
		{"clear-text password, bcrypt's length", goodHead + user("$2a$04$"+strings.Repeat("é", 53)), 6, "password_hash is not a bcrypt hash"},
		{"no password hash", goodHead + user(""), 6, "password_hash is not a bcrypt hash"},
		{"clear-text password, version 1", goodHeadV1 + user("secret"), 6, "password_hash is not a bcrypt hash"},
		{"permission not a key", goodHead + role(`{"name":"X","permissions":["can list albums"]}`), 6, `permission "can list albums" is not action:view`},
		{"permission twice", goodHead + role(`{"name":"X","permissions":["can_list:albumview","can_list:albumview"]}`), 6, "listed twice"},
		{"role without permissions", goodHead + role(`{"name":"X"}`), 6, "permissions is missing"},
		{"permissions in version 1", goodHeadV1 + role(`{"name":"X","permissions":[]}`), 6, "a version 1 dump has none"},
		{"audit entry in version 1", goodHeadV1 + entry(entryOK), 6, "a version 1 dump has no audit log"},
		{"record after the audit log", goodHead + entry(entryOK) + song("s9", `{"title":"T","rating":1,"album":null}`), 7, "after the audit log's entries"},
		{"entry time not the log's", goodHead + entry(strings.Replace(entryOK, ".000001Z", "Z", 1)), 6, "is not a time as the audit log writes it"},
		{"entry without user", goodHead + entry(strings.Replace(entryOK, `"ada"`, `""`, 1)), 6, "username is required"},
		{"entry without changes", goodHead + entry(strings.Replace(entryOK, `,"changes":[]`, "", 1)), 6, "changes is missing"},
		{"entry change unknown key", goodHead + entry(strings.Replace(entryOK, `[]`, `[{"field":"a","was":"b"}]`, 1)), 6, "was"},
		{"entry label too long", goodHead + entry(strings.Replace(entryOK, `"record_label":""`, `"record_label":"`+strings.Repeat("x", 502)+`"`, 1)), 6, "record_label is longer than 501"},
		{"cut short", goodHead, 6, "cut short"},
		{"wrong count", goodHead + end(3), 6, "counts 3 records, the file holds 4"},
		{"line after the end", goodHead + end(4) + song("s9", `{"title":"T","rating":1,"album":null}`), 7, "after the dump's last line"},
		// JSON text is UTF-8: bytes that are not would be stored as
		// U+FFFD, another text than the file's. Whole files: only those
		// bytes are wrong.
		{"title not UTF-8", goodHead + song("s9", `{"title":"caf`+"\xe9"+`","rating":1,"album":null}`) + end(5), 6, "not valid UTF-8"},
		{"title cut mid-character", goodHead + song("s9", `{"title":"`+"\xe6\x9d"+`","rating":1,"album":null}`) + end(5), 6, "not valid UTF-8"},
		{"user not UTF-8", goodHead + `{"model":"user","id":"u2","fields":{"username":"b` + "\xff" + `b","active":true,"password_hash":"` + hashBob + `","created_at":"2026-01-02T03:04:05Z"}}` + "\n" + end(5), 6, "not valid UTF-8"},
		{"entry not UTF-8", goodHead + entry(strings.Replace(entryOK, `"ada"`, "\"ad\xc0\xafa\"", 1)) + end(5), 6, "not valid UTF-8"},
		{"header not UTF-8", "\xef\xbb" + header + goodHead[len(header):] + end(4), 1, "not valid UTF-8"},
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
	// The good files themselves load, which shows the cases fail for what
	// they add to them.
	counts, err := transfer.Load(context.Background(), b, writeFile(t, goodFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	if counts.String() != "1 role, 1 user, 1 album, 2 songs, 1 audit entry" {
		t.Errorf("loaded %s", counts)
	}
	counts, err = transfer.Load(context.Background(), migrated(t, apptest.SQLite), writeFile(t, goodFileV1), nil)
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
			fill func(b *app.App) error
		}{
			{"a user", func(b *app.App) error {
				_, err := b.Accounts().CreateUser(ctx, auth.User{Username: "someone", Active: true}, "Other")
				return err
			}},
			{"an album", func(b *app.App) error {
				_, err := b.Catalog().Albums.Create(ctx, datamodel.Values{"name": "There"})
				return err
			}},
			{"an audit entry", func(b *app.App) error {
				return b.Audit().Append(ctx, audit.Entry{Time: time.Now(), Username: "someone", Action: audit.ActionLoginFailed})
			}},
		} {
			b := migrated(t, bk)
			if err := c.fill(b); err != nil {
				t.Fatal(err)
			}
			before := apptest.TakeContents(t, b)
			_, err := transfer.Load(ctx, b, writeFile(t, goodFile), nil)
			if !errors.Is(err, transfer.ErrNotEmpty) {
				t.Errorf("%s: load into a database with %s: err = %v, want ErrNotEmpty", bk.Name, c.name, err)
			}
			apptest.DiffContents(t, "after the refused load", apptest.TakeContents(t, b), before)
		}

		// Roles only: loaded, the existing role kept under its id.
		b := migrated(t, bk)
		acc := b.Accounts()
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
		want := apptest.Contents{Roles: []string{`Admin ["can_list:albumview"]`},
			Users:  []string{`"ada" "Ada" "L" "a@example.com" "` + hashAda + `" active=true roles=["Admin"] created=1767323045 language="" time_zone=""`},
			Albums: []string{"One"}, Songs: []string{`"First" rating=3 album="One"`, `"Second" rating=0 album=(none)`},
			Entries: []string{`2026-01-02T03:04:05.000001Z "ada" update songsview record==First "First" [album:""->"One (=One)"]`}}
		apptest.DiffContents(t, "after the load", apptest.TakeContents(t, b), want)
	})
}

// TestLoadManyRoles: a user with two roles (as MongoDB and SQL since
// user_roles both keep) loads with both.
func TestLoadManyRoles(t *testing.T) {
	b := migrated(t, apptest.SQLite)
	body := headerV1 + `{"model":"role","id":"r1","fields":{"name":"Admin"}}` + "\n" +
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
	if err := b.Backend.(*backend.SQL).DB().Exec(`CREATE TRIGGER refuse_boom BEFORE INSERT ON songs
		WHEN NEW.title = 'Boom' BEGIN SELECT RAISE(ABORT, 'no boom'); END`).Error; err != nil {
		t.Fatal(err)
	}
	log := strings.Index(goodFile, `{"model":"audit_entry"`)
	body := goodFile[:log] +
		`{"model":"song","id":"s3","fields":{"title":"Boom","rating":1,"album":null}}` + "\n" +
		goodFile[log:strings.Index(goodFile, `{"end"`)] + `{"end":true,"records":7}` + "\n"
	_, err := transfer.Load(context.Background(), b, writeFile(t, body), nil)
	if err == nil || !strings.Contains(err.Error(), "line 7: song s3") || !strings.Contains(err.Error(), "the 3 records before it are written") {
		t.Fatalf("err = %v, want line 7 and 3 records written", err)
	}
	got := apptest.TakeContents(t, b)
	if len(got.Roles) != 1 || len(got.Users) != 1 || len(got.Albums) != 1 || len(got.Songs) != 0 || len(got.Entries) != 0 {
		t.Errorf("after the failed load: %s; want the role, user and album, and no song of the failed batch", got)
	}
}

// rolePerms returns the permission keys each role of b holds, by name.
func rolePerms(t *testing.T, b *app.App) map[string][]string {
	t.Helper()
	ctx := context.Background()
	acc := b.Accounts()
	roles, err := acc.ExportRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	perms, err := acc.ExportRolePermissions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range roles {
		keys := []string{}
		for _, p := range perms[r.ID] {
			keys = append(keys, p.Key())
		}
		slices.Sort(keys)
		out[r.Name] = keys
	}
	return out
}

// onView returns the keys of keys on view.
func onView(keys []string, view string) []string {
	out := []string{}
	for _, k := range keys {
		if strings.HasSuffix(k, ":"+view) {
			out = append(out, k)
		}
	}
	return out
}

// TestLoadPermissions: into a database fresh from create-db, on every
// backend, the file decides what a role holds on each view it names
// (ReadOnly loses what the source's Admin had taken from it), a view the
// file never names keeps create-db's grants, a new role gets the file's
// permissions, one of a view the app does not have included (kept, and
// made a permission of the database), and a user holding that role is
// granted them. A version 1 file leaves create-db's grants as they are.
func TestLoadPermissions(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, bk apptest.Backend) {
		ctx := context.Background()
		b := createdDB(t, bk)
		before := rolePerms(t, b)
		if want := []string{"can_list:songsview", "can_show:songsview", "menu_access:songsview"}; !slices.Equal(onView(before["ReadOnly"], "songsview"), want) {
			t.Fatalf("create-db gave ReadOnly %q on songsview, want %q", onView(before["ReadOnly"], "songsview"), want)
		}
		body := header +
			`{"model":"role","id":"r1","fields":{"name":"Admin","permissions":["can_add:albumview","can_list:albumview","can_show:albumview","can_fly:planetview"]}}` + "\n" +
			`{"model":"role","id":"r2","fields":{"name":"ReadOnly","permissions":["can_list:albumview"]}}` + "\n" +
			`{"model":"role","id":"r3","fields":{"name":"Pilot","permissions":["can_fly:planetview","can_show:albumview"]}}` + "\n" +
			`{"model":"user","id":"u1","fields":{"username":"amelia","first_name":"Amelia","last_name":"E","email":"a@example.com","password_hash":"` + hashAda + `","active":true,"roles":["r3"],"created_at":"2026-01-02T03:04:05Z"}}` + "\n" +
			`{"end":true,"records":4}` + "\n"
		if _, err := transfer.Load(ctx, b, writeFile(t, body), nil); err != nil {
			t.Fatal(err)
		}
		after := rolePerms(t, b)
		for _, c := range []struct {
			role, view string
			want       []string
		}{
			{"ReadOnly", "albumview", []string{"can_list:albumview"}},
			{"ReadOnly", "songsview", onView(before["ReadOnly"], "songsview")},
			{"Admin", "albumview", []string{"can_add:albumview", "can_list:albumview", "can_show:albumview"}},
			{"Admin", "planetview", []string{"can_fly:planetview"}},
			{"Admin", "auditlog", onView(before["Admin"], "auditlog")},
			{"Pilot", "albumview", []string{"can_show:albumview"}},
			{"Pilot", "planetview", []string{"can_fly:planetview"}},
			{"Pilot", "songsview", []string{}},
		} {
			if got := onView(after[c.role], c.view); !slices.Equal(got, c.want) {
				t.Errorf("%s on %s: %q, want %q", c.role, c.view, got, c.want)
			}
		}
		if len(onView(before["Admin"], "auditlog")) == 0 {
			t.Errorf("create-db gave Admin nothing on auditlog: %q", before["Admin"])
		}
		u, err := b.Accounts().UserByUsername(ctx, "amelia")
		if err != nil {
			t.Fatal(err)
		}
		roles, perms, err := b.Accounts().UserGrants(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		g := access.NewGrants(roles, perms)
		if !g.Can(perm(t, "can_fly:planetview")) || !g.Can(perm(t, "can_show:albumview")) || g.Can(perm(t, "can_list:albumview")) {
			t.Errorf("amelia's grants: roles %q, permissions %v", roles, perms)
		}
		// The server's start (as create-db) gives ReadOnly nothing back:
		// those permissions are not new to the database.
		if err := server.SyncPermissions(ctx, b); err != nil {
			t.Fatal(err)
		}
		if got := rolePerms(t, b)["ReadOnly"]; !slices.Equal(got, after["ReadOnly"]) {
			t.Errorf("ReadOnly after a start: %q, want %q", got, after["ReadOnly"])
		}

		v1 := createdDB(t, bk)
		if _, err := transfer.Load(ctx, v1, writeFile(t, goodFileV1), nil); err != nil {
			t.Fatal(err)
		}
		if got := rolePerms(t, v1); !maps.EqualFunc(got, before, slices.Equal) {
			t.Errorf("after a version 1 file: %q, want create-db's %q", got, before)
		}
	})
}

// TestLoadAudit: on every backend, a load writes the file's entries and
// none of its own (even with an actor in the context): each keeps its
// time, user, action, view, label and changes; the ids naming a record of
// the file become the record's new id, one naming a record the file does
// not hold becomes deleted:ID (and stays so), and the ids of a view load
// does not know are kept.
func TestLoadAudit(t *testing.T) {
	body := header +
		`{"model":"album","id":"a1","fields":{"name":"Kept (live)"}}` + "\n" +
		`{"model":"song","id":"s1","fields":{"title":"Tune","rating":3,"album":"a1"}}` + "\n" +
		`{"model":"audit_entry","id":"e1","fields":{"at":"2025-12-31T23:59:59.999999Z","username":"ada","action":"create","view_name":"albumview","record_id":"a1","record_label":"Kept (live)","changes":[{"field":"name","old":"","new":"Kept (live)"}]}}` + "\n" +
		`{"model":"audit_entry","id":"e2","fields":{"at":"2026-01-01T00:00:00.000000Z","username":"ada","action":"delete","view_name":"albumview","record_id":"a0","record_label":"Gone","changes":[{"field":"name","old":"Gone","new":""}]}}` + "\n" +
		`{"model":"audit_entry","id":"e3","fields":{"at":"2026-01-01T00:00:01.000000Z","username":"bob","action":"update","view_name":"songsview","record_id":"s1","record_label":"Tune","changes":[{"field":"album","old":"Gone (a0)","new":"Kept (live) (a1)"},{"field":"rating","old":"2 (x)","new":"3"}]}}` + "\n" +
		`{"model":"audit_entry","id":"e4","fields":{"at":"2026-01-01T00:00:02.000000Z","username":"bob","action":"delete","view_name":"songsview","record_id":"deleted:99","record_label":"Old","changes":[]}}` + "\n" +
		`{"model":"audit_entry","id":"e5","fields":{"at":"2026-01-01T00:00:03.000000Z","username":"cli","action":"create","view_name":"planetview","record_id":"a1","record_label":"Pluto","changes":[]}}` + "\n" +
		`{"model":"audit_entry","id":"e6","fields":{"at":"2026-01-01T00:00:04.000000Z","username":"東京 <b>","action":"login_failed","view_name":"","record_id":"","record_label":"","changes":[]}}` + "\n" +
		`{"end":true,"records":8}` + "\n"
	apptest.ForEachBackend(t, func(t *testing.T, bk apptest.Backend) {
		ctx := audit.With(context.Background(), audit.Actor{Username: "intruder", View: "albumview"})
		b := migrated(t, bk)
		counts, err := transfer.Load(ctx, b, writeFile(t, body), nil)
		if err != nil {
			t.Fatal(err)
		}
		if counts.String() != "1 album, 1 song, 6 audit entries" {
			t.Errorf("loaded %s", counts)
		}
		album := albumID(t, b, "Kept (live)")
		var song string
		if err := b.Catalog().Songs.Each(context.Background(), datamodel.Query{}, func(r datamodel.Record) error {
			song = r.ID
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var got []string
		err = b.Audit().Entries().Each(context.Background(), datamodel.Query{}, func(r datamodel.Record) error {
			got = append(got, fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s", r.Values["at"], r.Values["username"], r.Values["action"],
				r.Values["view_name"], r.Values["record_id"], r.Values["record_label"], r.Values["changes"]))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			`2025-12-31T23:59:59.999999Z|ada|create|albumview|` + album + `|Kept (live)|[{"field":"name","old":"","new":"Kept (live)"}]`,
			`2026-01-01T00:00:00.000000Z|ada|delete|albumview|deleted:a0|Gone|[{"field":"name","old":"Gone","new":""}]`,
			`2026-01-01T00:00:01.000000Z|bob|update|songsview|` + song + `|Tune|[{"field":"album","old":"Gone (deleted:a0)","new":"Kept (live) (` + album + `)"},{"field":"rating","old":"2 (x)","new":"3"}]`,
			`2026-01-01T00:00:02.000000Z|bob|delete|songsview|deleted:99|Old|[]`,
			`2026-01-01T00:00:03.000000Z|cli|create|planetview|a1|Pluto|[]`,
			`2026-01-01T00:00:04.000000Z|東京 <b>|login_failed||||[]`,
		}
		if !slices.Equal(got, want) {
			t.Errorf("entries after the load:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if n := historyOf(t, b, "albumview", album); n != 1 {
			t.Errorf("the album's history lists %d entries, want 1", n)
		}
		// A second load is refused for the log alone.
		_, err = transfer.Load(context.Background(), migratedWithEntry(t, bk), writeFile(t, body), nil)
		if !errors.Is(err, transfer.ErrNotEmpty) || !strings.Contains(err.Error(), "1 audit entry") {
			t.Errorf("load into a database with an audit entry: %v, want ErrNotEmpty naming it", err)
		}
	})
}

// migratedWithEntry is a migrated database of b whose log holds one entry
// (a failed login on the empty database) and nothing else.
func migratedWithEntry(t *testing.T, bk apptest.Backend) *app.App {
	t.Helper()
	b := migrated(t, bk)
	if err := b.Audit().Append(context.Background(), audit.Entry{Time: time.Now(), Username: "someone",
		Action: audit.ActionLoginFailed}); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHistoryAfterCopy: SQLite to every backend through the app's own
// pages. The source's album 1 was deleted, so on an SQL target its
// successor, the source's album 2, becomes album 1: its history page lists
// its own entry and not the deleted one's, whose entries are marked
// deleted:1 (kept as 1, they would read as the history of the album that
// now has that id).
func TestHistoryAfterCopy(t *testing.T) {
	ctx := context.Background()
	src := migrated(t, apptest.SQLite)
	as := audit.With(ctx, audit.Actor{Username: "ada", View: "albumview"})
	first, err := src.Catalog().Albums.Create(as, datamodel.Values{"name": "First"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Catalog().Albums.Create(as, datamodel.Values{"name": "Second"}); err != nil {
		t.Fatal(err)
	}
	if err := src.Catalog().Albums.Delete(as, first); err != nil {
		t.Fatal(err)
	}
	apptest.ForEachBackend(t, func(t *testing.T, bk apptest.Backend) {
		dst := apptest.OpenBackend(t, apptest.NewDatabase(t, bk))
		if _, err := transfer.Copy(ctx, src, dst, t.TempDir(), nil); err != nil {
			t.Fatal(err)
		}
		second := albumID(t, dst, "Second")
		if bk.SQL() && second != first {
			t.Fatalf("Second has id %s on %s, want the deleted First's %s (the case this test is about)", second, bk.Name, first)
		}
		cfg := config.Default()
		cfg.SecretKey = "test-secret-key-0123456789abcdef0123456789"
		web, err := server.New(cfg, dst, slog.New(slog.DiscardHandler), server.Options{BcryptCost: bcrypt.MinCost})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := web.Users.Create(ctx, auth.NewUser{Username: "admin", FirstName: "A", LastName: "D",
			Email: "admin@example.com", Password: "admin-password-1"}); err != nil {
			t.Fatal(err)
		}
		c := apptest.Serve(t, web.Handler).Client()
		c.Login("admin", "admin-password-1")
		r := c.Get("/albumview/history/" + second)
		r.ExpectStatus(t, "history of Second", http.StatusOK)
		rows := r.Rows()
		if len(rows) != 1 || len(rows[0]) != 4 || rows[0][2] != "create" || !strings.Contains(rows[0][3], "Second") {
			t.Errorf("history of Second on %s: %q, want its one create", bk.Name, rows)
		}
		if n := historyOf(t, dst, "albumview", "deleted:"+first); n != 2 {
			t.Errorf("entries of the deleted First on %s: %d under deleted:%s, want 2", bk.Name, n, first)
		}
	})
}
