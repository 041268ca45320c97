package server_test

// Sections A (authentication) and B (sessions) of shared/SECURITY-TESTS.md.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"musicadmin/internal/access"
	"musicadmin/internal/apptest"
	"musicadmin/internal/apptest/slow"
	"musicadmin/internal/auth"
	"musicadmin/internal/config"
	"musicadmin/internal/server"
)

// maskLogin hides what legitimately differs between two failed-login pages:
// the CSRF token (masked afresh on every page) and the username shown back
// in the form.
func maskLogin(body, username string) string {
	body = csrfValue.ReplaceAllString(body, `name="csrf_token" value="TOKEN"`)
	return strings.ReplaceAll(body, `value="`+username+`"`, `value="USER"`)
}

// Test 1: an unknown user and a wrong password get the same answer.
func TestLoginSameAnswer(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		attempt := func(username string) (*apptest.Response, *apptest.Client) {
			c := a.Client()
			token := c.CSRF("/login/")
			r := c.Post("/login/", url.Values{"username": {username}, "password": {"wrong"}, "csrf_token": {token}})
			return r, c
		}
		unknown, c1 := attempt("nosuch-user-4711")
		known, c2 := attempt(apptest.AdminUser)
		for _, r := range []*apptest.Response{unknown, known} {
			if r.Status != http.StatusOK || r.Location() != "" || r.Text(".alert") != auth.MsgInvalidLogin {
				t.Errorf("failed login: %d %q alert %q", r.Status, r.Location(), r.Text(".alert"))
			}
		}
		if m1, m2 := maskLogin(unknown.Body, "nosuch-user-4711"), maskLogin(known.Body, apptest.AdminUser); m1 != m2 {
			t.Errorf("the two failures differ:\n%s\n----\n%s", m1, m2)
		}
		if got1, got2 := len(unknown.Header.Values("Set-Cookie")), len(known.Header.Values("Set-Cookie")); got1 != got2 {
			t.Errorf("Set-Cookie count differs: unknown user %d, wrong password %d", got1, got2)
		}
		if c1.IsLoggedIn() || c2.IsLoggedIn() {
			t.Error("a failed login produced a session")
		}
	})
}

// Test 2: an unknown user costs a bcrypt comparison like a wrong password,
// measured: the medians of the two failed logins differ by less than 10%
// of the wrong password's. The login is timed at a cost where bcrypt
// dominates (about 50 ms a comparison on one core), its samples
// interleaved so that a burst of other load falls on both alike, and a
// round that misses the rule is measured again (up to eight rounds) before
// the test fails: a loaded machine passes on a quiet round, while an
// unknown user without the dummy comparison fails in a small fraction of
// the time on every round.
//
// Not parallel: it compares timings, which other tests' load would blur.
func TestLoginTiming(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		cost := dominantCost(t)
		// A throttle that lets the hundred failures of the test through.
		sib := a.Instance(t, server.Options{BcryptCost: cost, LoginLimit: 10000, LoginWindow: time.Hour}, nil)
		if _, err := sib.Web.Users.Create(context.Background(), auth.NewUser{Username: "timed", FirstName: "T",
			LastName: "T", Email: "t@example.com", Password: "timed-password"}); err != nil {
			t.Fatal(err)
		}
		c := sib.Client()
		token := c.CSRF("/login/")
		timeLogin := func(username string) time.Duration {
			start := time.Now()
			r := c.Post("/login/", url.Values{"username": {username}, "password": {"wrong"}, "csrf_token": {token}})
			d := time.Since(start)
			if r.Status != http.StatusOK || r.Text(".alert") != auth.MsgInvalidLogin {
				t.Fatalf("login as %q: %d %q", username, r.Status, r.Text(".alert"))
			}
			return d
		}
		median := func(ds []time.Duration) time.Duration {
			slices.Sort(ds)
			return ds[len(ds)/2]
		}
		// One of each first: the dummy hash is made at the first unknown
		// user, connections are opened.
		timeLogin("nosuch-timed")
		timeLogin("timed")
		const samples, rounds = 15, 8
		for round := 1; ; round++ {
			var unknown, known []time.Duration
			for i := range samples {
				// Alternate which goes first, so neither always follows
				// the other's audit write.
				if i%2 == 0 {
					unknown = append(unknown, timeLogin("nosuch-timed"))
					known = append(known, timeLogin("timed"))
				} else {
					known = append(known, timeLogin("timed"))
					unknown = append(unknown, timeLogin("nosuch-timed"))
				}
			}
			mu, mk := median(unknown), median(known)
			diff := mu - mk
			if diff < 0 {
				diff = -diff
			}
			t.Logf("round %d, cost %d, %d samples each: median failed login: unknown user %v, wrong password %v, "+
				"difference %.1f%%", round, cost, samples, mu, mk, 100*float64(diff)/float64(mk))
			if diff*10 < mk {
				return
			}
			if round == rounds {
				t.Errorf("an unknown user fails in %v, a wrong password in %v (medians): a difference of 10%% or more "+
					"in %d rounds tells the two apart", mu, mk, rounds)
				return
			}
		}
	})
}

