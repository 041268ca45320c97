// Command run is `make bench`: it builds the app and the floor server
// (bench/floor), and for each database size seeds a fresh SQLite database,
// starts both servers on loopback over the same file, logs in to the app and
// measures requests per second and p50/p99 latency of each song list page on
// both, alternating between them so both see the same machine state. It
// prints a table, writes it as Markdown to bench/results/latest.md and exits
// 1 when any request failed or answered other than 200.
//
//	go run ./bench/run --sizes 10000,100000 --duration 5s --concurrency 8
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

const (
	listPath = "/songsview/list/"
	pageSize = 25 // the app's default page size
	username = "admin"
)

type options struct {
	sizes       []int
	duration    time.Duration
	warmup      time.Duration
	slice       time.Duration
	concurrency int
	out         string
	keep        bool
	plainFloor  bool
}

func main() {
	var o options
	sizes := flag.String("sizes", "10000,100000,1000000", "comma-separated song counts; albums are songs/100")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured load per page per server")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured load per page per server before measuring")
	flag.DurationVar(&o.slice, "slice", time.Second, "the load alternates between the servers in slices this long")
	flag.IntVar(&o.concurrency, "concurrency", 8, "concurrent connections (closed loop: one request in flight each)")
	flag.StringVar(&o.out, "out", filepath.Join("bench", "results", "latest.md"), "Markdown report (a relative path is from the module root)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (databases, server logs)")
	flag.BoolVar(&o.plainFloor, "plain-floor", false, "run the floor with --plain-sql: COUNT(*) and LIMIT/OFFSET per request")
	flag.Parse()
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bench: bad --sizes entry %q\n", s)
			os.Exit(2)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.duration <= 0 || o.concurrency <= 0 || o.slice <= 0 {
		fmt.Fprintln(os.Stderr, "bench: --duration, --slice and --concurrency must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, o)
	stop()
	os.Exit(code)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// sizeResult is what one database size measured.
type sizeResult struct {
	size              int
	seedTime          time.Duration
	pages             []pageResult
	appRSS, floorRSS  int64 // peak resident set (VmHWM), KiB
	appBytes, flBytes int   // body size of the first page
}

type pageResult struct {
	name        string
	ours, floor loadResult
}

func run(ctx context.Context, o options) int {
	root, err := moduleRoot()
	if err != nil {
		logf("%v", err)
		return 2
	}
	tmp, err := os.MkdirTemp("", "musicadmin-bench-")
	if err != nil {
		logf("temp dir: %v", err)
		return 1
	}
	defer func() {
		if o.keep {
			logf("kept %s", tmp)
			return
		}
		if err := os.RemoveAll(tmp); err != nil {
			logf("remove temp dir: %v", err)
		}
	}()

	appBin := filepath.Join(root, "bin", "app")
	floorBin := filepath.Join(tmp, "floor")
	logf("building bin/app and the floor")
	if err := command(ctx, root, nil, "go", "build", "-o", appBin, "./cmd/app"); err != nil {
		logf("build app: %v", err)
		return 1
	}
	if err := command(ctx, root, nil, "go", "build", "-o", floorBin, "./bench/floor"); err != nil {
		logf("build floor: %v", err)
		return 1
	}

	var results []sizeResult
	failed := false
	for _, size := range o.sizes {
		res, err := benchSize(ctx, o, tmp, appBin, floorBin, size)
		if err != nil {
			logf("size %d: %v", size, err)
			failed = true
			break
		}
		results = append(results, res)
		printTable(os.Stdout, o, []sizeResult{res})
	}
	if len(results) > 0 {
		fmt.Println()
		fmt.Println("All sizes:")
		printTable(os.Stdout, o, results)
		out := o.out
		if !filepath.IsAbs(out) {
			out = filepath.Join(root, out)
		}
		if err := writeMarkdown(out, o, results); err != nil {
			logf("write %s: %v", o.out, err)
			failed = true
		} else {
			logf("wrote %s", o.out)
		}
	}
	for _, r := range results {
		for _, p := range r.pages {
			for _, l := range []loadResult{p.ours, p.floor} {
				if l.failures() > 0 {
					logf("size %d %s %s: %d failed requests of %d (%s)", r.size, p.name, l.server, l.failures(), l.n, l.describeFailures())
					failed = true
				}
			}
		}
	}
	if failed || ctx.Err() != nil {
		return 1
	}
	return 0
}

// moduleRoot finds the directory of musicadmin's go.mod from the working
// directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("module musicadmin")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the musicadmin module")
		}
		dir = parent
	}
}

// childEnv is the environment without APP_* overrides, so the generated
// configuration file is what the app uses.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "APP_") {
			env = append(env, kv)
		}
	}
	return env
}

