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

// header names the columns of the table, one row a page.
var header = []string{"size", "page", "ours rps", "ours p50", "ours p99", "floor rps", "floor p50", "floor p99",
	"ratio p50", "errors ours/floor"}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// mib formats kib in MiB, or "?" where it was not read.
func mib(kib int64) string {
	if kib == 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

// cells are the table row of page p at size r.
func cells(r sizeResult, p pageResult) []string {
	ratio := "-"
	if f := p.floor.quantile(0.5); f > 0 {
		ratio = fmt.Sprintf("%.2f×", float64(p.ours.quantile(0.5))/float64(f))
	}
	return []string{strconv.Itoa(r.size), p.name,
		fmt.Sprintf("%.0f", p.ours.rps()), ms(p.ours.quantile(0.5)), ms(p.ours.quantile(0.99)),
		fmt.Sprintf("%.0f", p.floor.rps()), ms(p.floor.quantile(0.5)), ms(p.floor.quantile(0.99)),
		ratio, fmt.Sprintf("%d/%d", p.ours.failures(), p.floor.failures())}
}

// sizeSummary is the line under the table for r: peak RSS, seed time and the
// first page's body sizes.
func sizeSummary(r sizeResult) string {
	return fmt.Sprintf("size %d: peak RSS app %s, floor %s; seeded in %s; first page %d bytes (app), %d (floor)",
		r.size, mib(r.appRSS), mib(r.floorRSS), r.seedTime.Round(time.Millisecond), r.appBytes, r.floorBytes)
}

// printTable writes the results as an aligned table, then a summary line a
// size.
func printTable(w io.Writer, results []sizeResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, r := range results {
		for _, p := range r.pages {
			fmt.Fprintln(tw, strings.Join(cells(r, p), "\t")+"\t")
		}
	}
	tw.Flush()
	for _, r := range results {
		fmt.Fprintln(w, sizeSummary(r))
	}
	printExports(w, results)
}

// floorSQL says which SQL the floor ran, for the report's heading.
func floorSQL(o options) string {
	if o.plainFloor {
		return "plain (COUNT(*), LIMIT/OFFSET)"
	}
	return "the app's (cached/bounded count, deferred join)"
}

// writeMarkdown writes the results to path as Markdown: the machine and the
// settings, the table, and peak RSS, seed time and page sizes a size.
func writeMarkdown(path string, o options, results []sizeResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# make bench: song list pages, app vs floor\n\n")
	fmt.Fprintf(&b, "%s, %s, %s/%s, %d CPUs. SQLite. Closed loop, %d connections, %s per page per server "+
		"(alternating in %s slices), warm-up %s. Floor SQL: %s. ratio = ours p50 / floor p50.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), o.concurrency, o.duration, o.slice, o.warmup, floorSQL(o))
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat(" ---: |", len(header)) + "\n")
	for _, r := range results {
		for _, p := range r.pages {
			b.WriteString("| " + strings.Join(cells(r, p), " | ") + " |\n")
		}
	}
	b.WriteString("\n| size | peak RSS app | peak RSS floor | seed time | first page bytes app / floor |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %d / %d |\n", r.size, mib(r.appRSS), mib(r.floorRSS),
			r.seedTime.Round(time.Millisecond), r.appBytes, r.floorBytes)
	}
	b.WriteString(exportMarkdown(results))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// logFailures logs each page and server with failed requests (errors or
// answers other than 200) and reports whether there were any.
func logFailures(results []sizeResult) bool {
	failed := false
	for _, r := range results {
		for _, p := range r.pages {
			for _, l := range []loadResult{p.ours, p.floor} {
				if l.failures() > 0 {
					logf("size %d %s %s: %d failed requests of %d (%s)", r.size, p.name, l.server, l.failures(), l.requests(), l.describeFailures())
					failed = true
				}
			}
		}
	}
	return failed
}
