package server_test

import (
	"io"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/metrics"
	"musicadmin/internal/server"
)

// scrape reads m's /metrics as Prometheus's text format.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// value is the value of the sample line that starts with series, or -1.
func value(text, series string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// TestMetrics: requests are counted by route pattern, never by raw path,
// id or query (SECURITY-TESTS 72: a client cannot grow the series); login
// failures, audit entries, the pool and the build are reported; and the
// app's own address does not serve /metrics.
func TestMetrics(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b)
		m := metrics.New("9.9.9", a.Data.Backend)
		inst := a.Instance(t, server.Options{Metrics: m}, nil)
		before := scrape(t, m)
		failures := value(before, "app_login_failures_total")
		entries := value(before, "app_audit_entries_total")

		id := a.InsertAlbum("Metered")
		c := inst.LoggedIn()
		c.Get("/albumview/show/" + id)
		c.Get("/albumview/show/" + id + "?secret=" + url.QueryEscape("x y"))
		c.Get("/no/such/page/12345")
		c.Submit("/albumview/add", url.Values{"name": {"Counted"}})
		inst.Client().Submit("/login/", url.Values{"username": {apptest.AdminUser}, "password": {"wrong-password"}})
		if r := inst.Client().Get("/metrics"); r.Status != 404 {
			t.Errorf("/metrics on the app's address: %d, want 404", r.Status)
		}

		text := scrape(t, m)
		if v := value(text, `app_http_requests_total{method="GET",route="/albumview/show/{id}",status="200"}`); v != 2 {
			t.Errorf("show page requests: %v, want 2\n%s", v, grep(text, "app_http_requests_total"))
		}
		if v := value(text, `app_http_requests_total{method="GET",route="unmatched",status="404"}`); v < 2 {
			t.Errorf("unmatched requests: %v, want the unknown page and /metrics", v)
		}
		for _, leak := range []string{"/albumview/show/" + id + `"`, "12345", "secret", "no/such"} {
			if strings.Contains(grep(text, "app_http"), leak) {
				t.Errorf("a label holds %q from a raw path or query", leak)
			}
		}
		if !regexp.MustCompile(`app_http_request_duration_seconds_count\{method="POST",route="/albumview/add"\} 1`).MatchString(text) {
			t.Errorf("no latency of the add:\n%s", grep(text, "duration_seconds_count"))
		}
		if v := value(text, "app_login_failures_total"); v != failures+1 {
			t.Errorf("login failures: %v, want %v", v, failures+1)
		}
		// The add and the login failure wrote one entry each (the
		// process counter is shared by every app of the test binary:
		// at least).
		if v := value(text, "app_audit_entries_total"); v < entries+2 {
			t.Errorf("audit entries: %v, want at least %v", v, entries+2)
		}
		if v := value(text, `app_build_info{driver="`+b.Driver+`",version="9.9.9"}`); v != 1 {
			t.Errorf("build info: %v\n%s", v, grep(text, "app_build_info"))
		}
		if v := value(text, "app_db_pool_open_connections"); v < 1 {
			t.Errorf("open connections: %v, want at least 1", v)
		}
		if value(text, "go_goroutines") < 1 {
			t.Error("no Go runtime metrics")
		}
	})
}

// grep is the lines of text that hold sub.
func grep(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
