package main

// The write cost of database.sqlite_synchronous (issue 18, item 6): at one
// size (--sync-cost-size, the first of --sizes by default), after the API
// creates, a second app is started on the SQLite file with
// APP_DATABASE_SQLITE_SYNCHRONOUS=FULL beside the first (NORMAL, the
// default), and --sync-cost songs are created through the API on each, by
// createClients clients, in rounds that alternate which goes first (ABBA),
// so the table's growth and the machine's drift fall on both alike. The
// ratio of their records/s is what FULL costs: under WAL, NORMAL syncs the
// log at checkpoints only, FULL at every commit. (Production runs one app
// per file; here the two never write at once, and a create reads nothing
// the other's caches could hold stale.)

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
)

// syncCostRounds is the number of rounds each setting's creates are split
// into: even, so that each goes first as often as the other.
const syncCostRounds = 4

// syncCostResult is the creates on each setting.
type syncCostResult struct {
	size         int
	normal, full loadResult
}

// benchSyncCost starts an app with synchronous FULL on db (SQLite), beside
// normal (the running app, NORMAL), and creates n songs through each.
func benchSyncCost(ctx context.Context, db database, appBin string, normal target, n, size int) (*syncCostResult, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	app, err := startServer(filepath.Join(db.dir, "app-full.log"), []string{"APP_DATABASE_SQLITE_SYNCHRONOUS=FULL"},
		appBin, "--config", db.configPath, "run", "--addr", addr)
	if err != nil {
		return nil, fmt.Errorf("app with synchronous FULL: %w", err)
	}
	defer app.stop()
	base := "http://" + addr
	if err := waitReady(ctx, app, base+"/healthz"); err != nil {
		return nil, fmt.Errorf("app with synchronous FULL: %w (log: %s)", err, app.tail())
	}
	full := newTarget(normal.name+"+full", base, http.Header{"Authorization": {"Bearer " + db.token}}, createClients)
	defer full.client.CloseIdleConnections()
	res := &syncCostResult{size: size, normal: loadResult{server: normal.name + " (NORMAL)"}, full: loadResult{server: full.name + " (FULL)"}}
	each := max(1, n/syncCostRounds)
	for i := range syncCostRounds {
		order := []struct {
			t   target
			acc *loadResult
		}{{normal, &res.normal}, {full, &res.full}}
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, o := range order {
			logf("size %d: synchronous cost, round %d of %d: %d API creates on %s", size, i+1, syncCostRounds, each, o.acc.server)
			r, err := benchCreates(ctx, o.t, each)
			o.acc.add(r)
			if err != nil {
				return res, err
			}
		}
	}
	res.normal.finish()
	res.full.finish()
	if app.exited() {
		return res, fmt.Errorf("app with synchronous FULL exited (log: %s)", app.tail())
	}
	return res, nil
}

// cost is FULL's records/s over NORMAL's, 0 when not measured.
func (s *syncCostResult) cost() float64 {
	if s.normal.rps() <= 0 {
		return 0
	}
	return s.full.rps() / s.normal.rps()
}

// syncCostHeader names the columns of the synchronous cost table.
var syncCostHeader = []string{"size", "synchronous", "creates", "records/s", "p50", "p99", "errors", "/ NORMAL"}

// syncCostRows are the rows of the synchronous cost table: NORMAL, then
// FULL with its records/s over NORMAL's.
func syncCostRows(results []sizeResult) [][]string {
	var rows [][]string
	for _, r := range results {
		s := r.syncCost
		if s == nil {
			continue
		}
		for _, l := range []*loadResult{&s.normal, &s.full} {
			rel := "1.00×"
			if l == &s.full {
				rel = fmt.Sprintf("%.2f×", s.cost())
			}
			rows = append(rows, []string{strconv.Itoa(s.size), l.server, strconv.Itoa(l.requests()), fmt.Sprintf("%.0f", l.rps()),
				ms(l.quantile(0.5)), ms(l.quantile(0.99)), strconv.Itoa(l.failures()), rel})
		}
	}
	return rows
}

// syncCostTitle heads the table.
var syncCostTitle = fmt.Sprintf("SQLite synchronous NORMAL against FULL: API creates (POST %s, %d clients at once, "+
	"%d rounds alternating which goes first)", apiPath, createClients, syncCostRounds)

// printSyncCost writes the synchronous cost table, if it ran.
func printSyncCost(w io.Writer, results []sizeResult) {
	rows := syncCostRows(results)
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, syncCostTitle+":")
	writeAligned(w, syncCostHeader, rows)
	fmt.Fprintln(w)
}

// syncCostMarkdown is the Markdown section of the synchronous cost, ""
// when it did not run.
func syncCostMarkdown(results []sizeResult) string {
	rows := syncCostRows(results)
	if len(rows) == 0 {
		return ""
	}
	return "\n## " + syncCostTitle + "\n\n" + markdownTable(syncCostHeader, rows)
}

// describeSyncCost is the failures of s, "" when none.
func describeSyncCost(s *syncCostResult) string {
	var parts []string
	for _, l := range []*loadResult{&s.normal, &s.full} {
		if l.failures() > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d failed of %d (%s)", l.server, l.failures(), l.requests(), l.describeFailures()))
		}
	}
	return strings.Join(parts, "; ")
}
