package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"musicadmin/internal/apptest"
)

// BenchmarkAuditLogAtScale times the audit log's list pages through the
// whole app on a SQLite file holding APP_BENCH_AUDIT entries (default a
// million: 50 users, six actions, two views, 100,000 records), and reports
// each page's median: the contract's "its list fast at a million entries".
//
//	go test -run '^$' -bench AuditLogAtScale -benchtime 200x ./internal/server/
func BenchmarkAuditLogAtScale(b *testing.B) {
	n := envInt("APP_BENCH_AUDIT", 1_000_000)
	a := apptest.NewApp(b, apptest.SQLite)
	// One statement: a recursive CTE generating the rows, a second apart.
	err := a.DB.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
INSERT INTO audit_log (at, username, action, view_name, record_id, record_label, changes)
SELECT strftime('%Y-%m-%dT%H:%M:%S', 1700000000 + i, 'unixepoch') || '.000000Z',
       'user' || (i % 50),
       CASE i % 6 WHEN 0 THEN 'create' WHEN 1 THEN 'update' WHEN 2 THEN 'delete'
                  WHEN 3 THEN 'login' WHEN 4 THEN 'logout' ELSE 'login_failed' END,
       CASE WHEN i % 6 < 3 THEN CASE i % 2 WHEN 0 THEN 'songsview' ELSE 'albumview' END ELSE '' END,
       CASE WHEN i % 6 < 3 THEN CAST(i % 100000 AS TEXT) ELSE '' END,
       CASE WHEN i % 6 < 3 THEN 'Record ' || (i % 100000) ELSE '' END,
       '[{"field":"rating","old":"3","new":"5"}]'
FROM n`, n).Error
	if err != nil {
		b.Fatal(err)
	}
	if err := a.DB.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	c := a.LoggedIn()
	u, _ := url.Parse(a.URL)
	cookies := c.HTTP.Jar.Cookies(u)
	for _, tc := range []struct{ name, path string }{
		{"first-page", "/auditlog/list/"},
		{"page-400", "/auditlog/list/?page=400"},
		{"oldest-first", "/auditlog/list/?sort=at"},
		{"user", "/auditlog/list/?username=user7"},
		{"action", "/auditlog/list/?action=update"},
		{"view", "/auditlog/list/?view_name=songsview"},
		{"record", "/auditlog/list/?view_name=songsview&record_id=4242"},
		{"search", "/auditlog/list/?q=" + url.QueryEscape("Record 4242")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, tc.path, nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				rec := httptest.NewRecorder()
				start := time.Now()
				a.Web.Handler.ServeHTTP(rec, req)
				times = append(times, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: status %d", tc.path, rec.Code)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
