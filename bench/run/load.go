package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// newClient is a client for closed-loop load on conns connections: their
// connections stay open, redirects are not followed, and the transport
// neither asks for compression nor decodes it: a target that wants a
// compressed answer says so in its Accept-Encoding header.
func newClient(conns int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			MaxIdleConns:        conns * 2,
			MaxIdleConnsPerHost: conns * 2,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// target is one server as the load sees it: its name in the table, its
// base URL, the headers every request carries and its own client.
type target struct {
	name   string
	base   string // http://host:port
	header http.Header
	client *http.Client
	// listOnly: the server serves the song list pages only (the floor).
	listOnly bool
	// rewrite maps a page's path to this target's, where the page names
	// a record by id and the target's backend gives it another.
	rewrite map[string]string
	// pid is the server's process, whose CPU time the load reads.
	pid int
	// twin: the target is another target's server asked another way
	// (with gzip); it runs no API creates, which would write twice.
	twin bool
}

// serves reports whether t serves page p.
func (t target) serves(p benchPage) bool { return p.list || !t.listOnly }

// url returns the URL of path (with its query) as this target asks it.
func (t target) url(path string) string {
	if r, ok := t.rewrite[path]; ok {
		path = r
	}
	return t.base + path
}

func newTarget(name, base string, header http.Header, conns int) target {
	return target{name: name, base: base, header: header, client: newClient(conns)}
}

// get GETs path (with its query) and returns the body of a 200, decoded
// when the server compressed it.
func (t target) get(ctx context.Context, path string) ([]byte, error) {
	body, _, err := t.fetch(ctx, path)
	return body, err
}

// fetch GETs path (with its query) with the target's headers and extra
// (name, value pairs), and returns the body of a 200, decoded when the
// server compressed it with gzip, and its size on the wire.
func (t target) fetch(ctx context.Context, path string, extra ...string) (body []byte, wire int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url(path), nil)
	if err != nil {
		return nil, 0, err
	}
	maps.Copy(req.Header, t.header)
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("status %d (location %q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	switch enc := resp.Header.Get("Content-Encoding"); enc {
	case "":
		return raw, len(raw), nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, 0, fmt.Errorf("gzip: %w", err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return nil, 0, fmt.Errorf("gzip: %w", err)
		}
		return body, len(raw), nil
	default:
		return nil, 0, fmt.Errorf("unexpected Content-Encoding %q", enc)
	}
}

// loadResult is the outcome of closed-loop load on one server.
type loadResult struct {
	server    string
	skipped   bool            // the server does not serve the page
	statuses  map[int]int     // statuses other than the expected (200; 201 for a create)
	errs      int             // transport errors
	errKinds  map[string]int  // transport errors by kind (errKind)
	errSample string          // the first transport error
	elapsed   time.Duration   // wall time under load
	lat       []time.Duration // latency of every 200
	sorted    bool
	cpu       time.Duration // the server process's CPU time under this load (cpu.go)
}

// add merges o, a later or parallel run on the same server, into r.
func (r *loadResult) add(o loadResult) {
	r.errs += o.errs
	if r.errSample == "" {
		r.errSample = o.errSample
	}
	for kind, n := range o.errKinds {
		if r.errKinds == nil {
			r.errKinds = map[string]int{}
		}
		r.errKinds[kind] += n
	}
	for code, n := range o.statuses {
		if r.statuses == nil {
			r.statuses = map[int]int{}
		}
		r.statuses[code] += n
	}
	r.elapsed += o.elapsed
	r.cpu += o.cpu
	r.lat = append(r.lat, o.lat...)
	r.sorted = false
}

// finish sorts the latencies for quantile.
func (r *loadResult) finish() {
	slices.Sort(r.lat)
	r.sorted = true
}

// requests counts the requests completed, whatever their outcome.
func (r *loadResult) requests() int { return len(r.lat) + r.failures() }

// failures counts the transport errors and the answers other than 200.
func (r *loadResult) failures() int {
	n := r.errs
	for _, c := range r.statuses {
		n += c
	}
	return n
}

