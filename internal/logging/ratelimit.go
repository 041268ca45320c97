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
// dropped=N, so nothing is lost silently; when none comes within every,
// the last one suppressed is written then, with the count, so a burst
// shorter than every is counted too.
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

// window is one message's: when it last passed, how many were suppressed
// since, the last of those, and whether a flush of them is scheduled.
type window struct {
	passed    time.Time
	dropped   int
	last      slog.Record
	next      slog.Handler
	scheduled bool
}

func (h *rateLimit) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *rateLimit) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	dropped, pass := h.state.admit(h.next, r, h.every)
	if !pass {
		return nil
	}
	if dropped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("dropped", dropped))
	}
	return h.next.Handle(ctx, r)
}

// admit decides whether r passes, and returns how many of its message
// were suppressed since the last that passed. A suppressed record is kept,
// with next (the handler it would have gone to), for the flush.
func (s *limiterState) admit(next slog.Handler, r slog.Record, every time.Duration) (dropped int, pass bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.windows[r.Message]
	if !ok {
		if len(s.windows) >= maxKeys {
			s.forgetOldest()
		}
		s.windows[r.Message] = &window{passed: r.Time}
		return 0, true
	}
	if r.Time.Sub(w.passed) < every {
		w.dropped++
		w.last, w.next = r.Clone(), next
		if !w.scheduled {
			w.scheduled = true
			time.AfterFunc(time.Until(w.passed.Add(every)), func() { s.flush(w, every) })
		}
		return 0, false
	}
	dropped, w.dropped, w.passed = w.dropped, 0, r.Time
	return dropped, true
}

// flush writes the last record suppressed in w with the count, unless a
// record of its message passed meanwhile and carried the count itself.
func (s *limiterState) flush(w *window, every time.Duration) {
	s.mu.Lock()
	if w.dropped == 0 {
		w.scheduled = false
		s.mu.Unlock()
		return
	}
	// A record may have passed since this flush was scheduled, opening a
	// new period, and been followed by suppressed ones: they are flushed
	// when that period ends, not now, a moment after the line that passed.
	if due := w.passed.Add(every); time.Now().Before(due) {
		time.AfterFunc(time.Until(due), func() { s.flush(w, every) })
		s.mu.Unlock()
		return
	}
	w.scheduled = false
	// The line written is the last record suppressed, stamped when it is
	// written (so the lines of a message stay a period apart), counting
	// the others.
	r, next := w.last, w.next
	r.Time = time.Now()
	if w.dropped > 1 {
		r.AddAttrs(slog.Int("dropped", w.dropped-1))
	}
	w.dropped, w.passed, w.last, w.next = 0, r.Time, slog.Record{}, nil
	s.mu.Unlock()
	_ = next.Handle(context.Background(), r)
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
