package cli

import (
	"net"
	"runtime/debug"
	"testing"
)

func TestLoginURL(t *testing.T) {
	for _, tt := range []struct{ addr, served, want string }{
		{":8080", "[::]:8080", "http://localhost:8080/login/"},
		{"0.0.0.0:8080", "0.0.0.0:8080", "http://localhost:8080/login/"},
		{"[::]:0", "[::]:41234", "http://localhost:41234/login/"},
		{"127.0.0.1:0", "127.0.0.1:41234", "http://127.0.0.1:41234/login/"},
		{"[::1]:8080", "[::1]:8080", "http://[::1]:8080/login/"},
		{"admin.example.com:8080", "192.0.2.1:8080", "http://admin.example.com:8080/login/"},
	} {
		served, err := net.ResolveTCPAddr("tcp", tt.served)
		if err != nil {
			t.Fatal(err)
		}
		if got := loginURL(tt.addr, served); got != tt.want {
			t.Errorf("loginURL(%q, %s) = %q, want %q", tt.addr, tt.served, got, tt.want)
		}
	}
}

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

// TestPaceCollector: serving sets GOGC 200 unless the environment sets
// GOGC, whose value the runtime has read and the server leaves alone.
func TestPaceCollector(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	env := func(vars map[string]string) Env {
		return Env{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	}
	if got := paceCollector(env(map[string]string{"GOGC": "50"})); got != "50" {
		t.Errorf("with GOGC=50: %q", got)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, the target changed to %d", got)
	}
	if got := paceCollector(env(nil)); got != "200" {
		t.Errorf("without GOGC: %q", got)
	}
	if got := debug.SetGCPercent(100); got != servingGCPercent {
		t.Errorf("without GOGC, the target is %d, want %d", got, servingGCPercent)
	}
}
