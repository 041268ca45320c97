package faults

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"musicadmin/internal/config"
	"musicadmin/internal/opstest"
)

// fullLength is how long the disk stays full, at least.
const fullLength = 5 * time.Second

// TestFullDisk fills the disk of the app's SQLite database (a small tmpfs)
// under load: writes are answered 503 with Retry-After, reads go on,
// /readyz is 503; logins with the right password answered 503 meanwhile
// cost the address none of its login budget; and once space returns the
// app recovers by itself: a login succeeds at once (no 429), /readyz is
// 200 and writes are acknowledged again, none of those acknowledged before
// lost.
func TestFullDisk(t *testing.T) {
	slowTest(t)
	t.Parallel()
	dir := opstest.Tmpfs(t, "24m")
	db := config.Database{Driver: config.DriverSQLite, DSN: filepath.Join(dir, "app.db")}
	s := newSite(t, db, nil)
	load := s.load(2, 1)
	load.WaitAcked(t, 30, time.Minute)
	before := len(s.Log())

	free := opstest.FillDisk(t, dir)
	fullAt := time.Now()
	full := load.Snapshot()
	// A SQLite WAL may have room left in it: writes fail once it is used.
	opstest.WaitFor(t, time.Minute, "writes answered 503 on the full disk", func() bool {
		return load.Snapshot().Writes[http.StatusServiceUnavailable] >= full.Writes[http.StatusServiceUnavailable]+20
	})
	if code := s.status("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a full disk: %d, want 503", code)
	}
	if code := s.status("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz on a full disk: %d, want 200 (liveness only)", code)
	}
	reads := load.Snapshot().Reads[http.StatusOK]
	opstest.WaitFor(t, 30*time.Second, "reads to go on on the full disk", func() bool {
		return load.Snapshot().Reads[http.StatusOK] >= reads+5
	})

	// More right-password logins answered 503 than the throttle allows
	// failures (10 per 20 s): none may count as one.
	web := opstest.NewWebClient(s.URL)
	unavailable := 0
	for range 40 {
		code, retry, err := web.Login(adminUser, adminPassword)
		if err != nil {
			t.Fatalf("login on the full disk: %v", err)
		}
		if code == http.StatusTooManyRequests {
			t.Fatalf("a login with the right password on the full disk answered 429 after %d answered 503: "+
				"the unavailable logins counted as failures", unavailable)
		}
		if code == http.StatusServiceUnavailable {
			if retry == "" {
				t.Error("a login answered 503 without Retry-After")
			}
			if unavailable++; unavailable == 12 {
				break
			}
		} else if code != http.StatusFound {
			t.Errorf("a login with the right password on the full disk: %d, want 503 (or 302)", code)
		}
	}
	if unavailable < 12 {
		t.Errorf("only %d of 40 logins on the full disk answered 503", unavailable)
	}

	// Full for a few seconds at least, as a real full disk is: the log's
	// rate limit shows over several seconds.
	time.Sleep(time.Until(fullAt.Add(fullLength)))
	free()
	freed := time.Now()
	// At once: within the throttle's window, which a login counted while
	// the disk was full would still block. (The password check alone takes
	// seconds: bcrypt at the production cost, under the race detector, on
	// a machine busy with the load.)
	opstest.WaitFor(t, 2*time.Minute, "a login once space returned", func() bool {
		code, _, err := web.Login(adminUser, adminPassword)
		if err != nil || code == http.StatusTooManyRequests {
			t.Fatalf("a login once space returned: %d %v, want 302 (the logins on the full disk must not count)", code, err)
		}
		return code == http.StatusFound
	})
	login := time.Since(freed)
	opstest.WaitFor(t, time.Minute, "/readyz 200 once space returned", func() bool {
		return s.status("/readyz") == http.StatusOK
	})
	load.WaitAcked(t, 30, time.Minute)
	res := load.Stop()
	first, _ := res.AckedSince(freed)
	recovery := first.At.Sub(freed)
	t.Logf("sqlite on a full disk: %v; after space returned: login %v, first write %v", res,
		login.Round(time.Millisecond), recovery.Round(time.Millisecond))

	if !s.p.Running() {
		t.Fatal("the app exited: recovery needs no restart")
	}
	if n := res.ServerErrors(); n > 0 {
		t.Errorf("clients saw %d 5xx answers other than 503: %q", n, res.Samples)
	}
	if n := res.Count(0); n > 0 {
		t.Errorf("%d requests got no answer: %q", n, res.Samples)
	}
	if res.NoRetryAfter > 0 {
		t.Errorf("%d answers 503 without Retry-After", res.NoRetryAfter)
	}
	lost := checkAcked(t, db, res.Acked)
	checkIntegrity(t, db)
	checkRateLimited(t, s.Log()[before:], res.Count(http.StatusServiceUnavailable))
	checkNoServerErrors(t, s.Log())
	figures(t, "sqlite", "full-disk", res, lost, recovery)
	s.Stop()
}