// dominantCost returns the least bcrypt cost (from 8 up) at which one
// comparison takes 80 ms or more on this machine and build (the race
// detector makes bcrypt twenty times slower): the time of a failed login
// is then mostly bcrypt's, and a login without it a small fraction.
func dominantCost(t *testing.T) int {
	t.Helper()
	for cost := 8; ; cost++ {
		hash, err := bcrypt.GenerateFromPassword([]byte("calibrate"), cost)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_ = bcrypt.CompareHashAndPassword(hash, []byte("wrong"))
		if d := time.Since(start); d >= 80*time.Millisecond || cost == 14 {
			return cost
		}
	}
}

// Test 4: the login page is not cached, masks the password and never echoes it.
func TestLoginPageHygiene(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.Client()
		r := c.Get("/login/")
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("login page Cache-Control = %q", cc)
		}
		pw := r.Doc.Find(`input[name=password]`)
		if typ, _ := pw.Attr("type"); pw.Length() != 1 || typ != "password" {
			t.Errorf("password input: %d found, type %q", pw.Length(), typ)
		}
		if _, blocked := pw.Attr("onpaste"); blocked {
			t.Error("paste is blocked on the password field")
		}
		r = c.Submit("/login/", url.Values{"username": {`<b>"ada"</b>`}, "password": {"Secret-123"}})
		if r.Status != http.StatusOK || strings.Contains(r.Body, "Secret-123") {
			t.Errorf("failed login: %d, password echoed: %v", r.Status, strings.Contains(r.Body, "Secret-123"))
		}
		if v, _ := r.Doc.Find(`input[name=username]`).Attr("value"); v != `<b>"ada"</b>` {
			t.Errorf("username kept as %q", v)
		}
		if strings.Contains(r.Body, `<b>"ada"</b>`) {
			t.Error("username shown back unescaped")
		}
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("failed-login page Cache-Control = %q", cc)
		}
	})
}

// Test 5: missing, empty and malformed credentials fail cleanly and fast.
func TestLoginMalformed(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		cases := []struct {
			name string
			body func(token string) string
			ct   string
		}{
			{"only token", func(tk string) string { return "csrf_token=" + tk }, ""},
			{"empty", func(tk string) string { return "username=&password=&csrf_token=" + tk }, ""},
			{"no password", func(tk string) string { return "username=admin&csrf_token=" + tk }, ""},
			{"array username", func(tk string) string { return "username%5B%5D=admin&password=x&csrf_token=" + tk }, ""},
			{"NUL in username", func(tk string) string {
				return "username=admin%00&password=" + url.QueryEscape(apptest.AdminPassword) + "&csrf_token=" + tk
			}, ""},
			{"10000-char username", func(tk string) string {
				return "username=" + strings.Repeat("u", 10000) + "&password=x&csrf_token=" + tk
			}, ""},
			{"JSON body", func(tk string) string {
				return `{"username":"admin","password":"` + apptest.AdminPassword + `","csrf_token":"` + tk + `"}`
			}, "application/json"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := a.Client()
				token := c.CSRF("/login/")
				ct := tc.ct
				if ct == "" {
					ct = "application/x-www-form-urlencoded"
				}
				start := time.Now()
				r := c.Request(http.MethodPost, "/login/", strings.NewReader(tc.body(token)),
					"Content-Type", ct, "Origin", a.URL, "Sec-Fetch-Site", "same-origin")
				if d := time.Since(start); d > slow.Scaled(time.Second) {
					t.Errorf("answer took %v", d)
				}
				switch r.Status {
				case http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity:
				default:
					t.Errorf("status %d, want 200, 400 or 422", r.Status)
				}
				if r.Text(".alert") != auth.MsgInvalidLogin {
					t.Errorf("alert = %q, want the generic message", r.Text(".alert"))
				}
				if c.IsLoggedIn() {
					t.Error("logged in")
				}
			})
		}
	})
}

