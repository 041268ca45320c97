package store

import "testing"

func TestDollarPlaceholders(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE b = ? AND c > ? LIMIT ? OFFSET ?", "SELECT a FROM t WHERE b = $1 AND c > $2 LIMIT $3 OFFSET $4"},
		{`SELECT '?', "a?b" FROM t WHERE x = ?`, `SELECT '?', "a?b" FROM t WHERE x = $1`},
		{"SELECT 'it''s ?' WHERE y = ?", "SELECT 'it''s ?' WHERE y = $1"},
	} {
		if got := dollarPlaceholders(c.in); got != c.want {
			t.Errorf("dollarPlaceholders(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
