package logging_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"musicadmin/internal/logging"
)

// syncBuffer is a log destination the flush's timer may write to while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logAt writes one record of level and msg stamped at, as slog.Logger
// would, through h.
func logAt(t *testing.T, h slog.Handler, level slog.Level, msg string, at time.Time) {
	t.Helper()
	if err := h.Handle(context.Background(), slog.NewRecord(at, level, msg, 0)); err != nil {
		t.Fatal(err)
	}
}

var droppedAttr = regexp.MustCompile(`dropped=(\d+)`)

// tally counts the lines of out that hold sub, and the records they stand
// for: each line itself and the dropped=N it carries.
func tally(out, sub string) (lines, records int) {
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, sub) {
			continue
		}
		lines++
		records++
		if m := droppedAttr.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			records += n
		}
	}
	return lines, records
}

// waitRecords polls until out accounts for want records of sub, and
// returns the lines it took.
func waitRecords(t *testing.T, out *syncBuffer, sub string, want int) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lines, records := tally(out.String(), sub)
		if records == want {
			return lines
		}
		if records > want || time.Now().After(deadline) {
			t.Fatalf("%s: %d records accounted for in %d lines, want %d\n%s", sub, records, lines, want, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRateLimit: an outage's stream of one WARN message becomes about a
// line per period, and every record is accounted for, the last burst's
// too (flushed when no later record carries its count); INFO passes
// whole.
func TestRateLimit(t *testing.T) {
	out := &syncBuffer{}
	const every = 100 * time.Millisecond
	h := logging.RateLimit(slog.NewTextHandler(out, nil), every)
	start := time.Now()
	const n = 300
	for i := range n {
		now := time.Now()
		logAt(t, h, slog.LevelWarn, "database unavailable", now)
		if i%10 == 0 {
			logAt(t, h, slog.LevelError, "write failed", now)
		}
		logAt(t, h, slog.LevelInfo, "request", now)
		time.Sleep(time.Millisecond)
	}
	took := time.Since(start)
	lines := waitRecords(t, out, `msg="database unavailable"`, n)
	// The lines of one message are a period apart, the flushed one too.
	var last time.Time
	for _, l := range strings.Split(out.String(), "\n") {
		if !strings.Contains(l, `msg="database unavailable"`) {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(strings.Fields(l)[0], "time="))
		if err != nil {
			t.Fatalf("no time in %q: %v", l, err)
		}
		if !last.IsZero() && at.Sub(last) < every {
			t.Errorf("two lines %v apart, want at least %v:\n%s", at.Sub(last), every, out)
		}
		last = at
	}
	if most := int(took/every) + 2; lines < 2 || lines > most {
		t.Errorf("%d WARN lines for %d records in %v, want 2 to %d", lines, n, took, most)
	}
	waitRecords(t, out, `msg="write failed"`, n/10)
	if got, _ := tally(out.String(), "msg=request"); got != n {
		t.Errorf("INFO lines: %d, want all %d", got, n)
	}
}

// TestRateLimitShortBurst: a burst shorter than the period is one line at
// once and, a period later, one line with the count of the rest.
func TestRateLimitShortBurst(t *testing.T) {
	out := &syncBuffer{}
	h := logging.RateLimit(slog.NewTextHandler(out, nil), 50*time.Millisecond)
	for range 40 {
		logAt(t, h, slog.LevelError, "disk full", time.Now())
	}
	if lines := waitRecords(t, out, `msg="disk full"`, 40); lines != 2 || !strings.Contains(out.String(), "dropped=38") {
		t.Errorf("%d lines, want 2, the second with dropped=38:\n%s", lines, out)
	}
}

// TestRateLimitShared: loggers derived with With share the limit, so a
// request-scoped logger cannot multiply it.
func TestRateLimitShared(t *testing.T) {
	out := &syncBuffer{}
	h := logging.RateLimit(slog.NewTextHandler(out, nil), time.Hour)
	t0 := time.Now()
	logAt(t, h.WithAttrs([]slog.Attr{slog.String("path", "/a")}), slog.LevelWarn, "busy", t0)
	logAt(t, h.WithGroup("g"), slog.LevelWarn, "busy", t0.Add(time.Millisecond))
	logAt(t, h, slog.LevelWarn, "busy", t0.Add(2*time.Millisecond))
	if lines, _ := tally(out.String(), "msg=busy"); lines != 1 {
		t.Errorf("got %d lines, want 1 within the period:\n%s", lines, out)
	}
}

// TestRateLimitConcurrent: writers racing the flush's timer (a loaded
// machine fires it late, after a new period began) still leave a
// message's lines a period apart, and every record accounted for.
func TestRateLimitConcurrent(t *testing.T) {
	out := &syncBuffer{}
	const every = 50 * time.Millisecond
	h := logging.RateLimit(slog.NewTextHandler(out, nil), every)
	const writers, each = 8, 400
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for i := range each {
				logAt(t, h, slog.LevelWarn, "busy", time.Now())
				if i%4 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	waitRecords(t, out, "msg=busy", writers*each)
	// Lines admitted a period apart may be written in either order by a
	// slow goroutine: their stamps, sorted, must be a period apart.
	var stamps []time.Time
	for _, l := range strings.Split(out.String(), "\n") {
		if !strings.Contains(l, "msg=busy") {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(strings.Fields(l)[0], "time="))
		if err != nil {
			t.Fatalf("no time in %q: %v", l, err)
		}
		stamps = append(stamps, at)
	}
	slices.SortFunc(stamps, time.Time.Compare)
	for i := 1; i < len(stamps); i++ {
		// The text handler writes milliseconds: allow one for rounding.
		if gap := stamps[i].Sub(stamps[i-1]); gap < every-time.Millisecond {
			t.Errorf("two lines %v apart, want at least %v", gap, every)
		}
	}
}
