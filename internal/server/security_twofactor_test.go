package server_test

// Tests 70 (the second factor is a real second factor) and 71 (the
// sign-in pages leak nothing) of shared/SECURITY-TESTS.md.

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"musicadmin/internal/access"
	"musicadmin/internal/accounts"
	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/server"
	"musicadmin/internal/transfer"
)

// totpCode is the code of secret at at, as an authenticator app shows it.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// step is one TOTP step (30 s): a code of now±step is in the window.
const step = 30 * time.Second

// enroll turns the second factor on for c's user at /users/2fa, confirmed
// by the code of at, and returns the secret shown and the recovery codes.
func enroll(t *testing.T, c *apptest.Client, at time.Time) (string, []string) {
	t.Helper()
	page := c.Get("/users/2fa")
	secret := page.InputValue("secret")
	if page.Status != http.StatusOK || secret == "" {
		t.Fatalf("GET /users/2fa: %d, secret %q", page.Status, secret)
	}
	if src, _ := page.Doc.Find("img.qr").Attr("src"); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Fatalf("the QR code is not a data: PNG: %.60q", src)
	}
	r := c.Post("/users/2fa", url.Values{"code": {totpCode(t, secret, at)}, "csrf_token": {apptest.CSRFOf(page)}})
	codes := r.Texts(".recovery-codes code")
	if r.Status != http.StatusOK || len(codes) != accounts.RecoveryCodes {
		t.Fatalf("confirm the enrollment: %d, %d recovery codes", r.Status, len(codes))
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("the recovery codes' page: Cache-Control %q", cc)
	}
	return secret, codes
}

// password logs c in with the admin's password and expects the second
// step: a redirect to /login/2fa.
func password(t *testing.T, c *apptest.Client, username, pw string) {
	t.Helper()
	r := c.Submit("/login/", url.Values{"username": {username}, "password": {pw}, "next": {"/albumview/list/"}})
	if r.Status != http.StatusFound || r.Location() != "/login/2fa" {
		t.Fatalf("password of %s: %d to %q, want the second step", username, r.Status, r.Location())
	}
}

// code posts code at /login/2fa.
func code(c *apptest.Client, code string) *apptest.Response {
	return c.Submit("/login/2fa", url.Values{"code": {code}})
}

