package auth

import (
	"sync"
	"time"

	"musicadmin/internal/access"
)

// Login is what a request learns of its login: the user and what they
// may do. Grants is shared by every request that is given it, and never
// changed.
type Login struct {
	User   User
	Grants *access.Grants
}

// The bounds of a Remembered: an entry is read again after
// rememberedMaxAge whatever the generation says, so that a change written
// past the app (an UPDATE typed into the database's console, which takes
// no lock) reaches it within that time; and at rememberedMaxEntries the
// map is emptied rather than grown, as a flood of logins could make it.
const (
	rememberedMaxAge     = 10 * time.Second
	rememberedMaxEntries = 10000
)

// Remembered keeps what requests learnt of logins (a session's, an API
// token's), by the login's key, for the next requests of the same login:
// an entry holds while the accounts' generation (Generations) is the one
// its read saw, and until its login expires, rememberedMaxAge at most.
// The generation moves with every write that can end a login or change
// its user or grants, made by any instance on the database, and commits
// with that write: a request that reads the generation first and finds it
// unmoved knows that nothing it remembers has changed. Safe for
// concurrent use.
type Remembered[V any] struct {
	mu      sync.Mutex
	entries map[string]remembered[V]
}

type remembered[V any] struct {
	value      V
	generation int64
	until      time.Time
}

// NewRemembered returns an empty Remembered.
func NewRemembered[V any]() *Remembered[V] {
	return &Remembered[V]{entries: map[string]remembered[V]{}}
}

// Fresh reports whether an entry kept for key holds at now, if the
// generation has not moved: a request whose login has none reads it at
// once, without reading the generation first.
func (r *Remembered[V]) Fresh(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[key]
	return ok && now.Before(e.until)
}

// Get returns the value kept for key when it was read at generation and
// holds at now.
func (r *Remembered[V]) Get(key string, generation int64, now time.Time) (V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[key]
	if !ok || e.generation != generation || !now.Before(e.until) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put keeps v for key: read at now, when the accounts were at generation
// (read before v, or in the same statement), for a login that expires at
// expires (zero: never).
func (r *Remembered[V]) Put(key string, v V, generation int64, now, expires time.Time) {
	until := now.Add(rememberedMaxAge)
	if !expires.IsZero() && expires.Before(until) {
		until = expires
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.entries[key]; !ok && len(r.entries) >= rememberedMaxEntries {
		clear(r.entries)
	}
	r.entries[key] = remembered[V]{value: v, generation: generation, until: until}
}

// Forget drops what is kept for key.
func (r *Remembered[V]) Forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.entries, key)
}
