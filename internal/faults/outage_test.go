package faults

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"musicadmin/internal/opstest"
)

// outageLength is how long the database stays down.
const outageLength = 5 * time.Second

// TestDatabaseOutage stops the app's database server (one of the test's
// own, MariaDB and PostgreSQL) under load for a few seconds, then starts it
// again. While it is down, clients get 503 with Retry-After and nothing
// else (no other 5xx, no cut connection), /readyz is 503 and /healthz 200;
// the app recovers without a restart; every write it acknowledged is
// there; and the outage is logged as at most one line per second per
// message, one of them counting what was dropped.
func TestDatabaseOutage(t *testing.T) {
	slowTest(t)
	t.Parallel()
	for _, start := range []struct {
		name  string
		start func(testing.TB) *opstest.DBServer
	}{
		{"mysql", opstest.StartMariaDB},
		{"postgres", opstest.StartPostgres},
	} {
		t.Run(start.name, func(t *testing.T) {
			srv := start.start(t)
			databaseOutage(t, srv)
		})
	}
}

func databaseOutage(t *testing.T, srv *opstest.DBServer) {
	db := srv.NewDatabase(t)
	s := newSite(t, db, nil)
	load := s.load(4, 2)
	load.WaitAcked(t, 50, time.Minute)
	if code := s.status("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz before the outage: %d", code)
	}
	before := len(s.Log())

	srv.Stop(t)
	down := time.Now()
	opstest.WaitFor(t, 10*time.Second, "/readyz 503 with the database down", func() bool {
		return s.status("/readyz") == http.StatusServiceUnavailable
	})
	if code := s.status("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with the database down: %d, want 200 (liveness only)", code)
	}
	duringDown := load.Snapshot()
	time.Sleep(time.Until(down.Add(outageLength)))
	if !s.p.Running() {
		t.Fatal("the app exited while the database was down")
	}

	srv.Start(t)
	up := time.Now()
	opstest.WaitFor(t, time.Minute, "/readyz 200 after the database came back", func() bool {
		return s.status("/readyz") == http.StatusOK
	})
	ready := time.Since(up)
	load.WaitAcked(t, 50, time.Minute)
	res := load.Stop()
	first, _ := res.AckedSince(up)
	recovery := first.At.Sub(up)
	t.Logf("%s: %v; ready %v and first write %v after the database came back",
		srv.Backend.Name, res, ready.Round(time.Millisecond), recovery.Round(time.Millisecond))

	if !s.p.Running() {
		t.Fatal("the app exited: recovery needs no restart")
	}
	if duringDown.Count(http.StatusServiceUnavailable) == 0 && res.Count(http.StatusServiceUnavailable) == 0 {
		t.Error("no 503 while the database was down")
	}
	if n := res.ServerErrors(); n > 0 {
		t.Errorf("clients saw %d 5xx answers other than 503: %q", n, res.Samples)
	}
	if n := res.Count(0); n > 0 {
		t.Errorf("%d requests got no answer (the app must answer 503): %q", n, res.Samples)
	}
	if res.NoRetryAfter > 0 {
		t.Errorf("%d answers 503 without Retry-After", res.NoRetryAfter)
	}
	for _, counts := range []map[int]int{res.Writes, res.Reads} {
		for status, n := range counts {
			if status != http.StatusOK && status != http.StatusCreated && status != http.StatusServiceUnavailable {
				t.Errorf("%d answers %d: %q", n, status, res.Samples)
			}
		}
	}
	lost := checkAcked(t, db, res.Acked)
	log := s.Log()[before:]
	checkRateLimited(t, log, res.Count(http.StatusServiceUnavailable))
	if len(warnings(log, regexp.MustCompile(`unavailable`))) == 0 {
		t.Error("the outage left no WARN line saying the database is unavailable")
	}
	checkNoServerErrors(t, s.Log())
	figures(t, srv.Backend.Name, "outage", res, lost, recovery)
	s.Stop()
}
