package backend_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"musicadmin/internal/app"
	"musicadmin/internal/apptest"
	"musicadmin/internal/datamodel"
)

// agreeTitles are song titles whose order, search and case folding differ
// between collations and fold rules: the backends must agree on them all.
var agreeTitles = []string{
	"Abbey Road", "abbey road", "Abbéy Road", "ABBEY ROAD 2", "Zebra", "zebra crossing", "Ärger", "Øresund",
	"Straße", "STRASSE", "İstanbul", "istanbul", "ΣΊΣΥΦΟΣ", "σίσυφος", "日本語の歌", "🎸 Riff", "a!b%c_d",
	"100% Pure", "under_score", "  trimmed  ", "Love Me Do", "lovely day", "Glove", "LOVE", "Ω", "ω",
}

// TestBackendsAgree writes one catalogue through the seam of each backend
// and asks each the same list queries: every sort, search, filter and page
// must name the same songs in the same order, with the same totals, as on
// SQLite. Ids differ between backends (digits, ObjectIds), so answers are
// compared by title and album name.
func TestBackendsAgree(t *testing.T) {
	t.Parallel()
	want := map[string][]string{} // query -> SQLite's answer
	var queries []string
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			data := apptest.OpenBackend(t, apptest.NewMigratedDatabase(t, b))
			answers := agreeAnswers(t, data)
			if b == apptest.SQLite {
				want = answers
				queries = queries[:0]
				for q := range answers {
					queries = append(queries, q)
				}
				slices.Sort(queries)
				return
			}
			if len(want) == 0 {
				t.Fatal("no SQLite answers to compare with")
			}
			rows := 0
			for _, q := range queries {
				if got := answers[q]; !slices.Equal(got, want[q]) {
					t.Errorf("%s:\n  %s: %q\n  sqlite: %q", q, b.Name, got, want[q])
				}
				rows += len(want[q])
			}
			t.Logf("%d queries, %d rows agree with SQLite", len(queries), rows)
		})
	}
	if len(queries) < 40 {
		t.Errorf("only %d queries compared", len(queries))
	}
}

// agreeAnswers fills data's catalogue and returns, per query, the page it
// lists (title, rating and album name of each song) and its total.
func agreeAnswers(t *testing.T, data *app.App) map[string][]string {
	t.Helper()
	ctx := context.Background()
	m := data.Catalog()
	albums, songs := m.Albums, m.Songs
	var albumIDs []string
	for i, name := range []string{"Revolver", "revolver", "Abbey Road", "Ñandú", "Help!"} {
		id, err := albums.Create(ctx, datamodel.Values{"name": name})
		if err != nil {
			t.Fatalf("album %d: %v", i, err)
		}
		albumIDs = append(albumIDs, id)
	}
	rng := rand.New(rand.NewPCG(11, 25))
	titles := slices.Clone(agreeTitles)
	for i := range 150 {
		titles = append(titles, fmt.Sprintf("Song %03d %s", i, []string{"river", "River", "RIVER", "rive", "love"}[i%5]))
	}
	for i, title := range titles {
		var album *datamodel.Ref
		if i%4 != 0 {
			album = &datamodel.Ref{ID: albumIDs[rng.IntN(len(albumIDs))]}
		}
		v := datamodel.Values{"title": strings.TrimSpace(title), "rating": int64(rng.IntN(10)), "album": album}
		if _, err := songs.Create(ctx, v); err != nil {
			t.Fatalf("song %q: %v", title, err)
		}
	}
	// The first album loses its songs' references: deletes clear them.
	if err := albums.Delete(ctx, albumIDs[0]); err != nil {
		t.Fatal(err)
	}

	s := songs.Schema()
	title, rating, albumField := s.Field("title"), s.Field("rating"), s.Field("album")
	type query struct {
		name string
		q    datamodel.Query
	}
	var qs []query
	sorts := []struct {
		name string
		f    *datamodel.Field
		desc bool
	}{{"title", title, false}, {"-title", title, true}, {"rating", rating, false}, {"-rating", rating, true}}
	searches := []string{"", "love", "LOVE", "river", "rive", "abbey", "straße", "strasse", "istanbul", "σίσυφος",
		"ΣΊΣ", "%", "_", "a!b", "🎸", "日本", "ae", "zzz", "ω", "0 r"}
	filters := map[string][]datamodel.Filter{
		"":                  nil,
		"rating>=5":         {{Field: rating, Op: datamodel.OpGte, Value: int64(5)}},
		"rating!=3":         {{Field: rating, Op: datamodel.OpNe, Value: int64(3)}},
		"rating<2":          {{Field: rating, Op: datamodel.OpLt, Value: int64(2)}},
		"album empty":       {{Field: albumField, Op: datamodel.OpEmpty, Value: true}},
		"album set":         {{Field: albumField, Op: datamodel.OpEmpty, Value: false}},
		"album=Abbey Road":  {{Field: albumField, Op: datamodel.OpEq, Value: &datamodel.Ref{ID: albumIDs[2]}}},
		"title^=song 1":     {{Field: title, Op: datamodel.OpStartsWith, Value: "song 1"}},
		"title~=RIVER":      {{Field: title, Op: datamodel.OpContains, Value: "RIVER"}},
		"title=Ω":           {{Field: title, Op: datamodel.OpEq, Value: "Ω"}},
		"title!=Zebra":      {{Field: title, Op: datamodel.OpNe, Value: "Zebra"}},
		"rating>=5 & river": {{Field: rating, Op: datamodel.OpGte, Value: int64(5)}, {Field: title, Op: datamodel.OpContains, Value: "river"}},
	}
	for _, so := range sorts {
		for _, search := range searches {
			qs = append(qs, query{fmt.Sprintf("sort=%s q=%q", so.name, search),
				datamodel.Query{Search: search, SearchFields: []*datamodel.Field{title}, Sort: so.f, Desc: so.desc, Limit: 25}})
		}
		for name, fs := range filters {
			for _, page := range []int{0, 1, 6} {
				qs = append(qs, query{fmt.Sprintf("sort=%s filter=%s page=%d", so.name, name, page+1),
					datamodel.Query{Filters: fs, Sort: so.f, Desc: so.desc, Offset: page * 25, Limit: 25}})
			}
		}
	}
	// Pages walked forward then back (MongoDB keeps bookmarks between them).
	for _, page := range []int{0, 1, 2, 3, 4, 5, 6, 7, 3, 2, 7, 0} {
		qs = append(qs, query{fmt.Sprintf("walk sort=-rating page=%d", page+1),
			datamodel.Query{Sort: rating, Desc: true, Offset: page * 25, Limit: 25}})
	}
	answers := map[string][]string{}
	for _, q := range qs {
		page, err := songs.List(ctx, q.q)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		rows := []string{fmt.Sprintf("total=%d atLeast=%v", page.Total, page.AtLeast)}
		for _, r := range page.Records {
			album := "-"
			if ref, _ := r.Values["album"].(*datamodel.Ref); ref != nil {
				album = ref.Label
			}
			rows = append(rows, fmt.Sprintf("%s|%v|%s", r.Values["title"], r.Values["rating"], album))
		}
		// Ties in a rating sort are broken by id, which follows insertion
		// order on every backend: the rows must agree exactly.
		answers[q.name] = rows
	}
	choices, err := songs.Choices(ctx, albumField)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, c := range choices {
		labels = append(labels, c.Label)
	}
	answers["choices album"] = labels
	return answers
}
