package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"musicadmin/internal/datamodel"
)

// Default login throttle: Flask-AppBuilder's AUTH_RATE_LIMIT, "10 per 20
// second".
const (
	DefaultLoginLimit  = 10
	DefaultLoginWindow = 20 * time.Second
)

// MaxAddrBytes is the longest client key a FailureStore is given (the
// column's size on SQL). An IPv6 /64 prefix takes at most 43 bytes; only a
// listener that is not TCP's gives anything longer, and that is cut.
const MaxAddrBytes = 64

// LoginThrottle slows down password guessing: at most limit failed logins
// per window and client address, counted in the database (FailureStore),
// so that every instance of the app on one database shares the count. A
// failure counts for window after it happened (a sliding window: a burst
// of limit failures blocks the address until the oldest of them is window
// old), so nobody can lock an account out for good: the throttle is by
// address, never by user name. The address is the connection's:
// X-Forwarded-For is anyone's to write, and no trusted proxy is
// configured.
//
// Every attempt it lets through is stored as a failure before the password
// is checked, and forgotten when the password was right (Attempt.Forget):
// a check, then a write after the password, would let a burst of parallel
// guesses all pass the check before any was counted, on one instance or
// across several.
type LoginThrottle struct {
	store  FailureStore
	limit  int
	window time.Duration
	log    *slog.Logger

	mu       sync.Mutex
	prunedAt time.Time // when this instance last pruned the store
	// unforgotten are attempts that should not count but whose Forget
	// failed (a full disk, a database down): they are forgotten again
	// before the next attempt is counted, so an outage burns no client's
	// budget once the database takes writes again.
	unforgotten []unforgotten
}

// unforgotten is an attempt to forget again, and when it was made.
type unforgotten struct {
	id string
	at time.Time
}

// NewLoginThrottle allows limit failures (at least 1) per window and
// address, counted in store.
func NewLoginThrottle(store FailureStore, limit int, window time.Duration, log *slog.Logger) *LoginThrottle {
	return &LoginThrottle{store: store, limit: max(limit, 1), window: window, log: log}
}

// Attempt is a login attempt the throttle let through. It counts as a
// failure from the start; Forget uncounts it.
type Attempt struct {
	t  *LoginThrottle
	id string
}

// Begin asks whether the client of r may try to log in at now. When it may,
// Begin counts the attempt as a failure and returns it; when it may not, it
// returns how long the client must wait (more than 0).
//
// An error of the store is returned wrapping datamodel.ErrUnavailable, which
// the login answers with 503 and Retry-After, without checking the password:
// the throttle fails closed. Failing open would let anyone who can slow the
// database down (a flood of requests, a lock held) guess without limit, and
// when the throttle's reads or writes fail the login's own would most likely
// fail too: a session is a write. Nor is a failure that could not be stored
// answered as a mere wrong password, which would tell the guesser, through
// the different answer to a right one, which guess was right.
func (t *LoginThrottle) Begin(ctx context.Context, r *http.Request, now time.Time) (*Attempt, time.Duration, error) {
	key := clientKey(r)
	// The store keeps milliseconds: so does all arithmetic below, and a
	// failure stored at now is exactly now when read back.
	now = now.Truncate(time.Millisecond)
	since := now.Add(-t.window)
	t.forgetAgain(ctx, now)

	// A blocked client costs one indexed read of at most limit rows, and no
	// write: a flood from one address does not grow the table.
	times, err := t.store.LoginFailures(ctx, key, since, t.limit)
	if err != nil {
		return nil, 0, unavailable("read failures", err)
	}
	if len(times) >= t.limit {
		// Blocked until the limit-th newest failure leaves the window.
		throttleRefusals.Add(1)
		return nil, t.waitUntilFree(times[t.limit-1], now), nil
	}

	id, err := t.store.AddLoginFailure(ctx, key, now)
	if err != nil {
		return nil, 0, unavailable("add failure", err)
	}
	a := &Attempt{t: t, id: id}
	// Read again, this attempt included: attempts from the same address
	// that passed the first read at the same moment (on this instance or
	// another) are all stored by now, and if together they go over the
	// limit, this one gives its place back. All of them may do so and none
	// go on: the address loses a try, never gains one.
	times, err = t.store.LoginFailures(ctx, key, since, t.limit+1)
	if err != nil {
		a.forgetQuietly(ctx)
		return nil, 0, unavailable("read failures", err)
	}
	if len(times) > t.limit {
		throttleRefusals.Add(1)
		a.forgetQuietly(ctx)
		// The oldest of the limit+1 read: once it is gone, the others
		// are at most limit, this attempt's own row among them if it was
		// read, so the answer may be early, and the next try a cheap 429.
		return nil, t.waitUntilFree(times[len(times)-1], now), nil
	}
	t.pruneIfDue(ctx, now)
	return a, 0, nil
}

// waitUntilFree is how long from now until the failure at oldest leaves the
// window: at least a millisecond, so a caller always sees a wait.
func (t *LoginThrottle) waitUntilFree(oldest, now time.Time) time.Duration {
	return max(oldest.Add(t.window).Sub(now), time.Millisecond)
}

