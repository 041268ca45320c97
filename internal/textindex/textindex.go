// Package textindex turns text into the tokens of the substring-search index
// SQLite and PostgreSQL keep for searchable columns: every run of three
// characters of the case-folded text (a trigram), spelled as the upper-case
// hex of its UTF-8 bytes. Spelled so, a trigram is one plain word to any
// full-text engine (SQLite FTS4): no tokenizer splits it, folds it or drops
// it as a stop word, whatever characters it stands for. (MySQL keeps the
// folded text's suffixes instead, migrations/mysql/00003: InnoDB's FULLTEXT
// reads a common trigram's list too slowly.)
//
// A text contains a query only if it has every trigram of the query, so the
// index finds a small superset of the matches, which the LIKE that follows
// checks exactly. Queries shorter than three characters have no trigram and
// are not helped by the index.
package textindex

import (
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Size is the number of characters in a token.
const Size = 3

// MaxQueryTokens bounds the tokens a query looks up: each costs a read of
// its whole list of documents, and three spread over the query already
// narrow the candidates to about the matches (at a million titles, six
// tokens of "river 12" cost three times as much as three for the same 457
// candidates); the LIKE after the lookup keeps the result exact.
const MaxQueryTokens = 3

// Fold is the case folding of the index and of the search: the same as the
// LIKE that checks candidates (store.FoldFunc on SQLite and PostgreSQL,
// LOWER() on MySQL).
func Fold(s string) string { return strings.ToLower(s) }

// FoldsIntoASCII lists every character beyond ASCII that Fold turns into
// ASCII (İ into i, the Kelvin sign into k): an ASCII-only case-insensitive
// match, such as SQLite's LIKE, misses exactly the texts holding one of
// them. A test checks the list against all of Unicode.
const FoldsIntoASCII = "\u0130\u212A"

// Tokens returns the distinct trigram tokens of s after folding, in order of
// first appearance.
func Tokens(s string) []string {
	s = Fold(s)
	if utf8.RuneCountInString(s) < Size {
		return nil
	}
	var out []string
	seen := make(map[string]struct{})
	// start holds the byte offsets of the last Size rune starts.
	var start [Size]int
	n := 0
	for i := range s {
		start[n%Size] = i
		n++
		if n < Size {
			continue
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		tok := strings.ToUpper(hex.EncodeToString([]byte(s[start[n%Size] : i+w])))
		if _, dup := seen[tok]; !dup {
			seen[tok] = struct{}{}
			out = append(out, tok)
		}
	}
	return out
}

// Document returns what the index stores for s: its tokens separated by
// spaces.
func Document(s string) string { return strings.Join(Tokens(s), " ") }

// QueryTokens returns the tokens to look up for a search of s: at most
// MaxQueryTokens of them, spread over the query from its first to its last.
// ok is false when s is too short to have any.
func QueryTokens(s string) (tokens []string, ok bool) {
	all := Tokens(s)
	if len(all) == 0 {
		return nil, false
	}
	if len(all) <= MaxQueryTokens {
		return all, true
	}
	picked := make([]string, 0, MaxQueryTokens)
	for i := range MaxQueryTokens {
		picked = append(picked, all[i*(len(all)-1)/(MaxQueryTokens-1)])
	}
	return picked, true
}

var (
	preimageOnce sync.Once
	// preimage maps a folded rune to the other runes that Fold turns into
	// it (Fold maps rune to rune).
	preimage map[rune][]rune
)

func buildPreimage() {
	preimage = make(map[rune][]rune)
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue // surrogate halves: no text holds them
		}
		if l := []rune(Fold(string(r))); len(l) == 1 && l[0] != r {
			preimage[l[0]] = append(preimage[l[0]], r)
		}
	}
}

// Spellings returns every rune that Fold turns into c, in code point
// order: c itself when it folds to itself (a folded query's runes do),
// and the runes it is the lower case of ("k": "K", "k" and the Kelvin
// sign). None when no rune folds to c.
func Spellings(c rune) []rune {
	preimageOnce.Do(buildPreimage)
	var out []rune
	if l := []rune(Fold(string(c))); len(l) == 1 && l[0] == c {
		out = append(out, c)
	}
	out = append(out, preimage[c]...)
	slices.Sort(out)
	return out
}

// PrefixSpellings returns the spellings of the start of the folded text q:
// every text s of the same runes count with Fold(s) equal to that start,
// at most limit of them (at least one rune's, whatever limit says), as
// long a start as that allows. A text folds to something starting with q
// exactly when it starts with one spelling of each rune of q; so a case-
// sensitive ordered index answers "starts with q, ignoring case" with one
// range per spelling of the start, and the rest of q checked in the range.
// full says the spellings cover all of q; none (and full) when no text
// can start with q, as a rune of it is no rune's folding.
func PrefixSpellings(q string, limit int) (spellings []string, full bool) {
	spellings = []string{""}
	for i, c := range q {
		alts := Spellings(c)
		if len(alts) == 0 {
			return nil, true
		}
		if i > 0 && len(spellings)*len(alts) > limit {
			return spellings, false
		}
		next := make([]string, 0, len(spellings)*len(alts))
		for _, s := range spellings {
			for _, r := range alts {
				next = append(next, s+string(r))
			}
		}
		spellings = next
	}
	return spellings, true
}