// command runs name with args in dir, output to stderr (or to out).
func command(ctx context.Context, dir string, out io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = childEnv()
	if out == nil {
		out = os.Stderr
	}
	cmd.Stdout = out
	cmd.Stderr = os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", filepath.Base(name), strings.Join(args, " "), err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func benchSize(ctx context.Context, o options, tmp, appBin, floorBin string, size int) (sizeResult, error) {
	res := sizeResult{size: size}
	dir, err := os.MkdirTemp(tmp, fmt.Sprintf("size-%d-", size))
	if err != nil {
		return res, err
	}
	dbPath := filepath.Join(dir, "app.db")
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf("app_name: Music Admin\nsecret_key: %q\ndev: false\ndatabase:\n  driver: sqlite\n  dsn: %q\n"+
		"server:\n  addr: \"127.0.0.1:0\"\n  secure_cookies: false\n", randomHex(32), dbPath)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return res, err
	}
	app := func(args ...string) error {
		return command(ctx, dir, nil, appBin, append([]string{"--config", cfgPath}, args...)...)
	}
	logf("size %d: create-db and seed %d albums, %d songs", size, max(size/100, 1), size)
	if err := app("create-db"); err != nil {
		return res, err
	}
	start := time.Now()
	if err := app("seed", "--albums", strconv.Itoa(max(size/100, 1)), "--songs", strconv.Itoa(size)); err != nil {
		return res, err
	}
	res.seedTime = time.Since(start)
	password := randomHex(12)
	if err := app("create-admin", "--username", username, "--firstname", "Bench", "--lastname", "User",
		"--email", "bench@example.com", "--password", password); err != nil {
		return res, err
	}

	appAddr, err := freeAddr()
	if err != nil {
		return res, err
	}
	floorAddr, err := freeAddr()
	if err != nil {
		return res, err
	}
	appProc, err := startServer(filepath.Join(dir, "app.log"), appBin, "--config", cfgPath, "run", "--addr", appAddr)
	if err != nil {
		return res, err
	}
	defer appProc.stop()
	floorArgs := []string{"--db", dbPath, "--addr", floorAddr}
	if o.plainFloor {
		floorArgs = append(floorArgs, "--plain-sql")
	}
	floorProc, err := startServer(filepath.Join(dir, "floor.log"), floorBin, floorArgs...)
	if err != nil {
		return res, err
	}
	defer floorProc.stop()
	appBase, floorBase := "http://"+appAddr, "http://"+floorAddr
	if err := waitReady(ctx, appProc, appBase+"/healthz"); err != nil {
		return res, fmt.Errorf("app: %w (log: %s)", err, appProc.tail())
	}
	if err := waitReady(ctx, floorProc, floorBase+listPath); err != nil {
		return res, fmt.Errorf("floor: %w (log: %s)", err, floorProc.tail())
	}
	cookie, err := login(ctx, appBase, password)
	if err != nil {
		return res, fmt.Errorf("login: %w", err)
	}

	lastPage := (size + pageSize - 1) / pageSize
	pages := []struct{ name, query string }{
		{"first page", ""},
		{fmt.Sprintf("page %d (last)", lastPage), "?page=" + strconv.Itoa(lastPage)},
		{"sort=title", "?sort=title"},
		{"sort=-title", "?sort=-title"},
		{"q=love", "?q=love"},         // dense: 1 title in 24
		{"q=river 12", "?q=river+12"}, // sparse: 1 in 24 of the ids that start 12
		{"rating__gte=5", "?rating__gte=5"},
		{"album=42", "?album=42"},
	}
	oursHdr := http.Header{"Cookie": {cookie}}
	oursClient, floorClient := newClient(o.concurrency), newClient(o.concurrency)
	defer oursClient.CloseIdleConnections()
	defer floorClient.CloseIdleConnections()

	// The floor must serve the same page: compare the bodies once, the CSRF
	// token aside.
	for i, p := range pages {
		a, err := fetch(ctx, oursClient, appBase+listPath+p.query, oursHdr)
		if err != nil {
			return res, fmt.Errorf("app %s: %w", p.name, err)
		}
		f, err := fetch(ctx, floorClient, floorBase+listPath+p.query, nil)
		if err != nil {
			return res, fmt.Errorf("floor %s: %w", p.name, err)
		}
		if i == 0 {
			res.appBytes, res.flBytes = len(a), len(f)
		}
		if d := firstDiff(normalize(a), normalize(f)); d != "" {
			logf("size %d %s: WARNING: the floor's page differs from the app's: %s", size, p.name, d)
		}
	}

	if o.warmup > 0 {
		logf("size %d: warming up", size)
		for _, p := range pages {
			load(ctx, oursClient, "ours", appBase+listPath+p.query, oursHdr, o.warmup, o.concurrency)
			load(ctx, floorClient, "floor", floorBase+listPath+p.query, nil, o.warmup, o.concurrency)
		}
	}
	for _, p := range pages {
		logf("size %d: %s", size, p.name)
		pr := pageResult{name: p.name, ours: loadResult{server: "ours"}, floor: loadResult{server: "floor"}}
		// Alternate in slices, ABBA, so drift (caches, other load on the
		// machine) falls on both servers alike.
		rounds := max(1, int(math.Round(float64(o.duration)/float64(o.slice))))
		each := o.duration / time.Duration(rounds)
		for i := 0; i < rounds && ctx.Err() == nil; i++ {
			runOurs := func() {
				pr.ours.add(load(ctx, oursClient, "ours", appBase+listPath+p.query, oursHdr, each, o.concurrency))
			}
			runFloor := func() {
				pr.floor.add(load(ctx, floorClient, "floor", floorBase+listPath+p.query, nil, each, o.concurrency))
			}
			if i%2 == 0 {
				runOurs()
				runFloor()
			} else {
				runFloor()
				runOurs()
			}
		}
		pr.ours.finish()
		pr.floor.finish()
		res.pages = append(res.pages, pr)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
	}
	if res.appRSS, err = peakRSS(appProc.cmd.Process.Pid); err != nil {
		logf("app peak RSS: %v", err)
	}
	if res.floorRSS, err = peakRSS(floorProc.cmd.Process.Pid); err != nil {
		logf("floor peak RSS: %v", err)
	}
	if appProc.exited() || floorProc.exited() {
		return res, fmt.Errorf("a server exited during the run (app log: %s; floor log: %s)", appProc.tail(), floorProc.tail())
	}
	return res, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// server is a started server process.
