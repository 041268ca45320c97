package auth

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Default login throttle: Flask-AppBuilder's AUTH_RATE_LIMIT, "10 per 20
// second".
const (
	DefaultLoginLimit  = 10
	DefaultLoginWindow = 20 * time.Second
)

// maxThrottled bounds the addresses a LoginThrottle remembers.
const maxThrottled = 10_000

// LoginThrottle slows down password guessing: each client address has a
// token bucket of limit failed logins that refills over window, so a burst
// of failures blocks the address for a while, and nobody can lock an
// account out for good (the throttle is by address, never by user name).
// The address is the connection's: X-Forwarded-For is anyone's to write, and
// no trusted proxy is configured.
type LoginThrottle struct {
	limit  int
	every  time.Duration // one failure is forgiven per every
	mu     sync.Mutex
	byAddr map[string]*rate.Limiter
}

// NewLoginThrottle allows limit failures per window and address.
func NewLoginThrottle(limit int, window time.Duration) *LoginThrottle {
	return &LoginThrottle{limit: limit, every: window / time.Duration(limit),
		byAddr: make(map[string]*rate.Limiter)}
}

// Wait returns how long the client of r must wait before it may try to log
// in again, or 0.
func (t *LoginThrottle) Wait(r *http.Request) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.byAddr[clientKey(r)]
	if !ok {
		return 0
	}
	tokens := l.TokensAt(time.Now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(t.every))
}

// Failed records a failed login of the client of r.
func (t *LoginThrottle) Failed(r *http.Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	key := clientKey(r)
	l, ok := t.byAddr[key]
	if !ok {
		if len(t.byAddr) >= maxThrottled {
			t.forgetIdle(now)
		}
		if len(t.byAddr) >= maxThrottled {
			// Too many addresses at once to track one more: a guesser with
			// that many gets limit tries from each anyway.
			return
		}
		l = rate.NewLimiter(rate.Every(t.every), t.limit)
		t.byAddr[key] = l
	}
	l.AllowN(now, 1)
}

// forgetIdle drops the addresses whose buckets are full again: they are as
// if never seen.
func (t *LoginThrottle) forgetIdle(now time.Time) {
	for key, l := range t.byAddr {
		if l.TokensAt(now) >= float64(t.limit) {
			delete(t.byAddr, key)
		}
	}
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
		return host
	}
	addr = addr.Unmap()
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.String()
		}
	}
	return addr.String()
}
