package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestRSSSamplerReadsVmRSS: the sampler reads a real process's resident
// memory (this test's): it sees 64 MiB touched after it started, its
// samples are in time order, and stopping takes one last sample.
func TestRSSSamplerReadsVmRSS(t *testing.T) {
	s, err := startRSSSampler(os.Getpid(), 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	first := s.taken()[0].kib
	if first <= 0 {
		t.Fatalf("first sample %d KiB", first)
	}
	const size = 64 << 20
	b := make([]byte, size)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1 // resident once written
	}
	want := first + (size>>10)*3/4 // most of it: the runtime may give other pages back
	deadline := time.Now().Add(10 * time.Second)
	var seen int64
	for time.Now().Before(deadline) && seen < want {
		for _, x := range s.taken() {
			seen = max(seen, x.kib)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopped := time.Since(s.start)
	samples, err := s.stop()
	runtime.KeepAlive(b)
	if err != nil {
		t.Fatal(err)
	}
	if seen < want {
		t.Fatalf("the sampler saw at most %d KiB, want %d or more (%d at its start, then 64 MiB touched)", seen, want, first)
	}
	if last := samples[len(samples)-1].at; last < stopped {
		t.Errorf("the last sample is at %s, before stop was called at %s", last, stopped)
	}
	for i := 1; i < len(samples); i++ {
		if samples[i].at < samples[i-1].at {
			t.Fatalf("sample %d at %s, before sample %d at %s", i, samples[i].at, i-1, samples[i-1].at)
		}
	}
}

// TestRSSSamplerGoneProcess: a process that does not exist fails at the
// start, not with a soak of zeros.
func TestRSSSamplerGoneProcess(t *testing.T) {
	if _, err := startRSSSampler(1<<30, time.Second); err == nil {
		t.Fatal("a sampler of no process started")
	}
}

// TestSummarizeRSS: the baseline is the first sample at or after the
// settle time, the end the last, and growth over 1.25× is flagged.
func TestSummarizeRSS(t *testing.T) {
	samples := []rssSample{{0, 50_000}, {5 * time.Second, 90_000}, {10 * time.Second, 100_000},
		{11 * time.Second, 140_000}, {30 * time.Second, 110_000}, {60 * time.Second, 120_000}}
	s := summarizeRSS(samples, 10*time.Second)
	if s != (rssSummary{settled: 100_000, end: 120_000, max: 140_000}) {
		t.Fatalf("summary %+v", s)
	}
	if s.grew() {
		t.Errorf("1.20× flagged as growth")
	}
	samples[len(samples)-1].kib = 126_000
	if s := summarizeRSS(samples, 10*time.Second); !s.grew() {
		t.Errorf("%.2f× not flagged as growth", s.growth())
	}
	if got, want := rssCurve(samples, 10*time.Second), "0s 48.8 MiB, 10s 97.7 MiB, 30s 107.4 MiB, 1m0s 123.0 MiB"; got != want {
		t.Errorf("curve %q, want %q", got, want)
	}
	// A soak shorter than the settle time: its last sample is the baseline.
	if s := summarizeRSS(samples[:2], 10*time.Second); s.settled != 90_000 || s.grew() {
		t.Errorf("short soak: %+v", s)
	}
}

// TestSoakErrorsByKind: the soak's reads count a 500 and a connection the
// server drops as errors, each by its kind; a 302 is no error but is
// named as another answer; the 200s are the reads measured.
func TestSoakErrorsByKind(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		switch r.URL.Path {
		case "/fail":
			http.Error(w, "no", http.StatusInternalServerError)
		case "/moved":
			http.Redirect(w, r, "/login/", http.StatusFound)
		case "/drop":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	tg := newTarget("sqlite", srv.URL, nil, 2)
	defer tg.client.CloseIdleConnections()
	var r loadResult
	for _, path := range []string{"/ok", "/fail", "/moved", "/drop"} {
		r.add(tg.load(t.Context(), path, 100*time.Millisecond, 2))
	}
	r.finish()
	if len(r.lat) == 0 || r.statuses[500] == 0 || r.statuses[302] == 0 || r.errs == 0 {
		t.Fatalf("reads %d, statuses %v, transport errors %d (%s): want some of each", len(r.lat), r.statuses, r.errs, r.describeFailures())
	}
	n, kinds := soakErrors(&r)
	if n != r.statuses[500]+r.errs {
		t.Errorf("%d errors, want the %d answers 500 and the %d transport errors", n, r.statuses[500], r.errs)
	}
	if !strings.Contains(kinds, fmt.Sprintf("%d× status 500", r.statuses[500])) {
		t.Errorf("kinds %q do not name the 500s", kinds)
	}
	dropped := r.errKinds["connection closed (EOF)"] + r.errKinds["connection reset"]
	if dropped != r.errs {
		t.Errorf("transport errors by kind %v, want all %d as a closed or reset connection", r.errKinds, r.errs)
	}
	if strings.Contains(kinds, "302") || otherAnswers(&r) != fmt.Sprintf("%d× status 302", r.statuses[302]) {
		t.Errorf("kinds %q, other answers %q: a 302 is another answer, not an error", kinds, otherAnswers(&r))
	}
	soak := soakResult{reads: r}
	if !soak.failed() {
		t.Error("a soak with errors did not fail")
	}
	clean := tg.load(t.Context(), "/ok", 50*time.Millisecond, 2)
	if soak := (soakResult{reads: clean}); soak.failed() || len(clean.lat) == 0 {
		t.Errorf("a soak of %d answers 200 failed: %s", len(clean.lat), clean.describeFailures())
	}
}

// TestErrKind: transport errors are counted by what went wrong, however
// deep the client wrapped the cause.
func TestErrKind(t *testing.T) {
	wrap := func(err error) error {
		return &url.Error{Op: "Get", URL: "http://127.0.0.1:1/", Err: &net.OpError{Op: "read", Net: "tcp", Err: err}}
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{wrap(os.NewSyscallError("read", syscall.ECONNRESET)), "connection reset"},
		{wrap(os.NewSyscallError("connect", syscall.ECONNREFUSED)), "connection refused"},
		{wrap(os.NewSyscallError("socket", syscall.EMFILE)), "too many open files"},
		{wrap(os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)), "no free local port"},
		{&url.Error{Op: "Get", URL: "/", Err: io.EOF}, "connection closed (EOF)"},
		{&url.Error{Op: "Get", URL: "/", Err: context.DeadlineExceeded}, "timeout"},
		{errors.New("tls: something else"), "other transport error"},
	} {
		if got := errKind(tc.err); got != tc.want {
			t.Errorf("errKind(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestCreateSongsUntil: the soak's writers create until their time is up,
// each 201 a write measured and any other answer counted by its status.
func TestCreateSongsUntil(t *testing.T) {
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/albumview/":
			_, _ = io.WriteString(w, `{"ids":["1","2"]}`)
		case r.Method == http.MethodPost && r.URL.Path == apiPath:
			if posts.Add(1)%5 == 0 {
				http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusCreated)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tg := newTarget("sqlite", srv.URL, nil, 4)
	defer tg.client.CloseIdleConnections()
	r, err := createSongs(t.Context(), tg, 4, 0, time.Now().Add(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if got := int64(r.requests()); got != posts.Load() || got < 5 {
		t.Fatalf("%d creates counted, the server had %d POSTs (want at least 5)", got, posts.Load())
	}
	if n, _ := soakErrors(&r); n != r.statuses[503] || n != int(posts.Load()/5) {
		t.Errorf("%d errors (statuses %v), want the %d answers 503", n, r.statuses, posts.Load()/5)
	}
}
