package apptest

// Contents of a database, for the tests that copy one (app copy, dump and
// load, backup and restore): what to fill it with and how to compare two
// of any backends.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"musicadmin/internal/access"
	"musicadmin/internal/accounts"
	"musicadmin/internal/app"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/seed"
	"musicadmin/internal/server"
)

// Bcrypt hashes (cost 4) for the files and records of the tests: load
// refuses a password_hash that is not one, and cost 4 costs no time.
const (
	HashAda = "$2a$04$OhwhcV37I3AB/Gu7fnx3aeMImUaHO57U5JJDw3njtcxUdbV1Cijsm"
	HashBob = "$2a$04$e05IkX32lj9MxKE73ratDOIt1tdbYUnQG/NXjAiYYjZJ55iu04z2C"
)

// Contents is a database's records by content: ids differ between
// backends (digits, ObjectId hex), so each record is written as its
// values, with references as the label of what they point at (album names
// and role names are unique), each list sorted; and the audit log in its
// order, with each record id as the label of the record it names, or
// "gone ID" for a record no longer there.
type Contents struct {
	Roles, Users, Tokens, Albums, Songs, Entries []string
	// Factors are the users' second factors as stored: the secret sealed,
	// the recovery codes hashed.
	Factors []string
	// Identities are the users' identities at OpenID providers.
	Identities []string
	// Unmarked counts the entries naming, as a record of a catalogue or
	// account view, an id no record has and not marked "deleted:".
	Unmarked int
}

func (s Contents) String() string {
	return fmt.Sprintf("%d roles, %d users, %d albums, %d songs, %d audit entries", len(s.Roles), len(s.Users),
		len(s.Albums), len(s.Songs), len(s.Entries))
}

