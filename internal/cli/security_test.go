package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"musicadmin/internal/apptest"
	"musicadmin/internal/auth"
	"musicadmin/internal/cli"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/security"
)

// securityDB returns the config file of a fresh database of b, created by
// create-db, and the environment the commands run with.
func securityDB(t *testing.T, b apptest.Backend) (string, *apptest.App) {
	t.Helper()
	dbCfg := apptest.NewDatabase(t, b)
	path := writeConfig(t, dbCfg)
	if r := app(t, nil, "--config", path, "create-db"); r.code != 0 {
		t.Fatalf("create-db:\n%s", r)
	}
	return path, apptest.Stored(t, dbCfg)
}

func storedUser(t *testing.T, stored *apptest.App, username string) (apptest.UserRow, bool) {
	t.Helper()
	for _, u := range stored.Users() {
		if u.Username == username {
			slices.Sort(u.Roles)
			return u, true
		}
	}
	return apptest.UserRow{}, false
}

func userArgs(path, username string, roles ...string) []string {
	args := []string{"--config", path, "create-user", "--username", username, "--firstname", "Ed", "--lastname", "Itor",
		"--email", username + "@example.com", "--password", "pw-" + username}
	for _, r := range roles {
		args = append(args, "--role", r)
	}
	return args
}

// TestCreateUserResetPasswordListUsers: create-user with repeated roles;
// its refusals (an unknown role or none: 2; a taken username: 1) write
// nothing; reset-password sets the hash and ends the user's sessions;
// list-users prints a line per user.
func TestCreateUserResetPasswordListUsers(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		path, stored := securityDB(t, b)
		env := map[string]string{"USER": "operator"}
		r := app(t, env, userArgs(path, "ed", "ReadOnly", "Admin")...)
		if r.code != 0 || r.stdout != "User \"ed\" created with the roles ReadOnly, Admin.\n" || r.stderr != "" {
			t.Fatalf("create-user:\n%s", r)
		}
		u, ok := storedUser(t, stored, "ed")
		if !ok || !u.Active || !slices.Equal(u.Roles, []string{"Admin", "ReadOnly"}) || u.Email != "ed@example.com" {
			t.Fatalf("stored ed = %+v", u)
		}
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("pw-ed")) != nil {
			t.Error("ed's hash is not of the password given")
		}

		wantOneLineError(t, app(t, nil, userArgs(path, "bo", "ReadOnly", "Wizard")...), cli.ExitUsage, `unknown role "Wizard"`)
		wantOneLineError(t, app(t, nil, userArgs(path, "bo")...), cli.ExitUsage, "--role")
		wantOneLineError(t, app(t, nil, userArgs(path, "ed", "ReadOnly")...), cli.ExitFailure, "already exists")
		bad := userArgs(path, "bo", "ReadOnly")
		bad[len(bad)-3] = strings.Repeat("p", 73) // the password
		wantOneLineError(t, app(t, nil, bad...), cli.ExitUsage, "72 bytes")
		if _, ok := storedUser(t, stored, "bo"); ok {
			t.Error("a refused create-user wrote bo")
		}

		// A session of ed's, then the reset ends it.
		data := apptest.OpenBackend(t, stored.Config.Database)
		edID := ""
		svc, err := security.NewService(data.AccountModels(), data.Accounts(), data.Audit(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if rec, err := svc.UserByName(context.Background(), "ed"); err == nil {
			edID = rec.ID
		} else {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte("ed's token"))
		token := hex.EncodeToString(sum[:])
		if err := data.Accounts().CreateSession(context.Background(), auth.Session{TokenHash: token, UserID: edID,
			AuthTag: "tag", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		wantOneLineError(t, app(t, nil, "--config", path, "reset-password", "--username", "nobody", "--password", "x"),
			cli.ExitFailure, `no user is named "nobody"`)
		wantOneLineError(t, app(t, nil, "--config", path, "reset-password", "--password", "x"), cli.ExitUsage, "--username")
		wantOneLineError(t, app(t, nil, "--config", path, "reset-password", "--username", "ed"), cli.ExitUsage, "--password")
		wantOneLineError(t, app(t, nil, "--config", path, "reset-password", "--username", "ed", "--password", ""),
			cli.ExitUsage, "required")
		r = app(t, env, "--config", path, "reset-password", "--username", "ed", "--password", "new-ed")
		if r.code != 0 || !strings.Contains(r.stdout, "sessions have ended") {
			t.Fatalf("reset-password:\n%s", r)
		}
		u, _ = storedUser(t, stored, "ed")
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("new-ed")) != nil {
			t.Error("the reset did not store the new password's hash")
		}
		if _, _, err := data.Accounts().SessionUser(context.Background(), token, time.Now()); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("ed's session after the reset: %v, want gone", err)
		}
		// On a terminal the password is asked, hidden and twice.
		res, reads := invocation{args: []string{"--config", path, "reset-password", "--username", "ed"}, terminal: true,
			passwords: []string{"typed-pw", "typed-pw"}}.run(t)
		if res.code != 0 || reads != 2 || strings.Contains(res.stdout, "typed-pw") {
			t.Errorf("prompted reset (%d reads):\n%s", reads, res)
		}

		r = app(t, nil, "--config", path, "list-users")
		if r.code != 0 || r.stdout != "ed\tAdmin,ReadOnly\tactive\n" {
			t.Errorf("list-users:\n%s", r)
		}

		// Every write is in the audit log, by the command line's user.
		var actions []string
		err = data.Audit().Entries().Each(context.Background(), datamodel.Query{}, func(rec datamodel.Record) error {
			if rec.Values["username"] == "cli:operator" {
				actions = append(actions, rec.Values["action"].(string))
			}
			return nil
		})
		if err != nil || !slices.Equal(actions, []string{"create", "password"}) {
			t.Errorf("audit entries by cli:operator: %q (%v)", actions, err)
		}
	})
}

