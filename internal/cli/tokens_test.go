package cli_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/accounts"
	"musicadmin/internal/apptest"
	"musicadmin/internal/cli"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/security"
)

// TestCreateToken: create-token prints the token alone on stdout, which
// then authenticates its user, and says on stderr that it is shown once;
// --name and --expires (days, a duration, a date) are kept; an unknown
// user is 1, a bad --expires or a missing --username 2, nothing made.
func TestCreateToken(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		path, stored := securityDB(t, b)
		if r := app(t, nil, userArgs(path, "ed", "ReadOnly")...); r.code != 0 {
			t.Fatalf("create-user:\n%s", r)
		}
		data := apptest.OpenBackend(t, stored.Config.Database)
		svc, err := security.NewService(data.AccountModels(), data.Accounts(), data.Audit(), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		ed, err := svc.UserByName(ctx, "ed")
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"USER": "operator"}
		r := app(t, env, "--config", path, "create-token", "--username", "ed")
		plain := strings.TrimSuffix(r.stdout, "\n")
		if r.code != 0 || !strings.HasPrefix(plain, accounts.TokenPrefix) || strings.Contains(plain, "\n") ||
			!strings.Contains(r.stderr, "shown this once") {
			t.Fatalf("create-token:\n%s", r)
		}
		if u, err := svc.Tokens.Authenticate(ctx, plain, time.Now()); err != nil || u.ID != ed.ID {
			t.Errorf("the token printed: %+v, %v; want ed", u, err)
		}

		year := time.Now().AddDate(1, 0, 0).UTC().Format(time.DateOnly)
		for _, c := range []struct{ name, expires, want string }{
			{"ci", "30d", time.Now().AddDate(0, 0, 30).UTC().Format(time.DateOnly)},
			{"deploy", "48h", time.Now().Add(48 * time.Hour).UTC().Format(time.DateOnly)},
			{"yearly", year, year + "T00:00:00Z"},
		} {
			r := app(t, nil, "--config", path, "create-token", "--username", " ed ", "--name", c.name, "--expires", c.expires)
			if r.code != 0 {
				t.Fatalf("create-token --expires %s:\n%s", c.expires, r)
			}
		}
		mine, err := svc.Tokens.Of(ctx, ed.ID)
		if err != nil || len(mine) != 4 {
			t.Fatalf("ed's tokens: %v, %v", mine, err)
		}
		got := map[string]string{}
		for _, rec := range mine {
			got[rec.Values[accounts.FieldName].(string)] = rec.Values[accounts.FieldExpiresAt].(string)
		}
		if got["cli"] != "" || !strings.HasPrefix(got["ci"], time.Now().AddDate(0, 0, 30).UTC().Format(time.DateOnly)) ||
			!strings.HasPrefix(got["deploy"], time.Now().Add(48*time.Hour).UTC().Format(time.DateOnly)) ||
			got["yearly"] != year+"T00:00:00Z" {
			t.Errorf("names and expiries: %q", got)
		}

		wantOneLineError(t, app(t, nil, "--config", path, "create-token", "--username", "nobody"), cli.ExitFailure,
			`no user is named "nobody"`)
		for _, bad := range []string{"soon", "-5h", "0d", "2001-01-01", "31/01/2027"} {
			wantOneLineError(t, app(t, nil, "--config", path, "create-token", "--username", "ed", "--expires", bad),
				cli.ExitUsage, "--expires")
		}
		wantOneLineError(t, app(t, nil, "--config", path, "create-token", "--username", "ed", "--name", " "),
			cli.ExitUsage, "--name")
		wantOneLineError(t, app(t, nil, "--config", path, "create-token"), cli.ExitUsage, "--username")
		if mine, _ := svc.Tokens.Of(ctx, ed.ID); len(mine) != 4 {
			t.Errorf("refused create-tokens made %d tokens", len(mine)-4)
		}

		// The token made is in the audit log, by the command line's user.
		n := 0
		err = data.Audit().Entries().Each(ctx, datamodel.Query{}, func(rec datamodel.Record) error {
			if rec.Values["username"] == "cli:operator" && rec.Values["view_name"] == accounts.TokensView {
				n++
				if strings.Contains(fmt.Sprint(rec.Values["changes"]), accounts.FieldDigest) {
					t.Errorf("an entry names the digest: %v", rec.Values)
				}
			}
			return nil
		})
		if err != nil || n != 1 {
			t.Errorf("entries of tokens by cli:operator: %d (%v), want 1", n, err)
		}
	})
}
