package multiinstance_test

import (
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/apptest"
)

// countTTL is how long the stores trust a cached count while other
// processes may write (store.countTTL, mongostore.markTTL): the staleness
// of a list's count across instances.
const countTTL = 10 * time.Second

// TestSeveralInstances runs each item of the issue as a subtest on one
// cluster per backend: three instances on a fresh database behind HAProxy.
// Items use their own users, records and client addresses, so they leave
// one another alone; the kill and the rolling restart come last. One
// database per backend rather than per item: a cluster takes seconds to
// set up (create-admin and create-token hash at the production cost).
func TestSeveralInstances(t *testing.T) {
	gate(t)
	for _, b := range []apptest.Backend{apptest.MySQL, apptest.Postgres, apptest.MongoDB} {
		t.Run(b.Name, func(t *testing.T) {
			// The backends in parallel: most of a cluster's time is
			// waiting (a count's life, drains, health checks).
			t.Parallel()
			apptest.RequireBackend(t, b)
			c := newCluster(t, b)
			t.Run("session", func(t *testing.T) { testSession(t, c) })
			t.Run("logout", func(t *testing.T) { testLogout(t, c) })
			t.Run("permission", func(t *testing.T) { testPermission(t, c) })
			t.Run("login throttle", func(t *testing.T) { testLoginThrottle(t, c) })
			t.Run("token throttle", func(t *testing.T) { testTokenThrottle(t, c) })
			t.Run("audit", func(t *testing.T) { testAudit(t, c) })
			t.Run("count staleness", func(t *testing.T) { testCountStaleness(t, c) })
			t.Run("kill under load", func(t *testing.T) { testKillUnderLoad(t, c) })
			t.Run("rolling restart", func(t *testing.T) { testRollingRestart(t, c) })
		})
	}
}

// gate runs the suite only with APP_FAULTS=all (make faults): on two
// cores under the race detector a backend takes a minute or two, most of
// it bcrypt at the production cost in create-admin and the instances.
func gate(t *testing.T) {
	t.Helper()
	if os.Getenv("APP_FAULTS") != "all" {
		t.Skip("the multi-instance suite runs with APP_FAULTS=all (make faults)")
	}
}

// testSession: a session made through instance A is honoured by B and C,
// and through the balancer, whichever instance answers.
func testSession(t *testing.T, c *cluster) {
	a := c.loggedIn(0)
	for i := 1; i < instances; i++ {
		if !c.site(i).ClientWith(a.Cookies()).IsLoggedIn() {
			t.Errorf("the session made on app1 is not one on %s", name(i))
		}
	}
	before, err := c.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	viaLB := c.lbSite().ClientWith(a.Cookies())
	for range 2 * instances {
		if !viaLB.IsLoggedIn() {
			t.Fatal("the session made on app1 is not one through the balancer")
		}
	}
	after, err := c.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	for i := range instances {
		if after[name(i)].Total == before[name(i)].Total {
			t.Errorf("the balancer sent %s none of %d requests: %v", name(i), 2*instances, after)
		}
	}
}

// testLogout: a logout through A ends the session on B and C at once.
func testLogout(t *testing.T, c *cluster) {
	a := c.loggedIn(0)
	others := []*apptest.Client{c.site(1).ClientWith(a.Cookies()), c.site(2).ClientWith(a.Cookies()),
		c.lbSite().ClientWith(a.Cookies())}
	for i, o := range others {
		if !o.IsLoggedIn() {
			t.Fatalf("client %d: not logged in before the logout", i)
		}
	}
	a.Post("/logout/", url.Values{"csrf_token": {a.CSRF("/")}}).ExpectRedirect(t, "logout on app1", "/login/")
	for i, o := range others {
		if o.IsLoggedIn() {
			t.Errorf("client %d: still logged in after the logout on app1", i)
		}
	}
}

