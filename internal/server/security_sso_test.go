package server_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/accounts"
	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/oidctest"
	"musicadmin/internal/server"
)

// Single sign-on against a real OpenID provider in the process
// (internal/oidctest: zitadel/oidc's OP), through the provider's own
// login form, on every backend (SECURITY-TESTS 69).

var ssoUsers = []oidctest.User{
	{Subject: "sub-ada", Username: "ada", Password: "ada-sso-pw", Email: "ada@example.com", EmailVerified: true,
		GivenName: "Ada", FamilyName: "Lovelace", Groups: []string{"admins"}},
	{Subject: "sub-sam", Username: "sam", Password: "sam-sso-pw", Email: "sam@example.com", EmailVerified: true,
		GivenName: "Sam", FamilyName: "Cooke", Groups: []string{"staff"}},
	{Subject: "sub-eve", Username: "eve", Password: "eve-sso-pw", Email: "eve@evil-example.com", EmailVerified: true,
		GivenName: "Eve", FamilyName: "Evil", Groups: []string{"staff"}},
	{Subject: "sub-nob", Username: "nob", Password: "nob-sso-pw", Email: "nob@example.com", EmailVerified: true,
		GivenName: "No", FamilyName: "Body", Groups: []string{"visitors"}},
}

// ssoApp returns an app on b whose single sign-on is the provider's,
// configured as the contract's example and then by change.
func ssoApp(t *testing.T, b apptest.Backend, change func(*config.Config)) (*apptest.App, *oidctest.Provider) {
	t.Helper()
	p := oidctest.Start(t, ssoUsers...)
	a := apptest.NewApp(t, b, apptest.Strict(), apptest.Configure(func(cfg *config.Config) {
		o := &cfg.Auth.OIDC
		o.Issuer, o.ClientID, o.ClientSecret = p.Issuer, p.ClientID, p.ClientSecret
		o.RolesMapping = map[string][]string{"admins": {"Admin"}, "staff": {"ReadOnly"}}
		o.Registration = true
		if change != nil {
			change(cfg)
		}
	}))
	p.AllowRedirect(a.URL + "/login/oidc/callback")
	return a, p
}

// startSignOn begins a sign-on on c and returns the provider's
// authorization URL it was sent to.
func startSignOn(t *testing.T, c *apptest.Client, next string) string {
	t.Helper()
	r := c.Get("/login/oidc?next=" + url.QueryEscape(next))
	if r.Status != http.StatusFound {
		t.Fatalf("GET /login/oidc: %d, want a redirect to the provider", r.Status)
	}
	return r.Location()
}

// providerLogin signs in at the provider's login form and returns the
// app's callback path with its query, unfollowed.
func providerLogin(t *testing.T, p *oidctest.Provider, authorize, username, password string) string {
	t.Helper()
	cb, err := p.SignIn(nil, authorize, username, password)
	if err != nil {
		t.Fatalf("sign in at the provider as %s: %v", username, err)
	}
	return cb.RequestURI()
}

// signOn runs the whole flow for username on c and returns the app's
// answer to the callback.
func signOn(t *testing.T, c *apptest.Client, p *oidctest.Provider, username string) *apptest.Response {
	t.Helper()
	var password string
	for _, u := range ssoUsers {
		if u.Username == username {
			password = u.Password
		}
	}
	return c.Get(providerLogin(t, p, startSignOn(t, c, "/songsview/list/"), username, password))
}

// refusedSignOn checks r is the login page with a message, c not signed
// in, and one more login_refused entry whose label holds reason.
func refusedSignOn(t *testing.T, a *apptest.App, c *apptest.Client, r *apptest.Response, status int, reason string) {
	t.Helper()
	if r.Status != status || r.Text(".alert") == "" || r.Doc.Find("h1").First().Text() != "Sign in" {
		t.Errorf("refused sign-on (%s): %d %q, want %d and the login page with a message", reason, r.Status, r.Text(".alert"), status)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("refused sign-on page Cache-Control %q", cc)
	}
	if c.IsLoggedIn() {
		t.Errorf("signed in after a refusal (%s)", reason)
	}
	if !slices.ContainsFunc(auditLabels(t, a, accounts.ActionLoginRefused), func(l string) bool { return strings.Contains(l, reason) }) {
		t.Errorf("no %s entry with %q: %q", accounts.ActionLoginRefused, reason, auditLabels(t, a, accounts.ActionLoginRefused))
	}
}

