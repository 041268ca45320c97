package admin_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
	"musicadmin/internal/catalog"
	"musicadmin/internal/config"
	"musicadmin/internal/seed"
	"musicadmin/internal/view"
)

// BenchmarkExport times the CSV export of every song (GET
// /songsview/export.csv: the handler, the store's Each and the CSV writer)
// on SQLite, into a response that discards what it is sent, and reports
// rows/s and the allocations per row. The database is the file
// APP_BENCH_SQLITE names (one `go run ./bench/run --keep` seeded), else a
// fresh one seeded with APP_BENCH_SONGS songs (default 100,000) and a
// tenth as many albums:
//
//	go test -run '^$' -bench Export -benchmem ./internal/admin/
//	APP_BENCH_SQLITE=path/to/app.db go test -run '^$' -bench Export -benchtime 3x ./internal/admin/
func BenchmarkExport(b *testing.B) {
	cfg := config.Database{Driver: config.DriverSQLite, DSN: os.Getenv("APP_BENCH_SQLITE")}
	if cfg.DSN == "" {
		cfg = apptest.NewMigratedDatabase(b, apptest.SQLite)
		songs := 100_000
		if n, err := strconv.Atoi(os.Getenv("APP_BENCH_SONGS")); err == nil && n > 0 {
			songs = n
		}
		sqlDB, err := apptest.Open(b, cfg).DB()
		if err != nil {
			b.Fatal(err)
		}
		if err := seed.Run(context.Background(), sqlDB, seed.Options{Albums: max(songs/10, 1), Songs: songs}, nil); err != nil {
			b.Fatal(err)
		}
	}
	data := apptest.OpenBackend(b, cfg)
	songs, err := data.Catalog().Songs.Count(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	adm, err := admin.New(log, catalog.Views(data.Catalog())...)
	if err != nil {
		b.Fatal(err)
	}
	ui, err := view.New("Music Admin", log, adm.Menu(), nil)
	if err != nil {
		b.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(asAdmin)
	adm.Mount(access.NewRouter(r, forbidden), ui, func(http.ResponseWriter, *http.Request, string) {})

	var before, after runtime.MemStats
	var rows int64
	runtime.ReadMemStats(&before)
	for b.Loop() {
		w := &discardResponse{header: http.Header{}}
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/songsview/export.csv", nil))
		if w.status != http.StatusOK || w.lines != songs+1 {
			b.Fatalf("status %d, %d lines, want 200 and %d", w.status, w.lines, songs+1)
		}
		rows += songs
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/row")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(rows), "B/row")
}

// discardResponse is a ResponseWriter that counts the lines it is sent and
// keeps none of them, as a client that reads fast would.
type discardResponse struct {
	header http.Header
	status int
	lines  int64
}

var newline = []byte{'\n'}

func (d *discardResponse) Header() http.Header { return d.header }

func (d *discardResponse) WriteHeader(status int) {
	if d.status == 0 {
		d.status = status
	}
}

func (d *discardResponse) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	d.lines += int64(bytes.Count(p, newline))
	return len(p), nil
}