// Test 6: huge passwords fail fast, and bcrypt's 72-byte truncation is not
// a way in.
func TestLoginLongPasswords(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		t.Run("1 MiB password", func(t *testing.T) {
			c := a.Client()
			token := c.CSRF("/login/")
			start := time.Now()
			r := c.PostRaw("/login/", "username=admin&password="+strings.Repeat("a", 1<<20)+"&csrf_token="+token)
			if d := time.Since(start); d > slow.Scaled(time.Second) {
				t.Errorf("answer took %v", d)
			}
			if r.Status != http.StatusRequestEntityTooLarge && !(r.Status == http.StatusOK && r.Text(".alert") == auth.MsgInvalidLogin) {
				t.Errorf("status %d alert %q, want 413 or the generic failure", r.Status, r.Text(".alert"))
			}
			if c.IsLoggedIn() {
				t.Error("logged in")
			}
		})
		t.Run("72 bytes plus extra", func(t *testing.T) {
			p := strings.Repeat("p", 70) + "é" // exactly 72 bytes
			if _, err := a.Web.Users.Create(context.Background(), auth.NewUser{Username: "trunc", FirstName: "T",
				LastName: "T", Email: "trunc@example.com", Password: p}); err != nil {
				t.Fatal(err)
			}
			c := a.Client()
			r := c.Submit("/login/", url.Values{"username": {"trunc"}, "password": {p + "EXTRA"}})
			if r.Status != http.StatusOK || c.IsLoggedIn() {
				t.Errorf("password + EXTRA: status %d, logged in %v: bcrypt truncation let it in", r.Status, c.IsLoggedIn())
			}
			c.Login("trunc", p) // the real password still works
		})
		t.Run("73-byte password refused", func(t *testing.T) {
			before := a.Count("users")
			_, err := a.Web.Users.Create(context.Background(), auth.NewUser{Username: "long", FirstName: "L",
				LastName: "L", Email: "long@example.com", Password: strings.Repeat("p", 73)})
			if err == nil || a.Count("users") != before {
				t.Errorf("73-byte password: err %v, users %d -> %d", err, before, a.Count("users"))
			}
		})
	})
}

// Test 8: next never sends the user to another site.
func TestLoginOpenRedirect(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		port := a.Server.Listener.Addr().String()
		bad := []string{
			"https://evil.example/x", "//evil.example/x", "///evil.example",
			`/\evil.example`, `\\evil.example`, "/%5Cevil.example", `/%5cevil.example`,
			"http:evil.example", "http:///evil.example", "https:evil.example",
			"javascript:alert(1)", "\njavascript:alert(1)", "java\nscript:alert(1)",
			"%0Ajavascript:alert(1)", "\x01//evil.example", "\x08//evil.example", "%01//evil.example",
			"/\t/evil.example", " //evil.example",
			"http://" + port + "@evil.example/", "ftp://evil.example", "file:///etc/passwd", "http:999999999",
			"data:text/html,<script>alert(1)</script>", "/login/?next=//evil.example",
			"\t//evil.example", "%09//evil.example", "\r\nLocation: https://evil.example", "%0D%0ASet-Cookie:%20a=b",
			"/\r\nSet-Cookie: a=b",
		}
		for _, next := range bad {
			t.Run(url.PathEscape(next), func(t *testing.T) {
				path := "/login/?next=" + url.QueryEscape(next)
				// As the form posts it (the hidden field), and with next only
				// in the query string.
				for _, inBody := range []bool{true, false} {
					c := a.Client()
					vals := url.Values{"username": {apptest.AdminUser}, "password": {apptest.AdminPassword}}
					if inBody {
						vals.Set("next", next)
					}
					r := c.Submit(path, vals)
					if r.Status != http.StatusFound || r.Location() != "/" {
						t.Errorf("next in body %v: %d Location %q, want 302 to /", inBody, r.Status, r.Location())
					}
				}
				// The login form itself carries a safe next.
				if v, _ := a.Client().Get(path).Doc.Find(`input[name=next]`).Attr("value"); v != "/" {
					t.Errorf("hidden next = %q, want /", v)
				}
			})
		}
		// Every other place where a client's value reaches a Location the
		// app writes: each hostile value there ends on this site.
		// Local paths that only look hostile: kept, but each Location on
		// the site, its CR/LF still encoded.
		odd := []string{"/%2F/evil.example", "/%0D%0ALocation:%20https://evil.example", "/%5C%5Cevil.example",
			"/.//evil.example", "/x/..//evil.example"}
		everywhere(t, a, append(bad, odd...))
		t.Run("control: local path honoured", func(t *testing.T) {
			c := a.Client()
			r := c.Submit("/login/?next="+url.QueryEscape("/songsview/list/?page=2"),
				url.Values{"username": {apptest.AdminUser}, "password": {apptest.AdminPassword}})
			if r.Status != http.StatusFound || r.Location() != "/songsview/list/?page=2" {
				t.Errorf("%d Location %q", r.Status, r.Location())
			}
		})
	})
}

