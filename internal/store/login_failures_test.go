package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"musicadmin/internal/apptest"
	"musicadmin/internal/store"
)

// failuresDB is a migrated database holding n failures of 500 addresses,
// one every 10 ms from start, analyzed: a planner weighs the sizes of
// tables, and with none in them any plan is as cheap as another.
func failuresDB(t *testing.T, b apptest.Backend, n int, start time.Time) *gorm.DB {
	t.Helper()
	db, _ := apptest.OpenMigrated(t, b)
	rows := make([]store.LoginFailure, n)
	for i := range rows {
		rows[i] = store.LoginFailure{Addr: fmt.Sprintf("192.0.%d.%d", i%500/250, i%250),
			FailedAt: start.Add(time.Duration(i) * 10 * time.Millisecond).UnixMilli()}
	}
	if err := db.CreateInBatches(rows, 1000).Error; err != nil {
		t.Fatal(err)
	}
	analyze := map[string]string{"mysql": "ANALYZE TABLE login_failures", "postgres": "ANALYZE login_failures",
		"sqlite": "ANALYZE"}[b.Driver]
	if err := db.Exec(analyze).Error; err != nil {
		t.Fatal(err)
	}
	return db
}

// plan returns the plan of query with args, as text.
func plan(t *testing.T, db *gorm.DB, b apptest.Backend, query string, args ...any) string {
	t.Helper()
	switch b.Driver {
	case "postgres":
		return postgresPlan(t, db, query, args...)
	case "mysql":
		var rows []struct {
			Table, Type, Key, Extra string
		}
		if err := db.Raw("EXPLAIN "+query, args...).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%+v", rows)
	default:
		var rows []struct{ Detail string }
		if err := db.Raw("EXPLAIN QUERY PLAN "+query, args...).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rows)
	}
}

// TestLoginFailurePlans checks the plans of the login throttle's queries
// over 30,000 failures of 500 addresses. The read, which every login try
// runs, is one range of ix_login_failures_addr_failed_at: the address's
// failures in the window, at most about the limit since a blocked address
// adds none, whatever the table holds. SQLite and MySQL walk it from its
// end; PostgreSQL may sort the few rows it finds instead. The prune of
// a small part of the table is one range of ix_login_failures_failed_at.
// (A prune of a third of it, what each prune takes in steady state, is a
// scan of the table on MySQL, and rightly: the table is bounded by the
// rate of failed logins, which bcrypt bounds.)
func TestLoginFailurePlans(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		const n = 30_000
		db := failuresDB(t, b, n, start)
		end := start.Add(n * 10 * time.Millisecond)
		read := plan(t, db, b, store.LoginFailuresSQL, "192.0.1.7", end.Add(-20*time.Second).UnixMilli(), 11)
		prune := plan(t, db, b, store.PruneLoginFailuresSQL, start.Add(n/50*10*time.Millisecond).UnixMilli())
		var readOK, pruneOK bool
		switch b.Driver {
		case "postgres":
			readOK = strings.Contains(read, "ix_login_failures_addr_failed_at") && !strings.Contains(read, "Seq Scan") &&
				strings.Contains(read, "Index Cond: (((addr)::text = '192.0.1.7'::text) AND (failed_at > ")
			pruneOK = strings.Contains(prune, "ix_login_failures_failed_at") && !strings.Contains(prune, "Seq Scan")
		case "mysql":
			readOK = strings.Contains(read, "Type:range Key:ix_login_failures_addr_failed_at ") &&
				!strings.Contains(read, "filesort")
			pruneOK = strings.Contains(prune, "Type:range Key:ix_login_failures_failed_at ")
		default:
			readOK = strings.Contains(read, "USING COVERING INDEX ix_login_failures_addr_failed_at (addr=? AND failed_at>?)") &&
				!strings.Contains(read, "TEMP B-TREE")
			pruneOK = strings.Contains(prune, "INDEX ix_login_failures_failed_at (failed_at<?)")
		}
		if !readOK {
			t.Errorf("read of an address's failures:\n%s", read)
		}
		if !pruneOK {
			t.Errorf("prune:\n%s", prune)
		}
	})
}
