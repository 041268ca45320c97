package cli

import "testing"

func TestNextPort(t *testing.T) {
	for addr, want := range map[string]string{
		":8080":          ":8081",
		"127.0.0.1:8080": "127.0.0.1:8081",
		"[::1]:9000":     "[::1]:9001",
		":65535":         ":8081",
		"no port":        ":8081",
	} {
		if got := nextPort(addr); got != want {
			t.Errorf("nextPort(%q) = %q, want %q", addr, got, want)
		}
	}
}