// auditLabels returns the record labels of the audit log's entries of
// action.
func auditLabels(t *testing.T, a *apptest.App, action string) []string {
	t.Helper()
	log := a.Data.Audit().Entries()
	page, err := log.List(context.Background(), datamodel.Query{Filters: []datamodel.Filter{
		{Field: log.Schema().Field("action"), Op: datamodel.OpEq, Value: action}}, Limit: 100, NoCount: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rec := range page.Records {
		l, _ := rec.Values["record_label"].(string)
		out = append(out, l)
	}
	return out
}

// TestSignOn: a first sign-on registers the user with the mapped role
// and goes where they were going; the next one finds them by subject and
// syncs their roles with their groups; without sync the roles stay.
func TestSignOn(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a, p := ssoApp(t, b, nil)
		// The login page offers the button, the password form too.
		page := a.Client().Get("/login/?next=/albumview/list/")
		if href, _ := page.Doc.Find("a#sign-on").Attr("href"); page.Doc.Find("a#sign-on").Text() != "Sign in with SSO" ||
			href != "/login/oidc?next=%2falbumview%2flist%2f" || page.Doc.Find("input[name=password]").Length() != 1 {
			t.Errorf("login page: button %q to %q, %d password fields", page.Doc.Find("a#sign-on").Text(), href,
				page.Doc.Find("input[name=password]").Length())
		}
		// The authorization request carries PKCE, state and nonce.
		c := a.Client()
		auth, err := url.Parse(startSignOn(t, c, "/songsview/list/"))
		if err != nil {
			t.Fatal(err)
		}
		q := auth.Query()
		if !strings.HasPrefix(auth.String(), p.Issuer) || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
			len(q.Get("state")) < 20 || len(q.Get("nonce")) < 20 || q.Get("client_id") != p.ClientID ||
			q.Get("redirect_uri") != a.URL+"/login/oidc/callback" {
			t.Errorf("authorization request %s", auth)
		}
		r := c.Get(providerLogin(t, p, auth.String(), "ada", "ada-sso-pw"))
		r.ExpectRedirect(t, "first sign-on", "/songsview/list/")
		if !c.IsLoggedIn() {
			t.Fatal("not signed in after the sign-on")
		}
		// The mapped role and, registration being on, its role too.
		if u := userRow(t, a, "ada"); !slices.Equal(u.Roles, []string{"Admin", "ReadOnly"}) || u.Email != "ada@example.com" {
			t.Errorf("registered user: %+v", u)
		}
		if got := auditLabels(t, a, accounts.ActionLoginSSO); len(got) != 1 {
			t.Errorf("%d %s entries, want 1", len(got), accounts.ActionLoginSSO)
		}

		// sam: ReadOnly, then Admin when the provider's groups change.
		sam := a.Client()
		signOn(t, sam, p, "sam").ExpectRedirect(t, "sam's sign-on", "/songsview/list/")
		if u := userRow(t, a, "sam"); !slices.Equal(u.Roles, []string{"ReadOnly"}) {
			t.Errorf("sam's roles %v, want ReadOnly", u.Roles)
		}
		if r := sam.Get("/users/list/"); r.Status != http.StatusForbidden {
			t.Errorf("ReadOnly sam lists users: %d", r.Status)
		}
		p.SetGroups("sub-sam", []string{"admins", "staff"})
		sam2 := a.Client()
		signOn(t, sam2, p, "sam").ExpectRedirect(t, "sam's second sign-on", "/songsview/list/")
		if u := userRow(t, a, "sam"); !slices.Equal(u.Roles, []string{"Admin", "ReadOnly"}) {
			t.Errorf("sam's roles after the sync %v, want Admin and ReadOnly", u.Roles)
		}
		if r := sam2.Get("/users/list/"); r.Status != http.StatusOK {
			t.Errorf("sam, now Admin, lists users: %d", r.Status)
		}
		// A group taken away ends the sessions the role gave.
		p.SetGroups("sub-sam", []string{"staff"})
		signOn(t, a.Client(), p, "sam").ExpectRedirect(t, "sam's third sign-on", "/songsview/list/")
		if sam2.IsLoggedIn() {
			t.Error("a session of sam as Admin outlived the role's removal")
		}
		// The mapping change is audited as the user's update.
		if n := auditCount(t, a, "update"); n < 2 {
			t.Errorf("%d update entries for two role syncs", n)
		}
		// A user found by subject only: a local "sam" made by hand is not
		// the provider's sam.
		if hasUser(a, "sam@example.com") || len(a.Users()) != 3 {
			t.Errorf("users after the sign-ons: %d, want admin, ada and sam", len(a.Users()))
		}
	})
}

