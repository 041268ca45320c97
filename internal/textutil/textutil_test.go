package textutil

import "testing"

func TestTruncateCountsCharacters(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"ééé", 2, "éé"},
		{"🎵🎵🎵", 1, "🎵"},
		{"", 0, ""},
	} {
		if got := Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	if got := OneLine(" a\n b\t\tc \r\n"); got != "a b c" {
		t.Errorf("OneLine: %q", got)
	}
}

func TestShowBidiControls(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                    "plain",
		"song\u202Efdp.exe":        "song[U+202E]fdp.exe",
		"\u2067x\u2069\u200F":      "[U+2067]x[U+2069][U+200F]",
		"عربي \u061C done":         "عربي [U+061C] done",
		"“quoted” › ▾ → ok":        "“quoted” › ▾ → ok",
		"\u202A\u202B\u202C\u202D": "[U+202A][U+202B][U+202C][U+202D]",
	} {
		if got := ShowBidiControls(in); got != want {
			t.Errorf("ShowBidiControls(%q) = %q, want %q", in, got, want)
		}
	}
}