// testPermission: a permission removed from a role through A is refused at
// once on B and C, to a user logged in before the change.
func testPermission(t *testing.T, c *cluster) {
	admin := c.loggedIn(0)
	role := "Listers " + c.b.Name
	perms := []string{"menu_access:songsview", "can_list:songsview", "can_show:songsview"}
	admin.Submit("/roles/add", url.Values{"name": {role}, "permissions": perms}).
		ExpectRedirect(t, "add role", "/roles/list/")
	r := mustAPI(t, c.procs[0].URL(), c.token, "GET", "/api/v1/roles/?name="+url.QueryEscape(role), nil, http.StatusOK)
	ids, _ := r.JSON["ids"].([]any)
	if len(ids) != 1 {
		t.Fatalf("role %q: ids %v", role, ids)
	}
	roleID := ids[0].(string)
	const user, password = "lister", "lister-password-1"
	admin.Submit("/users/add", url.Values{"username": {user}, "first_name": {"Li"}, "last_name": {"Ster"},
		"email": {"lister@example.com"}, "active": {"true"}, "roles": {roleID},
		"password": {password}, "password_confirm": {password}}).ExpectRedirect(t, "add user", "/users/list/")
	cheapen(t, c.stored, user, password)

	lister := c.site(1).Client()
	lister.Login(user, password)
	onB, onC := lister, c.site(2).ClientWith(lister.Cookies())
	for _, cl := range []*apptest.Client{onB, onC} {
		cl.Get("/songsview/list/").ExpectStatus(t, "the lister lists songs", http.StatusOK)
	}

	edit := admin.Get("/roles/edit/" + roleID)
	edit.ExpectStatus(t, "role edit form", http.StatusOK)
	form := apptest.FormValues(edit)
	if !slices.Contains(form["permissions"], "can_list:songsview") {
		t.Fatalf("the role's form holds %q", form["permissions"])
	}
	form["permissions"] = slices.DeleteFunc(form["permissions"], func(p string) bool { return p == "can_list:songsview" })
	admin.Submit("/roles/edit/"+roleID, form).ExpectRedirect(t, "remove can_list", "/roles/list/")
	for i, cl := range []*apptest.Client{onB, onC} {
		cl.Get("/songsview/list/").ExpectStatus(t, "the lister lists songs on "+name(i+1)+" after the change", http.StatusForbidden)
		cl.Get("/").ExpectStatus(t, "the lister's home on "+name(i+1), http.StatusOK)
	}
}

// throttleLimit is the login throttle's: 10 failures per 20 s and address.
const throttleLimit = 10

// testLoginThrottle: failed logins spread over the instances count
// together; the 11th is refused with 429 wherever it lands, the right
// password too, and only for the address that failed.
func testLoginThrottle(t *testing.T, c *cluster) {
	const ip = "127.0.0.11"
	clients := make([]*apptest.Client, instances)
	for i := range instances {
		clients[i] = from(c.site(i).Client(), ip)
	}
	wrong := url.Values{"username": {apptest.AdminUser}, "password": {"not the password"}}
	for n := range throttleLimit {
		r := clients[n%instances].Submit("/login/", wrong)
		r.ExpectStatus(t, "failed login "+name(n%instances), http.StatusOK)
	}
	for i, cl := range clients {
		r := cl.Submit("/login/", wrong)
		r.ExpectStatus(t, "11th failed login on "+name(i), http.StatusTooManyRequests)
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("429 on %s without Retry-After", name(i))
		}
		right := url.Values{"username": {apptest.AdminUser}, "password": {apptest.AdminPassword}}
		cl.Submit("/login/", right).ExpectStatus(t, "right password from the blocked address on "+name(i), http.StatusTooManyRequests)
	}
	// Another address is not blocked.
	from(c.site(1).Client(), "127.0.0.12").Login(apptest.AdminUser, apptest.AdminPassword)
}

