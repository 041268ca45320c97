package logging_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/logging"
)

// logAt writes one record of level and msg stamped at, as slog.Logger
// would, through h.
func logAt(t *testing.T, h slog.Handler, level slog.Level, msg string, at time.Time) {
	t.Helper()
	if err := h.Handle(context.Background(), slog.NewRecord(at, level, msg, 0)); err != nil {
		t.Fatal(err)
	}
}

func TestRateLimit(t *testing.T) {
	var out bytes.Buffer
	h := logging.RateLimit(slog.NewTextHandler(&out, nil), time.Second)
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

	// An outage: 500 failures in 2.5 s, two kinds.
	for i := range 500 {
		at := t0.Add(time.Duration(i) * 5 * time.Millisecond)
		logAt(t, h, slog.LevelWarn, "database unavailable", at)
		if i%10 == 0 {
			logAt(t, h, slog.LevelError, "write failed", at)
		}
		logAt(t, h, slog.LevelInfo, "request", at)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	count := func(sub string) (n int, dropped []string) {
		for _, l := range lines {
			if strings.Contains(l, sub) {
				n++
				if i := strings.Index(l, "dropped="); i >= 0 {
					dropped = append(dropped, l[i:])
				}
			}
		}
		return n, dropped
	}
	if n, _ := count("msg=request"); n != 500 {
		t.Errorf("INFO lines: %d, want all 500", n)
	}
	// At 0 s, 1 s and 2 s: three lines, the later two with the count of
	// the 199 suppressed in each second before.
	if n, dropped := count(`msg="database unavailable"`); n != 3 || strings.Join(dropped, ",") != "dropped=199,dropped=199" {
		t.Errorf("WARN lines: %d with %v, want 3 with dropped=199 twice\n%s", n, dropped, out.String())
	}
	if n, dropped := count(`msg="write failed"`); n != 3 || strings.Join(dropped, ",") != "dropped=19,dropped=19" {
		t.Errorf("ERROR lines: %d with %v, want 3 with dropped=19 twice", n, dropped)
	}
}

// TestRateLimitShared: loggers derived with With share the limit, so a
// request-scoped logger cannot multiply it.
func TestRateLimitShared(t *testing.T) {
	var out bytes.Buffer
	h := logging.RateLimit(slog.NewTextHandler(&out, nil), time.Second)
	t0 := time.Now()
	logAt(t, h.WithAttrs([]slog.Attr{slog.String("path", "/a")}), slog.LevelWarn, "busy", t0)
	logAt(t, h.WithGroup("g"), slog.LevelWarn, "busy", t0.Add(time.Millisecond))
	logAt(t, h, slog.LevelWarn, "busy", t0.Add(1100*time.Millisecond))
	if n := strings.Count(out.String(), "msg=busy"); n != 2 || !strings.Contains(out.String(), "dropped=1") {
		t.Errorf("got %d lines:\n%s", n, out.String())
	}
}
