// Command run is `make bench`: it builds the app and the floor server
// (bench/floor), and for each database size seeds the same catalogue into a
// fresh database on each backend (SQLite, and MySQL and PostgreSQL where a
// server answers), starts the app on each and the floor on SQLite's file,
// all on loopback, logs in to each app and measures requests per second and
// p50/p99 latency of each song list page, the song add and edit forms, the
// show page, the album lookup and four API pages (with a token made after
// the seed, each held to an HTML twin) on every server (the floor serves
// the list pages only), at each concurrency, going round them so all see
// the same machine state. Then it measures the CSV export and song creates
// through the API, at the first size the write cost of sqlite_synchronous
// FULL (synccost.go), and at the largest a soak of the SQLite app (soak.go).
// It prints a table, writes it as Markdown to bench/results/latest.md, drops
// the databases it made and exits 1 when any request failed or answered
// other than 200 (201 for a create).
//
//	go run ./bench/run --sizes 10000,100000 --backends sqlite,mysql,postgres --concurrency 1,8
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	listPath   = "/songsview/list/"
	addPath    = "/songsview/add"
	editPath   = "/songsview/edit/"
	showPath   = "/songsview/show/"
	apiPath    = "/api/v1/songsview/" // the song view's API: its list; a record under it
	lookupPath = "/songsview/lookup/album"
	pageSize   = 25 // the app's default page size
	username   = "admin"
	// formTarget is the bound on a form's size: under 30 KB
	// whatever the number of albums.
	formTarget = 30 * 1000
	// firstPageWireTarget is the bound on the song list's first
	// page on the wire, compressed as a browser asks: under 5 KB.
	firstPageWireTarget = 5 * 1000
)

// options are the command-line flags.
type options struct {
	sizes         []int
	songsPerAlbum int // the catalogue of a size has size/songsPerAlbum albums
	duration      time.Duration
	warmup        time.Duration
	slice         time.Duration
	conns         []int // concurrent connections, one run each
	backends      []string
	strict        bool
	out           string
	keep          bool
	plainFloor    bool
	apiCreates    int            // songs created through the API on each app; 0: none
	pages         *regexp.Regexp // only the pages whose name matches (and an API page's twin); nil: all
	gzipTwin      bool           // also measure the SQLite app asked with gzip, as a target of its own

	soak        time.Duration // the soak's length (soak.go); 0: no soak
	soakConns   int           // the soak's readers of the song list
	soakWriters int           // the soak's writers through the API
	soakSize    int           // the size the soak runs at, one of sizes
	// syncCost is the songs created through the API with each
	// sqlite_synchronous setting (synccost.go); 0: not measured.
	syncCost     int
	syncCostSize int // the size it is measured at, one of sizes
}