// testTokenThrottle: bad API tokens spread over the instances count
// together; the 11th is 429 wherever it lands, while a good token from the
// same address still works.
func testTokenThrottle(t *testing.T, c *cluster) {
	const ip = "127.0.0.13"
	hc := from(c.site(0).Client(), ip).HTTP
	for n := range throttleLimit {
		a, err := api(hc, c.procs[n%instances].URL(), "bad-token-"+c.b.Name, "GET", "/api/v1/songsview/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != http.StatusUnauthorized {
			t.Fatalf("bad token %d on %s: status %d, want 401", n+1, name(n%instances), a.Status)
		}
	}
	for i := range instances {
		a, err := api(hc, c.procs[i].URL(), "bad-token-"+c.b.Name, "GET", "/api/v1/songsview/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != http.StatusTooManyRequests || a.Header.Get("Retry-After") == "" {
			t.Errorf("11th bad token on %s: status %d, Retry-After %q; want 429 with one", name(i), a.Status, a.Header.Get("Retry-After"))
		}
		if a, err := api(hc, c.procs[i].URL(), c.token, "GET", "/api/v1/songsview/", nil); err != nil || a.Status != http.StatusOK {
			t.Errorf("a good token from the blocked address on %s: %v %v", name(i), err, a)
		}
	}
}

// testAudit: an entry written through A shows at once in the audit log
// read on B and C, and in the record's history there.
func testAudit(t *testing.T, c *cluster) {
	admin := c.loggedIn(0)
	album := "Audited " + c.b.Name
	admin.Submit("/albumview/add", url.Values{"name": {album}}).ExpectStatus(t, "add album on app1", http.StatusFound)
	r := mustAPI(t, c.procs[0].URL(), c.token, "GET", "/api/v1/albumview/?name="+url.QueryEscape(album), nil, http.StatusOK)
	ids, _ := r.JSON["ids"].([]any)
	if len(ids) != 1 {
		t.Fatalf("album %q: ids %v", album, ids)
	}
	id := ids[0].(string)
	for i := 1; i < instances; i++ {
		cl := c.site(i).ClientWith(admin.Cookies())
		list := cl.Get("/auditlog/list/?action=create")
		list.ExpectStatus(t, "audit log on "+name(i), http.StatusOK)
		if !slices.ContainsFunc(list.Rows(), func(row []string) bool { return slices.Contains(row, album) }) {
			t.Errorf("the audit log on %s lacks the creation of %q on app1: %q", name(i), album, list.Rows())
		}
		hist := cl.Get("/albumview/history/" + id)
		hist.ExpectStatus(t, "history on "+name(i), http.StatusOK)
		if !strings.Contains(hist.Body, album) || !strings.Contains(hist.Text("main"), "create") {
			t.Errorf("the history on %s lacks the creation: %.500s", name(i), hist.Text("main"))
		}
	}
}