// auditCount counts the audit log's entries of action.
func auditCount(t *testing.T, a *apptest.App, action string) int64 {
	t.Helper()
	log := a.Data.Audit().Entries()
	n, err := log.Count(context.Background(), []datamodel.Filter{{Field: log.Schema().Field("action"), Op: datamodel.OpEq, Value: action}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// stillOwed fails t unless every page but /login/2fa and /logout/ sends c
// to /login/2fa: no page answers before the code.
func stillOwed(t *testing.T, c *apptest.Client, when string) {
	t.Helper()
	for _, path := range []string{"/", "/albumview/list/", "/songsview/list/", "/users/list/", "/users/password", "/users/tokens",
		"/users/2fa", "/auditlog/list/", "/api/docs/", "/login/"} {
		if r := c.Get(path); r.Status != http.StatusFound || r.Location() != "/login/2fa" {
			t.Errorf("%s: GET %s: %d to %q, want /login/2fa", when, path, r.Status, r.Location())
		}
	}
	token := c.CSRF("/login/2fa")
	if r := c.Post("/albumview/add", url.Values{"name": {"Sneaked In"}, "csrf_token": {token}}); r.Status != http.StatusFound ||
		r.Location() != "/login/2fa" {
		t.Errorf("%s: POST /albumview/add: %d to %q, want /login/2fa", when, r.Status, r.Location())
	}
}

// TestTwoFactor (test 70): a user enrolls on their own page (a QR code and
// the key, confirmed by a code; 10 recovery codes shown once, stored
// hashed, the secret sealed); then their login asks a code after the
// password, and no page answers before it; a wrong code or a reused one
// is refused; a recovery code works once; each step is audited.
func TestTwoFactor(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		// The server checks codes at the test's now: no code crosses a
		// step however slow the run.
		now := time.Now()
		a := apptest.NewApp(t, b, apptest.Strict(), apptest.TOTPClock(func() time.Time { return now }))
		admin := a.LoggedIn()
		if r := admin.Submit("/users/2fa", url.Values{"code": {"000000"}}); r.Status != http.StatusUnprocessableEntity &&
			totpCode(t, r.InputValue("secret"), now) != "000000" {
			t.Errorf("a wrong first code: %d, want 422", r.Status)
		}
		// The first code is the one of the step before: the next steps'
		// are still to come.
		secret, codes := enroll(t, admin, now.Add(-step))
		if n := auditCount(t, a, accounts.ActionEnroll2FA); n != 1 {
			t.Errorf("%d enrollment entries, want 1", n)
		}
		if r := admin.Get("/users/2fa"); r.Status != http.StatusOK || r.InputValue("secret") != "" ||
			!strings.Contains(r.Body, "/users/2fa/disable") {
			t.Errorf("the own page once enrolled: %d, shows the key again or no disable form", r.Status)
		}

		// Behind the app's back: the secret sealed, the codes hashed.
		rows := a.SecondFactors()
		if len(rows) != 1 || rows[0].EnrolledAt == "" {
			t.Fatalf("stored second factors: %+v", rows)
		}
		if strings.Contains(rows[0].Secret, secret) || !strings.HasPrefix(rows[0].Secret, "v1:") {
			t.Errorf("the secret is stored in clear or unsealed: %q", rows[0].Secret)
		}
		for _, c := range codes {
			if strings.Contains(rows[0].Recovery, c) || strings.Contains(rows[0].Recovery, strings.ReplaceAll(c, "-", "")) {
				t.Errorf("recovery code %s stored in clear", c)
			}
		}
		if n := len(strings.Fields(rows[0].Recovery)); n != accounts.RecoveryCodes {
			t.Errorf("%d recovery hashes, want %d", n, accounts.RecoveryCodes)
		}

		// The login asks a code; nothing answers before it.
		c := a.Client()
		password(t, c, apptest.AdminUser, apptest.AdminPassword)
		stillOwed(t, c, "after the password")
		if r := c.Get("/login/2fa"); r.Status != http.StatusOK || r.Doc.Find("input[name=code]").Length() != 1 {
			t.Fatalf("GET /login/2fa: %d, no code input", r.Status)
		}
		logins := auditCount(t, a, "login")
		if r := code(c, "123456x"); r.Status != http.StatusOK || r.Text(".alert") == "" {
			t.Errorf("a wrong code: %d, alert %q", r.Status, r.Text(".alert"))
		}
		stillOwed(t, c, "after a wrong code")
		if r := code(c, totpCode(t, secret, now.Add(-step))); r.Status != http.StatusOK || r.Text(".alert") == "" {
			t.Errorf("the enrollment's code again: %d, want refused", r.Status)
		}
		if r := code(c, totpCode(t, secret, now.Add(-4*step))); r.Status != http.StatusOK || r.Text(".alert") == "" {
			t.Errorf("a code four steps old: %d, want refused", r.Status)
		}
		good := totpCode(t, secret, now)
		if r := code(c, good); r.Status != http.StatusFound || r.Location() != "/albumview/list/" {
			t.Fatalf("the right code: %d to %q, want the page asked for", r.Status, r.Location())
		}
		if !c.IsLoggedIn() || auditCount(t, a, "login") != logins+1 || auditCount(t, a, "login_failed") < 3 {
			t.Errorf("after the code: logged in %v, logins %d (was %d), failures %d", c.IsLoggedIn(),
				auditCount(t, a, "login"), logins, auditCount(t, a, "login_failed"))
		}
		if r := c.Get("/login/2fa"); r.Status != http.StatusFound || r.Location() != "/" {
			t.Errorf("GET /login/2fa once logged in: %d to %q", r.Status, r.Location())
		}

		// The same code again, in another login: refused.
		c2 := a.Client()
		password(t, c2, apptest.AdminUser, apptest.AdminPassword)
		if r := code(c2, good); r.Status != http.StatusOK || c2.IsLoggedIn() {
			t.Errorf("a reused code: %d, logged in %v", r.Status, c2.IsLoggedIn())
		}
		if r := code(c2, totpCode(t, secret, now.Add(step))); r.Status != http.StatusFound {
			t.Errorf("the next step's code: %d, want accepted", r.Status)
		}

		// A recovery code works once, typed as it likes.
		c3 := a.Client()
		password(t, c3, apptest.AdminUser, apptest.AdminPassword)
		if r := code(c3, " "+strings.ToUpper(codes[4])+" "); r.Status != http.StatusFound {
			t.Fatalf("a recovery code: %d", r.Status)
		}
		if r := c3.Get("/"); r.Status != http.StatusOK || !strings.Contains(r.Text(".flash"), "9 recovery codes are left") {
			t.Errorf("after a recovery code: %d, flash %q", r.Status, r.Text(".flash"))
		}
		c4 := a.Client()
		password(t, c4, apptest.AdminUser, apptest.AdminPassword)
		if r := code(c4, codes[4]); r.Status != http.StatusOK || c4.IsLoggedIn() {
			t.Errorf("a recovery code used before: %d, logged in %v", r.Status, c4.IsLoggedIn())
		}
		if n := auditCount(t, a, accounts.ActionRecovery2FA); n != 1 {
			t.Errorf("%d entries of a recovery code's use, want 1", n)
		}
		if n := len(strings.Fields(a.SecondFactors()[0].Recovery)); n != accounts.RecoveryCodes-1 {
			t.Errorf("%d recovery hashes after one was used, want %d", n, accounts.RecoveryCodes-1)
		}

		// Logging out in the second step ends it.
		c5 := a.Client()
		password(t, c5, apptest.AdminUser, apptest.AdminPassword)
		c5.Get("/logout/")
		if r := c5.Get("/"); r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login/?") {
			t.Errorf("after a logout in the second step: GET / %d to %q", r.Status, r.Location())
		}
		if r := c5.Get("/login/2fa"); r.Status != http.StatusFound || r.Location() != "/login/" {
			t.Errorf("GET /login/2fa without a password: %d to %q", r.Status, r.Location())
		}
	})
}

