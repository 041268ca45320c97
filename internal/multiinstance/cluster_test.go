package multiinstance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
	"musicadmin/internal/opstest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	opstest.Cleanup()
	os.Exit(code)
}

// instances is how many app processes a cluster runs.
const instances = 3

// drainDelay is APP_SERVER_DRAIN_DELAY of every instance: after SIGTERM
// its /readyz answers 503 that long while it still serves, which is time
// for HAProxy (a check every 200 ms, down after two failures) to take it
// out of the rotation before its listener closes. With neither the delay
// nor HAProxy's http-server-close, a rolling restart here cost a POST
// now and then (an idle kept-alive connection closed by the stopping
// instance as HAProxy sent a request on it); either one alone was clean.
const drainDelay = "1s"

// cluster is three instances of the app on one database behind HAProxy.
type cluster struct {
	t     *testing.T
	b     apptest.Backend
	db    config.Database
	bin   string
	cfg   string
	addrs []string
	procs []*opstest.Process
	lb    *opstest.LB
	// stored reads and writes the database behind the app's back.
	stored *apptest.App
	// token is an API token of the admin, made by app create-token.
	token string
}

// newCluster makes a fresh database of b as an operator would (app
// create-db, create-admin, create-token), starts the instances on fixed
// loopback addresses (a restarted one keeps its place in HAProxy's
// configuration) and HAProxy in front of them.
func newCluster(t *testing.T, b apptest.Backend) *cluster {
	t.Helper()
	c := &cluster{t: t, b: b, db: apptest.NewDatabase(t, b), bin: opstest.Binary(t)}
	c.cfg = opstest.WriteConfig(t, c.db, nil)
	opstest.Run(t, c.bin, "--config", c.cfg, "create-db")
	opstest.Run(t, c.bin, "--config", c.cfg, "create-admin", "--username", apptest.AdminUser, "--firstname", "Ada",
		"--lastname", "Admin", "--email", "admin@example.com", "--password", apptest.AdminPassword)
	c.stored = apptest.Stored(t, c.db)
	// At the binary's cost (12) one bcrypt comparison takes seconds under
	// the race detector: every login would. The cost is the hash's, so a
	// cheaper hash of the same password keeps logins quick and changes
	// nothing the instances share.
	cheapen(t, c.stored, apptest.AdminUser, apptest.AdminPassword)
	out := opstest.Run(t, c.bin, "--config", c.cfg, "create-token", "--username", apptest.AdminUser, "--name", "load")
	c.token = strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	for range instances {
		c.addrs = append(c.addrs, opstest.FreeLoopbackAddr(t))
	}
	c.procs = make([]*opstest.Process, instances)
	for i := range instances {
		c.start(i)
	}
	c.lb = opstest.HAProxy(t, c.addrs, opstest.LBOptions{Check: "/readyz", Interval: 200 * time.Millisecond})
	return c
}

// cheapen stores a MinCost hash of password for username.
func cheapen(t *testing.T, stored *apptest.App, username, password string) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	stored.SetUserField(username, "password_hash", string(hash))
}

// start starts instance i on its address.
func (c *cluster) start(i int) {
	c.t.Helper()
	p := opstest.Start(c.t, c.bin, c.cfg, []string{"APP_SERVER_DRAIN_DELAY=" + drainDelay}, "--addr", c.addrs[i])
	c.procs[i] = p
	c.t.Cleanup(func() {
		if c.t.Failed() {
			c.t.Logf("log of instance app%d (%s):\n%s", i+1, p.Addr, p.Stderr)
		}
	})
}

// name is HAProxy's name of instance i.
func name(i int) string { return fmt.Sprintf("app%d", i+1) }

// stop stops instance i as an operator's rolling restart does: SIGTERM
// alone. The instance tells HAProxy through /readyz during its drain
// delay, then exits 0 once its requests in flight are done.
func (c *cluster) stop(i int) {
	c.t.Helper()
	c.procs[i].Stop(c.t)
	c.lb.WaitStatus(c.t, name(i), "DOWN", 30*time.Second)
}

// restart starts instance i again and waits until HAProxy counts it up.
func (c *cluster) restart(i int) {
	c.t.Helper()
	c.start(i)
	c.lb.WaitStatus(c.t, name(i), "UP", 30*time.Second)
}

// kill SIGKILLs instance i.
func (c *cluster) kill(i int) {
	c.t.Helper()
	c.procs[i].Kill(c.t)
}

// site is instance i as a site for apptest's clients; lbSite is HAProxy.
func (c *cluster) site(i int) *apptest.Site { return apptest.Remote(c.t, c.procs[i].URL()) }
func (c *cluster) lbSite() *apptest.Site    { return apptest.Remote(c.t, c.lb.URL()) }

// loggedIn returns a client of instance i logged in as the admin.
func (c *cluster) loggedIn(i int) *apptest.Client {
	c.t.Helper()
	cl := c.site(i).Client()
	cl.Login(apptest.AdminUser, apptest.AdminPassword)
	return cl
}

// from makes cl connect from the loopback address ip: the throttles count
// by the connection's address, and each test that fills one counts from
// its own, so no test blocks another.
func from(cl *apptest.Client, ip string) *apptest.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 30 * time.Second}
	cl.HTTP.Transport = &http.Transport{DialContext: d.DialContext}
	return cl
}

// apiAnswer is an answer of the JSON API.
type apiAnswer struct {
	Status int
	Header http.Header
	Body   string
	JSON   map[string]any
}

// api sends method path (on base, a site's URL) with token and body (JSON
// when not nil) through hc, and returns the answer or the transport's
// error.
func api(hc *http.Client, base, token, method, path string, body any) (*apiAnswer, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	a := &apiAnswer{Status: res.StatusCode, Header: res.Header, Body: string(raw)}
	_ = json.Unmarshal(raw, &a.JSON)
	return a, nil
}

// mustAPI is api that fails t on a transport error or another status than
// want.
func mustAPI(t *testing.T, base, token, method, path string, body any, want int) *apiAnswer {
	t.Helper()
	a, err := api(http.DefaultClient, base, token, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != want {
		t.Fatalf("%s %s on %s: status %d, want %d: %s", method, path, base, a.Status, want, apptest.Clip(a.Body))
	}
	return a
}

// count is the "count" of a list answer.
func (a *apiAnswer) count(t *testing.T) int {
	t.Helper()
	n, ok := a.JSON["count"].(float64)
	if !ok {
		t.Fatalf("no count in %s", apptest.Clip(a.Body))
	}
	return int(n)
}