// onSite reports whether a Location the app wrote leads to this site
// alone: a path, with no scheme, no host, nothing a browser reads as one
// ("//", "/\\", a control character it strips) and no header break.
func onSite(loc string) bool {
	if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
		return false
	}
	if strings.ContainsFunc(loc, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return false
	}
	base, _ := url.Parse("http://site.example/a/b")
	return base.ResolveReference(u).Host == "site.example"
}

// everywhere tries each hostile value of bad at every place, but the login
// form's next, where a client's value feeds a redirect: the login page
// visited logged in, the second step's continuation, the logout, the
// trailing-slash redirects (the API docs' among them), the anonymous
// visit's way to the login, the list's filter menu and the bulk form's way
// back to its list. Each answer that redirects must stay on the site.
func everywhere(t *testing.T, a *apptest.App, bad []string) {
	// A user with a second factor, on an instance whose TOTP clock moves
	// a step at each code: every code is fresh.
	var steps atomic.Int64
	base := time.Now()
	clock := func() time.Time { return base.Add(time.Duration(steps.Load()) * step) }
	site := a.Instance(t, server.Options{LoginLimit: 100000, LoginWindow: time.Hour, TOTPClock: clock}, nil)
	roleUser(t, site, "tia", access.ReadOnlyRole)
	tia := site.Client()
	tia.Login("tia", "pw-tia")
	secret, _ := enroll(t, tia, clock())
	admin := site.LoggedIn()
	check := func(t *testing.T, where string, r *apptest.Response, mustRedirect bool) {
		t.Helper()
		if r.Status >= 500 {
			t.Errorf("%s: %d", where, r.Status)
		}
		if loc := r.Location(); (loc != "" || mustRedirect) && !onSite(loc) {
			t.Errorf("%s: %d to %q, off the site", where, r.Status, loc)
		}
	}
	for _, next := range bad {
		t.Run("everywhere/"+url.PathEscape(next), func(t *testing.T) {
			q := url.QueryEscape(next)
			check(t, "GET /login/ logged in", admin.Get("/login/?next="+q), true)
			// The second step: the password, then the code.
			c := site.Client()
			if r := c.Submit("/login/?next="+q, url.Values{"username": {"tia"}, "password": {"pw-tia"}, "next": {next}}); r.Location() != "/login/2fa" {
				t.Fatalf("tia's password: %d to %q", r.Status, r.Location())
			}
			steps.Add(1)
			check(t, "the second step", code(c, totpCode(t, secret, clock())), true)
			check(t, "GET /logout/", c.Get("/logout/?next="+q), true)
			for _, path := range []string{"/login", "/logout", "/api/docs", "/albumview/list", "/albumview"} {
				check(t, "GET "+path, admin.Get(path+"?next="+q+"&"+q), true)
			}
			check(t, "an anonymous visit", site.Client().Get("/albumview/list/?next="+q), true)
			check(t, "the filter menu", admin.Get("/albumview/list/?filter_field="+q+"&filter_op=eq&filter_value="+q+"&"+q+"="+q), true)
			check(t, "the filter menu's operator", admin.Get("/albumview/list/?filter_field=name&filter_op="+q+"&filter_value=x"), true)
			check(t, "the bulk form's way back", admin.Submit("/albumview/action/delete",
				url.Values{"list_query": {next}, "ids": {a.UnknownID()}, "confirm": {"1"}}), true)
			check(t, "the bulk form's way back (a query)", admin.Submit("/albumview/action/delete",
				url.Values{"list_query": {"name=" + next + "&" + next + "=x&next=" + q}, "ids": {a.UnknownID()}, "confirm": {"1"}}), true)
			// Request targets a client library would clean, sent raw.
			for _, target := range []string{"/" + next, "//evil.example/albumview/list/", "/login?next=" + next} {
				if strings.ContainsAny(target, " \r\n\t") {
					continue
				}
				resp, _ := site.Raw(http.MethodGet, target)
				if loc := resp.Header.Get("Location"); loc != "" && !onSite(loc) {
					t.Errorf("GET %q raw: %d to %q, off the site", target, resp.StatusCode, loc)
				}
			}
		})
	}
}

