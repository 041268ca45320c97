package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/seed"
)

// BenchmarkFloorListPage is the floor's song list page in-process, over
// the catalogue of the app's BenchmarkListPage (internal/server): the two
// side by side are the app's cost over the floor without the network.
//
//	go test -run '^$' -bench . -benchmem ./bench/floor/ ./internal/server/
func BenchmarkFloorListPage(b *testing.B) {
	a := apptest.NewApp(b, apptest.SQLite)
	sqlDB, _ := a.DB.DB()
	if err := seed.Run(context.Background(), sqlDB, seed.Options{Albums: 100, Songs: 10_000}, nil); err != nil {
		b.Fatal(err)
	}
	tmpl, err := parseTemplates()
	if err != nil {
		b.Fatal(err)
	}
	s := &server{db: sqlDB, tmpl: tmpl, app: "Music Admin"}
	for _, query := range []string{"", "?q=love", "?rating__gte=5"} {
		name := "first"
		if query != "" {
			name = query[1:]
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, listPath+query, nil)
				rec := httptest.NewRecorder()
				s.list(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