// TestTwoFactorDisable (test 70): turning the second factor off needs a
// current code: none, a wrong one or a used one changes nothing; a current
// one turns it off, audited, and the login asks for no code after.
func TestTwoFactorDisable(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		// The server checks codes at the test's now: no code crosses a
		// step however slow the run.
		now := time.Now()
		a := apptest.NewApp(t, b, apptest.Strict(), apptest.TOTPClock(func() time.Time { return now }))
		admin := a.LoggedIn()
		secret, _ := enroll(t, admin, now.Add(-step))
		for _, c := range []string{"", "12345", totpCode(t, secret, now.Add(-step)), "aaaaa-bbbbb"} {
			token := admin.CSRF("/users/2fa")
			if r := admin.Post("/users/2fa/disable", url.Values{"code": {c}, "csrf_token": {token}}); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("disable with %q: %d, want 422", c, r.Status)
			}
		}
		if len(a.SecondFactors()) != 1 || auditCount(t, a, accounts.ActionDisable2FA) != 0 {
			t.Fatal("a refused disable changed something")
		}
		token := admin.CSRF("/users/2fa")
		if r := admin.Post("/users/2fa/disable", url.Values{"code": {totpCode(t, secret, now)}, "csrf_token": {token}}); r.Status != http.StatusFound {
			t.Fatalf("disable with a current code: %d", r.Status)
		}
		if len(a.SecondFactors()) != 0 || auditCount(t, a, accounts.ActionDisable2FA) != 1 {
			t.Errorf("after the disable: %d stored, %d entries", len(a.SecondFactors()), auditCount(t, a, accounts.ActionDisable2FA))
		}
		c := a.Client()
		c.Login(apptest.AdminUser, apptest.AdminPassword)
		if !c.IsLoggedIn() {
			t.Error("the password alone does not log in after the disable")
		}
	})
}

