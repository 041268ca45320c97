// Package logging holds the app's slog handlers.
package logging

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// maxKeys bounds the messages a RateLimit handler remembers. The app's
// messages are constants, a few dozen; past the bound the oldest window is
// forgotten, which lets at most one more line through.
const maxKeys = 1024

// RateLimit passes records below WARN untouched, and WARN and ERROR
// records at most once per every for each message: during a database
// outage every request fails the same way, and one line per failed request
// (thousands a second) would bury the first line that says what happened
// and fill the disk the logs are on. A record suppressed is counted, and
// the first one of its message let through again carries the count as
// dropped=N, so nothing is lost silently.
func RateLimit(next slog.Handler, every time.Duration) slog.Handler {
	return &rateLimit{next: next, every: every, state: &limiterState{windows: make(map[string]*window)}}
}

type rateLimit struct {
	next  slog.Handler
	every time.Duration
	state *limiterState // shared by the handlers WithAttrs and WithGroup derive
}

type limiterState struct {
	mu      sync.Mutex
	windows map[string]*window
}

// window is one message's: when it last passed, and how many were
// suppressed since.
type window struct {
	passed  time.Time
	dropped int
}

func (h *rateLimit) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *rateLimit) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	dropped, pass := h.state.admit(r.Message, r.Time, h.every)
	if !pass {
		return nil
	}
	if dropped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("dropped", dropped))
	}
	return h.next.Handle(ctx, r)
}

// admit decides whether a record of msg at now passes, and returns how
// many of msg were suppressed since the last that passed.
func (s *limiterState) admit(msg string, now time.Time, every time.Duration) (dropped int, pass bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.windows[msg]
	if !ok {
		if len(s.windows) >= maxKeys {
			s.forgetOldest()
		}
		s.windows[msg] = &window{passed: now}
		return 0, true
	}
	if now.Sub(w.passed) < every {
		w.dropped++
		return 0, false
	}
	dropped, w.dropped, w.passed = w.dropped, 0, now
	return dropped, true
}

func (s *limiterState) forgetOldest() {
	var oldest string
	var at time.Time
	for msg, w := range s.windows {
		if oldest == "" || w.passed.Before(at) {
			oldest, at = msg, w.passed
		}
	}
	delete(s.windows, oldest)
}

func (h *rateLimit) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &rateLimit{next: h.next.WithAttrs(attrs), every: h.every, state: h.state}
}

func (h *rateLimit) WithGroup(name string) slog.Handler {
	return &rateLimit{next: h.next.WithGroup(name), every: h.every, state: h.state}
}
