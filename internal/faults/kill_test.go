package faults

import (
	"net/http"
	"testing"
	"time"

	"musicadmin/internal/apptest"
)

// killRounds is how many times each backend's app is killed.
const killRounds = 3

// TestKillUnderWrites kills the app with SIGKILL while writers create
// albums through the API, restarts it on the same database, and again:
// every write it acknowledged (201) is there afterwards with its name, the
// audit log and the albums agree, and the database's own checks are clean.
// SQLite in every run; the server backends (shared servers, a fresh
// database each) with APP_FAULTS=all.
func TestKillUnderWrites(t *testing.T) {
	t.Parallel()
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			if b != apptest.SQLite {
				slowTest(t)
			}
			killUnderWrites(t, b)
		})
	}
}

func killUnderWrites(t *testing.T, b apptest.Backend) {
	db := apptest.NewDatabase(t, b)
	s := newSite(t, db, nil)
	load := s.load(4, 1)
	for round := range killRounds {
		// A different moment of the write each round: after 20, 35, 50
		// acknowledged writes.
		load.WaitAcked(t, 20+15*round, 2*time.Minute)
		s.Kill()
		s.Start()
	}
	load.WaitAcked(t, 20, 2*time.Minute)
	res := load.Stop()
	t.Logf("%s: %v", b.Name, res)

	lost := checkAcked(t, db, res.Acked)
	s.checkAudit(t)
	checkIntegrity(t, db)
	if n := res.ServerErrors(); n > 0 {
		t.Errorf("clients saw %d 5xx answers other than 503: %v\n%v", n, res, res.Samples)
	}
	if res.NoRetryAfter > 0 {
		t.Errorf("%d answers 503 without Retry-After", res.NoRetryAfter)
	}
	for status := range res.Writes {
		if status != 0 && status != http.StatusCreated && status != http.StatusServiceUnavailable {
			t.Errorf("writes answered %d: %v", status, res)
		}
	}
	checkNoServerErrors(t, s.Log())
	figures(t, b.Name, "sigkill", res, lost, 0)
	s.Stop()
}