// describeFailures lists the failures by kind, e.g. "3× status 500, 2×
// connection reset (first error: ...)".
func (r *loadResult) describeFailures() string {
	var parts []string
	for code, n := range r.statuses {
		parts = append(parts, fmt.Sprintf("%d× status %d", n, code))
	}
	for kind, n := range r.errKinds {
		parts = append(parts, fmt.Sprintf("%d× %s", n, kind))
	}
	slices.Sort(parts)
	if r.errSample != "" {
		parts = append(parts, "first error: "+r.errSample)
	}
	return strings.Join(parts, ", ")
}

// errKind names the kind of a transport error, for counting errors by
// kind: a timeout, a connection reset or refused, one closed before the
// answer (EOF), the client or the server out of file descriptors or local
// ports, or "other".
func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no free local port"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed (EOF)"
	default:
		return "other transport error"
	}
}

// rps counts successful responses per second of wall time.
func (r *loadResult) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.elapsed.Seconds()
}

// note counts one request's outcome: its latency d when it answered want,
// else a failure (an error, or the status it answered instead).
func (r *loadResult) note(d time.Duration, status int, err error, want int) {
	switch {
	case err != nil:
		r.errs++
		if r.errKinds == nil {
			r.errKinds = map[string]int{}
		}
		r.errKinds[errKind(err)]++
		if r.errSample == "" {
			r.errSample = err.Error()
		}
	case status != want:
		if r.statuses == nil {
			r.statuses = map[int]int{}
		}
		r.statuses[status]++
	default:
		r.lat = append(r.lat, d)
	}
}

// quantile is the nearest-rank q-quantile of the successful latencies.
func (r *loadResult) quantile(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	if !r.sorted {
		r.finish()
	}
	i := int(math.Ceil(q*float64(len(r.lat)))) - 1
	return r.lat[min(max(i, 0), len(r.lat)-1)]
}

// load runs conc workers, each sending GET of path (with its query) and
// reading the whole answer, back to back, until dur is over; requests in
// flight then complete.
func (t target) load(ctx context.Context, path string, dur time.Duration, conc int) loadResult {
	ws := make([]loadResult, conc) // one per worker
	var wg sync.WaitGroup
	cpu0 := procCPU(t.pid)
	start := time.Now()
	deadline := start.Add(dur)
	u := t.url(path)
	for i := range ws {
		w := &ws[i]
		w.lat = make([]time.Duration, 0, 1024)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				if err != nil {
					w.note(0, 0, err, http.StatusOK)
					return
				}
				maps.Copy(req.Header, t.header)
				t0 := time.Now()
				resp, err := t.client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				if ctx.Err() != nil {
					return
				}
				status := 0
				if resp != nil {
					status = resp.StatusCode
				}
				w.note(d, status, err, http.StatusOK)
			}
		}()
	}
	wg.Wait()
	r := loadResult{server: t.name, elapsed: time.Since(start)}
	if cpu0 > 0 {
		r.cpu = procCPU(t.pid) - cpu0
	}
	for _, w := range ws {
		r.add(w)
	}
	return r
}

// pageResult is what one page measured on every target, in the order of
// the targets.
type pageResult struct {
	name  string
	loads []loadResult
}

// measure loads page p on every target that serves it for o.duration
// each, conns connections at a time. The load goes round the targets in
// slices, each round starting one target later (ABBA for two), so drift
// (caches, other load on the machine) falls on all of them alike.
func measure(ctx context.Context, o options, conns int, targets []target, p benchPage) pageResult {
	pr := pageResult{name: p.name, loads: make([]loadResult, len(targets))}
	for k, t := range targets {
		pr.loads[k].server = t.name
		pr.loads[k].skipped = !t.serves(p)
	}
	rounds := max(1, int(math.Round(float64(o.duration)/float64(o.slice))))
	each := o.duration / time.Duration(rounds)
	for i := 0; i < rounds && ctx.Err() == nil; i++ {
		for k := range targets {
			j := (i + k) % len(targets)
			if !pr.loads[j].skipped {
				pr.loads[j].add(targets[j].load(ctx, p.path, each, conns))
			}
		}
	}
	for k := range pr.loads {
		pr.loads[k].finish()
	}
	return pr
}
