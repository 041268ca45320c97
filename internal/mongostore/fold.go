package mongostore

import (
	"fmt"
	"strings"

	"musicadmin/internal/textindex"
)

// The case-insensitive matches (contains, startswith, search) must give
// what the SQL backends give: a text matches when textindex.Fold(text)
// contains textindex.Fold(query). A regular expression with the (?i) flag
// is not that rule: PCRE folds σ, ς and Σ together, and ſ with s, where
// Fold (strings.ToLower) keeps ς and ſ apart from σ and s.
//
// Fold maps rune to rune (unicode.ToLower, one rune in, one out), so
// Fold(text) contains Fold(query) exactly when text has a run of runes
// t1..tn with Fold(ti) == Fold(qi) for every i. Each query rune therefore
// becomes the class of every rune that folds to the same rune: "Aß"
// becomes [aA]ß. The pattern is matched case-sensitively against the
// stored text, so documents keep exactly the seed's shape: no folded
// shadow field is stored. (UTF-8 being self-synchronising, a byte
// substring match of valid UTF-8 starts and ends on rune boundaries, so
// rune-wise and byte-wise containment agree.)

// foldPattern returns a regular expression (PCRE and Go's regexp agree on
// its syntax) that matches the texts whose folded form contains the folded
// query, or, with prefix, starts with it. ok is false when no text can
// match (a query rune that no rune folds to).
func foldPattern(query string, prefix bool) (pattern string, ok bool) {
	var b strings.Builder
	if prefix {
		b.WriteByte('^')
	}
	for _, c := range textindex.Fold(query) {
		class := textindex.Spellings(c) // the runes folding to c
		switch len(class) {
		case 0:
			return "", false
		case 1:
			writeRune(&b, class[0])
		default:
			b.WriteByte('[')
			for _, r := range class {
				writeRune(&b, r)
			}
			b.WriteByte(']')
		}
	}
	return b.String(), true
}

// writeRune writes r so that no regular expression syntax can see a
// metacharacter in it: ASCII letters and digits as they are, anything else
// as \x{hex}, which means that code point in and out of a class.
func writeRune(b *strings.Builder, r rune) {
	if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
		b.WriteRune(r)
		return
	}
	fmt.Fprintf(b, `\x{%x}`, r)
}