// Test 9: a spoofed Host, a logged-in visit of /login/, and next kept after
// a failure.
func TestLoginNextEdgeCases(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		t.Run("spoofed Host", func(t *testing.T) {
			c := a.Client()
			token := c.CSRF("/login/")
			req := c.PostRequest("/login/?next="+url.QueryEscape("https://evil.example/"), url.Values{
				"username": {apptest.AdminUser}, "password": {apptest.AdminPassword}, "csrf_token": {token}})
			req.Host = "evil.example"
			for _, ck := range c.Cookies() { // the jar files cookies by req.Host
				req.AddCookie(ck)
			}
			r := c.Do(req)
			if r.Status != http.StatusFound || r.Location() != "/" {
				t.Errorf("%d Location %q, want 302 to /\n%s", r.Status, r.Location(), r.Body)
			}
		})
		t.Run("already logged in", func(t *testing.T) {
			c := a.LoggedIn()
			r := c.Get("/login/?next=" + url.QueryEscape("//evil.example"))
			if r.Status != http.StatusFound || r.Location() != "/" {
				t.Errorf("%d Location %q, want 302 to /", r.Status, r.Location())
			}
			r = c.Get("/login/?next=" + url.QueryEscape("/albumview/list/"))
			if r.Status != http.StatusFound || r.Location() != "/albumview/list/" {
				t.Errorf("local next: %d Location %q", r.Status, r.Location())
			}
		})
		t.Run("next kept after a failure", func(t *testing.T) {
			c := a.Client()
			r := c.Submit("/login/?next="+url.QueryEscape("/albumview/list/"),
				url.Values{"username": {apptest.AdminUser}, "password": {"wrong"}})
			if r.Status != http.StatusOK {
				t.Fatalf("failed login: %d", r.Status)
			}
			form := r.Doc.Find("main form")
			action, _ := form.Attr("action")
			vals := url.Values{"username": {apptest.AdminUser}, "password": {apptest.AdminPassword}}
			for _, name := range []string{"csrf_token", "next"} {
				v, _ := form.Find(`input[name=` + name + `]`).Attr("value")
				vals.Set(name, v)
			}
			r = c.Post(action, vals)
			if r.Status != http.StatusFound || r.Location() != "/albumview/list/" {
				t.Errorf("%d Location %q, want 302 to /albumview/list/", r.Status, r.Location())
			}
		})
	})
}

// sessionCookie returns the session cookie a response sets.
func sessionCookie(t testing.TB, h http.Header, name string) *http.Cookie {
	t.Helper()
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("bad Set-Cookie %q: %v", line, err)
		}
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Test 10: cookie attributes and the server-side lifetime.
func TestCookieAttributes(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		check := func(t *testing.T, app *apptest.App, name string, secure bool) {
			c := app.Client()
			r := c.Submit("/login/", url.Values{"username": {apptest.AdminUser}, "password": {apptest.AdminPassword}})
			if r.Status != http.StatusFound {
				t.Fatalf("login: %d", r.Status)
			}
			if lines := r.Header.Values("Set-Cookie"); len(lines) == 0 {
				t.Fatal("login sets no cookie")
			}
			for _, line := range r.Header.Values("Set-Cookie") {
				ck, err := http.ParseSetCookie(line)
				if err != nil {
					t.Fatalf("bad Set-Cookie %q: %v", line, err)
				}
				if ck.Name != name {
					t.Errorf("unexpected cookie %q", ck.Name)
				}
				if !ck.HttpOnly || (ck.SameSite != http.SameSiteLaxMode && ck.SameSite != http.SameSiteStrictMode) ||
					ck.Path != "/" || ck.Domain != "" || ck.Secure != secure {
					t.Errorf("cookie %q: %q", ck.Name, line)
				}
				if ck.MaxAge <= 0 || ck.MaxAge > int((12*time.Hour).Seconds()) {
					t.Errorf("cookie %q lives %d s, want 1 s to 12 h", ck.Name, ck.MaxAge)
				}
			}
		}
		t.Run("plain http", func(t *testing.T) { check(t, a, "session", false) })
		t.Run("secure_cookies on", func(t *testing.T) {
			sib := a.Instance(t, server.Options{}, func(c *config.Config) { c.Server.SecureCookies = true })
			// The Go cookie jar keeps Secure cookies off plain http, so only
			// the Set-Cookie header is inspected.
			check(t, sib, "__Host-session", true)
		})
		t.Run("expired session row", func(t *testing.T) {
			c := a.LoggedIn()
			a.ExpireSessions()
			r := c.Get("/albumview/list/")
			if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login/") {
				t.Errorf("expired session: %d %q, want 302 to /login/", r.Status, r.Location())
			}
		})
	})
}

