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
// nearer end; search candidates from the trigram index (package textindex).
// --plain-sql serves the textbook version instead, a COUNT(*) and one
// SELECT ... LEFT JOIN ... ORDER BY col, id LIMIT ? OFFSET ? per request,
// to show what the app's SQL buys.
//
//	floor --db app.db --addr 127.0.0.1:8081
package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	_ "github.com/mattn/go-sqlite3"

	"musicadmin/internal/textindex"
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

// The data shapes the templates read: the same field names as view.Page and
// admin.listPage.
type menuItem struct{ Title, URL string }

type menuCategory struct {
	Name  string
	Items []menuItem
}

type page struct {
	User    string
	CSRF    string
	Flashes []string
	AppName string
	Title   string
	Menu    []menuCategory
	Path    string
	Data    any
}

type cell struct{ Label, Text, Href string }

type column struct{ Label, SortURL, SortDir string }

type row struct {
	Cells                       []cell
	ShowURL, EditURL, DeleteURL string
}

type hidden struct{ Name, Value string }

type listPage struct {
	Title, Singular  string
	ListURL, AddURL  string
	Q, SearchLabel   string
	Keep             []hidden
	Filtered         bool
	Notices, Filters []string
	Columns          []column
	Rows             []row
	Total            int64
	AtLeast          bool
	Page, Pages      int
	PrevURL, NextURL string
}

var menu = []menuCategory{{Name: "Model Views", Items: []menuItem{
	{Title: "Album View", URL: "/albumview/list/"},
	{Title: "Song View", URL: "/songsview/list/"},
}}}

// params is a parsed list request.
type params struct {
	page, pageSize int
	sort           string // "title" or "rating"
	desc           bool
	q              string
	ratingGte      *int64
	ratingRaw      string
	album          *int64
	albumRaw       string
}

type cachedCount struct {
	n       int64
	atLeast bool
	at      time.Time
}

type server struct {
	db    *sql.DB
	tmpl  *template.Template
	app   string
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
	tmpl, err := template.New("layout.html").
		Funcs(template.FuncMap{"add": func(a, b int) int { return a + b }}).
		ParseFS(web.FS, "templates/layout.html", "templates/partials/*.html", "templates/pages/list.html")
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

func parse(q url.Values) params {
	p := params{page: 1, pageSize: defaultPageSize, sort: "title"}
	if n, err := strconv.Atoi(strings.TrimSpace(q.Get("page"))); err == nil && n > 0 {
		p.page = min(n, maxPage)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(q.Get("page_size"))); err == nil && n > 0 {
		p.pageSize = min(n, maxPageSize)
	}
	switch s := q.Get("sort"); s {
	case "title", "-title", "rating", "-rating":
		p.sort, p.desc = strings.TrimPrefix(s, "-"), strings.HasPrefix(s, "-")
	}
	p.q = cleanSearch(q.Get("q"))
	if raw := q.Get("rating__gte"); raw != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64); err == nil {
			p.ratingGte, p.ratingRaw = &n, raw
		}
	}
	if raw := q.Get("album"); raw != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64); err == nil && n > 0 {
			p.album, p.albumRaw = &n, raw
		}
	}
	return p
}

func cleanSearch(q string) string {
	q = strings.ToValidUTF8(q, "")
	q = strings.ReplaceAll(q, "\x00", "")
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > maxSearchRunes {
		q = string([]rune(q)[:maxSearchRunes])
	}
	return q
}

var likeReplacer = strings.NewReplacer(likeEscape, likeEscape+likeEscape, "%", likeEscape+"%", "_", likeEscape+"_")

