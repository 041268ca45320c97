package faults

import (
	"net/http"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/opstest"
)

// TestSQLiteNotWritableAtStart: the app started on a SQLite file it may
// not write serves reads, answers writes 503 with Retry-After and is not
// ready; once the file is writable it heals by itself, without a restart:
// ready again, and writes succeed.
func TestSQLiteNotWritableAtStart(t *testing.T) {
	t.Parallel()
	db := apptest.NewDatabase(t, apptest.SQLite)
	s := prepareSite(t, db, nil)
	opstest.SetWritable(t, db.DSN, false)
	s.Start()

	if code := s.status("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz on a read-only file: %d, want 200 (the process is alive)", code)
	}
	if code := s.status("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a read-only file: %d, want 503", code)
	}
	if code, _, body := s.api(http.MethodGet, "/api/v1/albumview/", nil); code != http.StatusOK {
		t.Errorf("a read on a read-only file: %d %s, want 200", code, body)
	}
	code, retry, body := s.api(http.MethodPost, "/api/v1/albumview/", map[string]string{"name": "Not yet"})
	if code != http.StatusServiceUnavailable || retry == "" {
		t.Errorf("a write on a read-only file: %d (Retry-After %q) %s, want 503 with Retry-After", code, retry, body)
	}

	opstest.SetWritable(t, db.DSN, true)
	healed := time.Now()
	opstest.WaitFor(t, 30*time.Second, "/readyz 200 once the file is writable", func() bool {
		return s.status("/readyz") == http.StatusOK
	})
	var id string
	opstest.WaitFor(t, 30*time.Second, "a write to succeed once the file is writable", func() bool {
		code, _, body := s.api(http.MethodPost, "/api/v1/albumview/", map[string]string{"name": "Written"})
		if code == http.StatusCreated {
			id = string(body)
			return true
		}
		if code != http.StatusServiceUnavailable {
			t.Fatalf("a write after the file became writable: %d %s", code, body)
		}
		return false
	})
	t.Logf("healed %v after the file became writable", time.Since(healed).Round(time.Millisecond))
	if _, ok := apptest.Stored(t, db).Album("Written"); !ok {
		t.Errorf("the write answered 201 (%s) is not in the database", id)
	}
	if !s.p.Running() {
		t.Fatal("the app exited")
	}
	checkNoServerErrors(t, s.Log())
	s.Stop()
}
