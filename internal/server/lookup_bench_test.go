package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/seed"
)

// BenchmarkRelatedAtScale times the song form and the album lookup through
// the whole app on a seeded SQLite file, and reports each one's median and
// the form's size: the figures of the contract (forms under 30 KB and
// 10 ms, the lookup under 15 ms). The scale is APP_BENCH_ALBUMS and
// APP_BENCH_SONGS (default 100,000 and 1,000,000: seeding takes a while).
//
//	go test -run '^$' -bench RelatedAtScale -benchtime 200x ./internal/server/
func BenchmarkRelatedAtScale(b *testing.B) {
	albums, songs := envInt("APP_BENCH_ALBUMS", 100_000), envInt("APP_BENCH_SONGS", 1_000_000)
	a := apptest.NewApp(b, apptest.SQLite)
	sqlDB, _ := a.DB.DB()
	if err := seed.Run(context.Background(), sqlDB, seed.Options{Albums: albums, Songs: songs}, nil); err != nil {
		b.Fatal(err)
	}
	c := a.LoggedIn()
	u, _ := url.Parse(a.URL)
	cookies := c.HTTP.Jar.Cookies(u)
	song := a.SongID(a.Songs()[0].Title)
	for _, tc := range []struct{ name, path string }{
		{"add-form", "/songsview/add"},
		{"edit-form", "/songsview/edit/" + song},
		{"list-filter", "/songsview/list/?album=1"},
		{"lookup-empty", "/songsview/lookup/album?q="},
		{"lookup-gol", "/songsview/lookup/album?q=gol"},
		{"lookup-river", "/songsview/lookup/album?q=river"},
		{"lookup-vol-4242", "/songsview/lookup/album?q=" + url.QueryEscape("Vol. 4242")},
		{"lookup-none", "/songsview/lookup/album?q=zzzz"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var times []time.Duration
			size := 0
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, tc.path, nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				rec := httptest.NewRecorder()
				start := time.Now()
				a.Web.Handler.ServeHTTP(rec, req)
				times = append(times, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: status %d", tc.path, rec.Code)
				}
				size = rec.Body.Len()
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(size), "bytes")
		})
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