// TestSignOnWithoutSync: with sync_roles_at_login off the roles a user
// was registered with stay whatever the groups say later.
func TestSignOnWithoutSync(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a, p := ssoApp(t, b, func(cfg *config.Config) { cfg.Auth.OIDC.SyncRolesAtLogin = false })
		signOn(t, a.Client(), p, "sam").ExpectRedirect(t, "registration", "/songsview/list/")
		p.SetGroups("sub-sam", []string{"admins"})
		signOn(t, a.Client(), p, "sam").ExpectRedirect(t, "second sign-on", "/songsview/list/")
		if u := userRow(t, a, "sam"); !slices.Equal(u.Roles, []string{"ReadOnly"}) {
			t.Errorf("roles without sync %v, want ReadOnly still", u.Roles)
		}
	})
}

// TestSignOnRefusals: each forged or replayed answer, and each user the
// configuration does not let in, gets the login page with a message and
// an audit entry, and no session.
func TestSignOnRefusals(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a, p := ssoApp(t, b, func(cfg *config.Config) { cfg.Auth.OIDC.EmailDomains = []string{"example.com"} })

		// A callback with no sign-on begun, and one whose state is not
		// the cookie's.
		c := a.Client()
		refusedSignOn(t, a, c, c.Get("/login/oidc/callback?state=x&code=y"), http.StatusBadRequest, "no sign-on begun")
		cb := providerLogin(t, p, startSignOn(t, c, "/"), "ada", "ada-sso-pw")
		refusedSignOn(t, a, c, c.Get(strings.Replace(cb, "state=", "state=forged", 1)), http.StatusBadRequest, "wrong state")

		// A code used twice: the cookie of the flow copied, the callback
		// replayed after the first use.
		c = a.Client()
		cb = providerLogin(t, p, startSignOn(t, c, "/"), "ada", "ada-sso-pw")
		thief := a.ClientWith(c.Cookies())
		c.Get(cb).ExpectRedirect(t, "the first use of a code", "/")
		refusedSignOn(t, a, thief, thief.Get(cb), http.StatusBadRequest, "code not exchanged")
		// The callback itself is used once: the same browser's replay
		// finds no sign-on begun.
		c.Get("/logout/")
		refusedSignOn(t, a, c, c.Get(cb), http.StatusBadRequest, "no sign-on begun")

		// ID tokens the provider's answer carries, changed: each refused.
		users := len(a.Users())
		for _, tc := range []struct {
			name   string
			tamper func(*oidctest.Provider)
			reason string
		}{
			{"wrong audience", func(p *oidctest.Provider) {
				p.TamperNext(func(c map[string]any) { c["aud"] = "another-client" })
			}, "ID token refused"},
			{"wrong issuer", func(p *oidctest.Provider) {
				p.TamperNext(func(c map[string]any) { c["iss"] = "https://evil.example" })
			}, "ID token refused"},
			{"expired", func(p *oidctest.Provider) {
				p.TamperNext(func(c map[string]any) {
					c["exp"] = time.Now().Add(-time.Hour).Unix()
					c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
				})
			}, "ID token refused"},
			{"wrong nonce", func(p *oidctest.Provider) {
				p.TamperNext(func(c map[string]any) { c["nonce"] = "forged-nonce" })
			}, "wrong nonce"},
			{"foreign signature", func(p *oidctest.Provider) { p.ForeignKeyNext() }, "ID token refused"},
		} {
			c := a.Client()
			before := len(auditLabels(t, a, accounts.ActionLoginRefused))
			tc.tamper(p)
			refusedSignOn(t, a, c, signOn(t, c, p, "ada"), http.StatusBadRequest, tc.reason)
			if after := len(auditLabels(t, a, accounts.ActionLoginRefused)); after != before+1 {
				t.Errorf("%s: %d refusal entries after, %d before", tc.name, after, before)
			}
		}
		if n := len(a.Users()); n != users {
			t.Errorf("%d users after the refused sign-ons, %d before", n, users)
		}

		// The domain allowlist compares whole domains.
		c = a.Client()
		refusedSignOn(t, a, c, signOn(t, c, p, "eve"), http.StatusForbidden, "e-mail domain not allowed")
		// Groups that map to no role, and registration's role removed:
		// nobody is let in without a role.
		c = a.Client()
		signOn(t, c, p, "nob").ExpectRedirect(t, "a user of no mapped group gets the registration role", "/songsview/list/")
		if u := userRow(t, a, "nob"); !slices.Equal(u.Roles, []string{"ReadOnly"}) {
			t.Errorf("nob's roles %v, want the registration role", u.Roles)
		}
	})
}

