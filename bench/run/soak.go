package main

// The soak (issue 18, item 7): at one size (--soak-size, the largest of
// --sizes by default), --soak-conns connections load the song list's first
// page on the SQLite app for --soak, closed loop, while --soak-writers
// clients create songs through the API for the same time. It counts every
// answer outside 2xx/3xx and every transport error, by kind, the reads and
// writes done and their latency, and samples the app's resident memory
// every second: the memory at 10 s (the warm-up, caches filled) against the
// memory at the end says whether anything grows with the requests served.

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// soakGrowthBound flags a soak whose app ended with more than this times
// its resident memory at 10 s.
const soakGrowthBound = 1.25

// soakSettle is when the soak's baseline memory is read: caches and pools
// are full by then, so growth after it is growth with the requests.
const soakSettle = 10 * time.Second

// soakResult is what one soak measured.
type soakResult struct {
	size          int
	duration      time.Duration
	conns         int
	writers       int
	reads, writes loadResult
	rss           []rssSample // the app's, every second from the start
	// settle is when the baseline memory was read: soakSettle, or half a
	// soak shorter than twice that.
	settle time.Duration
	// CPU time (user + system) during the soak of the app and of this
	// process, the load generator, which shares the machine's cores with
	// it; elapsed is the soak's wall time.
	appCPU, clientCPU, elapsed time.Duration
}

// rssSample is a process's resident memory at a time since a start.
type rssSample struct {
	at  time.Duration
	kib int64
}

// rssSummary is the memory a soak reports: at the settle time (the first
// sample at or after it), at the end (the last sample) and the most of any
// sample, in KiB.
type rssSummary struct {
	settled, end, max int64
}

// summarizeRSS reads the summary of samples, taken in time order, with
// the baseline at settle; zeros when there is none.
func summarizeRSS(samples []rssSample, settle time.Duration) rssSummary {
	var s rssSummary
	for _, x := range samples {
		if s.settled == 0 && x.at >= settle {
			s.settled = x.kib
		}
		s.max = max(s.max, x.kib)
	}
	if n := len(samples); n > 0 {
		s.end = samples[n-1].kib
		if s.settled == 0 { // the soak ended before settle: its last
			s.settled = s.end
		}
	}
	return s
}

// growth is the end memory over the settled memory, 0 when not read.
func (s rssSummary) growth() float64 {
	if s.settled <= 0 {
		return 0
	}
	return float64(s.end) / float64(s.settled)
}

// grew reports whether the memory at the end is over the bound.
func (s rssSummary) grew() bool { return s.growth() > soakGrowthBound }

// rssSampler reads a process's VmRSS at its start, every interval, and once
// more when stopped.
type rssSampler struct {
	pid   int
	start time.Time
	stopc chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	samples []rssSample
	err     error // the first read that failed (the process gone)
}

// startRSSSampler takes the first sample of pid's VmRSS now, or fails, and
// then one every interval until stop.
func startRSSSampler(pid int, every time.Duration) (*rssSampler, error) {
	s := &rssSampler{pid: pid, start: time.Now(), stopc: make(chan struct{}), done: make(chan struct{})}
	if err := s.sample(); err != nil {
		return nil, err
	}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-s.stopc:
				_ = s.sample()
				return
			case <-tick.C:
				if s.sample() != nil {
					return
				}
			}
		}
	}()
	return s, nil
}

// sample reads VmRSS once and notes it, or the error.
func (s *rssSampler) sample() error {
	kib, err := procStatus(s.pid, "VmRSS:")
	at := time.Since(s.start)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("VmRSS of process %d at %s: %w", s.pid, at.Round(time.Second), err)
		}
		return err
	}
	s.samples = append(s.samples, rssSample{at: at, kib: kib})
	return nil
}

// taken returns the samples so far.
func (s *rssSampler) taken() []rssSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.samples)
}

// stop takes a last sample and returns them all, with the first error of
// a read, if any.
func (s *rssSampler) stop() ([]rssSample, error) {
	close(s.stopc)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples, s.err
}

