package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// header names the columns of the table, one row a page and concurrency:
// the page's size in bytes on the first target (the SQLite app), plain and
// on the wire when asked with gzip, then for
// each target its requests/s and p50/p99 latency, then a ratio of p50s:
// the SQLite app's to the floor's after the floor, and a backend's to the
// SQLite app's after each other backend.
func header(targets []string) []string {
	h := []string{"size", "conns", "page", "bytes", "gzip bytes"}
	for k, t := range targets {
		h = append(h, t+" rps", t+" p50", t+" p99")
		switch {
		case k == 1:
			h = append(h, targets[0]+"/floor")
		case k > 1:
			h = append(h, t+"/"+targets[0])
		}
	}
	return append(h, "errors "+strings.Join(targets, "/"))
}

// writeAligned writes header and rows as a right-aligned text table.
func writeAligned(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
}

// markdownTable is header and rows as a Markdown table, right-aligned.
func markdownTable(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|" + strings.Repeat(" ---: |", len(header)) + "\n")
	for _, row := range rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}

// allRows joins the rows rowsOf gives each result.
func allRows(results []sizeResult, rowsOf func(sizeResult) [][]string) [][]string {
	var rows [][]string
	for _, r := range results {
		rows = append(rows, rowsOf(r)...)
	}
	return rows
}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// mib formats kib in MiB, or "?" where it was not read.
func mib(kib int64) string {
	if kib == 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

// ratio formats a/b, or "-" when b is zero (a page not measured).
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

// cells are the table row of page p at size r and c connections.
func cells(r sizeResult, c connsResult, p pageResult) []string {
	bytes, gz := "?", "?"
	if n, ok := r.pageBytes[p.name]; ok {
		bytes = strconv.Itoa(n)
	}
	if n, ok := r.gzipBytes[p.name]; ok {
		gz = strconv.Itoa(n)
	}
	row := []string{strconv.Itoa(r.size), strconv.Itoa(c.conns), p.name, bytes, gz}
	var errs []string
	for k := range p.loads {
		l := &p.loads[k]
		if l.skipped {
			// A page this server does not serve (the floor's forms).
			row = append(row, "-", "-", "-")
			if k >= 1 {
				row = append(row, "-")
			}
			errs = append(errs, "-")
			continue
		}
		row = append(row, fmt.Sprintf("%.0f", l.rps()), ms(l.quantile(0.5)), ms(l.quantile(0.99)))
		switch {
		case k == 1:
			row = append(row, ratio(p.loads[0].quantile(0.5), l.quantile(0.5)))
		case k > 1:
			row = append(row, ratio(l.quantile(0.5), p.loads[0].quantile(0.5)))
		}
		errs = append(errs, strconv.Itoa(l.failures()))
	}
	return append(row, strings.Join(errs, "/"))
}

// sizeSummary is the line under the table for r: peak RSS and the first
// page's body size per server, seed time per backend, and pages that
// differ from the SQLite app's.
func sizeSummary(r sizeResult) string {
	var rss, bytes, seeds []string
	for k, t := range r.targets {
		if k < len(r.rss) {
			rss = append(rss, t+" "+mib(r.rss[k]))
		}
		if k < len(r.bytes) {
			bytes = append(bytes, fmt.Sprintf("%s %d", t, r.bytes[k]))
		}
	}
	for i, d := range r.seedTimes {
		seeds = append(seeds, r.backendName(i)+" "+d.Round(time.Millisecond).String())
	}
	return fmt.Sprintf("size %d (%d albums): peak RSS %s; seeded in %s; first page bytes %s; pages differing from %s's: %d",
		r.size, r.albums, strings.Join(rss, ", "), strings.Join(seeds, ", "), strings.Join(bytes, ", "), r.targets[0], r.diffs)
}

// backendName is the name of the i-th backend: the targets are the apps in
// backend order with the floor second.
func (r sizeResult) backendName(i int) string {
	if i == 0 {
		return r.targets[0]
	}
	return r.targets[i+1]
}

// printTable writes the results as an aligned table, then a summary line a
// size.
func printTable(w io.Writer, results []sizeResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header(results[0].targets), "\t")+"\t")
	for _, r := range results {
		for _, c := range r.runs {
			for _, p := range c.pages {
				fmt.Fprintln(tw, strings.Join(cells(r, c, p), "\t")+"\t")
			}
		}
	}
	tw.Flush()
	for _, r := range results {
		fmt.Fprintln(w, sizeSummary(r))
	}
	fmt.Fprintln(w)
	printCPU(w, results)
	printAPI(w, results)
	printCharts(w, results)
	printExports(w, results)
	printCreates(w, results)
	printSyncCost(w, results)
	printSoak(w, results)
}

