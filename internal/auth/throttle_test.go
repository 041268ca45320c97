package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/auth"
)

func from(addr string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/login/", nil)
	r.RemoteAddr = addr
	return r
}

// failureStore is the failure store of a fresh database of backend b: the
// throttle is tested on what it runs on, every backend.
func failureStore(t *testing.T, b apptest.Backend) auth.FailureStore {
	t.Helper()
	return apptest.OpenBackend(t, apptest.NewMigratedDatabase(t, b)).Accounts()
}

// tries drives a throttle at explicit times: the clock is the test's, so
// the limits are asserted to the millisecond, on a loaded machine as on an
// idle one, with no sleep.
type tries struct {
	t  *testing.T
	th *auth.LoginThrottle
}

// begin asks th at at, failing the test on an error.
func (c tries) begin(addr string, at time.Time) (*auth.Attempt, time.Duration) {
	c.t.Helper()
	a, wait, err := c.th.Begin(context.Background(), from(addr), at)
	if err != nil {
		c.t.Fatalf("Begin(%s, %s): %v", addr, at, err)
	}
	if (a == nil) == (wait == 0) {
		c.t.Fatalf("Begin(%s, %s) = %v, %s: want an attempt or a wait", addr, at, a, wait)
	}
	return a, wait
}

// wait returns how long addr must wait at at, or 0 when it may try; a try
// let through is uncounted again.
func (c tries) wait(addr string, at time.Time) time.Duration {
	c.t.Helper()
	a, wait := c.begin(addr, at)
	if a != nil {
		if err := a.Forget(context.Background()); err != nil {
			c.t.Fatal(err)
		}
	}
	return wait
}

// fail is a try at at that is let through and fails.
func (c tries) fail(addr string, at time.Time) {
	c.t.Helper()
	if _, wait := c.begin(addr, at); wait != 0 {
		c.t.Fatalf("%s at %s: wait %s, want a try", addr, at, wait)
	}
}

func newTries(t *testing.T, store auth.FailureStore, limit int, window time.Duration) tries {
	return tries{t: t, th: auth.NewLoginThrottle(store, limit, window, slog.New(slog.DiscardHandler))}
}

// TestLoginThrottle: 10 failures per 20 s and address, counted over a
// sliding window; a try that turns out right is not counted.
func TestLoginThrottle(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		c := newTries(t, failureStore(t, b), auth.DefaultLoginLimit, auth.DefaultLoginWindow)
		const a = "192.0.2.1:50000"
		t0 := time.Now().Truncate(time.Second)
		at := func(d time.Duration) time.Time { return t0.Add(d) }

		// 10 failures, one a second: each let through.
		for i := range 10 {
			c.fail(a, at(time.Duration(i)*time.Second))
		}
		// The 11th waits until the first is 20 s old.
		if wait := c.wait(a, at(9*time.Second)); wait != 11*time.Second {
			t.Fatalf("after 10 failures: wait %s, want 11s", wait)
		}
		// Another port of the same address is the same client.
		if wait := c.wait("192.0.2.1:60000", at(9*time.Second)); wait != 11*time.Second {
			t.Errorf("same address, other port: wait %s, want 11s", wait)
		}
		// Other addresses are not affected.
		if wait := c.wait("192.0.2.2:50000", at(9*time.Second)); wait != 0 {
			t.Errorf("another address: wait %s, want none", wait)
		}
		if wait := c.wait(a, at(19500*time.Millisecond)); wait != 500*time.Millisecond {
			t.Errorf("at 19.5 s: wait %s, want 500ms", wait)
		}
		// At 20 s the first failure leaves the window: one try, and then
		// the second failure is the one to wait for.
		c.fail(a, at(20*time.Second))
		if wait := c.wait(a, at(20*time.Second)); wait != time.Second {
			t.Errorf("one try used at 20 s: wait %s, want 1s", wait)
		}

		// At 21 s a right password is no failure: its try is given back.
		ok, wait := c.begin(a, at(21*time.Second))
		if wait != 0 {
			t.Fatalf("at 21 s: wait %s, want a try", wait)
		}
		if err := ok.Forget(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.fail(a, at(21*time.Second))
		if wait := c.wait(a, at(21*time.Second)); wait != time.Second {
			t.Errorf("at 21 s, after a right and a wrong password: wait %s, want 1s (the right one not counted)", wait)
		}

		// A whole window after the last failure the address is as if
		// never seen.
		later := at(41 * time.Second)
		for i := range 10 {
			if wait := c.wait(a, later); wait != 0 {
				t.Fatalf("a window later, after %d failures: wait %s, want none", i, wait)
			}
			c.fail(a, later)
		}
		if wait := c.wait(a, later); wait != auth.DefaultLoginWindow {
			t.Errorf("a window later, after 10 failures: wait %s, want 20s", wait)
		}
	})
}

