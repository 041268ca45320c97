package cli_test

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"musicadmin/internal/accounts"
	"musicadmin/internal/apptest"
	"musicadmin/internal/cli"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/security"
)

// TestReset2FA: reset-2fa removes a user's second factor without a code,
// audited under the command line's actor; a user without one, or no such
// user, is 1; a missing --username is 2.
func TestReset2FA(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		path, stored := securityDB(t, b)
		if r := app(t, nil, userArgs(path, "ed", "Admin")...); r.code != 0 {
			t.Fatalf("create-user:\n%s", r)
		}
		data := apptest.OpenBackend(t, stored.Config.Database)
		svc, err := security.NewService(data.AccountModels(), data.Accounts(), data.Audit(), nil)
		if err != nil {
			t.Fatal(err)
		}
		svc.TOTP.Configure(apptest.SecretKey, nil)
		ctx := context.Background()
		ed, err := svc.UserByName(ctx, "ed")
		if err != nil {
			t.Fatal(err)
		}
		key, err := svc.TOTP.Start(ctx, ed.ID, "ed", "Music Admin")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		code, err := totp.GenerateCode(key.Secret(), now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.TOTP.Confirm(ctx, ed.ID, "ed", code, now); err != nil {
			t.Fatal(err)
		}

		r := app(t, map[string]string{"USER": "operator"}, "--config", path, "reset-2fa", "--username", "ed")
		if r.code != 0 {
			t.Fatalf("reset-2fa:\n%s", r)
		}
		if on, err := svc.TOTP.Enrolled(ctx, ed.ID); err != nil || on {
			t.Errorf("after reset-2fa: enrolled %v, %v", on, err)
		}
		log := data.Audit().Entries()
		s := log.Schema()
		page, err := log.List(ctx, datamodel.Query{Filters: []datamodel.Filter{
			{Field: s.Field("action"), Op: datamodel.OpEq, Value: accounts.ActionReset2FA}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 1 || page.Records[0].Values["username"] != "cli:operator" ||
			page.Records[0].Values["record_label"] != "ed" || page.Records[0].Values["record_id"] != ed.ID {
			t.Errorf("the reset's entries: %+v", page.Records)
		}

		wantOneLineError(t, app(t, nil, "--config", path, "reset-2fa", "--username", "ed"), cli.ExitFailure,
			`user "ed" has no second factor`)
		wantOneLineError(t, app(t, nil, "--config", path, "reset-2fa", "--username", "nobody"), cli.ExitFailure,
			`no user is named "nobody"`)
		wantOneLineError(t, app(t, nil, "--config", path, "reset-2fa"), cli.ExitUsage, "--username")
	})
}

// TestLinkSSO: link-sso gives an existing user a subject of the provider,
// once; another user's subject is 1, a missing flag 2.
func TestLinkSSO(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		path, stored := securityDB(t, b)
		for _, name := range []string{"ed", "flo"} {
			if r := app(t, nil, userArgs(path, name, "Admin")...); r.code != 0 {
				t.Fatalf("create-user %s:\n%s", name, r)
			}
		}
		link := func(user, subject string) result {
			return app(t, nil, "--config", path, "link-sso", "--username", user, "--subject", subject, "--issuer", "https://idp.example")
		}
		if r := link("ed", "sub-ed"); r.code != 0 {
			t.Fatalf("link-sso:\n%s", r)
		}
		if r := link("ed", "sub-ed"); r.code != 0 {
			t.Errorf("link-sso again:\n%s", r)
		}
		if r := link("flo", "sub-ed"); r.code != 1 {
			t.Errorf("link-sso of another user's subject:\n%s", r)
		}
		if r := link("nobody", "sub-x"); r.code != 1 {
			t.Errorf("link-sso of no such user:\n%s", r)
		}
		if r := app(t, nil, "--config", path, "link-sso", "--username", "ed"); r.code != 2 {
			t.Errorf("link-sso without --subject:\n%s", r)
		}
		data := apptest.OpenBackend(t, stored.Config.Database)
		svc, err := security.NewService(data.AccountModels(), data.Accounts(), data.Audit(), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		out, err := svc.Identities.SignIn(ctx, accounts.ExternalSignIn{Issuer: "https://idp.example", Subject: "sub-ed"}, time.Now())
		if err != nil || out.Username != "ed" {
			t.Errorf("sign-in of the linked subject: %+v, %v", out, err)
		}
	})
}
