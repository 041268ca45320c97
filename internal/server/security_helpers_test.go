package server_test

// Helpers of the black-box security tests (security_*_test.go). Every
// request a test sends goes through secClient, which applies the universal
// oracle of shared/SECURITY-TESTS.md to the answer: no status of 500 or
// more, and no body that leaks a stack, a driver or SQL error, or a password
// hash. Every app is checked once more when its test ends: it still answers
// /healthz, and its log holds no panic.

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
	"musicadmin/internal/server"
)

// secLeakPattern is oracle (b): text that must never reach a user.
const secLeakPattern = `goroutine|panic|gorm|sql:|\.go:\d+|SQLSTATE|Error 1[0-9]{3}|sqlite3|` +
	`database is locked|invalid connection|bad connection|\$2[aby]\$`

var secLeak = regexp.MustCompile(secLeakPattern)

// secLeakPrefixes are the literal prefixes of secLeakPattern's branches: a
// body holding none of them cannot match, and strings.Contains is much
// cheaper than the regexp on every answer of the suite (a tenth of the
// package's CPU time under -race). Nil when some branch has no prefix.
var secLeakPrefixes = func() []string {
	var out []string
	for _, branch := range strings.Split(secLeakPattern, "|") {
		prefix, _ := regexp.MustCompile(branch).LiteralPrefix()
		if prefix == "" {
			return nil
		}
		out = append(out, prefix)
	}
	return out
}()

// secLeakIn returns the first text of body that secLeakPattern matches.
func secLeakIn(body string) string {
	if secLeakPrefixes != nil && !slices.ContainsFunc(secLeakPrefixes, func(p string) bool { return strings.Contains(body, p) }) {
		return ""
	}
	return secLeak.FindString(body)
}

// TestSecLeakOracle: the prefix filter in front of the leak pattern lets
// through every text the pattern matches, and only those.
func TestSecLeakOracle(t *testing.T) {
	t.Parallel()
	if len(secLeakPrefixes) != strings.Count(secLeakPattern, "|")+1 {
		t.Fatalf("prefixes %q do not cover every branch of the pattern", secLeakPrefixes)
	}
	for _, leak := range []string{"goroutine 7 [running]", "panic: boom", "gorm.io/gorm", "sql: no rows", "server.go:42",
		"SQLSTATE 23000", "Error 1062 (23000)", "sqlite3: constraint", "database is locked", "invalid connection",
		"bad connection", "$2a$04$abc"} {
		body := "<p>Something went wrong: " + leak + "</p>"
		if got, want := secLeakIn(body), secLeak.FindString(body); got == "" || got != want {
			t.Errorf("%q: leak %q, want %q", leak, got, want)
		}
	}
	for _, clean := range []string{"<p>Album saved.</p>", "see main.go: later", "Error 1x", "$2 off", ""} {
		if got := secLeakIn(clean); got != "" {
			t.Errorf("%q: leak %q, want none", clean, got)
		}
	}
}

// secCheckAnswer applies the universal oracle to one answer.
func secCheckAnswer(t testing.TB, what string, status int, body string) {
	t.Helper()
	if status >= 500 {
		t.Errorf("%s: status %d, want < 500; body:\n%s", what, status, secClip(body))
	}
	if m := secLeakIn(body); m != "" {
		t.Errorf("%s: body leaks %q:\n%s", what, m, secClip(body))
	}
}

func secClip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

// secApp is an app under attack.
type secApp struct {
	*apptest.App
	t *testing.T
}

// newSecApp starts the app on b and, when the test ends, checks that it
// still answers and never panicked.
func newSecApp(t *testing.T, b apptest.Backend) *secApp {
	t.Helper()
	a := &secApp{App: apptest.NewApp(t, b), t: t}
	a.watch(t, a.App)
	return a
}

// watch checks app when t ends: /healthz answers 200 (the process is up) and
// the log shows no panic (oracles c and d).
func (a *secApp) watch(t *testing.T, app *apptest.App) {
	t.Cleanup(func() {
		resp, err := http.Get(app.URL + "/healthz")
		if err != nil {
			t.Errorf("healthz after the test: %v", err)
		} else {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("healthz after the test: %d", resp.StatusCode)
			}
		}
		if log := app.Log.String(); strings.Contains(log, "panic") || strings.Contains(log, "handler crashed") {
			t.Errorf("server log shows a panic:\n%s", secClip(log))
		}
	})
}

// sibling starts a second server over the same database, with the
// configuration changed by mutate and bcrypt at cost (0: the minimum). It
// shares the users, sessions and records of a.
func (a *secApp) sibling(mutate func(*config.Config), cost int) *apptest.App {
	a.t.Helper()
	return a.siblingWith(mutate, server.Options{BcryptCost: cost})
}

// siblingWith is sibling with server options (BcryptCost 0: the minimum).
func (a *secApp) siblingWith(mutate func(*config.Config), opts server.Options) *apptest.App {
	a.t.Helper()
	cfg := a.Config
	if mutate != nil {
		mutate(&cfg)
	}
	if opts.BcryptCost == 0 {
		opts.BcryptCost = 4
	}
	logs := &apptest.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	web, err := server.New(cfg, a.Data, log, opts)
	if err != nil {
		a.t.Fatalf("build sibling app: %v", err)
	}
	sib := &apptest.App{Site: apptest.Serve(a.t, web.Handler), Backend: a.Backend, Data: a.Data, DB: a.DB, Mongo: a.Mongo, Config: cfg, Web: web, Log: logs}
	a.watch(a.t, sib)
	return sib
}