type server struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	once    sync.Once
}

func startServer(logPath, name string, args ...string) (*server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	s := &server{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	return s, nil
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop asks the server to drain and exit, and kills it after 10 s.
func (s *server) stop() {
	s.once.Do(func() {
		if s.exited() {
			return
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// tail returns the last lines of the server's log.
func (s *server) tail() string {
	data, _ := os.ReadFile(s.logPath)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], " | ")
}

func waitReady(ctx context.Context, s *server, u string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s.exited() {
			return errors.New("exited at start-up")
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("not ready after 30 s")
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// login signs in as the admin through the login form and returns the Cookie
// header of the session.
func login(ctx context.Context, base, password string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/login/", nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfInput.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return "", fmt.Errorf("GET /login/: status %d, csrf token found: %v", resp.StatusCode, m != nil)
	}
	form := url.Values{"username": {username}, "password": {password}, "csrf_token": {string(m[1])}, "next": {"/"}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/login/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("POST /login/: status %d, want 302", resp.StatusCode)
	}
	u, _ := url.Parse(base + "/")
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if len(parts) == 0 {
		return "", errors.New("no session cookie after login")
	}
	return strings.Join(parts, "; "), nil
}

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

// fetch GETs u and returns the body of a 200.
func fetch(ctx context.Context, c *http.Client, u string, h http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	maps(req.Header, h)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d (location %q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	return body, nil
}

func maps(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

func normalize(b []byte) []byte {
	return csrfInput.ReplaceAll(b, []byte(`name="csrf_token" value="CSRF"`))
}

// firstDiff describes where a and b first differ, or returns "".
func firstDiff(a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	excerpt := func(s []byte) string {
		return strconv.Quote(string(s[max(0, i-40):min(len(s), i+60)]))
	}
	return fmt.Sprintf("at byte %d (app %d bytes, floor %d): app %s, floor %s", i, len(a), len(b), excerpt(a), excerpt(b))
}

// loadResult is the outcome of closed-loop load on one server.
type loadResult struct {
	server    string
	n         int             // requests completed (any outcome)
	statuses  map[int]int     // non-200 statuses
	errs      int             // transport errors
	errSample string          // the first transport error
	elapsed   time.Duration   // wall time under load
	lat       []time.Duration // latency of every 200
	sorted    bool
}

func (r *loadResult) add(o loadResult) {
	r.n += o.n
	r.errs += o.errs
	if r.errSample == "" {
		r.errSample = o.errSample
	}
	for code, n := range o.statuses {
		if r.statuses == nil {
			r.statuses = map[int]int{}
		}
		r.statuses[code] += n
	}
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
	r.sorted = false
}

func (r *loadResult) finish() {
	slices.Sort(r.lat)
	r.sorted = true
}

func (r *loadResult) failures() int {
	n := r.errs
	for _, c := range r.statuses {
		n += c
	}
	return n
}

func (r *loadResult) describeFailures() string {
	var parts []string
	for code, n := range r.statuses {
		parts = append(parts, fmt.Sprintf("%d× status %d", n, code))
	}
	if r.errs > 0 {
		parts = append(parts, fmt.Sprintf("%d× %s", r.errs, r.errSample))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// rps counts successful responses per second of wall time.
func (r *loadResult) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.elapsed.Seconds()
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

// load runs conc workers, each sending GET u and reading the whole answer,
// back to back, until dur is over; requests in flight then complete.
func load(ctx context.Context, c *http.Client, name, u string, h http.Header, dur time.Duration, conc int) loadResult {
	type worker struct {
		lat       []time.Duration
		statuses  map[int]int
		errs      int
		errSample string
	}
	ws := make([]worker, conc)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(dur)
	for i := range ws {
		w := &ws[i]
		w.lat = make([]time.Duration, 0, 1024)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				if err != nil {
					w.errs++
					w.errSample = err.Error()
					return
				}
				maps(req.Header, h)
				t0 := time.Now()
				resp, err := c.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					w.errs++
					if w.errSample == "" {
						w.errSample = err.Error()
					}
				case resp.StatusCode != http.StatusOK:
					if w.statuses == nil {
						w.statuses = map[int]int{}
					}
					w.statuses[resp.StatusCode]++
				default:
					w.lat = append(w.lat, d)
				}
			}
		}()
	}
	wg.Wait()
	r := loadResult{server: name, elapsed: time.Since(start)}
	for _, w := range ws {
		n := len(w.lat) + w.errs
		for _, c := range w.statuses {
			n += c
		}
		r.add(loadResult{n: n, errs: w.errs, errSample: w.errSample, statuses: w.statuses, lat: w.lat})
	}
	return r
}

// peakRSS reads the peak resident set size (VmHWM, KiB) of a process.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmHWM")
}

// Output.

var header = []string{"size", "page", "ours rps", "ours p50", "ours p99", "floor rps", "floor p50", "floor p99",
	"ratio p50", "errors ours/floor"}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mib(kib int64) string {
	if kib == 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

func cells(r sizeResult, p pageResult) []string {
	ratio := "-"
	if f := p.floor.quantile(0.5); f > 0 {
		ratio = fmt.Sprintf("%.2f×", float64(p.ours.quantile(0.5))/float64(f))
	}
	return []string{strconv.Itoa(r.size), p.name,
		fmt.Sprintf("%.0f", p.ours.rps()), ms(p.ours.quantile(0.5)), ms(p.ours.quantile(0.99)),
		fmt.Sprintf("%.0f", p.floor.rps()), ms(p.floor.quantile(0.5)), ms(p.floor.quantile(0.99)),
		ratio, fmt.Sprintf("%d/%d", p.ours.failures(), p.floor.failures())}
}

func rssLine(r sizeResult) string {
	return fmt.Sprintf("size %d: peak RSS app %s, floor %s; seeded in %s; first page %d bytes (app), %d (floor)",
		r.size, mib(r.appRSS), mib(r.floorRSS), r.seedTime.Round(time.Millisecond), r.appBytes, r.flBytes)
}

func printTable(w io.Writer, o options, results []sizeResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, r := range results {
		for _, p := range r.pages {
			fmt.Fprintln(tw, strings.Join(cells(r, p), "\t")+"\t")
		}
	}
	tw.Flush()
	for _, r := range results {
		fmt.Fprintln(w, rssLine(r))
	}
}

func floorSQL(o options) string {
	if o.plainFloor {
		return "plain (COUNT(*), LIMIT/OFFSET)"
	}
	return "the app's (cached/bounded count, deferred join)"
}

func writeMarkdown(path string, o options, results []sizeResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# make bench: song list pages, app vs floor\n\n")
	fmt.Fprintf(&b, "%s, %s, %s/%s, %d CPUs. SQLite. Closed loop, %d connections, %s per page per server "+
		"(alternating in %s slices), warm-up %s. Floor SQL: %s. ratio = ours p50 / floor p50.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), o.concurrency, o.duration, o.slice, o.warmup, floorSQL(o))
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat(" ---: |", len(header)) + "\n")
	for _, r := range results {
		for _, p := range r.pages {
			b.WriteString("| " + strings.Join(cells(r, p), " | ") + " |\n")
		}
	}
	b.WriteString("\n| size | peak RSS app | peak RSS floor | seed time | first page bytes app / floor |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %d / %d |\n", r.size, mib(r.appRSS), mib(r.floorRSS),
			r.seedTime.Round(time.Millisecond), r.appBytes, r.flBytes)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