// TestTwoFactorThrottle (test 70): wrong codes count as failed logins, in
// the database: spread over two instances they reach the limit, and then
// even the right code is refused with 429 and Retry-After.
func TestTwoFactorThrottle(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		// The server checks codes at the test's now: no code crosses a
		// step however slow the run.
		now := time.Now()
		a := apptest.NewApp(t, b, apptest.Strict(), apptest.TOTPClock(func() time.Time { return now }))
		secret, _ := enroll(t, a.LoggedIn(), now.Add(-step))
		const limit = 5
		one := a.Instance(t, server.Options{LoginLimit: limit, LoginWindow: time.Hour, TOTPClock: func() time.Time { return now }}, nil)
		two := a.Instance(t, server.Options{LoginLimit: limit, LoginWindow: time.Hour, TOTPClock: func() time.Time { return now }}, nil)
		c1, c2 := one.Client(), two.Client()
		password(t, c1, apptest.AdminUser, apptest.AdminPassword)
		password(t, c2, apptest.AdminUser, apptest.AdminPassword)
		for i := range limit {
			c := []*apptest.Client{c1, c2}[i%2]
			if r := code(c, "00000"+strconv.Itoa(i%10)+"x"); r.Status != http.StatusOK {
				t.Fatalf("wrong code %d: %d", i+1, r.Status)
			}
		}
		r := code(c1, totpCode(t, secret, now))
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Fatalf("a code after %d wrong ones: %d, Retry-After %q; want 429", limit, r.Status, r.Header.Get("Retry-After"))
		}
		if c1.IsLoggedIn() {
			t.Error("logged in by a throttled code")
		}
	})
}

// TestTwoFactorRequired (test 70): a role that requires a second factor
// sends its holder from the password to the enrollment, and no other URL
// answers until they have enrolled; a user of another role is not asked.
func TestTwoFactorRequired(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		now := time.Now()
		a := apptest.NewApp(t, b, apptest.Strict(), apptest.TOTPClock(func() time.Time { return now }), apptest.Configure(func(c *config.Config) {
			c.Auth.TOTP.RequiredForRoles = []string{"Admin"}
		}))
		reader := loggedInAs(t, a, "reader", "ReadOnly")
		if !reader.IsLoggedIn() {
			t.Error("a ReadOnly user is asked a second factor no setting requires")
		}
		c := a.Client()
		password(t, c, apptest.AdminUser, apptest.AdminPassword)
		stillOwed(t, c, "before the enrollment")
		page := c.Get("/login/2fa")
		secret := page.InputValue("secret")
		if page.Status != http.StatusOK || secret == "" || page.Doc.Find("img.qr").Length() != 1 {
			t.Fatalf("the enrollment required: %d, key %q", page.Status, secret)
		}
		if r := code(c, "000000x"); r.Status != http.StatusOK || r.InputValue("secret") != secret {
			t.Errorf("a wrong first code: %d, the key shown %q, want the same", r.Status, r.InputValue("secret"))
		}
		stillOwed(t, c, "after a wrong first code")
		r := code(c, totpCode(t, secret, now))
		if codes := r.Texts(".recovery-codes code"); r.Status != http.StatusOK || len(codes) != accounts.RecoveryCodes {
			t.Fatalf("the first code: %d, %d recovery codes", r.Status, len(codes))
		}
		if !c.IsLoggedIn() || auditCount(t, a, accounts.ActionEnroll2FA) != 1 {
			t.Error("not logged in, or not audited, after the enrollment required")
		}
		// A second factor the role requires cannot be turned off.
		token := c.CSRF("/users/2fa")
		if r := c.Post("/users/2fa/disable", url.Values{"code": {totpCode(t, secret, now.Add(step))}, "csrf_token": {token}}); r.Status != http.StatusUnprocessableEntity ||
			len(a.SecondFactors()) != 1 {
			t.Errorf("disable of a required second factor: %d, %d stored", r.Status, len(a.SecondFactors()))
		}
		// The next login asks a code.
		c2 := a.Client()
		password(t, c2, apptest.AdminUser, apptest.AdminPassword)
		if r := c2.Get("/login/2fa"); r.InputValue("secret") != "" || r.Doc.Find("input[name=code]").Length() != 1 {
			t.Error("the login after the enrollment does not ask a code, or shows the key")
		}
	})
}

