package main

import (
	"slices"
	"testing"
	"time"
)

func TestPostgresWithDatabase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "postgres://postgres@127.0.0.1:5432/bench_1?sslmode=disable"},
		{"postgresql://u:p@db/x", "postgresql://u:p@db/bench_1"},
		// libpq's key=value form: the last dbname wins.
		{"host=db user=u dbname=x", "host=db user=u dbname=x dbname=bench_1"},
	} {
		got, err := postgresWithDatabase(tc.in, "bench_1")
		if err != nil || got != tc.want {
			t.Errorf("postgresWithDatabase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestPositiveInts(t *testing.T) {
	if got, err := positiveInts("1, 8"); err != nil || !slices.Equal(got, []int{1, 8}) {
		t.Errorf("positiveInts(1, 8) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "1,x", "-3"} {
		if _, err := positiveInts(bad); err == nil {
			t.Errorf("positiveInts(%q) accepted", bad)
		}
	}
}

// TestHeaderAndCells checks that every row has a cell per column and that
// the ratios are the ones the header names: the SQLite app over the floor,
// and each other backend over the SQLite app.
func TestHeaderAndCells(t *testing.T) {
	targets := []string{"sqlite", "floor", "mysql", "postgres"}
	h := header(targets)
	want := []string{"sqlite/floor", "mysql/sqlite", "postgres/sqlite"}
	for _, w := range want {
		if !slices.Contains(h, w) {
			t.Errorf("header %v has no %q", h, w)
		}
	}
	lat := func(ms int) loadResult {
		return loadResult{lat: []time.Duration{time.Duration(ms) * time.Millisecond}, elapsed: time.Second}
	}
	p := pageResult{name: "first page", loads: []loadResult{lat(4), lat(2), lat(12), lat(4)}}
	r := sizeResult{size: 10, targets: targets}
	row := cells(r, connsResult{conns: 1}, p)
	if len(row) != len(h) {
		t.Fatalf("row has %d cells, header %d", len(row), len(h))
	}
	for col, w := range map[string]string{"sqlite/floor": "2.00×", "mysql/sqlite": "3.00×", "postgres/sqlite": "1.00×"} {
		if got := row[slices.Index(h, col)]; got != w {
			t.Errorf("%s = %s, want %s", col, got, w)
		}
	}
	if got := row[len(row)-1]; got != "0/0/0/0" {
		t.Errorf("errors = %s, want 0/0/0/0", got)
	}
}

func TestChooseBackendsRejectsUnknown(t *testing.T) {
	if _, _, err := chooseBackends(t.Context(), []string{"oracle"}, false); err == nil {
		t.Error("an unknown backend was accepted")
	}
}
