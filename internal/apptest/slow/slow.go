// Package slow fits the tests' waits to slow machines. The suite runs under
// the race detector, beside other test processes, on machines as small as
// two shared cores, where a request, a connection or a server's start can
// take many times what it takes on a quiet workstation. Two kinds of wait
// follow from that: a wait that only guards against a hang is generous and
// fixed; a bound a test asserts (a request "fails fast") is Scaled. A test
// server that is slow to answer is waited for (Server), not skipped or
// failed. It is imported only by tests.
package slow

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ServerDeadline bounds how long Server waits for a test server that is
// starting or too busy to answer.
const ServerDeadline = 2 * time.Minute

// ServerTimeout is the connect and server-selection timeout the test DSNs
// carry: well beyond what a busy machine takes, well below a hang.
const ServerTimeout = time.Minute

// Scale is the factor Scaled multiplies by: APP_TEST_TIME_SCALE when it is
// set to a number of at least 1; otherwise 1 on eight cores or more, and
// 8/cores below that (4 on two cores), as fewer cores means more waiting
// for one under load.
func Scale() float64 {
	scaleOnce.Do(func() {
		scale = max(1, 8/float64(runtime.GOMAXPROCS(0)))
		if v := os.Getenv("APP_TEST_TIME_SCALE"); v != "" {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 1 {
				scale = f
			}
		}
	})
	return scale
}

var (
	scaleOnce sync.Once
	scale     float64
)

// Scaled returns d times Scale: the bound a test asserts on how long
// something takes, which a pathology (a quadratic parse, a hash of a
// megabyte) exceeds by far more than any machine's load does.
func Scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * Scale()) }

// Server calls probe until it returns nil, and returns the last error when
// it does not by ServerDeadline. When nothing listens (the connection is
// refused, the socket file is missing) it gives up at once, so a suite run
// without that server skips it without a wait, except under CI=true, where
// the server is required and may still be starting.
func Server(probe func(ctx context.Context) error) error {
	ci := os.Getenv("CI") == "true"
	return Until(ServerDeadline, probe, func(err error) bool { return ci || !NothingListens(err) })
}

// Until calls try until it returns nil, or an error that again says is not
// worth another try, or deadline passes; it returns try's last error. Each
// try gets a context that ends at the deadline; the pauses between tries
// grow from 0.1 s to 2 s.
func Until(deadline time.Duration, try func(ctx context.Context) error, again func(error) bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	pause := 100 * time.Millisecond
	for {
		err := try(ctx)
		if err == nil || !again(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still failing after %v: %w", deadline, err)
		case <-time.After(pause):
		}
		pause = min(2*pause, 2*time.Second)
	}
}

// NothingListens reports whether err says that no server listens where it
// was looked for.
func NothingListens(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}