// Test 11: the session id changes at login; a pre-login cookie or token is
// worth nothing afterwards.
func TestSessionFixation(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		attacker := a.Client()
		preToken := attacker.CSRF("/login/")
		c0 := attacker.Cookies()
		if len(c0) == 0 {
			t.Fatal("GET /login/ set no cookie")
		}
		victim := a.ClientWith(c0)
		r := victim.Submit("/login/", url.Values{"username": {apptest.AdminUser}, "password": {apptest.AdminPassword}})
		if r.Status != http.StatusFound {
			t.Fatalf("login: %d", r.Status)
		}
		set := sessionCookie(t, r.Header, "session")
		if set == nil || set.Value == c0[0].Value {
			t.Fatalf("login kept the pre-login session value")
		}
		if attacker.IsLoggedIn() {
			t.Error("the attacker's pre-login cookie is logged in")
		}
		if !victim.IsLoggedIn() {
			t.Error("the victim is not logged in")
		}
		before := a.Snapshot()
		r = victim.Post("/albumview/add", url.Values{"name": {"fixated"}, "csrf_token": {preToken}})
		if r.Status != http.StatusForbidden || !before.Same(a.Snapshot()) {
			t.Errorf("pre-login token after login: %d, want 403 and no write", r.Status)
		}
	})
}

// Test 12: logout ends the session for good, whatever copy of the cookie
// is replayed.
func TestLogout(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(method, func(t *testing.T) {
				c := a.LoggedIn()
				token := c.CSRF("/albumview/add")
				saved := c.Cookies()
				var r *apptest.Response
				if method == http.MethodGet {
					r = c.Get("/logout/?next=" + url.QueryEscape("https://evil.example"))
				} else {
					r = c.Post("/logout/?next="+url.QueryEscape("https://evil.example"), url.Values{"csrf_token": {token}})
				}
				if r.Status != http.StatusFound || r.Location() != "/login/" {
					t.Errorf("logout: %d %q, want 302 to /login/", r.Status, r.Location())
				}
				if c.IsLoggedIn() {
					t.Error("still logged in after logout")
				}
				replay := a.ClientWith(saved)
				r = replay.Get("/albumview/list/")
				if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login/") {
					t.Errorf("replayed cookie: %d %q, want 302 to /login/", r.Status, r.Location())
				}
				before := a.Snapshot()
				r = a.ClientWith(saved).Post("/albumview/add", url.Values{"name": {"after-logout"}, "csrf_token": {token}})
				if (r.Status != http.StatusFound && r.Status != http.StatusForbidden) || !before.Same(a.Snapshot()) {
					t.Errorf("replayed POST: %d, want 302 or 403 and no write", r.Status)
				}
			})
		}
		t.Run("cross-site GET keeps the session", func(t *testing.T) {
			c := a.LoggedIn()
			r := c.Request(http.MethodGet, "/logout/", nil, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Dest", "image")
			if r.Status >= 400 {
				t.Errorf("cross-site logout: %d", r.Status)
			}
			if !c.IsLoggedIn() {
				t.Error("a cross-site GET /logout/ ended the session")
			}
		})
	})
}