// where returns the WHERE clause and its arguments, in the app's order:
// filters by sorted key (album, rating__gte), then the search. With
// useIndex a search of three characters or more takes its candidates from
// the trigram index (indexed says so). The app leaves an ASCII search to
// SQLite's LIKE, which ignores ASCII case, folding only texts that hold a
// character folding into ASCII, and folds case in SQL for other text (with
// a Go function; lower() here).
func (s *server) where(p params, useIndex bool) (clause string, args []any, indexed bool) {
	var conds []string
	if p.album != nil {
		conds = append(conds, "songs.album_id = ?")
		args = append(args, *p.album)
	}
	if p.ratingGte != nil {
		conds = append(conds, "songs.rating >= ?")
		args = append(args, *p.ratingGte)
	}
	if p.q != "" {
		pattern := "%" + likeReplacer.Replace(textindex.Fold(p.q)) + "%"
		like := " LIKE ? ESCAPE '" + likeEscape + "'"
		cond := "lower(songs.title)" + like
		vals := []any{pattern}
		if !s.plain && isASCII(p.q) {
			var special []string
			for _, r := range textindex.FoldsIntoASCII {
				special = append(special, "instr(songs.title, '"+string(r)+"') > 0")
			}
			cond = "(songs.title" + like + " OR ((" + strings.Join(special, " OR ") + ") AND " + cond + "))"
			vals = append(vals, pattern)
		}
		if tokens, ok := textindex.QueryTokens(p.q); ok && useIndex {
			cond = "(songs.id IN (SELECT docid FROM songs_title_grams WHERE grams MATCH ?) AND " + cond + ")"
			vals = append([]any{strings.Join(tokens, " ")}, vals...)
			indexed = true
		}
		conds = append(conds, "("+cond+")")
		args = append(args, vals...)
	}
	if len(conds) == 0 {
		return "", nil, false
	}
	return " WHERE " + strings.Join(conds, " AND "), args, indexed
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// total counts the matches as the app does: the whole table exactly, a
// filtered list up to countLimit, past which atLeast is true, each count
// cached for countTTL under its WHERE clause and arguments (the floor never
// writes, so nothing else makes a count stale). In plain mode it is a
// COUNT(*) every time.
func (s *server) total(ctx context.Context, where string, args []any) (n int64, atLeast bool, err error) {
	if s.plain {
		err = s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM songs"+where, args...).Scan(&n)
		return n, false, err
	}
	key := where + "\x00" + fmt.Sprintf("%#v", args)
	s.mu.Lock()
	c, ok := s.counts[key]
	s.mu.Unlock()
	if ok && time.Since(c.at) < countTTL {
		return c.n, c.atLeast, nil
	}
	at := time.Now()
	q := "SELECT COUNT(*) FROM songs"
	if where != "" {
		q = fmt.Sprintf("SELECT COUNT(*) FROM (SELECT 1 FROM songs%s LIMIT %d) bounded", where, countLimit+1)
	}
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, false, err
	}
	if where != "" && n > countLimit {
		n, atLeast = countLimit, true
	}
	s.mu.Lock()
	if s.counts == nil || len(s.counts) >= maxCachedCounts {
		s.counts = make(map[string]cachedCount)
	}
	s.counts[key] = cachedCount{n: n, atLeast: atLeast, at: at}
	s.mu.Unlock()
	return n, atLeast, nil
}

type song struct {
	id, rating int64
	title      string
	albumID    sql.NullInt64
	albumName  sql.NullString
}

const columns = "songs.id, songs.title, songs.rating, songs.album_id, ref_album.name"
const join = " LEFT JOIN albums ref_album ON ref_album.id = songs.album_id"

func orderBy(p params, desc bool) string {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	if p.sort == "title" {
		// Unique: no ties, as the app's store.Model.orderBy knows.
		return " ORDER BY songs.title" + dir
	}
	return " ORDER BY songs." + p.sort + dir + ", songs.id" + dir
}