// Forget uncounts the attempt: the password was right, or it could not be
// checked, and either way no guess failed.
func (a *Attempt) Forget(ctx context.Context) error {
	if err := a.t.store.DeleteLoginFailure(ctx, a.id); err != nil {
		return fmt.Errorf("login throttle: forget attempt: %w", err)
	}
	return nil
}

// RetryLater keeps the attempt, whose Forget failed, to be forgotten again
// before the throttle counts the next attempt on this instance (until it
// is a window old and counts no more anyway).
func (a *Attempt) RetryLater(now time.Time) {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	if len(a.t.unforgotten) < maxUnforgotten {
		a.t.unforgotten = append(a.t.unforgotten, unforgotten{id: a.id, at: now})
	}
}

// maxUnforgotten bounds the attempts kept to forget again: past it, an
// attempt stays counted, which errs on the throttle's side.
const maxUnforgotten = 1024

// forgetAgain forgets the attempts whose Forget failed, dropping those that
// no longer count at now; those that fail again are kept for the next call.
// It costs nothing when there are none, the usual case.
func (t *LoginThrottle) forgetAgain(ctx context.Context, now time.Time) {
	t.mu.Lock()
	todo := t.unforgotten
	t.unforgotten = nil
	t.mu.Unlock()
	if len(todo) == 0 {
		return
	}
	var left []unforgotten
	for i, u := range todo {
		if now.Sub(u.at) >= t.window {
			continue
		}
		if err := t.store.DeleteLoginFailure(ctx, u.id); err != nil {
			left = append(left, todo[i:]...)
			break
		}
	}
	if len(left) > 0 {
		t.mu.Lock()
		t.unforgotten = append(left, t.unforgotten...)
		t.mu.Unlock()
	}
}

// forgetQuietly is Forget where its failure changes nothing: the attempt
// stays counted, which errs on the throttle's side.
func (a *Attempt) forgetQuietly(ctx context.Context) {
	if err := a.Forget(ctx); err != nil {
		a.t.log.Warn("login throttle: an attempt stays counted", "err", err)
	}
}

// pruneIfDue removes the failures too old to count, at most once per window
// on each instance, so the table holds about two windows' failures whatever
// the traffic. It runs only after an attempt was let through, the path that
// adds rows; a blocked address adds none. Failures are kept one window
// longer than they count, for instances whose clocks disagree: each stamps
// and counts with its own, and one whose clock runs ahead must not remove
// what another still counts. A failed prune is logged and left to the next.
func (t *LoginThrottle) pruneIfDue(ctx context.Context, now time.Time) {
	t.mu.Lock()
	due := now.Sub(t.prunedAt) >= t.window
	if due {
		t.prunedAt = now
	}
	t.mu.Unlock()
	if !due {
		return
	}
	if err := t.store.PruneLoginFailures(ctx, now.Add(-2*t.window)); err != nil {
		t.log.Warn("login throttle: old failures not pruned", "err", err)
	}
}

// unavailable wraps a store's error as datamodel.ErrUnavailable (see Begin),
// whatever it was.
func unavailable(op string, err error) error {
	if errors.Is(err, datamodel.ErrUnavailable) {
		return fmt.Errorf("login throttle: %s: %w", op, err)
	}
	return fmt.Errorf("login throttle: %s: %w: %w", op, datamodel.ErrUnavailable, err)
}

// clientKey is the address of the connection r came on; an IPv6 client is
// keyed by its /64, since one host commonly holds a whole /64.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return cut(host)
	}
	addr = addr.Unmap()
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.String()
		}
	}
	return addr.String()
}

// cut returns s in at most MaxAddrBytes of valid UTF-8.
func cut(s string) string {
	if len(s) > MaxAddrBytes {
		s = s[:MaxAddrBytes]
	}
	return strings.ToValidUTF8(s, "")
}

// Failed counts a failed attempt with another credential than a password
// (an API token) of the client of r at now, in the same count as its
// failed logins, and returns how long the client must wait when it was
// already blocked (0 otherwise; then the attempt is counted). A token is
// checked before the throttle is asked, unlike a password: a right token
// is not a guess, and 256 random bits are not guessed, so what the count
// stops is a flood of lookups, and a client with a good token is never
// locked out by another one on its address. Errors as Begin's.
func (t *LoginThrottle) Failed(ctx context.Context, r *http.Request, now time.Time) (time.Duration, error) {
	key := clientKey(r)
	now = now.Truncate(time.Millisecond)
	t.forgetAgain(ctx, now)
	times, err := t.store.LoginFailures(ctx, key, now.Add(-t.window), t.limit)
	if err != nil {
		return 0, unavailable("read failures", err)
	}
	if len(times) >= t.limit {
		throttleRefusals.Add(1)
		return t.waitUntilFree(times[t.limit-1], now), nil
	}
	if _, err := t.store.AddLoginFailure(ctx, key, now); err != nil {
		return 0, unavailable("add failure", err)
	}
	t.pruneIfDue(ctx, now)
	return 0, nil
}