func main() {
	var o options
	sizes := flag.String("sizes", "10000,100000,1000000", "comma-separated song counts; albums are songs/--songs-per-album")
	flag.IntVar(&o.songsPerAlbum, "songs-per-album", 10, "songs per album: a size of N songs has N/this albums (the issue's 1M songs / 100k albums)")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured load per page per server")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured load per page per server before measuring")
	flag.DurationVar(&o.slice, "slice", time.Second, "the load alternates between the servers in slices this long")
	conns := flag.String("concurrency", "1,8", "comma-separated concurrent connections, a run each (closed loop: one request in flight each)")
	names := flag.String("backends", "sqlite,mysql,postgres,mongodb", "comma-separated backends; SQLite is always measured (every ratio is to it)")
	flag.BoolVar(&o.strict, "strict", os.Getenv("CI") == "true", "fail when a backend's server does not answer, instead of skipping it (default under CI=true)")
	flag.StringVar(&o.out, "out", filepath.Join("bench", "results", "latest.md"), "Markdown report (a relative path is from the module root)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (databases, server logs)")
	flag.BoolVar(&o.plainFloor, "plain-floor", false, "run the floor with --plain-sql: COUNT(*) and LIMIT/OFFSET per request")
	flag.IntVar(&o.apiCreates, "api-creates", 10000, "songs created through the API (POST "+apiPath+") on each app after the pages, by 8 clients; 0 skips")
	pagesRE := flag.String("pages", "", "regular expression: measure only the pages whose name matches it (an API page's HTML twin comes along), e.g. 'first page|lookup'")
	flag.BoolVar(&o.gzipTwin, "gzip-column", false, "also measure the SQLite app asked with Accept-Encoding: gzip, as a server column of its own (sqlite+gzip), for the cost of compression")
	flag.DurationVar(&o.soak, "soak", time.Minute, "soak the SQLite app this long at --soak-size, last: --soak-conns on the song list and --soak-writers creating songs through the API at once, with its RSS every second; 0 skips")
	flag.IntVar(&o.soakConns, "soak-conns", 256, "the soak's connections loading the song list's first page (closed loop)")
	flag.IntVar(&o.soakWriters, "soak-writers", 4, "the soak's clients creating songs through the API at the same time")
	flag.IntVar(&o.soakSize, "soak-size", 0, "the size of --sizes the soak runs at; 0: the largest")
	soakOnly := flag.Bool("soak-only", false, "run the soak alone: SQLite at --soak-size only, no pages, export, API creates or synchronous cost")
	flag.IntVar(&o.syncCost, "sync-cost", 4000, "songs created through the API on the SQLite app with sqlite_synchronous NORMAL and as many on a second app with FULL, at --sync-cost-size, for FULL's write cost; 0 skips")
	flag.IntVar(&o.syncCostSize, "sync-cost-size", 0, "the size of --sizes the synchronous cost is measured at; 0: the first")
	flag.Parse()
	var err error
	if *pagesRE != "" {
		if o.pages, err = regexp.Compile(*pagesRE); err != nil {
			fmt.Fprintf(os.Stderr, "bench: --pages: %v\n", err)
			os.Exit(2)
		}
	}
	if o.sizes, err = positiveInts(*sizes); err != nil {
		fmt.Fprintf(os.Stderr, "bench: --sizes: %v\n", err)
		os.Exit(2)
	}
	if o.conns, err = positiveInts(*conns); err != nil {
		fmt.Fprintf(os.Stderr, "bench: --concurrency: %v\n", err)
		os.Exit(2)
	}
	for _, n := range strings.Split(*names, ",") {
		if n = strings.TrimSpace(n); n != "" {
			o.backends = append(o.backends, n)
		}
	}
	if o.songsPerAlbum <= 0 {
		fmt.Fprintln(os.Stderr, "bench: --songs-per-album must be positive")
		os.Exit(2)
	}
	if o.apiCreates < 0 {
		fmt.Fprintln(os.Stderr, "bench: --api-creates must not be negative")
		os.Exit(2)
	}
	if o.soak < 0 || o.soakConns <= 0 || o.soakWriters < 0 || o.syncCost < 0 {
		fmt.Fprintln(os.Stderr, "bench: --soak and --sync-cost must not be negative, --soak-conns must be positive, --soak-writers not negative")
		os.Exit(2)
	}
	if o.soakSize == 0 {
		o.soakSize = slices.Max(o.sizes)
	}
	if o.syncCostSize == 0 {
		o.syncCostSize = o.sizes[0]
	}
	if *soakOnly {
		if o.soak == 0 {
			fmt.Fprintln(os.Stderr, "bench: --soak-only with --soak 0 measures nothing")
			os.Exit(2)
		}
		o.sizes, o.backends = []int{o.soakSize}, []string{"sqlite"}
		o.pages = regexp.MustCompile(`^$`) // no page has an empty name
		o.apiCreates, o.syncCost = 0, 0
		*exportFlag = false
	}
	if o.soak > 0 && !slices.Contains(o.sizes, o.soakSize) {
		fmt.Fprintf(os.Stderr, "bench: --soak-size %d is not one of --sizes\n", o.soakSize)
		os.Exit(2)
	}
	if o.syncCost > 0 && !slices.Contains(o.sizes, o.syncCostSize) {
		fmt.Fprintf(os.Stderr, "bench: --sync-cost-size %d is not one of --sizes\n", o.syncCostSize)
		os.Exit(2)
	}
	if o.duration <= 0 || o.slice <= 0 {
		fmt.Fprintln(os.Stderr, "bench: --duration and --slice must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, o)
	stop()
	os.Exit(code)
}

// positiveInts parses a comma-separated list of positive integers.
func positiveInts(list string) ([]int, error) {
	var out []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad entry %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// logf writes one line to stderr, after "bench: ".
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// sizeResult is what one database size measured.
type sizeResult struct {
	size      int
	albums    int
	targets   []string        // the servers, in column order: the SQLite app, the floor, the other apps
	seedTimes []time.Duration // per backend, in the order of the apps
	runs      []connsResult
	rss       []int64 // peak resident set (VmHWM) per target, KiB
	bytes     []int   // body size of the first page per target
	diffs     int     // pages that differ from the SQLite app's
	// pageBytes is the body size of each page on the SQLite app, by name.
	pageBytes map[string]int
	// gzipBytes is each page's size on the wire from the SQLite app
	// asked with Accept-Encoding: gzip, by name.
	gzipBytes map[string]int

	export *exportResult // the SQLite app's; nil: not measured (--export=false)
	// chartsCold is each chart's first, uncached request on each app.
	chartsCold []coldChart
	// creates are the API creates on each app target, in the order of
	// the apps; none when --api-creates 0.
	creates []loadResult
	// syncCost is the creates with synchronous NORMAL and FULL; nil: not
	// measured at this size.
	syncCost *syncCostResult
	// soak is the soak of the SQLite app; nil: not run at this size.
	soak *soakResult
}

// connsResult is what one concurrency measured on every page.
type connsResult struct {
	conns int
	pages []pageResult
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

	chosen, skipped, err := chooseBackends(ctx, o.backends, o.strict)
	if err != nil {
		logf("%v", err)
		return 1
	}
	var results []sizeResult
	failed := false
	for _, size := range o.sizes {
		res, err := benchSize(ctx, o, tmp, appBin, floorBin, chosen, size)
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
		if err := writeMarkdown(out, o, results, skipped); err != nil {
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

// benchPage is one page the bench measures: its name in the table, its
// path and query on every server, and whether it is a song list page (the
// floor serves those only). An API page names twin, the HTML page that
// answers the same question, whose p50 it is held to.
type benchPage struct {
	name, path string
	list       bool
	twin       string
}

// api reports whether p is an API page (JSON, signed in with the token).
func (p benchPage) api() bool { return p.twin != "" }

// albumCount is the number of albums of a catalogue of size songs.
func albumCount(size, songsPerAlbum int) int { return max(size/songsPerAlbum, 1) }

// benchPages are the pages measured on a database of size songs and albums
// albums: the list pages (listPages), the song add form, the edit form and
// the show page of song 42 (with an album: its field shows the album's
// name), the album lookup, the search the forms' album field makes as the
// user types, with a common prefix, a common word inside the names, and a
// rare term, and the API pages (apiPages).
func benchPages(size, albums int) []benchPage {
	pages := listPages(size)
	rare := rareAlbum(albums)
	pages = append(pages,
		benchPage{name: "add form", path: addPath},
		benchPage{name: "edit form (song 42)", path: editPath + "42"},
		benchPage{name: "show (song 42)", path: showPath + "42"},
		// "Golden …": 1 album in 24 starts with it, the answer is the
		// first 21 by name.
		benchPage{name: "lookup q=gol (common)", path: lookupPath + "?q=gol"},
		// "… River …": 1 album in 24 holds it inside, none starts with it.
		benchPage{name: "lookup q=river (common)", path: lookupPath + "?q=river"},
		benchPage{name: fmt.Sprintf("lookup q=Vol. %d (rare)", rare), path: lookupPath + "?q=" + url.QueryEscape(fmt.Sprintf("Vol. %d", rare))},
	)
	pages = append(pages, chartPages()...)
	return append(pages, apiPages()...)
}

// apiPages are the API's answers to questions a page of benchPages
// answers, each with that page as its twin: the first page of the song
// list, a filter, a search, and song 42, whose fairer twin is the show
// page (the edit form also lists the choices of its fields).
func apiPages() []benchPage {
	return []benchPage{
		{name: "api first page", path: apiPath, twin: "first page"},
		{name: "api rating__gte=5", path: apiPath + "?rating__gte=5", twin: "rating__gte=5"},
		{name: "api q=love", path: apiPath + "?q=love", twin: "q=love"},
		{name: "api get (song 42)", path: apiPath + "42", twin: "show (song 42)"},
	}
}

// choosePages keeps the pages whose name re matches, and the HTML twin of
// each API page kept; all of them when re is nil.
func choosePages(pages []benchPage, re *regexp.Regexp) []benchPage {
	if re == nil {
		return pages
	}
	keep := map[string]bool{}
	for _, p := range pages {
		if re.MatchString(p.name) {
			keep[p.name] = true
			if p.api() {
				keep[p.twin] = true
			}
		}
	}
	return slices.DeleteFunc(slices.Clone(pages), func(p benchPage) bool { return !keep[p.name] })
}

// rareAlbum is the number of an album whose "Vol. N" no other album's
// name holds: one with as many digits as the highest, 42% of the way.
func rareAlbum(albums int) int {
	if albums < 10 {
		return albums
	}
	return albums * 42 / 100
}

// listPages are the song list pages measured on a database of size songs:
// the first and last page, both sort orders of the unique title, a dense
// and a sparse search, three filters, and one of them sorted by the other
// sortable field.
func listPages(size int) []benchPage {
	lastPage := (size + pageSize - 1) / pageSize
	pages := []struct{ name, query string }{
		{"first page", ""},
		{fmt.Sprintf("page %d (last)", lastPage), "?page=" + strconv.Itoa(lastPage)},
		{"sort=title", "?sort=title"},
		{"sort=-title", "?sort=-title"},
		{"q=love", "?q=love"},         // dense: 1 title in 24
		{"q=river 12", "?q=river+12"}, // sparse: 1 in 24 of the ids that start 12
		{"rating__gte=5", "?rating__gte=5"},
		{"rating__eq=5", "?rating__eq=5"}, // a tenth of the songs, in title order
		{"album=42", "?album=42"},
		{"album=42&sort=-rating", "?album=42&sort=-rating"},
	}
	out := make([]benchPage, len(pages))
	for i, p := range pages {
		out[i] = benchPage{name: p.name, path: listPath + p.query, list: true}
	}
	return out
}

// benchSize seeds a database of size songs on each backend, starts an app
// on each and the floor on SQLite's, logs in to each app, checks that every
// server serves the pages the SQLite app does, then, at each concurrency,
// warms up and measures every page on all of them, and reads their peak
// RSS. It drops the databases it made, unless o.keep.
func benchSize(ctx context.Context, o options, tmp, appBin, floorBin string, bs []backend, size int) (sizeResult, error) {
	res := sizeResult{size: size, albums: albumCount(size, o.songsPerAlbum)}
	var dbs []database
	defer func() {
		if o.keep {
			return
		}
		for _, db := range dbs {
			db.drop(ctx)
		}
	}()
	for _, b := range bs {
		if b.maxSize != nil {
			if limit := b.maxSize(ctx); limit > 0 && size > limit {
				logf("size %d, %s: not measured (this server is measured up to %d)", size, b.name, limit)
				continue
			}
		}
		db, err := seedDatabase(ctx, tmp, appBin, b, size, res.albums)
		dbs = append(dbs, db)
		if err != nil {
			return res, fmt.Errorf("%s: %w", b.name, err)
		}
		res.seedTimes = append(res.seedTimes, db.seedTime)
	}
	srv, err := startServers(ctx, o, dbs, appBin, floorBin)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	pages := choosePages(benchPages(size, res.albums), o.pages)
	conns := slices.Max(o.conns)
	var targets []target
	var procs []*server
	var sqliteCookie string // the export is measured on the SQLite app
	var twin target         // the SQLite app asked with gzip, with --gzip-column
	for i, db := range dbs {
		cookie, err := login(ctx, srv.appBases[i], db.password)
		if err != nil {
			return res, fmt.Errorf("%s: login: %w", db.backend.name, err)
		}
		// The API reads only the bearer, the pages only the cookie.
		h := http.Header{"Cookie": {cookie}, "Authorization": {"Bearer " + db.token}}
		t := newTarget(db.backend.name, srv.appBases[i], h, conns)
		t.pid = srv.apps[i].cmd.Process.Pid
		if db.backend.name == mongoBackend.name {
			if t.rewrite, err = mongoPaths(ctx, db.dsn, pages); err != nil {
				return res, err
			}
		}
		targets = append(targets, t)
		procs = append(procs, srv.apps[i])
		if i == 0 {
			sqliteCookie = cookie
			// The floor's columns follow SQLite's, the app it mirrors.
			floor := newTarget("floor", srv.floorBase, nil, conns)
			floor.pid = srv.floor.cmd.Process.Pid
			floor.listOnly = true
			targets = append(targets, floor)
			procs = append(procs, srv.floor)
			if o.gzipTwin {
				gz := h.Clone()
				gz.Set("Accept-Encoding", "gzip")
				twin = newTarget(db.backend.name+"+gzip", srv.appBases[0], gz, conns)
				twin.twin = true
				twin.pid = t.pid
			}
		}
	}
	if twin.twin {
		// Last, so the backends keep their columns.
		targets = append(targets, twin)
		procs = append(procs, srv.apps[0])
	}
	for _, t := range targets {
		res.targets = append(res.targets, t.name)
		defer t.client.CloseIdleConnections()
	}

	// First, before any page reads the database through the apps: the
	// charts' uncached computations.
	res.chartsCold = benchChartsCold(ctx, targets, pages)
	sizes, err := comparePages(ctx, targets, pages, size)
	if err != nil {
		return res, err
	}
	res.bytes, res.pageBytes, res.gzipBytes, res.diffs = sizes.first, sizes.plain, sizes.gzip, sizes.diffs
	for _, p := range pages {
		if !p.list && !p.api() && !strings.HasPrefix(p.path, lookupPath) && res.pageBytes[p.name] >= formTarget {
			logf("size %d: WARNING: the %s is %d bytes, over the issue's %d", size, p.name, res.pageBytes[p.name], formTarget)
		}
		if p.path == listPath && res.gzipBytes[p.name] >= firstPageWireTarget {
			logf("size %d: WARNING: the %s is %d bytes on the wire with gzip, over the issue's %d",
				size, p.name, res.gzipBytes[p.name], firstPageWireTarget)
		}
	}
	if o.warmup > 0 {
		logf("size %d: warming up", size)
		for _, p := range pages {
			for _, t := range targets {
				if t.serves(p) {
					t.load(ctx, p.path, o.warmup, conns)
				}
			}
		}
	}
	for _, c := range o.conns {
		run := connsResult{conns: c}
		for _, p := range pages {
			logf("size %d, %d connections: %s", size, c, p.name)
			run.pages = append(run.pages, measure(ctx, o, c, targets, p))
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
		}
		res.runs = append(res.runs, run)
	}
	for i, p := range procs {
		rss, err := peakRSS(p.cmd.Process.Pid)
		if err != nil {
			logf("%s peak RSS: %v", targets[i].name, err)
		}
		res.rss = append(res.rss, rss)
	}
	if *exportFlag {
		// After the peak RSS of the pages is read: the export resets it.
		if res.export, err = benchExport(ctx, srv.appBases[0], sqliteCookie, srv.apps[0].cmd.Process.Pid, size); err != nil {
			return res, err
		}
	}
	if o.apiCreates > 0 {
		// Last, after the export: the creates add songs.
		for _, t := range targets {
			if t.listOnly || t.twin {
				continue // the floor has no API; a twin would create twice
			}
			logf("size %d, %s: %d API creates", size, t.name, o.apiCreates)
			c, err := benchCreates(ctx, t, o.apiCreates)
			if err != nil {
				return res, fmt.Errorf("%s: API creates: %w", t.name, err)
			}
			res.creates = append(res.creates, c)
		}
	}
	if o.syncCost > 0 && size == o.syncCostSize {
		// After the creates, as it adds songs too.
		logf("size %d: synchronous NORMAL against FULL, %d API creates each", size, o.syncCost)
		if res.syncCost, err = benchSyncCost(ctx, dbs[0], appBin, targets[0], o.syncCost, size); err != nil {
			return res, fmt.Errorf("synchronous cost: %w", err)
		}
	}
	if o.soak > 0 && size == o.soakSize {
		// Last: it writes, and its memory is read from where the rest left it.
		if res.soak, err = runSoak(ctx, o, targets[0], size); err != nil {
			return res, fmt.Errorf("soak: %w", err)
		}
	}
	if gone := srv.exited(dbs); gone != "" {
		return res, fmt.Errorf("servers exited during the run: %s", gone)
	}
	return res, nil
}
