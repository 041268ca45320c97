// Command floor is the physical floor of the song list page for `make bench`:
// net/http, database/sql and html/template, nothing else. It serves
// GET /songsview/list/ with the same SQL the app runs (internal/store) and
// the same templates filled with the same data (internal/admin listPage),
// with no router, login, session, middleware or logging. The app's list page
// cannot be faster than this for the same rows; the gap is what the app adds.
//
// The app's SQL (internal/store/list.go) is mirrored by hand: a COUNT(*) of
// the whole table and a count bounded at 10,000 for a filtered list, both
// cached for 10 s; a deferred join that walks the sort index from the
// nearer end; search candidates from the trigram index (package textindex);
// with the album filter on, one read of the album by id for its name.
// --plain-sql serves the textbook version instead, a COUNT(*) and one
// SELECT ... LEFT JOIN ... ORDER BY col, id LIMIT ? OFFSET ? per request,
// to show what the app's SQL buys.
//
//	floor --db app.db --addr 127.0.0.1:8081
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"musicadmin/internal/i18n"
	"musicadmin/internal/view"
	"musicadmin/web"
)

// Constants of the app's song view (internal/catalog, internal/admin).
const (
	listPath        = "/songsview/list/"
	defaultPageSize = 25
	maxPageSize     = 100
	maxPage         = 1_000_000_000
	maxSearchRunes  = 200
	likeEscape      = "!"
	// The app's store.CountLimit, countTTL, maxCachedCounts and WalkBudget.
	walkBudget      = 10_000
	countLimit      = 10_000
	countTTL        = 10 * time.Second
	maxCachedCounts = 256
	// User and CSRF stand in for the logged-in user's common data: the runner
	// logs in to the app as "admin", so both pages carry the same text.
	user = "admin"
	csrf = "floor-csrf-token-00000000000000000000000000"
)

// server serves the song list page from db through tmpl, with the app's SQL
// or, if plain, the textbook SQL (sql.go).
type server struct {
	db    *sql.DB
	tmpl  *template.Template
	app   string // the application name shown on the page
	plain bool

	mu     sync.Mutex
	counts map[string]cachedCount // by WHERE clause and arguments
}

func main() {
	dbPath := flag.String("db", "app.db", "SQLite database file")
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	appName := flag.String("app-name", "Music Admin", "application name shown on the page")
	plain := flag.Bool("plain-sql", false, "COUNT(*) and LIMIT/OFFSET on every request instead of the app's SQL "+
		"(deferred join walking from the near end, cached table count, bounded filtered count)")
	flag.Parse()

	db, err := sql.Open("sqlite3", *dbPath+"?_journal_mode=WAL&_busy_timeout=5000")
	if err != nil {
		log.Fatalf("floor: open: %v", err)
	}
	defer db.Close()
	// The same pool as the app's SQLite connection (internal/store.Open).
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := db.Ping(); err != nil {
		log.Fatalf("floor: ping: %v", err)
	}
	tmpl, err := parseTemplates()
	if err != nil {
		log.Fatalf("floor: templates: %v", err)
	}
	s := &server{db: db, tmpl: tmpl, app: *appName, plain: *plain}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+listPath, s.list)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("floor: listen: %v", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("floor: serving %s on %s", *dbPath, ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("floor: %v", err)
	}
}

// parseTemplates parses the app's list page with its layout and partials,
// with the functions it calls.
func parseTemplates() (*template.Template, error) {
	return template.New("layout.html").
		Funcs(template.FuncMap{"add": func(a, b int) int { return a + b }, "static": web.StaticURL,
			// English only: the floor looks nothing up, it fills in the
			// id's placeholders (a count's id is its plural form for
			// counts other than one).
			"t": func(id string, kv ...any) string { return fill(id, kv) },
			"n": func(id string, n int, kv ...any) string {
				if one, ok := englishOne[id]; ok && n == 1 {
					id = one
				}
				return fill(id, kv)
			},
			"num": func(n any) string {
				switch n := n.(type) {
				case int:
					return view.Number(i18n.Default, int64(n))
				case int64:
					return view.Number(i18n.Default, n)
				}
				return fmt.Sprint(n)
			}}).
		ParseFS(web.FS, "templates/layout.html", "templates/partials/*.html", "templates/pages/list.html")
}

// englishOne are the English catalogue's "one" forms by id, read once at
// start: the floor writes "1 match." as the app does.
var englishOne = func() map[string]string {
	one := map[string]string{}
	files, _ := i18n.Files(i18n.Default)
	for _, name := range files {
		area, _, _ := strings.Cut(path.Base(name), ".")
		msgs, err := i18n.Area(area, i18n.Default)
		if err != nil {
			log.Fatalf("floor: %v", err)
		}
		for id, m := range msgs {
			if forms, ok := m.(map[string]any); ok {
				if s, ok := forms["one"].(string); ok {
					one[id] = s
				}
			}
		}
	}
	return one
}()

// fill writes kv's values (name, value pairs) into id's placeholders
// ({{.Name}}), as the app's catalogue does for an English message.
func fill(id string, kv []any) string {
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			id = strings.ReplaceAll(id, "{{."+k+"}}", fmt.Sprint(kv[i+1]))
		}
	}
	return id
}
