package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/store"
)

// probe answers GET path on a's app with its status and body.
func probe(t *testing.T, a *apptest.App, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(a.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", path, cc)
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// TestProbes: /healthz is liveness, answered without the database, so an
// outage does not get every instance restarted; /readyz is 200 only while
// the database takes a write and the process is not draining. Neither says
// more than ok or unavailable, to anyone (no login).
func TestProbes(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b)
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, body := probe(t, a, path); code != http.StatusOK || body != "ok" {
				t.Errorf("%s: %d %q, want 200 ok", path, code, body)
			}
		}

		// The database gone: alive, not ready.
		if err := a.Data.Close(); err != nil {
			t.Fatal(err)
		}
		if code, body := probe(t, a, "/healthz"); code != http.StatusOK || body != "ok" {
			t.Errorf("/healthz with the database closed: %d %q, want 200 ok", code, body)
		}
		if code, body := probe(t, a, "/readyz"); code != http.StatusServiceUnavailable || body != "unavailable" {
			t.Errorf("/readyz with the database closed: %d %q, want 503 unavailable", code, body)
		}
		// A passing probe is not logged (a load balancer asks several
		// times a second); a failing one is.
		if log := a.Log.String(); strings.Contains(log, "path=/healthz") || strings.Contains(log, "path=/readyz status=200") ||
			!strings.Contains(log, "path=/readyz status=503") {
			t.Errorf("probe lines in the log:\n%s", log)
		}
	})
}

// TestReadyWhileDraining: once the drain begins, /readyz is 503 although
// the database is fine, so that a load balancer takes the instance out
// while it still serves.
func TestReadyWhileDraining(t *testing.T) {
	a := apptest.NewApp(t, apptest.SQLite)
	a.Web.Probes.Drain()
	if code, body := probe(t, a, "/readyz"); code != http.StatusServiceUnavailable || body != "unavailable" {
		t.Errorf("/readyz while draining: %d %q, want 503 unavailable", code, body)
	}
	if code, _ := probe(t, a, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while draining: %d, want 200", code)
	}
	if r := a.LoggedIn().Get("/albumview/list/"); r.Status != http.StatusOK {
		t.Errorf("a page while draining: %d, want 200 (still serving)", r.Status)
	}
}

func TestSQLiteFile(t *testing.T) {
	for dsn, want := range map[string]string{
		"app.db":                            "app.db",
		"/var/lib/music/app.db?_fk=1":       "/var/lib/music/app.db",
		"file:data/app.db?cache=shared":     "data/app.db",
		":memory:":                          "",
		"file:mem?mode=memory&cache=shared": "",
	} {
		if got := store.SQLiteFile(dsn); got != want {
			t.Errorf("SQLiteFile(%q) = %q, want %q", dsn, got, want)
		}
	}
}