// TestSignInPagesNoStore (test 71): the sign-in pages answer
// Cache-Control: no-store, their error answers too: a failed POST, a 403
// of a missing CSRF token, a 422 and a 429 of the throttle.
func TestSignInPagesNoStore(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		now := time.Now()
		a := apptest.NewApp(t, b, apptest.TOTPClock(func() time.Time { return now }))
		admin := a.LoggedIn()
		enroll(t, admin, now.Add(-step))
		pending := a.Client()
		password(t, pending, apptest.AdminUser, apptest.AdminPassword)
		// A user without a second factor, for /users/2fa's enrollment.
		pat := loggedInAs(t, a, "pat", access.ReadOnlyRole)
		check := func(what string, r *apptest.Response, status int) {
			t.Helper()
			if r.Status != status || !strings.Contains(r.Header.Get("Cache-Control"), "no-store") {
				t.Errorf("%s: %d (want %d), Cache-Control %q", what, r.Status, status, r.Header.Get("Cache-Control"))
			}
		}
		for _, p := range []struct {
			c    *apptest.Client
			path string
		}{{a.Client(), "/login/"}, {pending, "/login/2fa"}, {admin, "/users/password"}, {admin, "/users/2fa"}} {
			check("GET "+p.path, p.c.Get(p.path), http.StatusOK)
			check("POST "+p.path+" without a CSRF token", p.c.Post(p.path, url.Values{"code": {"123456"}}), http.StatusForbidden)
		}
		check("a failed login", a.Client().Submit("/login/", url.Values{"username": {"nosuch"}, "password": {"x"}}), http.StatusOK)
		check("a wrong code at /login/2fa", code(pending, "000000x"), http.StatusOK)
		check("a wrong current password", pat.Submit("/users/password", url.Values{"current_password": {"guess"},
			"password": {"new-pat-pw"}, "password_confirm": {"new-pat-pw"}}), http.StatusUnprocessableEntity)
		check("a wrong code confirming an enrollment", pat.Submit("/users/2fa", url.Values{"code": {"000000"}}),
			http.StatusUnprocessableEntity)
		check("a wrong code disabling the second factor", admin.Submit("/users/2fa/disable", url.Values{"code": {"000000"}}),
			http.StatusUnprocessableEntity)
		// The 429s, from an instance that allows one failure per address.
		one := a.Instance(t, server.Options{LoginLimit: 1, LoginWindow: time.Hour, TOTPClock: func() time.Time { return now }}, nil)
		login := one.Client()
		login.Submit("/login/", url.Values{"username": {"nosuch"}, "password": {"x"}})
		check("a throttled login", login.Submit("/login/", url.Values{"username": {"nosuch"}, "password": {"x"}}),
			http.StatusTooManyRequests)
		step2 := one.Client()
		step2.SetCookies(pending.Cookies())
		check("a throttled code at /login/2fa", code(step2, "000000x"), http.StatusTooManyRequests)
		pat2 := one.Client()
		pat2.SetCookies(pat.Cookies())
		check("a throttled password change", pat2.Submit("/users/password", url.Values{"current_password": {"guess"},
			"password": {"new-pat-pw"}, "password_confirm": {"new-pat-pw"}}), http.StatusTooManyRequests)
	})
}