// TakeContents reads every role (with its permissions), user, API token,
// album, song and audit entry of b, for DiffContents.
func TakeContents(t testing.TB, b *app.App) Contents {
	t.Helper()
	ctx := context.Background()
	acc := b.Accounts()
	var s Contents
	roles, err := acc.ExportRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	perms, err := acc.ExportRolePermissions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Each model's records by id, as the audit log's views name them.
	byView := map[string]map[string]string{"roles": {}, "users": {}, "albumview": {}, "songsview": {}, "tokens": {}}
	for _, r := range roles {
		byView["roles"][r.ID] = r.Name
		var keys []string
		for _, p := range perms[r.ID] {
			keys = append(keys, p.Key())
		}
		slices.Sort(keys)
		s.Roles = append(s.Roles, fmt.Sprintf("%s %q", r.Name, keys))
	}
	// The users' own settings as the accounts layer reads them (the
	// model), beside what ExportAccounts says: both must agree.
	settings := map[string]string{}
	err = b.AccountModels().Users.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		settings[r.ID] = fmt.Sprintf("language=%q time_zone=%q", r.Values["language"], r.Values["time_zone"])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = acc.ExportAccounts(ctx, func(a auth.Account) error {
		byView["users"][a.ID] = a.Username
		if got, want := settings[a.ID], fmt.Sprintf("language=%q time_zone=%q", a.Language, a.TimeZone); got != want {
			t.Errorf("user %s: the model reads %s, the export %s", a.Username, got, want)
		}
		var names []string
		for _, id := range a.RoleIDs {
			names = append(names, byView["roles"][id])
		}
		slices.Sort(names)
		s.Users = append(s.Users, fmt.Sprintf("%q %q %q %q %q active=%v roles=%q created=%d %s", a.Username, a.FirstName,
			a.LastName, a.Email, a.PasswordHash, a.Active, names, a.CreatedAt.Unix(), settings[a.ID]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Tokens with their digests: a token copied is the same token.
	err = b.AccountModels().Tokens.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		byView["tokens"][r.ID] = r.Values["name"].(string)
		user := "(none)"
		if ref, _ := r.Values["user"].(*datamodel.Ref); ref != nil {
			user = byView["users"][ref.ID]
		}
		s.Tokens = append(s.Tokens, fmt.Sprintf("%q user=%q created=%s expires=%q used=%q digest=%s", r.Values["name"], user,
			r.Values["created_at"], r.Values["expires_at"], r.Values["last_used_at"], r.Values["digest"]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = b.AccountModels().SecondFactors.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		user := "(none)"
		if ref, _ := r.Values["user"].(*datamodel.Ref); ref != nil {
			user = byView["users"][ref.ID]
		}
		s.Factors = append(s.Factors, fmt.Sprintf("user=%q enrolled=%q last=%d secret=%s recovery=%s", user,
			r.Values["enrolled_at"], r.Values["last_step"], r.Values["secret"], r.Values["recovery"]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = b.AccountModels().Identities.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		user := "(none)"
		if ref, _ := r.Values["user"].(*datamodel.Ref); ref != nil {
			user = byView["users"][ref.ID]
		}
		s.Identities = append(s.Identities, fmt.Sprintf("user=%q issuer=%q subject=%q digest=%s linked=%s", user,
			r.Values["issuer"], r.Values["subject"], r.Values["digest"], r.Values["created_at"]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Catalog().Albums.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		byView["albumview"][r.ID] = r.Values["name"].(string)
		s.Albums = append(s.Albums, r.Values["name"].(string))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Catalog().Songs.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		byView["songsview"][r.ID] = r.Values["title"].(string)
		album := "(none)"
		if ref, _ := r.Values["album"].(*datamodel.Ref); ref != nil {
			album = fmt.Sprintf("%q", ref.Label)
		}
		s.Songs = append(s.Songs, fmt.Sprintf("%q rating=%d album=%s", r.Values["title"], r.Values["rating"], album))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	name := func(view, id string) string {
		records, known := byView[view]
		if !known || id == "" {
			return id
		}
		if label, ok := records[id]; ok {
			return "=" + label
		}
		if !strings.HasPrefix(id, "deleted:") {
			s.Unmarked++
		}
		return "gone " + strings.TrimPrefix(id, "deleted:")
	}
	err = b.Audit().Entries().Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		changes, err := audit.ParseChanges(r.Values["changes"])
		if err != nil {
			return err
		}
		view := r.Values["view_name"].(string)
		var cs []string
		for _, c := range changes {
			if target := map[string]string{"songsview.album": "albumview", "tokens.user": "users"}[view+"."+c.Field]; target != "" {
				// "Label (id)": the id as the label of what it names.
				for _, v := range []*string{&c.Old, &c.New} {
					if i := strings.LastIndex(*v, " ("); i >= 0 {
						*v = (*v)[:i] + " (" + name(target, strings.TrimSuffix((*v)[i+2:], ")")) + ")"
					}
				}
			}
			cs = append(cs, fmt.Sprintf("%s:%q->%q", c.Field, c.Old, c.New))
		}
		s.Entries = append(s.Entries, fmt.Sprintf("%s %q %s %s record=%s %q %s", r.Values["at"], r.Values["username"],
			r.Values["action"], view, name(view, r.Values["record_id"].(string)), r.Values["record_label"], cs))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range [][]string{s.Roles, s.Users, s.Tokens, s.Factors, s.Identities, s.Albums, s.Songs} {
		slices.Sort(l)
	}
	return s
}

// DiffContents fails t with the first differences between two Contents.
func DiffContents(t testing.TB, step string, got, want Contents) {
	t.Helper()
	for _, c := range []struct {
		what      string
		got, want []string
	}{{"roles", got.Roles, want.Roles}, {"users", got.Users, want.Users}, {"tokens", got.Tokens, want.Tokens},
		{"second factors", got.Factors, want.Factors}, {"identities", got.Identities, want.Identities},
		{"albums", got.Albums, want.Albums}, {"songs", got.Songs, want.Songs},
		{"audit entries", got.Entries, want.Entries}} {
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

// permission reads a permission key of a test.
func permission(t testing.TB, key string) access.Permission {
	t.Helper()
	p, ok := access.ParseKey(key)
	if !ok {
		t.Fatalf("bad permission key %q", key)
	}
	return p
}

// FillEverything writes the test catalogue and accounts into b, which a
// copy, a dump or a backup must then keep (TakeContents): seeded albums
// and songs (every seventh song without an album), text the seed does not make,
// the built-in roles as create-db makes them (ReadOnly then loses one
// permission, as an Admin may take it), a role holding permissions of the
// audit log and of a view no app has, users with roles, one inactive, one
// with no role, and audited writes (fillAudit).
func FillEverything(t testing.TB, b *app.App, albums, songs int) {
	t.Helper()
	ctx := context.Background()
	opts := seed.Options{Albums: albums, Songs: songs, NoAlbumEvery: 7}
	if err := b.Seed(ctx, opts, nil); err != nil {
		t.Fatal(err)
	}
	if err := server.SyncPermissions(ctx, b); err != nil {
		t.Fatal(err)
	}
	album, err := b.Catalog().Albums.Create(ctx, datamodel.Values{"name": `Ça va <b>"東京"</b> & 🎷`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Catalog().Songs.Create(ctx, datamodel.Values{"title": "Tab\there, back\\slash, 100%_",
		"rating": int64(9), "album": &datamodel.Ref{ID: album}}); err != nil {
		t.Fatal(err)
	}
	acc := b.Accounts()
	readOnly, err := acc.ImportRole(ctx, access.ReadOnlyRole)
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.ImportPermissions(ctx, readOnly, []access.Permission{permission(t, "can_list:songsview"),
		permission(t, "menu_access:songsview")}, []string{"songsview"}); err != nil {
		t.Fatal(err)
	}
	auditor, err := acc.ImportRole(ctx, "Auditor")
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.ImportPermissions(ctx, auditor, []access.Permission{permission(t, "can_list:auditlog"),
		permission(t, "menu_access:auditlog"), permission(t, "can_fly:planetview")}, []string{"auditlog", "planetview"}); err != nil {
		t.Fatal(err)
	}
	users := auth.Store(b.Accounts())
	ids := map[string]string{}
	for _, u := range []struct {
		name, role string
		active     bool
	}{{"admin", auth.AdminRole, true}, {"reader", access.ReadOnlyRole, true}, {"former", access.ReadOnlyRole, false}} {
		created, err := users.CreateUser(ctx, auth.User{Username: u.name, FirstName: "Ada " + u.name, LastName: "Lovelace",
			Email: u.name + "@example.com", PasswordHash: HashAda, Active: u.active}, u.role)
		if err != nil {
			t.Fatal(err)
		}
		ids[u.name] = created.ID
	}
	if _, err := acc.ImportAccount(ctx, auth.Account{User: auth.User{Username: "roleless", FirstName: "Rô", LastName: "Le",
		Email: "r@example.com", PasswordHash: HashBob, Active: true}, CreatedAt: time.Date(2020, 2, 29, 12, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	fillAudit(t, b, ids["reader"])
	fillIdentity(t, b)
}

// fillIdentity links the user reader to a subject of an OpenID provider,
// as single sign-on's registration or app link-sso does, and gives them
// their own language and time zone.
func fillIdentity(t testing.TB, b *app.App) {
	t.Helper()
	ctx := context.Background()
	acc, err := accounts.New(b.AccountModels(), b.Accounts(), b.Audit(), nil)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := acc.UserByName(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.Identities.Link(ctx, reader.ID, "https://idp.example/realms/é", "248289761001", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	// The reader's own settings, which a copy carries too.
	if err := acc.Users.SetSettings(ctx, reader.ID, accounts.Settings{Language: "ar", TimeZone: "America/Argentina/Buenos_Aires"}); err != nil {
		t.Fatal(err)
	}
}

// fillAudit makes changes as a user through the catalogue's views, so the
// stores write their entries: an album renamed, a song moved between
// albums, a song and an album deleted (their entries then name records no
// longer there, as does the song's change naming the album); and entries
// of no record's change: a login, a failed one, a change of the user
// readerID through the users view, and one of a view no app has.
func fillAudit(t testing.TB, b *app.App, readerID string) {
	t.Helper()
	ctx := context.Background()
	as := func(view string) context.Context {
		return audit.With(ctx, audit.Actor{Username: "admin", View: view})
	}
	albums, songs := b.Catalog().Albums, b.Catalog().Songs
	must := func(id string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	giant := must(albums.Create(as("albumview"), datamodel.Values{"name": "Giant Steps"}))
	must("", albums.Update(as("albumview"), giant, datamodel.Values{"name": "Giant Steps (1960)"}))
	doomed := must(albums.Create(as("albumview"), datamodel.Values{"name": "Doomed"}))
	naima := must(songs.Create(as("songsview"), datamodel.Values{"title": "Naima", "rating": int64(8),
		"album": &datamodel.Ref{ID: giant}}))
	must("", songs.Update(as("songsview"), naima, datamodel.Values{"title": "Naima", "rating": int64(9),
		"album": &datamodel.Ref{ID: doomed}}))
	gone := must(songs.Create(as("songsview"), datamodel.Values{"title": "Gone", "rating": int64(1), "album": nil}))
	must("", songs.Delete(as("songsview"), gone))
	must("", albums.Delete(as("albumview"), doomed))
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	for _, e := range []audit.Entry{
		{Time: at, Username: "admin", Action: audit.ActionLogin},
		{Time: at.Add(time.Microsecond), Username: `nobody <script>"東京"`, Action: audit.ActionLoginFailed},
		{Time: at.Add(time.Second), Username: "admin", Action: audit.ActionUpdate, View: "users", RecordID: readerID,
			RecordLabel: "reader", Changes: []audit.Change{{Field: "active", Old: "Yes", New: "No"}}},
		{Time: at.Add(2 * time.Second), Username: "cli", Action: audit.ActionCreate, View: "planetview",
			RecordID: "17", RecordLabel: "Pluto", Changes: []audit.Change{{Field: "name", New: "Pluto"}}},
	} {
		if err := b.Audit().Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

// SecretKey is the secret_key of NewApp's configuration, which seals the
// TOTP secrets.
const SecretKey = "test-secret-key-0123456789abcdef0123456789"

// FillSecondFactor enrolls the user reader in a second factor, sealed
// with SecretKey, as their own page would (audited), and returns its
// secret.
func FillSecondFactor(t testing.TB, b *app.App) string {
	t.Helper()
	ctx := context.Background()
	acc, err := accounts.New(b.AccountModels(), b.Accounts(), b.Audit(), nil)
	if err != nil {
		t.Fatal(err)
	}
	acc.TOTP.Configure(SecretKey, nil)
	reader, err := acc.UserByName(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	as := audit.With(ctx, audit.Actor{Username: "reader"})
	key, err := acc.TOTP.Start(as, reader.ID, "reader", "Music Admin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Minute) // a code of a minute ago: one of now still works
	code, err := totp.GenerateCode(key.Secret(), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.TOTP.Confirm(as, reader.ID, "reader", code, now); err != nil {
		t.Fatal(err)
	}
	return key.Secret()
}

// FillTokens makes API tokens of the user reader as their tokens page
// would (audited): one used (its last use written, and audited), one that
// expires, one revoked (its entries then name a record no longer there).
// It returns the used token and the time of its use.
func FillTokens(t testing.TB, b *app.App) (string, time.Time) {
	t.Helper()
	ctx := context.Background()
	acc, err := accounts.New(b.AccountModels(), b.Accounts(), b.Audit(), nil)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := acc.UserByName(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	as := audit.With(ctx, audit.Actor{Username: "reader"})
	plain, _, err := acc.Tokens.Create(as, reader.ID, "laptop", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := acc.Tokens.Create(as, reader.ID, "ci", time.Now().AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	_, old, err := acc.Tokens.Create(as, reader.ID, "old", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.Tokens.Revoke(as, reader.ID, old.ID); err != nil {
		t.Fatal(err)
	}
	used := time.Now()
	if _, err := acc.Tokens.Authenticate(ctx, plain, used); err != nil {
		t.Fatal(err)
	}
	return plain, used
}
