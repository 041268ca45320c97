package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAPIPagesHaveTwins: every API page names an HTML page of the bench
// as its twin, and the floor (no API) is never asked for one.
func TestAPIPagesHaveTwins(t *testing.T) {
	pages := benchPages(10_000, 1_000)
	floor := target{listOnly: true}
	for _, p := range apiPages() {
		if !strings.HasPrefix(p.path, apiPath) || floor.serves(p) {
			t.Errorf("API page %s: path %s, served by the floor: %v", p.name, p.path, floor.serves(p))
		}
		if !slices.ContainsFunc(pages, func(q benchPage) bool { return q.name == p.twin && !q.api() }) {
			t.Errorf("API page %s: no HTML page %q", p.name, p.twin)
		}
		if !slices.ContainsFunc(pages, func(q benchPage) bool { return q.name == p.name }) {
			t.Errorf("API page %s is not measured", p.name)
		}
	}
}

// TestSongPageRewrite: on MongoDB a song's edit form, show page and API
// record take its ObjectId; a list of the API is left alone.
func TestSongPageRewrite(t *testing.T) {
	for path, want := range map[string]string{
		editPath + "42": editPath, showPath + "42": showPath, apiPath + "42": apiPath,
		apiPath: "", apiPath + "?rating__gte=5": "", listPath: "",
	} {
		m := songPage.FindStringSubmatch(path)
		switch {
		case want == "" && m != nil:
			t.Errorf("%s rewritten", path)
		case want != "" && (m == nil || m[1] != want || m[2] != "42"):
			t.Errorf("%s: match %q, want %s + 42", path, m, want)
		}
	}
}

// TestMaskJSONIDs: the same records answered by SQL and by MongoDB are the
// same once ids and versions are blanked, and titles are kept.
func TestMaskJSONIDs(t *testing.T) {
	const oid = "65f0a1b2c3d4e5f6a7b8c9d0"
	for _, tc := range []struct{ sql, mongo string }{
		{`{"id":"42","version":"7519aad00e25fa9454a201d09f587298","result":{"album":"100","rating":1,"title":"Silent Rain 42"}}`,
			`{"id":"` + oid + `","version":"0123456789abcdef0123456789abcdef","result":{"album":"` + oid + `","rating":1,"title":"Silent Rain 42"}}`},
		{`{"count":2,"page":1,"page_size":25,"ids":["716","178"],"result":[{"album":null,"rating":7,"title":"Blue City 716"}]}`,
			`{"count":2,"page":1,"page_size":25,"ids":["` + oid + `","` + oid + `"],"result":[{"album":null,"rating":7,"title":"Blue City 716"}]}`},
	} {
		a, b := string(maskJSONIDs([]byte(tc.sql))), string(maskJSONIDs([]byte(tc.mongo)))
		if a != b {
			t.Errorf("masked answers differ:\n%s\n%s", a, b)
		}
		if !strings.Contains(a, `"title":"`) || !strings.Contains(a, `"ID"`) {
			t.Errorf("masked %s", a)
		}
	}
	if got := string(maskJSONIDs([]byte(`"title":"Blue City 716"`))); got != `"title":"Blue City 716"` {
		t.Errorf("a title was masked: %q", got)
	}
}

// TestAPIRows: each API row holds, per app, its p50, its twin's and their
// ratio, and names the apps over the bound at 8 connections only.
func TestAPIRows(t *testing.T) {
	lat := func(ms int) loadResult {
		return loadResult{lat: []time.Duration{time.Duration(ms) * time.Millisecond}, elapsed: time.Second}
	}
	targets := []string{"sqlite", "floor", "mysql"}
	run := func(conns int) connsResult {
		return connsResult{conns: conns, pages: []pageResult{
			{name: "first page", loads: []loadResult{lat(10), lat(5), lat(10)}},
			{name: "api first page", loads: []loadResult{lat(12), {skipped: true}, lat(13)}},
		}}
	}
	r := sizeResult{size: 10, targets: targets, runs: []connsResult{run(1), run(8)}}
	h := apiHeader(targets)
	rows := apiRows(r)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2: %q", len(rows), rows)
	}
	for _, row := range rows {
		if len(row) != len(h) {
			t.Fatalf("row has %d cells, header %d: %q", len(row), len(h), row)
		}
		for col, want := range map[string]string{"html twin": "first page", "sqlite api/html": "1.20×", "mysql api/html": "1.30×"} {
			if got := row[slices.Index(h, col)]; got != want {
				t.Errorf("%s = %q, want %q", col, got, want)
			}
		}
	}
	// 12/10 is at the bound, not over it; 13/10 is over, at 8 only.
	if rows[0][len(h)-1] != "" || rows[1][len(h)-1] != "mysql" {
		t.Errorf("over the bound: %q at 1, %q at 8; want none, mysql", rows[0][len(h)-1], rows[1][len(h)-1])
	}
}

// TestBenchCreates: n creates, each one POST of JSON with the bearer, a
// unique title, a rating of n%10 and an album from the API's list or none;
// an answer other than 201 is a failure.
func TestBenchCreates(t *testing.T) {
	var posts, bad atomic.Int64
	titles := make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(`{"count":2,"ids":["3","9"],"result":[]}`))
			return
		}
		var body strings.Builder
		buf := make([]byte, 512)
		n, _ := r.Body.Read(buf)
		body.Write(buf[:n])
		titles <- body.String()
		if posts.Add(1) == 7 {
			w.WriteHeader(http.StatusUnprocessableEntity) // one refusal
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			bad.Add(1)
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	tg := newTarget("sqlite", srv.URL, http.Header{"Authorization": {"Bearer tok"}}, createClients)
	res, err := benchCreates(context.Background(), tg, 20)
	if err != nil {
		t.Fatal(err)
	}
	close(titles)
	if res.requests() != 20 || res.failures() != 1 || res.statuses[http.StatusUnprocessableEntity] != 1 || bad.Load() != 0 {
		t.Errorf("requests %d, failures %d (%s), wrong content type %d", res.requests(), res.failures(), res.describeFailures(), bad.Load())
	}
	seen := map[string]bool{}
	for b := range titles {
		if seen[b] || !strings.Contains(b, `"title":"API Create `) ||
			!(strings.Contains(b, `"album":"3"`) || strings.Contains(b, `"album":"9"`) || strings.Contains(b, `"album":null`)) {
			t.Errorf("body %s (seen before: %v)", b, seen[b])
		}
		seen[b] = true
	}
	if len(seen) != 20 {
		t.Errorf("%d distinct bodies, want 20", len(seen))
	}
}
