package apptest

// The universal oracle of shared/SECURITY-TESTS.md, applied to the apps a
// test starts with Strict: every answer has a status below 500 and a body
// that leaks no stack, no driver or SQL error and no password hash; and
// when the test ends each app still answers /readyz and its log holds no
// panic.

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// leakPattern is text that must never reach a user.
const leakPattern = `goroutine|panic|gorm|sql:|\.go:\d+|SQLSTATE|Error 1[0-9]{3}|sqlite3|` +
	`database is locked|invalid connection|bad connection|\$2[aby]\$`

var leak = regexp.MustCompile(leakPattern)

// leakPrefixes are the literal prefixes of leakPattern's branches: a body
// holding none of them cannot match, and strings.Contains is much cheaper
// than the regexp on every answer of a suite (a tenth of the server
// package's CPU time under -race). Nil when some branch has no prefix.
var leakPrefixes = func() []string {
	var out []string
	for _, branch := range strings.Split(leakPattern, "|") {
		prefix, _ := regexp.MustCompile(branch).LiteralPrefix()
		if prefix == "" {
			return nil
		}
		out = append(out, prefix)
	}
	return out
}()

// LeakIn returns the first text of body that must never reach a user, or
// "" when there is none.
func LeakIn(body string) string {
	if leakPrefixes != nil && !slices.ContainsFunc(leakPrefixes, func(p string) bool { return strings.Contains(body, p) }) {
		return ""
	}
	return leak.FindString(body)
}

// CheckAnswer applies the oracle to one answer; what names the request.
func CheckAnswer(t testing.TB, what string, status int, body string) {
	t.Helper()
	if status >= 500 {
		t.Errorf("%s: status %d, want < 500; body:\n%s", what, status, Clip(body))
	}
	if m := LeakIn(body); m != "" {
		t.Errorf("%s: body leaks %q:\n%s", what, m, Clip(body))
	}
}

// Clip shortens a body for a failure message.
func Clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

// Strict makes NewApp apply the oracle: every answer a client of the app
// (or of an Instance of it) gets through Do, and so through Get, Post,
// Submit, Request, CSRF and Login, and every answer of Parallel and Raw;
// and, when the test ends, /readyz and the log of each. Send is left
// unchecked, for an answer a test wants to judge itself (a 503 it
// expects).
func Strict() Option { return func(o *options) { o.strict = true } }

// watch checks, when t ends, that a's app is still ready (its database
// takes writes) and that its log shows no panic.
func (a *App) watch(t testing.TB) {
	t.Cleanup(func() {
		resp, err := http.Get(a.URL + "/readyz")
		if err != nil {
			t.Errorf("readyz after the test: %v", err)
		} else {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("readyz after the test: %d", resp.StatusCode)
			}
		}
		if log := a.Log.String(); strings.Contains(log, "panic") || strings.Contains(log, "handler crashed") {
			t.Errorf("server log shows a panic:\n%s", Clip(log))
		}
	})
}
