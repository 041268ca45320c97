package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// GenerationWindow is how long a read of the accounts' generation
// (auth.Generations) answers for the requests after it in this process,
// and how long every write to the accounts waits after its commit before
// it returns.
//
// A remembered login (auth.Remembered) is still good while the
// generation has not moved, and reading the generation was the one
// statement left on most requests: on MySQL, half the database's CPU of an
// API get (100 µs of server CPU, as much as the row itself). A request now
// takes the generation from a read that began less than the window ago.
// That is safe across instances because the write waits the window out:
// when a logout, a deactivation or a role's change returns, every read
// begun before its commit is older than the window on every instance, so
// the next request anywhere reads the generation again and finds it moved.
// This process's own writes need no wait to be seen here: they drop its
// read at once (accountsWrites). The price is the window on a write to the
// accounts that may end a login or narrow it (a login's new session is no
// such write, nor one marked auth.EndsNoLogin), against a read of the
// generation per request: at 1,000 requests a second, 100 reads instead.
// 20 ms was tried first: the server's test suite, which logs out, revokes
// and changes accounts often, ran 10% longer.
const GenerationWindow = 10 * time.Millisecond

// accountsWrites counts this process's writes to the accounts (every
// Together of the accounts' lock, on any store): a generation read begun
// before one of them answers nothing after it.
var accountsWrites atomic.Int64

// wroteAccounts is called after a Together of the accounts' lock, committed
// or not: it drops this process's generation reads at once, then, with
// wait, waits out the window of every other process's (GenerationWindow),
// or until ctx ends (its caller has gone; the write stands). A write
// marked auth.EndsNoLogin does not wait.
func wroteAccounts(ctx context.Context, wait bool) {
	accountsWrites.Add(1)
	if !wait {
		return
	}
	t := time.NewTimer(GenerationWindow)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// generationRead is the last read of the accounts' generation: what it
// found, when it began, and accountsWrites then.
type generationRead struct {
	mu     sync.Mutex
	window time.Duration // GenerationWindow; tests change it
	value  int64
	began  time.Time
	writes int64
	found  bool
}

// get returns the generation read last, if that read began within the
// window before now (or after it: a read sent by another request since
// now was taken is fresher still) and no write of this process came after
// it began.
func (g *generationRead) get(now time.Time, writes int64) (int64, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.found || g.writes != writes || now.Sub(g.began) >= g.window {
		return 0, false
	}
	return g.value, true
}

// put keeps a read that began at began, when accountsWrites was writes,
// unless a read begun later is kept already.
func (g *generationRead) put(value int64, began time.Time, writes int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.found && g.began.After(began) {
		return
	}
	g.value, g.began, g.writes, g.found = value, began, writes, true
}