// TestExportImportRoles: export-roles writes every role with its
// permissions; import-roles creates, updates, and the second time changes
// nothing; a file naming an unknown permission, or malformed, is refused
// whole (1) and writes nothing; a role's rules are the form's.
func TestExportImportRoles(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		path, stored := securityDB(t, b)
		dir := t.TempDir()
		out := filepath.Join(dir, "roles.json")
		r := app(t, nil, "--config", path, "export-roles", out)
		if r.code != 0 {
			t.Fatalf("export-roles:\n%s", r)
		}
		body, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var f security.RolesFile
		if err := json.Unmarshal(body, &f); err != nil {
			t.Fatalf("export: %v\n%s", err, body)
		}
		if len(f.Roles) != 2 || f.Roles[0].Name != "Admin" || f.Roles[1].Name != "ReadOnly" ||
			!slices.Contains(f.Roles[0].Permissions, "can_reset_password:users") ||
			!slices.Equal(f.Roles[1].Permissions, []string{"can_list:albumview", "can_show:albumview", "menu_access:albumview",
				"can_list:songsview", "can_show:songsview", "menu_access:songsview"}) {
			t.Errorf("exported roles: %+v", f.Roles)
		}
		if r := app(t, nil, "--config", path, "export-roles", "-"); r.code != 0 || r.stdout != string(body) {
			t.Errorf("export-roles - differs from the file:\n%s", r)
		}

		write := func(name string, f security.RolesFile) string {
			p := filepath.Join(dir, name)
			var b strings.Builder
			if err := security.WriteRoles(&b, f); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		f.Roles = append(f.Roles, security.RoleEntry{Name: "Editor", Permissions: []string{"can_add:songsview", "can_list:songsview"}})
		f.Roles[1].Permissions = f.Roles[1].Permissions[:3] // ReadOnly: albums only
		in := write("in.json", f)
		r = app(t, nil, "--config", path, "import-roles", in)
		if r.code != 0 || r.stdout != "Imported 3 roles: 1 created, 1 updated, 1 unchanged.\n" {
			t.Fatalf("import-roles:\n%s", r)
		}
		r = app(t, nil, "--config", path, "import-roles", in)
		if r.code != 0 || r.stdout != "Imported 3 roles: 0 created, 0 updated, 3 unchanged.\n" {
			t.Errorf("import-roles again:\n%s", r)
		}
		again := filepath.Join(dir, "again.json")
		app(t, nil, "--config", path, "export-roles", again)
		var now security.RolesFile
		body, _ = os.ReadFile(again)
		_ = json.Unmarshal(body, &now)
		if len(now.Roles) != 3 || now.Roles[1].Name != "Editor" || !slices.Equal(now.Roles[1].Permissions, []string{"can_add:songsview", "can_list:songsview"}) ||
			len(now.Roles[2].Permissions) != 3 {
			t.Errorf("roles after the import: %+v", now.Roles)
		}

		// Refused files write nothing.
		before := string(body)
		for _, tt := range []struct {
			name, body, want string
		}{
			{"unknown permission", `{"format":"musicadmin-roles","version":1,"roles":[{"name":"New","permissions":[]},{"name":"Editor","permissions":["can_fly:songsview"]}]}`, `unknown permission "can_fly:songsview"`},
			{"name twice", `{"format":"musicadmin-roles","version":1,"roles":[{"name":"X","permissions":[]},{"name":"X","permissions":[]}]}`, "twice"},
			{"empty name", `{"format":"musicadmin-roles","version":1,"roles":[{"name":" ","permissions":[]}]}`, "required"},
			{"long name", `{"format":"musicadmin-roles","version":1,"roles":[{"name":"` + strings.Repeat("n", 65) + `","permissions":[]}]}`, "64"},
			{"not json", `{"roles": [`, "not a roles file"},
			{"another format", `{"format":"musicadmin-dump","version":1,"roles":[]}`, "not a roles file"},
			{"unknown key", `{"format":"musicadmin-roles","version":1,"roles":[],"users":[]}`, "not a roles file"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p := filepath.Join(dir, "bad.json")
				if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
					t.Fatal(err)
				}
				wantOneLineError(t, app(t, nil, "--config", path, "import-roles", p), cli.ExitFailure, tt.want)
			})
		}
		app(t, nil, "--config", path, "export-roles", again)
		if body, _ := os.ReadFile(again); string(body) != before {
			t.Errorf("a refused import wrote:\n%s", body)
		}
		wantOneLineError(t, app(t, nil, "--config", path, "import-roles"), cli.ExitUsage, "FILE")
		wantOneLineError(t, app(t, nil, "--config", path, "export-roles"), cli.ExitUsage, "FILE")
		wantOneLineError(t, app(t, nil, "--config", path, "import-roles", filepath.Join(dir, "missing.json")), cli.ExitFailure, "missing.json")

		// The Admin role holds every permission whatever a file says.
		only := write("admin.json", security.RolesFile{Format: security.RolesFormat, Version: 1,
			Roles: []security.RoleEntry{{Name: "Admin", Permissions: []string{"can_list:songsview"}}}})
		if r := app(t, nil, "--config", path, "import-roles", only); r.code != 0 || !strings.Contains(r.stdout, "1 unchanged") {
			t.Errorf("import of a shrunk Admin:\n%s", r)
		}
		if _, ok := storedUser(t, stored, "nobody"); ok {
			t.Error("a user appeared")
		}
	})
}
