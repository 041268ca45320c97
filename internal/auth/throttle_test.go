package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"musicadmin/internal/auth"
)

func from(addr string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/login/", nil)
	r.RemoteAddr = addr
	return r
}

// TestLoginThrottle runs in a synctest bubble, where the clock is virtual:
// time.Now stands still until every goroutine of the bubble sleeps, and a
// sleep of 20 s takes no real time. So the limits are asserted exactly, on
// a loaded machine as on an idle one.
func TestLoginThrottle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := auth.NewLoginThrottle(auth.DefaultLoginLimit, auth.DefaultLoginWindow)
		a := from("192.0.2.1:50000")

		// 10 failures per 20 s: the first 10 are let through.
		for i := range 10 {
			if wait := th.Wait(a); wait != 0 {
				t.Fatalf("after %d failures: wait %s, want none", i, wait)
			}
			th.Failed(a)
		}
		// Then one failure is forgiven every 2 s: wait exactly that.
		if wait := th.Wait(a); wait != 2*time.Second {
			t.Fatalf("after 10 failures: wait %s, want 2s", wait)
		}
		// Another port of the same address is the same client.
		if wait := th.Wait(from("192.0.2.1:60000")); wait != 2*time.Second {
			t.Errorf("same address, other port: wait %s, want 2s", wait)
		}
		// Other addresses are not affected.
		if wait := th.Wait(from("192.0.2.2:50000")); wait != 0 {
			t.Errorf("another address: wait %s, want none", wait)
		}

		time.Sleep(1500 * time.Millisecond)
		if wait := th.Wait(a); wait != 500*time.Millisecond {
			t.Errorf("1.5 s later: wait %s, want 500ms", wait)
		}
		time.Sleep(500 * time.Millisecond)
		if wait := th.Wait(a); wait != 0 {
			t.Fatalf("2 s later: wait %s, want none (one failure forgiven)", wait)
		}
		th.Failed(a)
		if wait := th.Wait(a); wait != 2*time.Second {
			t.Errorf("one forgiven failure used: wait %s, want 2s", wait)
		}

		// A whole window later the address is as if never seen.
		time.Sleep(auth.DefaultLoginWindow)
		for i := range 10 {
			if wait := th.Wait(a); wait != 0 {
				t.Fatalf("a window later, after %d failures: wait %s, want none", i, wait)
			}
			th.Failed(a)
		}
		if wait := th.Wait(a); wait == 0 {
			t.Error("a window later, 10 failures did not throttle again")
		}
	})
}

// TestLoginThrottleIPv6 groups IPv6 clients by /64: one host commonly holds
// a whole /64 and could otherwise rotate through it.
func TestLoginThrottleIPv6(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := auth.NewLoginThrottle(3, 6*time.Second)
		for _, addr := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2::2]:1", "[2001:db8:1:2:ffff::9]:1"} {
			th.Failed(from(addr))
		}
		if wait := th.Wait(from("[2001:db8:1:2:abcd::1]:443")); wait != 2*time.Second {
			t.Errorf("same /64: wait %s, want 2s", wait)
		}
		if wait := th.Wait(from("[2001:db8:1:3::1]:443")); wait != 0 {
			t.Errorf("next /64: wait %s, want none", wait)
		}
		// An IPv4 client seen through an IPv4-mapped IPv6 address is the
		// IPv4 client.
		for range 3 {
			th.Failed(from("198.51.100.7:1"))
		}
		if wait := th.Wait(from("[::ffff:198.51.100.7]:1")); wait != 2*time.Second {
			t.Errorf("IPv4-mapped address: wait %s, want 2s", wait)
		}
	})
}
