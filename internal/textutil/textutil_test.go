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
