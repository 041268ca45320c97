// Package textutil holds the small text helpers every layer needs the same
// way: cutting user text to a length in characters, and folding a message
// onto one line.
package textutil

import (
	"strings"
	"unicode/utf8"
)

// Truncate returns s cut to at most n characters (runes, not bytes).
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// OneLine folds every run of white space, newlines included, into one
// space: an error echoed to stderr or a log stays one line.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
