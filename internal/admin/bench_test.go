package admin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/memstore"
	"musicadmin/internal/view"
)

// Micro-benchmarks of the hot paths of a list page and a form post, over an
// in-memory model so that only this package's work is measured:
//
//	go test -run '^$' -bench . -benchmem ./internal/admin/

// benchSongs returns the song view of an admin declared as the catalogue
// does (internal/catalog), over 100 albums and 1,000 songs in memory, and
// its view engine.
func benchSongs(b testing.TB) (*ModelView, *view.Engine) {
	b.Helper()
	ctx := context.Background()
	st := memstore.New()
	albums, err := st.Declare(datamodel.Schema{Name: "album", Label: "name", Fields: []datamodel.Field{
		{Name: "name", Label: "Name", Kind: datamodel.Text{MaxRunes: 100}, Required: true, Unique: true},
	}})
	if err != nil {
		b.Fatal(err)
	}
	songs, err := st.Declare(datamodel.Schema{Name: "song", Label: "title", Fields: []datamodel.Field{
		{Name: "title", Label: "Title", Kind: datamodel.Text{MaxRunes: 200}, Required: true, Unique: true},
		{Name: "rating", Label: "Rating", Kind: datamodel.Int{Min: 0, Max: 9}},
		{Name: "album", Label: "Album", Kind: datamodel.Reference{Model: "album"}},
	}})
	if err != nil {
		b.Fatal(err)
	}
	var albumIDs []string
	for i := 1; i <= 100; i++ {
		id, err := albums.Create(ctx, datamodel.Values{"name": fmt.Sprintf("Golden Road Vol. %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		albumIDs = append(albumIDs, id)
	}
	for i := int64(1); i <= 1000; i++ {
		var album *datamodel.Ref
		if i%10 != 0 {
			album = &datamodel.Ref{ID: albumIDs[i%100]}
		}
		if _, err := songs.Create(ctx, datamodel.Values{
			"title": fmt.Sprintf("Electric Love <%d> & Friends", i), "rating": i % 10, "album": album}); err != nil {
			b.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	songView := &ModelView{Name: "songsview", Title: "Song View", Category: "Model Views", Singular: "Song",
		Data: songs, ListColumns: []string{"title", "rating", "album"}, SearchColumns: []string{"title"},
		OrderColumns: []string{"title", "rating"}, DefaultSort: "title"}
	albumView := &ModelView{Name: "albumview", Title: "Album View", Category: "Model Views", Singular: "Album",
		Data: albums, ListColumns: []string{"name"}, SearchColumns: []string{"name"}, OrderColumns: []string{"name"},
		DefaultSort: "name", Related: []Related{{View: songView, Field: "album"}}}
	adm, err := New(log, albumView, songView)
	if err != nil {
		b.Fatal(err)
	}
	ui, err := view.New("Music Admin", log, adm.Menu(), func(http.ResponseWriter, *http.Request) view.Common {
		return view.Common{User: "admin", CSRF: "bench-csrf-token-00000000000000000000000000"}
	})
	if err != nil {
		b.Fatal(err)
	}
	adm.Mount(access.NewRouter(chi.NewRouter(), http.NotFound), ui, func(http.ResponseWriter, *http.Request, string) {})
	return songView, ui
}

func BenchmarkParseList(b *testing.B) {
	v, _ := benchSongs(b)
	cases := []struct{ name, query string }{
		{"empty", ""},
		{"page", "page=40000"},
		{"sort_search", "sort=-rating&q=love"},
		{"filters", "page=3&sort=-title&q=Love+song&rating__gte=5&album=42&rating__lt=9"},
		{"bad", "page=x&page_size=1e9&sort=nope&color=red&rating__gte=high&album__empty=maybe"},
	}
	for _, c := range cases {
		query, err := url.ParseQuery(c.query)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = v.parseList(query)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	v, _ := benchSongs(b)
	ctx := context.Background()
	cases := []struct {
		name string
		body url.Values
	}{
		{"valid", url.Values{"title": {"  Electric Love 1001  "}, "rating": {"7"}, "album": {"650000000000000000000042"}}},
		{"no_album", url.Values{"title": {"Electric Love 1002"}, "rating": {""}, "album": {""}}},
		{"invalid", url.Values{"title": {""}, "rating": {"eleven"}, "album": {"0x10"}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f := v.decode(c.body, nil)
				v.validate(ctx, &f, "")
			}
		})
	}
}

// BenchmarkRenderList renders a full list page of 25 songs, as handleList
// builds it, into a recorder.
func BenchmarkRenderList(b *testing.B) {
	v, ui := benchSongs(b)
	req := httptest.NewRequest(http.MethodGet, "/songsview/list/?page=2", nil)
	p := v.parseList(req.URL.Query())
	res, err := v.Data.List(context.Background(), datamodel.Query{Limit: p.pager.size, Offset: p.pager.offset()})
	if err != nil {
		b.Fatal(err)
	}
	data := listPage{Title: v.Title, Singular: v.Singular, ListURL: v.listURL(), AddURL: v.addURL(),
		SearchLabel: v.searchLabel(context.Background()), Total: res.Total, Count: int(res.Total), Page: p.pager.page, Pages: 40,
		Keep:    []hidden{{"sort", sortKey(p.sort, p.desc)}},
		PrevURL: v.urlFor(p, p.pager.page-1, "title"), NextURL: v.urlFor(p, p.pager.page+1, "title")}
	for _, f := range v.list {
		data.Columns = append(data.Columns, column{Label: f.Label, SortURL: v.urlFor(p, 1, f.Name)})
	}
	data.Rows = v.rows(context.Background(), allowed{grants: access.NewGrants([]string{access.AdminRole}, nil), show: true, edit: true, delete: true},
		res.Records, v.list)
	if len(data.Rows) != DefaultPageSize {
		b.Fatalf("rows: got %d", len(data.Rows))
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		ui.Render(rec, req, http.StatusOK, "list", v.Title, data)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkHandleList is the whole list handler over the in-memory model:
// parsing, rows, links and rendering, without router, session or SQL.
func BenchmarkHandleList(b *testing.B) {
	v, _ := benchSongs(b)
	for _, query := range []string{"", "?page=2&sort=-rating&q=love&rating__gte=5"} {
		req := httptest.NewRequest(http.MethodGet, "/songsview/list/"+query, nil)
		name := "first"
		if query != "" {
			name = "filtered"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				v.handleList(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
