package main

import (
	"slices"
	"strconv"
	"strings"
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

// TestSkippedCells: a page the floor does not serve (a form) has dashes in
// the floor's cells, still one cell per column, and its bytes column is
// the SQLite app's body size.
func TestSkippedCells(t *testing.T) {
	targets := []string{"sqlite", "floor", "mysql"}
	h := header(targets)
	lat := loadResult{lat: []time.Duration{time.Millisecond}, elapsed: time.Second}
	p := pageResult{name: "add form", loads: []loadResult{lat, {skipped: true}, lat}}
	r := sizeResult{size: 10, targets: targets, pageBytes: map[string]int{"add form": 2612},
		gzipBytes: map[string]int{"add form": 731}}
	row := cells(r, connsResult{conns: 1}, p)
	if len(row) != len(h) {
		t.Fatalf("row has %d cells, header %d: %q", len(row), len(h), row)
	}
	for col, want := range map[string]string{"bytes": "2612", "gzip bytes": "731", "floor p50": "-", "sqlite/floor": "-", "mysql/sqlite": "1.00×"} {
		if got := row[slices.Index(h, col)]; got != want {
			t.Errorf("%s = %q, want %q", col, got, want)
		}
	}
	if got := row[len(row)-1]; got != "0/-/0" {
		t.Errorf("errors = %s, want 0/-/0", got)
	}
}

// TestMaskIDs: what differs between a SQL page and a MongoDB page of the
// same records is blanked, and nothing else.
func TestMaskIDs(t *testing.T) {
	for _, tc := range []struct{ sql, mongo string }{
		{`<a href="/songsview/edit/42">`, `<a href="/songsview/edit/65f0a1b2c3d4e5f6a7b8c9d0">`},
		{`<input name="album" value="7">`, `<input name="album" value="65f0a1b2c3d4e5f6a7b8c9d0">`},
		{`{"results":[{"id":"12","label":"Golden Rain Vol. 12"}]}`, `{"results":[{"id":"65f0a1b2c3d4e5f6a7b8c9d0","label":"Golden Rain Vol. 12"}]}`},
		{`<a href="/songsview/export.csv?album=42&amp;sort=title">`, `<a href="/songsview/export.csv?album=65f0a1b2c3d4e5f6a7b8c9d0&amp;sort=title">`},
		{`<input type="hidden" name="list_query" value="album=42&amp;sort=-rating">`, `<input type="hidden" name="list_query" value="album=65f0a1b2c3d4e5f6a7b8c9d0&amp;sort=-rating">`},
		{`<input type="hidden" name="version" value="0123abcd">`, `<input type="hidden" name="version" value="ffee9876">`},
	} {
		if a, b := string(maskIDs([]byte(tc.sql))), string(maskIDs([]byte(tc.mongo))); a != b {
			t.Errorf("masked %q and %q differ: %q, %q", tc.sql, tc.mongo, a, b)
		}
	}
	if got := string(maskIDs([]byte(`"label":"Golden Rain Vol. 12"`))); got != `"label":"Golden Rain Vol. 12"` {
		t.Errorf("a label was masked: %q", got)
	}
}

// TestBenchPages: the rare lookup term names an album that exists and no
// other (as many digits as the highest number), the page names are unique
// (results are kept by name), and the floor is asked for list pages only.
func TestBenchPages(t *testing.T) {
	for _, albums := range []int{1, 9, 1000, 100_000} {
		n := rareAlbum(albums)
		if n < 1 || n > albums || (albums >= 10 && len(strconv.Itoa(n)) != len(strconv.Itoa(albums-1))) {
			t.Errorf("rareAlbum(%d) = %d", albums, n)
		}
	}
	pages := benchPages(1_000_000, albumCount(1_000_000, 10))
	seen := map[string]bool{}
	floor := target{listOnly: true}
	for _, p := range pages {
		if seen[p.name] {
			t.Errorf("page %q twice", p.name)
		}
		seen[p.name] = true
		if floor.serves(p) != strings.HasPrefix(p.path, listPath) {
			t.Errorf("the floor serves %s: %v", p.path, floor.serves(p))
		}
	}
	if albumCount(1_000_000, 10) != 100_000 {
		t.Errorf("albums at 1M songs = %d, want 100000", albumCount(1_000_000, 10))
	}
	for _, want := range []string{addPath, editPath + "42", lookupPath + "?q=Vol.+42000"} {
		if !slices.ContainsFunc(pages, func(p benchPage) bool { return p.path == want }) {
			t.Errorf("no page %s", want)
		}
	}
}
