package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// chartBound is what a warm chart's p50 may cost over the song list's
// first page's on the same server (the charts issue: within 1.5×).
const chartBound = 1.5

// chartPages are the declared charts, measured as pages: warm, their
// groupings come from the count cache as the list's counts do.
func chartPages() []benchPage {
	return []benchPage{
		{name: "chart songs-by-rating", path: "/charts/songs-by-rating/"},
		{name: "chart albums-by-rating (top 20)", path: "/charts/albums-by-rating/"},
		{name: "chart albums-by-rating rating__gte=5", path: "/charts/albums-by-rating/?rating__gte=5"},
	}
}

func isChart(name string) bool { return strings.HasPrefix(name, "chart ") }

// coldChart is the first, uncached computation of a chart on one server:
// the time of its first request after the server started (no grouping
// cached, no list page read yet).
type coldChart struct {
	page, server string
	took         time.Duration
	err          error
}

// benchChartsCold asks each chart page once of every app target, before
// anything else reads the database through them: each answer is a
// grouping computed by the database, with nothing cached.
func benchChartsCold(ctx context.Context, targets []target, pages []benchPage) []coldChart {
	var out []coldChart
	for _, p := range pages {
		if !isChart(p.name) {
			continue
		}
		for _, t := range targets {
			if !t.serves(p) || t.twin {
				continue
			}
			begin := time.Now()
			_, err := t.get(ctx, p.path)
			out = append(out, coldChart{page: p.name, server: t.name, took: time.Since(begin), err: err})
		}
	}
	return out
}

var chartHeader = []string{"size", "conns", "chart", "server", "uncached", "warm p50", "list first page p50", "chart/list",
	fmt.Sprintf("over %.1f", chartBound)}

// chartRows are the rows of the charts table for r: each chart on each
// app, its uncached time, and at each concurrency its warm p50 beside the
// song list's first page's.
func chartRows(r sizeResult) [][]string {
	var rows [][]string
	cold := map[string]coldChart{}
	for _, c := range r.chartsCold {
		cold[c.page+"\x00"+c.server] = c
	}
	for _, c := range r.runs {
		var first pageResult
		for _, p := range c.pages {
			if p.name == "first page" {
				first = p
			}
		}
		for _, p := range c.pages {
			if !isChart(p.name) {
				continue
			}
			for k, l := range p.loads {
				if l.skipped || first.loads == nil {
					continue
				}
				uncached := "-"
				if cc, ok := cold[p.name+"\x00"+l.server]; ok {
					uncached = ms(cc.took)
					if cc.err != nil {
						uncached = "error: " + cc.err.Error()
					}
				}
				warm, list := l.quantile(0.5), first.loads[k].quantile(0.5)
				over := ""
				if list > 0 && float64(warm) > chartBound*float64(list) {
					over = "over"
				}
				rows = append(rows, []string{strconv.Itoa(r.size), strconv.Itoa(c.conns), p.name, l.server, uncached,
					ms(warm), ms(list), ratio(warm, list), over})
			}
		}
	}
	return rows
}

var chartNote = fmt.Sprintf("uncached: the chart's first request after the server started, nothing cached "+
	"(its grouping computed by the database); warm: its p50 under load, the grouping from the count cache "+
	"(10 s, and dropped by a write), as the list's count is; the bound: warm within %.1f× the song list's first page.", chartBound)

// printCharts writes the charts table, if charts were measured.
func printCharts(w io.Writer, results []sizeResult) {
	rows := allRows(results, chartRows)
	if len(rows) == 0 {
		return
	}
	writeAligned(w, chartHeader, rows)
	fmt.Fprintln(w, chartNote)
}

// chartsMarkdown is the Markdown section of the charts table.
func chartsMarkdown(results []sizeResult) string {
	rows := allRows(results, chartRows)
	if len(rows) == 0 {
		return ""
	}
	return "\n## Charts\n\n" + chartNote + "\n\n" + markdownTable(chartHeader, rows) + "\n"
}