// runSoak runs the soak on app, the SQLite app's target (its cookie for
// the list, its token for the creates), whose process is app.pid.
func runSoak(ctx context.Context, o options, app target, size int) (*soakResult, error) {
	if err := ensureOpenFiles(uint64(o.soakConns + o.soakWriters + 64)); err != nil {
		return nil, err
	}
	res := &soakResult{size: size, duration: o.soak, conns: o.soakConns, writers: o.soakWriters,
		settle: min(soakSettle, o.soak/2)}
	// One client for both: one pool of kept-alive connections, as lean as
	// the load can be on a machine whose cores the app needs too.
	t := newTarget(app.name, app.base, app.header, o.soakConns+o.soakWriters)
	t.pid = app.pid
	defer t.client.CloseIdleConnections()
	sampler, err := startRSSSampler(app.pid, time.Second)
	if err != nil {
		return nil, err
	}
	logf("size %d: soak: %d connections on the song list and %d writers for %s", size, o.soakConns, o.soakWriters, o.soak)
	start := time.Now()
	app0, self0 := procCPU(app.pid), procCPU(os.Getpid())
	until := start.Add(o.soak)
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		res.writes, werr = createSongs(ctx, t, o.soakWriters, 0, until)
	}()
	res.reads = t.load(ctx, listPath, time.Until(until), o.soakConns)
	wg.Wait()
	res.elapsed = time.Since(start)
	if app0 > 0 && self0 > 0 {
		res.appCPU, res.clientCPU = procCPU(app.pid)-app0, procCPU(os.Getpid())-self0
	}
	res.reads.finish()
	res.writes.finish()
	samples, rerr := sampler.stop()
	res.rss = samples
	if werr != nil {
		return res, fmt.Errorf("soak writers: %w", werr)
	}
	if rerr != nil {
		return res, fmt.Errorf("soak: %w", rerr)
	}
	return res, ctx.Err()
}

// ensureOpenFiles raises this process's soft limit of open files to need
// when it is lower and the hard limit allows, else fails: the soak's
// client holds a socket per connection. (Go raises the soft limit to the
// hard one at start-up, so this is mostly a check; the app, also Go, does
// the same for itself.)
func ensureOpenFiles(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("open files limit: %w", err)
	}
	if lim.Cur >= need {
		return nil
	}
	if lim.Max < need {
		return fmt.Errorf("open files limit %d (hard), the soak needs %d: raise it (ulimit -Hn)", lim.Max, need)
	}
	lim.Cur = need
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raise the open files limit to %d: %w", need, err)
	}
	return nil
}

// soakErrors counts r's errors as the soak does: every answer outside
// 2xx/3xx and every transport error, and describes them by kind, e.g.
// "2× status 500, 1× timeout".
func soakErrors(r *loadResult) (int, string) {
	n := r.errs
	var parts []string
	for code, c := range r.statuses {
		if code < 200 || code > 399 {
			n += c
			parts = append(parts, fmt.Sprintf("%d× status %d", c, code))
		}
	}
	for kind, c := range r.errKinds {
		parts = append(parts, fmt.Sprintf("%d× %s", c, kind))
	}
	slices.Sort(parts)
	return n, strings.Join(parts, ", ")
}

