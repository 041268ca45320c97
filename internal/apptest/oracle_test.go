package apptest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestLeakOracle: the prefix filter in front of the leak pattern lets
// through every text the pattern matches, and only those.
func TestLeakOracle(t *testing.T) {
	t.Parallel()
	if len(leakPrefixes) != strings.Count(leakPattern, "|")+1 {
		t.Fatalf("prefixes %q do not cover every branch of the pattern", leakPrefixes)
	}
	for _, l := range []string{"goroutine 7 [running]", "panic: boom", "gorm.io/gorm", "sql: no rows", "server.go:42",
		"SQLSTATE 23000", "Error 1062 (23000)", "sqlite3: constraint", "database is locked", "invalid connection",
		"bad connection", "$2a$04$abc"} {
		body := "<p>Something went wrong: " + l + "</p>"
		if got, want := LeakIn(body), leak.FindString(body); got == "" || got != want {
			t.Errorf("%q: leak %q, want %q", l, got, want)
		}
	}
	for _, clean := range []string{"<p>Album saved.</p>", "see main.go: later", "Error 1x", "$2 off", ""} {
		if got := LeakIn(clean); got != "" {
			t.Errorf("%q: leak %q, want none", clean, got)
		}
	}
}

// TestStrictChecksEveryAnswer: a Strict site's clients fail on an answer
// of 500 or more and on a leak, through Do (and what calls it), Parallel
// and Raw; Send applies no oracle; a site that is not Strict none.
func TestStrictChecksEveryAnswer(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "<p>fine</p>") })
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	mux.HandleFunc("GET /leak", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "sql: no rows in result set") })
	for _, strict := range []bool{true, false} {
		site := Serve(t, mux)
		rec := &oracleRecorder{TB: t}
		site.t, site.strict = rec, strict
		c := site.Client()
		get := func(path string) *http.Request {
			req, err := http.NewRequest(http.MethodGet, site.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			return req
		}
		for name, tc := range map[string]struct {
			send  func()
			fails bool
		}{
			"Get ok":     {func() { c.Get("/ok") }, false},
			"Get 500":    {func() { c.Get("/boom") }, true},
			"Get leak":   {func() { c.Get("/leak") }, true},
			"Post 405":   {func() { c.Post("/ok", nil) }, false},
			"Parallel":   {func() { c.Parallel([]*http.Request{get("/ok"), get("/boom")}) }, true},
			"Raw ok":     {func() { site.Raw(http.MethodGet, "/ok") }, false},
			"Raw leak":   {func() { site.Raw(http.MethodGet, "/leak") }, true},
			"Send 500":   {func() { _, _ = c.Send(get("/boom")) }, false},
			"Send leaks": {func() { _, _ = c.Send(get("/leak")) }, false},
		} {
			rec.errors = nil
			tc.send()
			if failed := len(rec.errors) > 0; failed != (tc.fails && strict) {
				t.Errorf("strict %v, %s: failed %v (%q)", strict, name, failed, rec.errors)
			}
		}
	}
}

// oracleRecorder notes the errors reported to it instead of reporting them.
type oracleRecorder struct {
	testing.TB
	errors []string
}

func (r *oracleRecorder) Helper() {}

func (r *oracleRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
