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
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	listPath = "/songsview/list/"
	pageSize = 25 // the app's default page size
	username = "admin"
)

// options are the command-line flags.
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

// logf writes one line to stderr, after "bench: ".
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// sizeResult is what one database size measured.
type sizeResult struct {
	size                 int
	seedTime             time.Duration
	pages                []pageResult
	appRSS, floorRSS     int64 // peak resident set (VmHWM), KiB
	appBytes, floorBytes int   // body size of the first page

	export *exportResult // nil: not measured (--export=false)
}

// run builds the app and the floor, benches each size in turn (stopping at
// the first that fails), prints the tables and writes the Markdown report.
// It returns the exit code.
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
	if err := command(ctx, root, "go", "build", "-o", appBin, "./cmd/app"); err != nil {
		logf("build app: %v", err)
		return 1
	}
	if err := command(ctx, root, "go", "build", "-o", floorBin, "./bench/floor"); err != nil {
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
		printTable(os.Stdout, []sizeResult{res})
	}
	if len(results) > 0 {
		fmt.Println()
		fmt.Println("All sizes:")
		printTable(os.Stdout, results)
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
	if logFailures(results) {
		failed = true
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

// listPage is one song list page the bench measures: its name in the table
// and its query string.
type listPage struct{ name, query string }

// listPages are the pages measured on a database of size songs: the first
// and last page, both sort orders of the unique title, a dense and a sparse
// search, and two filters.
func listPages(size int) []listPage {
	lastPage := (size + pageSize - 1) / pageSize
	return []listPage{
		{"first page", ""},
		{fmt.Sprintf("page %d (last)", lastPage), "?page=" + strconv.Itoa(lastPage)},
		{"sort=title", "?sort=title"},
		{"sort=-title", "?sort=-title"},
		{"q=love", "?q=love"},         // dense: 1 title in 24
		{"q=river 12", "?q=river+12"}, // sparse: 1 in 24 of the ids that start 12
		{"rating__gte=5", "?rating__gte=5"},
		{"album=42", "?album=42"},
	}
}

// benchSize seeds a database of size songs, starts the app and the floor on
// it, logs in to the app, checks that the floor serves the same pages, then
// warms up and measures every page on both and reads their peak RSS.
func benchSize(ctx context.Context, o options, tmp, appBin, floorBin string, size int) (sizeResult, error) {
	res := sizeResult{size: size}
	db, err := seedDatabase(ctx, tmp, appBin, size)
	if err != nil {
		return res, err
	}
	res.seedTime = db.seedTime
	srv, err := startServers(ctx, o, db, appBin, floorBin)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	cookie, err := login(ctx, srv.appBase, db.password)
	if err != nil {
		return res, fmt.Errorf("login: %w", err)
	}
	ours := newTarget("ours", srv.appBase, http.Header{"Cookie": {cookie}}, o.concurrency)
	floor := newTarget("floor", srv.floorBase, nil, o.concurrency)
	defer ours.client.CloseIdleConnections()
	defer floor.client.CloseIdleConnections()

	pages := listPages(size)
	if res.appBytes, res.floorBytes, err = compareFloor(ctx, ours, floor, pages, size); err != nil {
		return res, err
	}
	if o.warmup > 0 {
		logf("size %d: warming up", size)
		for _, p := range pages {
			ours.load(ctx, p.query, o.warmup, o.concurrency)
			floor.load(ctx, p.query, o.warmup, o.concurrency)
		}
	}
	for _, p := range pages {
		logf("size %d: %s", size, p.name)
		res.pages = append(res.pages, measure(ctx, o, ours, floor, p))
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
	}
	if res.appRSS, err = peakRSS(srv.app.cmd.Process.Pid); err != nil {
		logf("app peak RSS: %v", err)
	}
	if res.floorRSS, err = peakRSS(srv.floor.cmd.Process.Pid); err != nil {
		logf("floor peak RSS: %v", err)
	}
	if *exportFlag {
		// After the peak RSS of the pages is read: the export resets it.
		if res.export, err = benchExport(ctx, srv.appBase, cookie, srv.app.cmd.Process.Pid, size); err != nil {
			return res, err
		}
	}
	if srv.app.exited() || srv.floor.exited() {
		return res, fmt.Errorf("a server exited during the run (app log: %s; floor log: %s)", srv.app.tail(), srv.floor.tail())
	}
	return res, nil
}