// floorSQL says which SQL the floor ran, for the report's heading.
func floorSQL(o options) string {
	if o.plainFloor {
		return "plain (COUNT(*), LIMIT/OFFSET)"
	}
	return "the app's (cached/bounded count, deferred join)"
}

// writeMarkdown writes the results to path as Markdown: the machine and the
// settings, the backends skipped, the table, and a summary line a size.
func writeMarkdown(path string, o options, results []sizeResult, skipped []string) error {
	var b strings.Builder
	targets := results[0].targets
	fmt.Fprintf(&b, "# make bench: song pages per backend, app vs floor\n\n")
	fmt.Fprintf(&b, "%s, %s, %s/%s, %d CPUs. Servers: %s (the floor on SQLite's file, list pages only). "+
		"Catalogue: N songs and N/%d albums. Closed loop, %s connections, "+
		"%s per page per server (going round the servers in %s slices), warm-up %s. Floor SQL: %s. "+
		"Bytes: the page's body on the SQLite app (forms: the issue wants under %d); gzip bytes: the same page on the wire "+
		"asked as a browser asks, with Accept-Encoding: gzip (the song list's first page: the issue wants under %d). "+
		"Ratios are of p50s: %s/floor is the SQLite app's to the floor's, X/%s a backend's app to the SQLite app.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), strings.Join(targets, ", "), o.songsPerAlbum, joinInts(o.conns), o.duration, o.slice, o.warmup, floorSQL(o),
		formTarget, firstPageWireTarget, targets[0], targets[0])
	for _, s := range skipped {
		fmt.Fprintf(&b, "Skipped: %s.\n\n", s)
	}
	h := header(targets)
	b.WriteString("| " + strings.Join(h, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat(" ---: |", len(h)) + "\n")
	for _, r := range results {
		for _, c := range r.runs {
			for _, p := range c.pages {
				b.WriteString("| " + strings.Join(cells(r, c, p), " | ") + " |\n")
			}
		}
	}
	b.WriteString("\n")
	for _, r := range results {
		b.WriteString("- " + sizeSummary(r) + "\n")
	}
	b.WriteString(cpuMarkdown(results))
	b.WriteString(apiMarkdown(results))
	b.WriteString(chartsMarkdown(results))
	b.WriteString(exportMarkdown(results))
	b.WriteString(createsMarkdown(results))
	b.WriteString(syncCostMarkdown(results))
	b.WriteString(soakMarkdown(results))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func joinInts(ns []int) string {
	var s []string
	for _, n := range ns {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, " and ")
}

// logFailures logs each page and server with failed requests (errors or
// answers other than 200), and each app with failed API creates (other than
// 201), and reports whether there were any.
func logFailures(results []sizeResult) bool {
	failed := false
	for _, r := range results {
		for _, c := range r.runs {
			for _, p := range c.pages {
				for _, l := range p.loads {
					if l.failures() > 0 {
						logf("size %d, %d connections, %s, %s: %d failed requests of %d (%s)",
							r.size, c.conns, p.name, l.server, l.failures(), l.requests(), l.describeFailures())
						failed = true
					}
				}
			}
		}
		for _, c := range r.creates {
			if c.failures() > 0 {
				logf("size %d, API creates, %s: %d failed of %d (%s)", r.size, c.server, c.failures(), c.requests(), c.describeFailures())
				failed = true
			}
		}
		if r.syncCost != nil {
			if d := describeSyncCost(r.syncCost); d != "" {
				logf("size %d, synchronous cost: %s", r.size, d)
				failed = true
			}
		}
		if r.soak != nil && r.soak.failed() {
			for _, n := range soakNotes([]sizeResult{r}) {
				logf("%s", n)
			}
			failed = true
		}
	}
	return failed
}

// apiBound is the API issue's bound: at apiBoundConns connections, each API
// page's p50 within 20% of its HTML twin's on the same server.
const (
	apiBound      = 1.20
	apiBoundConns = 8
)

// apiHeader names the columns of the API table, one row an API page and
// concurrency: for each app its p50 of the API page, of its HTML twin, and
// their ratio; then the apps where the ratio is over apiBound at
// apiBoundConns connections.
func apiHeader(targets []string) []string {
	h := []string{"size", "conns", "api page", "html twin"}
	for k, t := range targets {
		if k != 1 { // the floor has no API
			h = append(h, t+" api p50", t+" html p50", t+" api/html")
		}
	}
	return append(h, fmt.Sprintf("over %.2f", apiBound))
}

// apiRows are the rows of the API table for r.
func apiRows(r sizeResult) [][]string {
	var rows [][]string
	for _, c := range r.runs {
		byName := map[string]pageResult{}
		for _, p := range c.pages {
			byName[p.name] = p
		}
		for _, p := range c.pages {
			twin, ok := byName[apiTwin(p.name)]
			if !ok {
				continue
			}
			row := []string{strconv.Itoa(r.size), strconv.Itoa(c.conns), p.name, twin.name}
			var over []string
			for k := range p.loads {
				if k == 1 {
					continue
				}
				a, h := p.loads[k].quantile(0.5), twin.loads[k].quantile(0.5)
				row = append(row, ms(a), ms(h), ratio(a, h))
				if c.conns == apiBoundConns && h > 0 && float64(a) > apiBound*float64(h) {
					over = append(over, r.targets[k])
				}
			}
			rows = append(rows, append(row, strings.Join(over, ", ")))
		}
	}
	return rows
}

// apiTwin is the name of the HTML twin of the API page named name, or "".
func apiTwin(name string) string {
	for _, p := range apiPages() {
		if p.name == name {
			return p.twin
		}
	}
	return ""
}

// apiOver lists the API rows over the bound, one "size, page: servers"
// each.
func apiOver(results []sizeResult) []string {
	var out []string
	for _, r := range results {
		for _, row := range apiRows(r) {
			if over := row[len(row)-1]; over != "" {
				out = append(out, fmt.Sprintf("size %s, %s connections, %s: %s", row[0], row[1], row[2], over))
			}
		}
	}
	return out
}

// apiBoundNote states the bound under the API tables.
var apiBoundNote = fmt.Sprintf("api/html is the API page's p50 over its HTML twin's on the same server; "+
	"the bound: each under %.2f at %d connections.", apiBound, apiBoundConns)

// printAPI writes the API table of the results and names the rows over the
// bound.
func printAPI(w io.Writer, results []sizeResult) {
	writeAligned(w, apiHeader(results[0].targets), allRows(results, apiRows))
	fmt.Fprintln(w, apiBoundNote)
	for _, o := range apiOver(results) {
		fmt.Fprintln(w, "OVER THE BOUND: "+o)
	}
}

// apiMarkdown is the Markdown section of the API table.
func apiMarkdown(results []sizeResult) string {
	var b strings.Builder
	b.WriteString("\n## API pages against their HTML twins\n\n" + apiBoundNote + "\n\n")
	b.WriteString(markdownTable(apiHeader(results[0].targets), allRows(results, apiRows)))
	for _, o := range apiOver(results) {
		b.WriteString("\n- Over the bound: " + o)
	}
	return b.String() + "\n"
}

// createsHeader names the columns of the API creates table.
var createsHeader = []string{"size", "server", "creates", "records/s", "p50", "p99", "errors"}

// createsRows are the rows of the API creates table, one an app.
func createsRows(results []sizeResult) [][]string {
	var rows [][]string
	for _, r := range results {
		for _, c := range r.creates {
			rows = append(rows, []string{strconv.Itoa(r.size), c.server, strconv.Itoa(c.requests()),
				fmt.Sprintf("%.0f", c.rps()), ms(c.quantile(0.5)), ms(c.quantile(0.99)), strconv.Itoa(c.failures())})
		}
	}
	return rows
}

// createsTitle heads the API creates table.
var createsTitle = fmt.Sprintf("API creates (POST %s, %d clients at once, each answer a 201)", apiPath, createClients)

// printCreates writes the API creates table, if any ran.
func printCreates(w io.Writer, results []sizeResult) {
	rows := createsRows(results)
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, createsTitle+":")
	writeAligned(w, createsHeader, rows)
}

// createsMarkdown is the Markdown section of the API creates, "" when none
// ran.
func createsMarkdown(results []sizeResult) string {
	rows := createsRows(results)
	if len(rows) == 0 {
		return ""
	}
	return "\n## " + createsTitle + "\n\n" + markdownTable(createsHeader, rows)
}