// testCountStaleness: a list's count on B, cached just before a write on
// A, is right within countTTL of the write; A's own count at once. The
// whole list and a filtered one are measured: on MongoDB the whole
// collection is counted from its metadata on every read, never cached.
func testCountStaleness(t *testing.T, c *cluster) {
	prefix := "Stale " + c.b.Name
	lists := []string{"/api/v1/albumview/?page_size=1", "/api/v1/albumview/?page_size=1&name__startswith=" + url.QueryEscape(prefix)}
	a, b := c.procs[0].URL(), c.procs[1].URL()
	counts := make([]int, len(lists))
	for k, l := range lists {
		counts[k] = mustAPI(t, b, c.token, "GET", l, nil, http.StatusOK).count(t) // cached on B now
		mustAPI(t, a, c.token, "GET", l, nil, http.StatusOK)                      // and on A
	}
	mustAPI(t, a, c.token, "POST", "/api/v1/albumview/", map[string]any{"name": prefix + " 1"}, http.StatusCreated)
	wrote := time.Now()
	for k, l := range lists {
		if got := mustAPI(t, a, c.token, "GET", l, nil, http.StatusOK).count(t); got != counts[k]+1 {
			t.Errorf("%s on app1 right after its own write: %d, want %d", l, got, counts[k]+1)
		}
	}
	// Generous for a slow machine: the bound is countTTL from the count,
	// which was taken before the write.
	deadline := wrote.Add(countTTL + 5*time.Second)
	for k, l := range lists {
		first := mustAPI(t, b, c.token, "GET", l, nil, http.StatusOK).count(t)
		for {
			got := mustAPI(t, b, c.token, "GET", l, nil, http.StatusOK).count(t)
			if got == counts[k]+1 {
				t.Logf("STALENESS %s %s: right on app2 %v after the write on app1 (first read after it: %d, before: %d)",
					c.b.Name, l, time.Since(wrote).Round(10*time.Millisecond), first, counts[k])
				break
			}
			if got != counts[k] {
				t.Fatalf("%s on app2: %d, neither the count before the write (%d) nor after", l, got, counts[k])
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s on app2 still %d %v after the write on app1, want %d within %v",
					l, got, time.Since(wrote).Round(time.Millisecond), counts[k]+1, countTTL)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// loadWorkers is how many clients the load runs through the balancer.
const loadWorkers = 6

// testKillUnderLoad: one instance SIGKILLed while clients write and read
// through the balancer costs only requests in flight at that instant, and
// every acknowledged write is stored. HAProxy sends a GET in flight again
// to another instance; a POST it does not, as it may have been done (it
// may: "done all the same" below), and closes that client's connection
// without an answer, as a server closing a kept-alive connection would.
func testKillUnderLoad(t *testing.T, c *cluster) {
	l := startLoad(c.lb.URL(), c.token, "Kill "+c.b.Name, loadWorkers)
	l.waitRequests(t, 60, 2*time.Minute)
	st, err := c.lb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// The kill takes a moment: the process serves until the kernel has
	// torn it down. A request is in flight at the kill when it started
	// before the process was gone and ended after the signal.
	signalled := time.Now()
	c.kill(1)
	gone := time.Now()
	c.lb.WaitStatus(t, name(1), "DOWN", 30*time.Second)
	l.waitRequests(t, 60, 2*time.Minute)
	reqs := l.halt()

	failed, acked := tally(reqs)
	inFlight := inFlightAt(reqs, signalled, gone)
	for _, r := range failed {
		if !r.start.Before(gone) || !r.end.After(signalled) {
			t.Errorf("a request not in flight at the kill failed: %s %v (started %v after the signal)",
				r.method, r.err, r.start.Sub(signalled).Round(time.Millisecond))
		}
		if r.method != http.MethodPost {
			t.Errorf("a %s failed at the kill: HAProxy should have sent it elsewhere: %v", r.method, r.err)
		}
	}
	doneAnyway := c.checkAcked(t, acked, failed)
	t.Logf("KILL %s: %d requests (%d creations acknowledged), %d in flight at the kill (HAProxy: %d on app2 just before; the kill took %v), %d failed (%d of them done all the same)",
		c.b.Name, len(reqs), len(acked), len(inFlight), st[name(1)].Current, gone.Sub(signalled).Round(time.Millisecond),
		len(failed), doneAnyway)
	if len(failed) > len(inFlight) {
		t.Errorf("%d requests failed, more than the %d in flight at the kill", len(failed), len(inFlight))
	}
	if len(failed) > 0 {
		t.Logf("failures: %v", errorsOf(failed))
	}
	c.restart(1)
}

// testRollingRestart: each instance in turn stopped with SIGTERM and
// started again while clients write and read through the balancer: no
// client sees an error, and every acknowledged write is stored.
func testRollingRestart(t *testing.T, c *cluster) {
	l := startLoad(c.lb.URL(), c.token, "Roll "+c.b.Name, loadWorkers)
	l.waitRequests(t, 30, 2*time.Minute)
	for i := range instances {
		c.stop(i)
		l.waitRequests(t, 10, 2*time.Minute)
		c.restart(i)
		l.waitRequests(t, 10, 2*time.Minute)
	}
	reqs := l.halt()
	failed, acked := tally(reqs)
	c.checkAcked(t, acked, failed)
	t.Logf("ROLLING %s: %d requests (%d creations acknowledged), %d failed", c.b.Name, len(reqs), len(acked), len(failed))
	if len(failed) > 0 {
		t.Errorf("%d of %d requests failed during the rolling restart: %v", len(failed), len(reqs), errorsOf(failed))
	}
}
