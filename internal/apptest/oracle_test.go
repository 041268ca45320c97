package apptest

import (
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
