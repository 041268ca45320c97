package textutil

import (
	"fmt"
	"strings"
)

// bidiControls are the characters that steer the direction of the text
// around them rather than being text: the embeddings and overrides
// (U+202A-U+202E), the isolates (U+2066-U+2069), the marks (U+200E,
// U+200F, U+061C). A song titled "song\u202Efdp.exe" would read
// "songexe.pdf" on a page that obeys them.
var bidiControls = map[rune]bool{
	'\u061C': true, '\u200E': true, '\u200F': true,
	'\u202A': true, '\u202B': true, '\u202C': true, '\u202D': true, '\u202E': true,
	'\u2066': true, '\u2067': true, '\u2068': true, '\u2069': true,
}

// IsBidiControl reports whether r is a direction control character.
func IsBidiControl(r rune) bool { return bidiControls[r] }

// HasBidiControl reports whether s holds a direction control character.
func HasBidiControl(s string) bool {
	return strings.ContainsFunc(s, IsBidiControl)
}

// ShowBidiControls returns s with each direction control character
// written as its code point in brackets ("[U+202E]"): shown to the
// reader, not obeyed by the browser (SECURITY-TESTS 73). The stored value
// is untouched; this is for text a page shows, never for a form's value.
func ShowBidiControls(s string) string {
	if !HasBidiControl(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if IsBidiControl(r) {
			fmt.Fprintf(&b, "[U+%04X]", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