// TestSignOnPolicy: registration off refuses an unknown subject; password
// login off leaves only the button and refuses a posted password; a
// provider that does not answer is a message, not a 500.
func TestSignOnPolicy(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a, p := ssoApp(t, b, func(cfg *config.Config) {
			cfg.Auth.OIDC.Registration = false
			cfg.Auth.PasswordLogin = false
		})
		c := a.Client()
		refusedSignOn(t, a, c, signOn(t, c, p, "ada"), http.StatusForbidden, "unknown subject, registration off")
		if hasUser(a, "ada") || hasUser(a, "ada@example.com") {
			t.Error("registration off registered ada")
		}
		page := c.Get("/login/")
		if page.Doc.Find("input[name=password]").Length() != 0 || page.Doc.Find("a#sign-on").Length() != 1 {
			t.Errorf("login page with password login off: %d password fields, %d buttons",
				page.Doc.Find("input[name=password]").Length(), page.Doc.Find("a#sign-on").Length())
		}
		// The page has no form to take a CSRF token from: one of an
		// instance with password login on (same secret_key) is as good.
		on := a.Instance(t, server.Options{}, func(cfg *config.Config) { cfg.Auth.PasswordLogin = true }).Client()
		token := on.CSRF("/login/")
		poster := a.ClientWith(on.Cookies())
		r := poster.Post("/login/", url.Values{"username": {apptest.AdminUser}, "password": {apptest.AdminPassword},
			"csrf_token": {token}})
		if r.Status != http.StatusForbidden || r.Text(".alert") == "" || poster.IsLoggedIn() {
			t.Errorf("password login while off: %d %q, signed in %v", r.Status, r.Text(".alert"), poster.IsLoggedIn())
		}

		// A provider that does not answer: 503 (not Strict, whose oracle
		// refuses any 5xx), the login page with a message.
		down := apptest.NewApp(t, b, apptest.Configure(func(cfg *config.Config) {
			cfg.Auth.OIDC.Issuer, cfg.Auth.OIDC.ClientID = "http://"+freeAddr(t), "musicadmin"
		}))
		d := down.Client()
		r = d.Get("/login/oidc")
		if r.Status != http.StatusServiceUnavailable || r.Text(".alert") == "" {
			t.Errorf("provider down: %d %q, want 503 and the login page", r.Status, r.Text(".alert"))
		}
	})
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestSignOnSecondFactor: a single sign-on is a first factor like a
// password: a user whose role requires a second factor is sent to its
// enrollment, and no page answers before it (SECURITY-TESTS 70).
func TestSignOnSecondFactor(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a, p := ssoApp(t, b, func(cfg *config.Config) { cfg.Auth.TOTP.RequiredForRoles = []string{"Admin"} })
		c := a.Client()
		signOn(t, c, p, "ada").ExpectRedirect(t, "sign-on of an Admin", "/login/2fa")
		if c.IsLoggedIn() {
			t.Error("a session before the second factor")
		}
		stillOwed(t, c, "after the sign-on")
		// A ReadOnly user goes straight in.
		s := a.Client()
		signOn(t, s, p, "sam").ExpectRedirect(t, "sign-on of a ReadOnly user", "/songsview/list/")
	})
}
