package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"musicadmin/internal/apptest"
	"musicadmin/internal/seed"
)

// statementCounter is a GORM logger that counts the SQL statements run.
type statementCounter struct {
	mu    sync.Mutex
	count int
	last  []string
}

func (c *statementCounter) LogMode(logger.LogLevel) logger.Interface { return c }
func (c *statementCounter) Info(context.Context, string, ...any)     {}
func (c *statementCounter) Warn(context.Context, string, ...any)     {}
func (c *statementCounter) Error(context.Context, string, ...any)    {}
func (c *statementCounter) reset()                                   { c.mu.Lock(); c.count, c.last = 0, nil; c.mu.Unlock() }
func (c *statementCounter) snapshot() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count, c.last
}
func (c *statementCounter) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	sql, _ := fc()
	c.mu.Lock()
	c.count++
	c.last = append(c.last, sql)
	c.mu.Unlock()
}

// TestListStatementsDoNotGrowWithRows fails when a list page runs a query per
// row (the N+1 of related columns): showing 100 songs with their albums must
// cost as many statements as showing 5.
//
// Not parallel: any write in this process invalidates every cached count
// (store's writes counter), so another test's write between the warm-up and
// the measured view would add a COUNT here.
//
// SQL only: it counts statements through GORM's logger, and the seed it
// uses writes SQL. (On MongoDB a page's references are loaded by one find
// per reference field for the whole page: mongostore's withLabels.)
func TestListStatementsDoNotGrowWithRows(t *testing.T) {
	apptest.ForEachSQLBackend(t, func(t *testing.T, b apptest.Backend) {
		counter := &statementCounter{}
		app := apptest.NewApp(t, b, apptest.WrapDB(func(db *gorm.DB) *gorm.DB {
			return db.Session(&gorm.Session{Logger: counter})
		}))
		sqlDB, _ := app.DB.DB()
		if err := seed.Run(context.Background(), sqlDB, seed.Options{Albums: 40, Songs: 300}, nil); err != nil {
			t.Fatal(err)
		}
		c := app.LoggedIn()

		statements := func(path string, wantRows int) int {
			t.Helper()
			counter.reset()
			r := c.Get(path)
			_, sqls := counter.snapshot()
			// The accounts' generation is left out: read at most once
			// per store.GenerationWindow, whatever the page, it may fall
			// on either view.
			n := 0
			for _, q := range sqls {
				if !strings.HasPrefix(q, "SELECT taken FROM app_locks") {
					n++
				}
			}
			if r.Status != http.StatusOK {
				t.Fatalf("%s: status %d", path, r.Status)
			}
			if rows := r.Doc.Find("tbody tr").Length(); rows != wantRows {
				t.Fatalf("%s: %d rows, want %d", path, rows, wantRows)
			}
			if albums := r.Doc.Find(`tbody td a[href^="/albumview/show/"]`).Length(); albums == 0 {
				t.Fatalf("%s: no album column links: the related column is not loaded", path)
			}
			if t.Failed() {
				t.Logf("%s: %d statements: %s", path, n, strings.Join(sqls, " | "))
			}
			return n
		}
		for _, q := range []string{"", "sort=-rating&", "rating__gte=3&", "q=a&", "page=3&"} {
			// The first view may fill the cached table count; measure the next.
			c.Get(fmt.Sprintf("/songsview/list/?%spage_size=5", q))
			small := statements(fmt.Sprintf("/songsview/list/?%spage_size=5", q), 5)
			large := statements(fmt.Sprintf("/songsview/list/?%spage_size=100", q), 100)
			if small != large {
				t.Errorf("%q: %d statements for 5 rows but %d for 100: a query runs per row", q, small, large)
			}
			// Session lookup (2: session, user) + count + page: a fixed budget.
			if large > 5 {
				t.Errorf("%q: %d statements for one list page, want at most 5", q, large)
			}
		}
	})
}

// countedSong returns an app on b whose statements counter counts, and
// the id of its one song.
func countedSong(t *testing.T, b apptest.Backend) (*statementCounter, *apptest.App, string) {
	t.Helper()
	counter := &statementCounter{}
	app := apptest.NewApp(t, b, apptest.WrapDB(func(db *gorm.DB) *gorm.DB {
		return db.Session(&gorm.Session{Logger: counter})
	}))
	album := app.InsertAlbum("Abbey Road")
	song := app.InsertSongs([]apptest.SongRow{{Title: "Something", Rating: 9, Album: album}})[0]
	return counter, app, song
}

// TestAPIGetStatements: a record's API get, its token checked, costs at
// most one statement more than its show page, its session checked: the
// API's read bound (within 20% of the page) rests on it. The page reads its
// session, user and grants in one statement (auth.SessionGrantsReader);
// the API reads the token, then its user with the grants
// (auth.LoginGrantsReader): one more, but it sends no template, and its
// p50 stays far under the page's (make bench).
func TestAPIGetStatements(t *testing.T) {
	apptest.ForEachSQLBackend(t, func(t *testing.T, b apptest.Backend) {
		counter, app, song := countedSong(t, b)
		page, api := app.LoggedIn(), app.API(app.APIToken(t, apptest.AdminUser))
		page.Get("/songsview/show/"+song).ExpectStatus(t, "show", http.StatusOK)
		api.Do(t, "GET", "/api/v1/songsview/"+song, nil).Expect(t, "get", http.StatusOK) // the token's first use is written
		counter.reset()
		page.Get("/songsview/show/"+song).ExpectStatus(t, "show", http.StatusOK)
		shown, showSQL := counter.snapshot()
		counter.reset()
		api.Do(t, "GET", "/api/v1/songsview/"+song, nil).Expect(t, "get", http.StatusOK)
		got, getSQL := counter.snapshot()
		if got > shown+1 {
			t.Errorf("the API get runs %d statements, the show page %d (want at most one more):\napi:  %s\npage: %s", got, shown,
				strings.Join(getSQL, "\n      "), strings.Join(showSQL, "\n      "))
		}
	})
}

// TestLookupRunsNoCount checks that the related-record lookup never counts:
// each text a user types is a new search, so a count (cached by its text)
// would run on every keystroke. Texts dense, rare and absent, long enough
// for the search index, and under its three characters.
func TestLookupRunsNoCount(t *testing.T) {
	apptest.ForEachSQLBackend(t, func(t *testing.T, b apptest.Backend) {
		counter := &statementCounter{}
		app := apptest.NewApp(t, b, apptest.WrapDB(func(db *gorm.DB) *gorm.DB {
			return db.Session(&gorm.Session{Logger: counter})
		}))
		sqlDB, _ := app.DB.DB()
		if err := seed.Run(context.Background(), sqlDB, seed.Options{Albums: 300, Songs: 10}, nil); err != nil {
			t.Fatal(err)
		}
		c := app.LoggedIn()
		for _, q := range []string{"", "river", "gol", "Vol. 42", "Vol. 142", "zzzz", "ri", "ive"} {
			counter.reset()
			r := c.Get("/songsview/lookup/album?q=" + url.QueryEscape(q))
			_, sqls := counter.snapshot()
			if r.Status != http.StatusOK || !strings.Contains(r.Body, `"results":`) {
				t.Fatalf("lookup %q: status %d %s", q, r.Status, r.Body)
			}
			for _, s := range sqls {
				if strings.Contains(strings.ToUpper(s), "COUNT(") {
					t.Errorf("lookup %q counts: %s", q, s)
				}
			}
		}
	})
}