// TestLoginThrottleBurst: parallel tries from one address, all asking
// before any has failed, get no more than the limit through. (Counting a
// failure only after its password was checked let all of them through.)
func TestLoginThrottleBurst(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		store := failureStore(t, b)
		const limit, n, addr = 5, 20, "198.51.100.9:1"
		th := auth.NewLoginThrottle(store, limit, time.Hour, slog.New(slog.DiscardHandler))
		now := time.Now()
		var mu sync.Mutex
		through := 0
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				a, _, err := th.Begin(context.Background(), from(addr), now)
				if err != nil {
					t.Errorf("Begin: %v", err)
					return
				}
				if a != nil {
					mu.Lock()
					through++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if through > limit {
			t.Errorf("%d of %d parallel tries let through, want at most %d", through, n, limit)
		}
		// The tries refused gave their place back: what is counted is what
		// was let through.
		times, err := store.LoginFailures(context.Background(), "198.51.100.9", now.Add(-time.Hour), n)
		if err != nil {
			t.Fatal(err)
		}
		if len(times) != through {
			t.Errorf("%d failures stored, %d tries let through", len(times), through)
		}
		t.Logf("%d of %d parallel tries let through (limit %d)", through, n, limit)
	})
}

// TestLoginThrottleKeys groups IPv6 clients by /64: one host commonly holds
// a whole /64 and could otherwise rotate through it. An address that is not
// an IP (a listener other than TCP's) is a key of its own, cut to fit.
func TestLoginThrottleKeys(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		c := newTries(t, failureStore(t, b), 3, 6*time.Second)
		t0 := time.Now().Truncate(time.Second)
		for _, addr := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2::2]:1", "[2001:db8:1:2:ffff::9]:1"} {
			c.fail(addr, t0)
		}
		if wait := c.wait("[2001:db8:1:2:abcd::1]:443", t0); wait != 6*time.Second {
			t.Errorf("same /64: wait %s, want 6s", wait)
		}
		if wait := c.wait("[2001:db8:1:3::1]:443", t0); wait != 0 {
			t.Errorf("next /64: wait %s, want none", wait)
		}
		// An IPv4 client seen through an IPv4-mapped IPv6 address is the
		// IPv4 client.
		for range 3 {
			c.fail("198.51.100.7:1", t0)
		}
		if wait := c.wait("[::ffff:198.51.100.7]:1", t0); wait != 6*time.Second {
			t.Errorf("IPv4-mapped address: wait %s, want 6s", wait)
		}
		long := strings.Repeat("é", auth.MaxAddrBytes)
		for range 3 {
			c.fail(long, t0)
		}
		if wait := c.wait(long, t0); wait != 6*time.Second {
			t.Errorf("a long address that is no IP: wait %s, want 6s", wait)
		}
	})
}

// TestLoginThrottlePrunes: failures two windows old are removed as tries
// go on, so the table does not grow with time; younger ones stay, for
// instances whose clocks run behind.
func TestLoginThrottlePrunes(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		store := failureStore(t, b)
		const w = time.Minute
		c := newTries(t, store, 10, w)
		t0 := time.Now().Truncate(time.Second)
		c.fail("192.0.2.1:1", t0)
		c.fail("192.0.2.2:1", t0.Add(3*w/2))
		c.fail("192.0.2.3:1", t0.Add(5*w/2))
		for _, want := range []struct {
			addr string
			n    int
		}{{"192.0.2.1", 0}, {"192.0.2.2", 1}, {"192.0.2.3", 1}} {
			times, err := store.LoginFailures(context.Background(), want.addr, t0.Add(-time.Hour), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(times) != want.n {
				t.Errorf("%s: %d failures stored, want %d", want.addr, len(times), want.n)
			}
		}
	})
}

// refusingDeletes is a failure store whose deletes fail while refuse is
// set, as on a full disk: the failure was stored, the write that uncounts
// it is refused.
type refusingDeletes struct {
	auth.FailureStore
	refuse bool
}

func (s *refusingDeletes) DeleteLoginFailure(ctx context.Context, id string) error {
	if s.refuse {
		return errors.New("database or disk is full")
	}
	return s.FailureStore.DeleteLoginFailure(ctx, id)
}

// TestLoginThrottleForgetsAgain: attempts that should not count (a right
// password whose session could not be written) but could not be uncounted
// are uncounted before the next attempt, so an outage costs no budget once
// writes work again. Before RetryLater, the address stayed blocked for the
// rest of the window.
func TestLoginThrottleForgetsAgain(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		store := &refusingDeletes{FailureStore: failureStore(t, b), refuse: true}
		c := newTries(t, store, 3, time.Minute)
		const addr = "203.0.113.50:1"
		t0 := time.Now()
		for i := range 3 {
			a, _ := c.begin(addr, t0.Add(time.Duration(i)*time.Millisecond))
			if err := a.Forget(context.Background()); err == nil {
				t.Fatal("Forget passed on a store that refuses deletes")
			}
			a.RetryLater(t0)
		}
		store.refuse = false
		if wait := c.wait(addr, t0.Add(time.Second)); wait != 0 {
			t.Errorf("after the outage: wait %s, want a try at once", wait)
		}
		times, err := store.LoginFailures(context.Background(), "203.0.113.50", t0.Add(-time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(times) != 0 {
			t.Errorf("%d failures still counted, want none", len(times))
		}
	})
}