// otherAnswers describes the answers in 2xx/3xx other than the one wanted
// (a 302 to the login page, say): not errors, but not the page measured.
func otherAnswers(r *loadResult) string {
	var parts []string
	for code, c := range r.statuses {
		if code >= 200 && code <= 399 {
			parts = append(parts, fmt.Sprintf("%d× status %d", c, code))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// failed reports whether the soak had errors or other answers.
func (s *soakResult) failed() bool {
	re, _ := soakErrors(&s.reads)
	we, _ := soakErrors(&s.writes)
	return re+we > 0 || otherAnswers(&s.reads) != "" || otherAnswers(&s.writes) != ""
}

// soakHeader names the columns of the soak table.
var soakHeader = []string{"size", "time", "conns", "writers", "reads", "reads/s", "read p50", "read p99",
	"writes", "writes/s", "write p50", "write p99", "errors", "RSS at 10 s", "RSS end", "RSS max", "end / 10 s"}

// soakRows are the soak table's rows, one a soak.
func soakRows(results []sizeResult) [][]string {
	var rows [][]string
	for _, r := range results {
		s := r.soak
		if s == nil {
			continue
		}
		re, _ := soakErrors(&s.reads)
		we, _ := soakErrors(&s.writes)
		m := summarizeRSS(s.rss, s.settle)
		g := fmt.Sprintf("%.2f×", m.growth())
		if m.grew() {
			g += " GROWTH"
		}
		rows = append(rows, []string{strconv.Itoa(s.size), s.duration.String(), strconv.Itoa(s.conns), strconv.Itoa(s.writers),
			strconv.Itoa(len(s.reads.lat)), fmt.Sprintf("%.0f", s.reads.rps()), ms(s.reads.quantile(0.5)), ms(s.reads.quantile(0.99)),
			strconv.Itoa(len(s.writes.lat)), fmt.Sprintf("%.0f", s.writes.rps()), ms(s.writes.quantile(0.5)), ms(s.writes.quantile(0.99)),
			strconv.Itoa(re + we), mib(m.settled), mib(m.end), mib(m.max), g})
	}
	return rows
}

// soakNotes are the lines under the soak table: errors and other answers
// by kind, the memory growth flagged, and the memory over time.
func soakNotes(results []sizeResult) []string {
	var out []string
	for _, r := range results {
		s := r.soak
		if s == nil {
			continue
		}
		for _, part := range []struct {
			name string
			r    *loadResult
		}{{"reads", &s.reads}, {"writes", &s.writes}} {
			if n, kinds := soakErrors(part.r); n > 0 {
				out = append(out, fmt.Sprintf("size %d, soak %s: %d errors: %s", s.size, part.name, n, kinds))
			}
			if other := otherAnswers(part.r); other != "" {
				out = append(out, fmt.Sprintf("size %d, soak %s: answers other than the page's: %s", s.size, part.name, other))
			}
		}
		m := summarizeRSS(s.rss, s.settle)
		if m.grew() {
			out = append(out, fmt.Sprintf("size %d, soak: GROWTH: the app's RSS went from %s at %s to %s at the end, over %.2f×",
				s.size, mib(m.settled), s.settle, mib(m.end), soakGrowthBound))
		}
		out = append(out, fmt.Sprintf("size %d, soak: the app's RSS over time: %s", s.size, rssCurve(s.rss, soakSettle)))
		if s.appCPU > 0 {
			cores := func(d time.Duration) string {
				return fmt.Sprintf("%.1f s (%.2f cores)", d.Seconds(), d.Seconds()/s.elapsed.Seconds())
			}
			out = append(out, fmt.Sprintf("size %d, soak: CPU in %s: the app %s, %s a request; the load generator %s",
				s.size, s.elapsed.Round(100*time.Millisecond), cores(s.appCPU),
				us(s.appCPU/time.Duration(max(1, s.reads.requests()+s.writes.requests()))), cores(s.clientCPU)))
		}
	}
	return out
}

// rssCurve is the shape of samples without a number a second: the first
// sample, the first at or after each multiple of every (as the baseline is
// chosen), and the last.
func rssCurve(samples []rssSample, every time.Duration) string {
	var out []string
	next := time.Duration(0)
	for i, x := range samples {
		if x.at >= next || i == len(samples)-1 {
			out = append(out, fmt.Sprintf("%s %s", x.at.Round(100*time.Millisecond), mib(x.kib)))
			next = (x.at/every + 1) * every
		}
	}
	return strings.Join(out, ", ")
}

// soakTitle heads the soak table.
func soakTitle() string {
	return fmt.Sprintf("Soak (the SQLite app: closed-loop GET %s, and API creates through POST %s, at once)", listPath, apiPath)
}

// soakNote says what the soak table shows.
var soakNote = fmt.Sprintf("reads and writes count the answers measured (200 and 201); errors are every answer outside 2xx/3xx "+
	"and every transport error; RSS is the app's VmRSS, sampled every second (its \"10 s\" is half the soak when shorter than 20 s); "+
	"end / 10 s over %.2f is flagged GROWTH.", soakGrowthBound)

// printSoak writes the soak table, if a soak ran.
func printSoak(w io.Writer, results []sizeResult) {
	rows := soakRows(results)
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, soakTitle()+":")
	writeAligned(w, soakHeader, rows)
	fmt.Fprintln(w, soakNote)
	for _, n := range soakNotes(results) {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintln(w)
}

// soakMarkdown is the Markdown section of the soak, "" when none ran.
func soakMarkdown(results []sizeResult) string {
	rows := soakRows(results)
	if len(rows) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n## " + soakTitle() + "\n\n" + soakNote + "\n\n" + markdownTable(soakHeader, rows) + "\n")
	for _, n := range soakNotes(results) {
		b.WriteString("- " + n + "\n")
	}
	return b.String()
}
