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

var header = []string{"size", "page", "ours rps", "ours p50", "ours p99", "floor rps", "floor p50", "floor p99",
	"ratio p50", "errors ours/floor"}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mib(kib int64) string {
	if kib == 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

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

func rssLine(r sizeResult) string {
	return fmt.Sprintf("size %d: peak RSS app %s, floor %s; seeded in %s; first page %d bytes (app), %d (floor)",
		r.size, mib(r.appRSS), mib(r.floorRSS), r.seedTime.Round(time.Millisecond), r.appBytes, r.flBytes)
}

func printTable(w io.Writer, o options, results []sizeResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, r := range results {
		for _, p := range r.pages {
			fmt.Fprintln(tw, strings.Join(cells(r, p), "\t")+"\t")
		}
	}
	tw.Flush()
	for _, r := range results {
		fmt.Fprintln(w, rssLine(r))
	}
}

func floorSQL(o options) string {
	if o.plainFloor {
		return "plain (COUNT(*), LIMIT/OFFSET)"
	}
	return "the app's (cached/bounded count, deferred join)"
}

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
			r.seedTime.Round(time.Millisecond), r.appBytes, r.flBytes)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
