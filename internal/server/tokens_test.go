package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/access"
	"musicadmin/internal/accounts"
	"musicadmin/internal/apptest"
	"musicadmin/internal/security"
)

// TestOwnTokens: every logged-in user keeps their own API tokens at
// /users/tokens: a token made is shown once, on the page the post answers
// (no cache), and then authenticates its user; the list shows its name and
// times, never the token; a user revokes their own token, not another's
// (404); a post without the CSRF token is 403; the writes are audited
// without the digest.
func TestOwnTokens(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		admin := a.LoggedIn()
		reader := loggedInAs(t, a, "reader", access.ReadOnlyRole)
		readerID := userID(t, admin, "reader")
		svc, err := security.NewService(a.Data.AccountModels(), a.Data.Accounts(), a.Data.Audit(), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()

		if href, ok := reader.Get("/").Doc.Find(`header a[href="/users/tokens"]`).Attr("href"); !ok || href == "" {
			t.Error("the layout has no link to the tokens page")
		}
		page := reader.Get("/users/tokens")
		page.ExpectStatus(t, "tokens page", http.StatusOK)
		if got := page.Rows(); len(got) != 0 {
			t.Errorf("a new user's tokens: %q", got)
		}

		// Made: shown once, in a read-only input, on a page no cache keeps.
		r := reader.Submit("/users/tokens", url.Values{"name": {"  laptop  "}, "expires": {""}})
		r.ExpectStatus(t, "create", http.StatusOK)
		plain := r.InputValue("new-token")
		if !strings.HasPrefix(plain, accounts.TokenPrefix) || !strings.Contains(r.Body, "not shown again") ||
			r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("the page after create: token %q, Cache-Control %q", plain, r.Header.Get("Cache-Control"))
		}
		if _, ro := r.Doc.Find("input#f-new-token").Attr("readonly"); !ro {
			t.Error("the new token's input is not read-only")
		}
		if got := r.Flashes(); len(got) != 0 {
			t.Errorf("flashes after create: %q", got)
		}
		if u, err := svc.Tokens.Authenticate(ctx, plain, time.Now()); err != nil || u.ID != readerID {
			t.Errorf("the token shown: %+v, %v; want reader", u, err)
		}
		page = reader.Get("/users/tokens")
		rows := page.Rows()
		// Used once, by the check above: in the minute it was made, or
		// the next one when a minute turned in between.
		if len(rows) != 1 || rows[0][0] != "laptop" || rows[0][2] != "Never" || !sameOrNextMinute(rows[0][1], rows[0][3]) ||
			!strings.HasSuffix(rows[0][1], " UTC") {
			t.Errorf("the list: %q", rows)
		}
		if strings.Contains(page.Body, plain) || strings.Contains(page.Body, plain[len(accounts.TokenPrefix):]) ||
			page.Doc.Find("input#f-new-token").Length() != 0 {
			t.Error("the list shows the token again")
		}

		// Refused: 422 beside the field, nothing made.
		for _, c := range []struct {
			form  url.Values
			field string
		}{
			{url.Values{"name": {" "}}, "name"},
			{url.Values{"name": {strings.Repeat("n", 101)}}, "name"},
			{url.Values{"name": {"x"}, "expires": {"2001-01-01"}}, "expires"},
			{url.Values{"name": {"x"}, "expires": {"31/01/2027"}}, "expires"},
		} {
			r := reader.Submit("/users/tokens", c.form)
			r.ExpectStatus(t, "refused create", http.StatusUnprocessableEntity)
			if r.FieldError(c.field) == "" || r.Doc.Find("input#f-new-token").Length() != 0 {
				t.Errorf("%v: no message beside %s", c.form, c.field)
			}
		}
		next := time.Now().AddDate(0, 1, 0).UTC().Format(time.DateOnly)
		reader.Submit("/users/tokens", url.Values{"name": {"ci"}, "expires": {next}}).ExpectStatus(t, "create ci", http.StatusOK)
		if mine, _ := svc.Tokens.Of(ctx, readerID); len(mine) != 2 || mine[0].Values[accounts.FieldExpiresAt] != next+"T00:00:00Z" {
			t.Errorf("reader's tokens: %v", mine)
		}

		// Another's token: not listed, not revoked (404).
		adminToken := admin.Submit("/users/tokens", url.Values{"name": {"admin's"}})
		adminToken.ExpectStatus(t, "admin's create", http.StatusOK)
		revokeOf := func(c *apptest.Client, name string) string {
			t.Helper()
			action, _ := c.Get("/users/tokens").Doc.Find(`form[action$="/revoke"] button[aria-label="Revoke ` + name + `"]`).
				Closest("form").Attr("action")
			if action == "" {
				t.Fatalf("no revoke button of %q", name)
			}
			return action
		}
		adminRevoke := revokeOf(admin, "admin's")
		if got := reader.Get("/users/tokens").Rows(); len(got) != 2 {
			t.Errorf("reader sees %d tokens, want their 2", len(got))
		}
		csrf := reader.CSRF("/users/tokens")
		reader.Post(adminRevoke, url.Values{"csrf_token": {csrf}}).ExpectStatus(t, "revoke another's", http.StatusNotFound)
		if _, err := svc.Tokens.Authenticate(ctx, adminToken.InputValue("new-token"), time.Now()); err != nil {
			t.Errorf("admin's token after reader's attempt: %v", err)
		}

		// No CSRF token: 403, nothing written.
		mine := revokeOf(reader, "laptop")
		reader.Post(mine, url.Values{}).ExpectStatus(t, "revoke without csrf", http.StatusForbidden)
		reader.Post("/users/tokens", url.Values{"name": {"forged"}}).ExpectStatus(t, "create without csrf", http.StatusForbidden)
		if got := reader.Get("/users/tokens").Rows(); len(got) != 2 {
			t.Errorf("after forged posts: %q", got)
		}

		// Revoked: gone from the list, refused by the API.
		reader.Post(mine, url.Values{"csrf_token": {csrf}}).ExpectRedirect(t, "revoke", "/users/tokens")
		page = reader.Get("/users/tokens")
		if got := page.Rows(); len(got) != 1 || got[0][0] != "ci" {
			t.Errorf("after the revoke: %q", got)
		}
		if got := page.Flashes(); len(got) != 1 || !strings.Contains(got[0], "laptop") {
			t.Errorf("flash after the revoke: %q", got)
		}
		if _, err := svc.Tokens.Authenticate(ctx, plain, time.Now()); !errors.Is(err, accounts.ErrTokenInvalid) {
			t.Errorf("a revoked token: %v", err)
		}
		reader.Post(mine, url.Values{"csrf_token": {csrf}}).ExpectStatus(t, "revoke twice", http.StatusNotFound)

		// Audited by the user, in the tokens' view, with no digest.
		var made, revoked int
		for _, e := range entries(t, a) {
			if e.View != accounts.TokensView {
				continue
			}
			for _, c := range e.Changes {
				if c.Field == accounts.FieldDigest || len(c.New) == 64 || len(c.Old) == 64 {
					t.Errorf("an entry holds the digest: %+v", e)
				}
			}
			if e.Username == "reader" && e.Action == "create" {
				made++
			}
			if e.Username == "reader" && e.Action == "delete" && e.RecordLabel == "laptop" {
				revoked++
			}
		}
		if made != 2 || revoked != 1 {
			t.Errorf("reader's token entries: %d created, %d revoked; want 2, 1", made, revoked)
		}
	})
}

// sameOrNextMinute reports whether the token list's times made and used
// ("2026-12-07 21:36 UTC") are the same minute, or used the one after.
func sameOrNextMinute(made, used string) bool {
	const layout = "2006-01-02 15:04 MST"
	m, err1 := time.Parse(layout, made)
	u, err2 := time.Parse(layout, used)
	return err1 == nil && err2 == nil && (u.Equal(m) || u.Equal(m.Add(time.Minute)))
}