// TestTwoFactorSecretsNowhere (test 71): the TOTP secret and the recovery
// codes are in no page, list, search, filter, sort, export, API answer,
// dump in clear, or log line.
func TestTwoFactorSecretsNowhere(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		now := time.Now()
		a := apptest.NewApp(t, b, apptest.TOTPClock(func() time.Time { return now }))
		admin := a.LoggedIn()
		secret, codes := enroll(t, admin, now.Add(-step))
		stored := a.SecondFactors()[0]
		leaks := append([]string{secret, stored.Secret, strings.TrimPrefix(stored.Secret, "v1:")}, codes...)
		leaks = append(leaks, strings.Fields(stored.Recovery)...)
		check := func(where, body string) {
			t.Helper()
			for _, l := range leaks {
				if strings.Contains(body, l) {
					t.Errorf("%s holds a secret of the second factor (%.12s…)", where, l)
				}
			}
		}
		// A search by the secret finds no one (its text is shown back in
		// the search box: no leak); a filter by it is no oracle: the
		// stored value and another one list the same.
		if r := admin.Get("/users/list/?q=" + url.QueryEscape(secret)); r.Status != http.StatusOK || len(r.Rows()) != 0 {
			t.Errorf("a search by the secret: %d, %d rows", r.Status, len(r.Rows()))
		}
		for _, param := range []string{"secret", "secret__eq", "secret__contains", "recovery__contains"} {
			hit := admin.Get("/users/list/?" + param + "=" + url.QueryEscape(stored.Secret[:12]))
			miss := admin.Get("/users/list/?" + param + "=" + url.QueryEscape("v1:nothing"))
			if hit.Status >= 500 || hit.Status != miss.Status || len(hit.Rows()) != len(miss.Rows()) {
				t.Errorf("filter %s: %d with %d rows for the stored value, %d with %d for another", param, hit.Status,
					len(hit.Rows()), miss.Status, len(miss.Rows()))
			}
		}
		for _, path := range []string{"/users/list/", "/users/list/?sort=secret", "/users/list/?sort=-recovery",
			"/users/export.csv", "/users/2fa", "/auditlog/list/",
			"/auditlog/list/?action=" + accounts.ActionEnroll2FA} {
			r := admin.Get(path)
			if r.Status >= 500 {
				t.Errorf("GET %s: %d", path, r.Status)
			}
			check("GET "+path, r.Body)
		}
		api := a.API(a.APIToken(t, apptest.AdminUser))
		for _, path := range []string{"/api/v1/users/", "/api/v1/users/_info", "/api/v1/users/?secret=x"} {
			r := api.Do(t, http.MethodGet, path, nil)
			if r.Status >= 500 {
				t.Errorf("GET %s: %d", path, r.Status)
			}
			check("API "+path, r.Body)
		}
		var dump bytes.Buffer
		if _, err := transfer.Dump(context.Background(), a.Data, &dump, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(dump.String(), stored.Secret) {
			t.Error("the dump does not carry the second factor as stored (sealed)")
		}
		for _, l := range append([]string{secret}, codes...) {
			if strings.Contains(dump.String(), l) {
				t.Errorf("the dump holds a secret in clear (%.12s…)", l)
			}
		}
		// A login with a code, a wrong one, a recovery code: the log
		// names none of them.
		c := a.Client()
		password(t, c, apptest.AdminUser, apptest.AdminPassword)
		code(c, "999999")
		code(c, codes[0])
		check("the server log", a.Log.String())
	})
}