// page reads one page of songs. The app's way is a deferred join: the inner
// query walks the sort index to skip offset rows and keeps the page's ids;
// past the middle of an exactly counted list it walks from the other end.
// In plain mode it is one SELECT with LIMIT and OFFSET.
func (s *server) page(ctx context.Context, p params, where string, args []any, total int64, atLeast bool) ([]song, error) {
	offset, limit, desc, reversed := int64((p.page-1)*p.pageSize), int64(p.pageSize), p.desc, false
	var q string
	if s.plain {
		q = "SELECT " + columns + " FROM songs" + join + where + orderBy(p, desc) + " LIMIT ? OFFSET ?"
	} else {
		if !atLeast && offset > 0 && offset+limit/2 > total/2 {
			reversed, desc = true, !desc
			offset = total - offset - limit
			if offset < 0 {
				limit += offset
				offset = 0
			}
			if limit <= 0 {
				return nil, nil
			}
		}
		q = "SELECT " + columns + " FROM (SELECT songs.id FROM songs" + where + orderBy(p, desc) +
			" LIMIT ? OFFSET ?) page_ids JOIN songs ON songs.id = page_ids.id" + join + orderBy(p, desc)
	}
	rows, err := s.db.QueryContext(ctx, q, append(args[:len(args):len(args)], limit, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]song, 0, limit)
	for rows.Next() {
		var r song
		if err := rows.Scan(&r.id, &r.title, &r.rating, &r.albumID, &r.albumName); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if reversed {
		slices.Reverse(out)
	}
	return out, rows.Err()
}

func (s *server) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := parse(r.URL.Query())
	where, args, indexed := s.where(p, !s.plain)
	total, atLeast, err := s.total(ctx, where, args)
	if err != nil {
		fail(w, err)
		return
	}
	if indexed {
		// Dense matches: walk the sort order instead, as the app does
		// (store.Model.walkBeatsIndex).
		walk := atLeast
		if !atLeast && total > 0 {
			rows, _, err := s.total(ctx, "", nil)
			if err != nil {
				fail(w, err)
				return
			}
			walk = int64(p.page*p.pageSize)*rows/total <= walkBudget
		}
		if walk {
			where, args, _ = s.where(p, false)
		}
	}
	songs, err := s.page(ctx, p, where, args, total, atLeast)
	if err != nil {
		fail(w, err)
		return
	}
	pages := int((total + int64(p.pageSize) - 1) / int64(p.pageSize))
	if len(songs) == 0 && !atLeast && pages > 0 && p.page > pages {
		// Past the end: the last page, as the app shows.
		p.page = pages
		if songs, err = s.page(ctx, p, where, args, total, atLeast); err != nil {
			fail(w, err)
			return
		}
	}
	if atLeast {
		pages = max(pages, p.page)
		if len(songs) == p.pageSize {
			pages = p.page + 1
		}
	}

	data := listPage{Title: "Song View", Singular: "Song", ListURL: listPath, AddURL: "/songsview/add",
		Q: p.q, SearchLabel: "Title", Filtered: p.q != "" || p.album != nil || p.ratingGte != nil,
		Total: total, AtLeast: atLeast, Page: p.page, Pages: max(pages, 1)}
	if p.album != nil {
		data.Keep = append(data.Keep, hidden{"album", p.albumRaw})
		data.Filters = append(data.Filters, "Album = "+p.albumRaw)
	}
	if p.ratingGte != nil {
		data.Keep = append(data.Keep, hidden{"rating__gte", p.ratingRaw})
		data.Filters = append(data.Filters, "Rating ≥ "+p.ratingRaw)
	}
	current := p.sort
	if p.desc {
		current = "-" + p.sort
	}
	data.Keep = append(data.Keep, hidden{"sort", current})
	if p.pageSize != defaultPageSize {
		data.Keep = append(data.Keep, hidden{"page_size", strconv.Itoa(p.pageSize)})
	}
	for _, c := range []struct{ name, label string }{{"title", "Title"}, {"rating", "Rating"}} {
		col := column{Label: c.label}
		next := c.name
		if p.sort == c.name {
			col.SortDir = "asc"
			if p.desc {
				col.SortDir = "desc"
			} else {
				next = "-" + c.name
			}
		}
		col.SortURL = p.url(1, next)
		data.Columns = append(data.Columns, col)
	}
	data.Columns = append(data.Columns, column{Label: "Album"})
	data.Rows = make([]row, 0, len(songs))
	for _, sg := range songs {
		id := strconv.FormatInt(sg.id, 10)
		rw := row{ShowURL: "/songsview/show/" + id, EditURL: "/songsview/edit/" + id, DeleteURL: "/songsview/delete/" + id}
		album := cell{Label: "Album"}
		if sg.albumID.Valid {
			album.Text = sg.albumName.String
			album.Href = "/albumview/show/" + strconv.FormatInt(sg.albumID.Int64, 10)
		}
		rw.Cells = []cell{
			{Label: "Title", Text: sg.title, Href: rw.ShowURL},
			{Label: "Rating", Text: strconv.FormatInt(sg.rating, 10)},
			album,
		}
		data.Rows = append(data.Rows, rw)
	}
	if p.page > 1 {
		data.PrevURL = p.url(p.page-1, current)
	}
	if p.page < pages {
		data.NextURL = p.url(p.page+1, current)
	}

	var buf bytes.Buffer
	pg := page{User: user, CSRF: csrf, AppName: s.app, Title: "Song View", Menu: menu, Path: r.URL.Path, Data: data}
	if err := s.tmpl.Execute(&buf, pg); err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
}

// url is the list URL for p at page, sorted by sortKey, as the app builds it.
func (p params) url(page int, sortKey string) string {
	q := url.Values{}
	if p.album != nil {
		q.Set("album", p.albumRaw)
	}
	if p.ratingGte != nil {
		q.Set("rating__gte", p.ratingRaw)
	}
	if p.q != "" {
		q.Set("q", p.q)
	}
	if p.pageSize != defaultPageSize {
		q.Set("page_size", strconv.Itoa(p.pageSize))
	}
	if sortKey != "" {
		q.Set("sort", sortKey)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return listPath
	}
	return listPath + "?" + q.Encode()
}

func fail(w http.ResponseWriter, err error) {
	log.Printf("floor: %v", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintln(w, "Internal error")
}