// secClient is a browser-like client whose every answer passes the oracle.
type secClient struct {
	*apptest.Client
	t   testing.TB
	app *apptest.App
}

func (a *secApp) anon() *secClient { return secWrap(a.t, a.App, a.App.Client()) }

func (a *secApp) admin() *secClient { return secWrap(a.t, a.App, a.App.LoggedIn()) }

// login returns a client logged in as username.
func (a *secApp) login(username, password string) *secClient {
	c := a.anon()
	c.Login(username, password)
	return c
}

func secWrap(t testing.TB, app *apptest.App, c *apptest.Client) *secClient {
	return &secClient{Client: c, t: t, app: app}
}

func (c *secClient) check(what string, r *apptest.Response) *apptest.Response {
	c.t.Helper()
	secCheckAnswer(c.t, what, r.Status, r.Body)
	return r
}

func (c *secClient) Get(path string) *apptest.Response {
	c.t.Helper()
	return c.check("GET "+path, c.Client.Get(path))
}

func (c *secClient) Post(path string, form url.Values) *apptest.Response {
	c.t.Helper()
	return c.check("POST "+path, c.Client.Post(path, form))
}

func (c *secClient) Submit(path string, values url.Values) *apptest.Response {
	c.t.Helper()
	return c.check("POST "+path, c.Client.Submit(path, values))
}

func (c *secClient) Do(req *http.Request) *apptest.Response {
	c.t.Helper()
	return c.check(req.Method+" "+req.URL.String(), c.Client.Do(req))
}

// Request is apptest's Request, checked by the oracle.
func (c *secClient) Request(method, path string, body io.Reader, headers ...string) *apptest.Response {
	c.t.Helper()
	return c.check(method+" "+path, c.Client.Request(method, path, body, headers...))
}

// postRaw posts an urlencoded body exactly as given, as a same-origin
// browser would.
func (c *secClient) postRaw(path, body string) *apptest.Response {
	c.t.Helper()
	return c.Request(http.MethodPost, path, strings.NewReader(body),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", c.URL(""), "Sec-Fetch-Site", "same-origin")
}

// loggedIn reports whether the client's session is a login: "/" answers
// 200 rather than a redirect to the login page.
func (c *secClient) loggedIn() bool {
	c.t.Helper()
	r := c.Get("/")
	switch {
	case r.Status == http.StatusOK:
		return true
	case r.Status == http.StatusFound && strings.HasPrefix(r.Location(), "/login/"):
		return false
	}
	c.t.Fatalf("GET /: unexpected %d %q", r.Status, r.Location())
	return false
}

// withCookies returns a new anonymous client holding copies of cookies.
func (a *secApp) withCookies(cookies []*http.Cookie) *secClient {
	c := a.anon()
	c.SetCookies(cookies)
	return c
}

// postForm is the Client's PostRequest (the throttle test's name for it).
func (c *secClient) postForm(path string, form url.Values) *http.Request {
	c.t.Helper()
	return c.PostRequest(path, form)
}

// raw sends one request with an exact request-target over a new TCP
// connection: http.Client would clean or re-encode paths such as
// "//evil.example/" or "/\evil.example/".
func (a *secApp) raw(method, target string, headers ...string) (*http.Response, string) {
	a.t.Helper()
	conn, err := net.DialTimeout("tcp", a.Server.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		a.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, a.Server.Listener.Addr())
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		a.t.Fatalf("%s %q: %v", method, target, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		a.t.Fatalf("%s %q: read answer: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	secCheckAnswer(a.t, fmt.Sprintf("%s %q", method, target), resp.StatusCode, string(body))
	return resp, string(body)
}

// The catalogue as the database holds it: the no-write oracle compares it
// before and after an attack.
type secSnapshot struct {
	Albums   []apptest.AlbumRow
	Songs    []apptest.SongRow
	Sessions int64
}

func (a *secApp) secSnapshot() secSnapshot {
	a.t.Helper()
	return secSnapshot{Albums: a.Albums(), Songs: a.Songs(), Sessions: a.Count("user_sessions")}
}

func (s secSnapshot) String() string {
	var b strings.Builder
	for _, al := range s.Albums {
		fmt.Fprintln(&b, al)
	}
	for _, so := range s.Songs {
		fmt.Fprintln(&b, so)
	}
	return b.String()
}

// sameData reports whether the catalogue is unchanged (sessions aside).
func (s secSnapshot) sameData(o secSnapshot) bool { return s.String() == o.String() }

// seedAlbum stores an album directly and returns its id.
func (a *secApp) seedAlbum(name string) string { return a.InsertAlbum(name) }

// seedSong stores a song directly and returns its id; album "" is none.
func (a *secApp) seedSong(title string, rating int, album string) string {
	return a.InsertSong(title, rating, album)
}

func (a *secApp) albumName(id string) (string, bool) {
	a.t.Helper()
	al, ok := a.AlbumByID(id)
	return al.Name, ok
}

func (a *secApp) song(title string) (apptest.SongRow, bool) {
	a.t.Helper()
	return a.Song(title)
}
