package textindex

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFoldsIntoASCII(t *testing.T) {
	var want []rune
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		for _, c := range Fold(string(r)) {
			if c < utf8.RuneSelf {
				want = append(want, r)
				break
			}
		}
	}
	if got := []rune(FoldsIntoASCII); !slices.Equal(got, want) {
		t.Errorf("FoldsIntoASCII = %q, want %q", string(got), string(want))
	}
}

func hexOf(s string) string { return strings.ToUpper(hex.EncodeToString([]byte(s))) }

func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"ab", nil},
		{"AbC", []string{hexOf("abc")}},
		{"Love", []string{hexOf("lov"), hexOf("ove")}},
		// Repeats are kept once, in order of first appearance.
		{"aaaa", []string{hexOf("aaa")}},
		{"abab", []string{hexOf("aba"), hexOf("bab")}},
		// Three characters, whatever their byte length.
		{"ÜNÏc", []string{hexOf("ünï"), hexOf("nïc")}},
		{"日本語の", []string{hexOf("日本語"), hexOf("本語の")}},
		{"🎸 r", []string{hexOf("🎸 r")}},
		{"a b", []string{hexOf("a b")}},
	} {
		if got := Tokens(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Tokens(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestTokensAreWords(t *testing.T) {
	// Every token is one word of upper-case hex, which no full-text
	// tokenizer splits, and no stop word (stop words hold letters past F).
	for _, s := range []string{"Hello, World!", "a%b_c\"d'e", "Straße", "ΣΊΣΥΦΟΣ", "the and for"} {
		for _, tok := range Tokens(s) {
			if strings.Trim(tok, "0123456789ABCDEF") != "" || len(tok)%2 != 0 || len(tok) < 6 {
				t.Errorf("token %q of %q is not a hex word", tok, s)
			}
		}
	}
}

func TestQueryTokens(t *testing.T) {
	if _, ok := QueryTokens("lo"); ok {
		t.Error("a two-character query has tokens")
	}
	got, ok := QueryTokens("love")
	if !ok || !slices.Equal(got, Tokens("love")) {
		t.Errorf("QueryTokens(love) = %v, %v", got, ok)
	}
	long := "the quick brown fox jumps over the lazy dog"
	got, _ = QueryTokens(long)
	all := Tokens(long)
	if len(got) != MaxQueryTokens || got[0] != all[0] || got[len(got)-1] != all[len(all)-1] {
		t.Errorf("QueryTokens(long) = %v: want %d tokens from the first to the last of %v", got, MaxQueryTokens, all)
	}
	for _, tok := range got {
		if !slices.Contains(all, tok) {
			t.Errorf("token %s is not one of the text's", tok)
		}
	}
}

func TestPrefixSpellings(t *testing.T) {
	for _, tc := range []struct {
		q     string
		limit int
		want  []string
		full  bool
	}{
		{"go", 8, []string{"GO", "Go", "gO", "go"}, true},
		{"gol", 8, []string{"GOL", "GOl", "GoL", "Gol", "gOL", "gOl", "goL", "gol"}, true},
		// Past the limit, the spellings of the longest start within it.
		{"gold", 8, []string{"GOL", "GOl", "GoL", "Gol", "gOL", "gOl", "goL", "gol"}, false},
		{"golden", 3, []string{"G", "g"}, false},
		// The first rune's, whatever the limit.
		{"ki", 1, []string{"K", "k", "\u212A"}, false},
		{"i", 8, []string{"I", "i", "\u0130"}, true},
		{"1 ", 8, []string{"1 "}, true},
		{"ß", 8, []string{"ß", "ẞ"}, true},
		// Runes that are no rune's folding: nothing starts with them.
		{"Go", 8, nil, true},
	} {
		got, full := PrefixSpellings(tc.q, tc.limit)
		if !slices.Equal(got, tc.want) || full != tc.full {
			t.Errorf("PrefixSpellings(%q, %d) = %q %v, want %q %v", tc.q, tc.limit, got, full, tc.want, tc.full)
		}
	}
	// Every rune's spellings fold to it, and every rune folds to one of
	// its folding's spellings.
	for r := rune(0); r <= unicode.MaxRune; r += 7 {
		if !utf8.ValidRune(r) {
			continue
		}
		f := []rune(Fold(string(r)))[0]
		if !slices.Contains(Spellings(f), r) {
			t.Fatalf("%U folds to %U, whose spellings %q lack it", r, f, string(Spellings(f)))
		}
		for _, s := range Spellings(r) {
			if Fold(string(s)) != string(r) {
				t.Fatalf("spelling %U of %U folds to %q", s, r, Fold(string(s)))
			}
		}
	}
}
