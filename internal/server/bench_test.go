package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/seed"
)

// BenchmarkListPage is a logged-in song list page through the whole app
// (router, middleware, session, SQL on a seeded SQLite file, template),
// without the network: what `make bench` loads, minus the load tool.
//
//	go test -run '^$' -bench ListPage -benchmem -cpuprofile cpu.out ./internal/server/
func BenchmarkListPage(b *testing.B) {
	a := apptest.NewApp(b, apptest.SQLite)
	sqlDB, _ := a.DB.DB()
	if err := seed.Run(context.Background(), sqlDB, seed.Options{Albums: 100, Songs: 10_000}, nil); err != nil {
		b.Fatal(err)
	}
	c := a.LoggedIn()
	u, _ := url.Parse(a.URL)
	cookies := c.HTTP.Jar.Cookies(u)
	for _, query := range []string{"", "?q=love", "?rating__gte=5"} {
		name := "first"
		if query != "" {
			name = query[1:]
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/songsview/list/"+query, nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				rec := httptest.NewRecorder()
				a.Web.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