// Test 13: a password change, a deactivated or a deleted user ends the
// user's sessions at once.
func TestSessionUserChanges(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		newUser := func(name string) *apptest.Client {
			if _, err := a.Web.Users.Create(context.Background(), auth.NewUser{Username: name, FirstName: "U",
				LastName: "U", Email: name + "@example.com", Password: "password-" + name}); err != nil {
				t.Fatal(err)
			}
			c := a.Client()
			c.Login(name, "password-"+name)
			if !c.IsLoggedIn() {
				t.Fatalf("%s is not logged in", name)
			}
			return c
		}
		cases := []struct {
			name   string
			change func(user string)
		}{
			{"password changed", func(user string) {
				hash, err := bcrypt.GenerateFromPassword([]byte("a-new-password"), bcrypt.MinCost)
				if err != nil {
					t.Fatal(err)
				}
				a.SetUserField(user, "password_hash", string(hash))
			}},
			{"deactivated", func(user string) { a.SetUserField(user, "active", false) }},
			{"deleted", func(user string) { a.DeleteUser(user) }},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				user := "user" + string(rune('a'+i))
				c := newUser(user)
				tc.change(user)
				r := c.Get("/albumview/list/")
				if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login/") {
					t.Errorf("after the change: %d %q, want 302 to /login/", r.Status, r.Location())
				}
			})
		}
		// The new password works; the old one does not.
		c := a.Client()
		if r := c.Submit("/login/", url.Values{"username": {"usera"}, "password": {"password-usera"}}); r.Status != http.StatusOK {
			t.Errorf("old password: %d, want 200 (failure)", r.Status)
		}
		c.Login("usera", "a-new-password")
	})
}

// Test 14: tampered, forged and oversized session cookies are anonymous.
func TestForgedCookies(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		real := a.LoggedIn().Cookies()[0]
		if real.Name != "session" {
			t.Fatalf("cookie name %q", real.Name)
		}
		flip := []byte(real.Value)
		i := len(flip) / 2
		if flip[i] == 'A' {
			flip[i] = 'B'
		} else {
			flip[i] = 'A'
		}
		// Another secret signs a real login of the same database.
		other := a.Instance(t, server.Options{}, func(c *config.Config) { c.SecretKey = "another-secret-key-000000000000000000000" })
		oc := other.LoggedIn()
		if !oc.IsLoggedIn() {
			t.Fatal("the other app's login does not work there")
		}
		otherValue := oc.Cookies()[0].Value
		flask := "eyJ1c2VyX2lkIjoxLCJfZnJlc2giOnRydWV9.ZmZmZg.c2lnbmVkLXdpdGgtQ0hBTkdFX01F"
		cases := map[string]string{
			"one character changed": "session=" + string(flip),
			"5000 a":                "session=" + strings.Repeat("a", 5000),
			"flask-style":           "session=" + flask,
			"other secret":          "session=" + otherValue,
			"50 copies":             strings.Repeat("session="+strings.Repeat("b", 40)+"; ", 49) + "session=x",
			"empty":                 "session=",
		}
		for name, header := range cases {
			t.Run(name, func(t *testing.T) {
				c := a.Client()
				r := c.Request(http.MethodGet, "/albumview/list/", nil, "Cookie", header)
				if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login/") {
					t.Errorf("%d %q, want 302 to /login/", r.Status, r.Location())
				}
			})
		}
	})
}

// Test 16: flashes piling up never push the cookie over 4 KB.
func TestCookieSize(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		token := c.CSRF("/albumview/add")
		var lastName string
		for i := range 30 {
			name := strings.Repeat("🎵", 98) + string(rune('A'+i/10)) + string(rune('0'+i%10))
			r := c.Post("/albumview/add", url.Values{"name": {name}, "csrf_token": {token}})
			if r.Status != http.StatusFound {
				t.Fatalf("add %d: %d", i, r.Status)
			}
			for _, line := range r.Header.Values("Set-Cookie") {
				if ck, err := http.ParseSetCookie(line); err != nil || len(ck.Value) >= 4096 || len(line) >= 4096 {
					t.Fatalf("add %d: Set-Cookie of %d bytes (err %v)", i, len(line), err)
				}
			}
			lastName = name
		}
		r := c.Get("/albumview/list/")
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d", r.Status)
		}
		flashes := r.Texts(".flash")
		if len(flashes) == 0 || flashes[len(flashes)-1] != "Added Album “"+lastName+"”." {
			t.Errorf("flashes = %q", flashes)
		}
		if !c.IsLoggedIn() || a.Count("albums") != 30 {
			t.Errorf("logged in %v, albums %d", c.IsLoggedIn(), a.Count("albums"))
		}
	})
}
