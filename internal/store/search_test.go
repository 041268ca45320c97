package store_test

import (
	"cmp"
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gorm.io/gorm"

	"musicadmin/internal/apptest"
	"musicadmin/internal/catalog"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/migrate"
	"musicadmin/internal/seed"
	"musicadmin/internal/store"
	"musicadmin/internal/textindex"
)

// searchTitles are titles that trip up a substring index: case, accents,
// characters whose folding changes their length, LIKE's wildcards, scripts
// without spaces, emoji, titles shorter than a trigram.
var searchTitles = []string{
	"Love Song", "LOVELY Day", "Glove Box", "Ünïcödé Straße", "ÜNÏCÖDÉ STRASSE", "100% Pure", "under_score",
	"Ab", "Café del Mar", "ΣΊΣΥΦΟΣ", "日本語の歌", "🎸 Rock 🎸", "İstanbul", "a!b%c_d", "love love love",
}

// searchQueries cover each kind above, queries shorter than a trigram (no
// index), and text no title holds.
var searchQueries = []string{
	"love", "LOVE", "ove", "lo", "o", "straße", "STRASSE", "ünï", "ÜNÏ", "100%", "0% p", "%", "_", "r_s", "r_x",
	"café", "CAFÉ DEL", "σίσ", "ΣΊΣΥΦΟΣ", "日本語", "の歌", "🎸 r", "🎸", "istanbul", "i̇stan", "a!b%c_d", "!b%",
	"glove", "mitten", "raw inserted", "zzz", "ve lo",
}

func songsModel(t *testing.T, db *gorm.DB) (*store.Model[store.Song], *datamodel.Field) {
	t.Helper()
	models, err := catalog.Declare(store.New(db))
	if err != nil {
		t.Fatal(err)
	}
	songs := models.Songs.(*store.Model[store.Song])
	return songs, songs.Schema().Field("title")
}

// byNumber orders SQL ids as the database does, as numbers.
func byNumber(a, b string) int {
	x, _ := strconv.ParseInt(a, 10, 64)
	y, _ := strconv.ParseInt(b, 10, 64)
	return cmp.Compare(x, y)
}

// ids returns the ids of the records in page order.
func ids(p datamodel.Page) []string {
	out := make([]string, 0, len(p.Records))
	for _, r := range p.Records {
		out = append(out, r.ID)
	}
	return out
}

// TestSearchMatchesSubstring checks the indexed search against the rule it
// must keep, computed in Go: a title matches when its folded text contains
// the folded query. It writes through the model and around it (raw SQL, as
// another process would), renames and deletes, on both backends, and again
// with the count bound lowered so that the dense-match path runs too.
func TestSearchMatchesSubstring(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		db, _ := apptest.OpenMigrated(t, b)
		songs, title := songsModel(t, db)

		titles := map[string]string{}
		for _, s := range searchTitles {
			id, err := songs.Create(ctx, datamodel.Values{"title": s, "rating": int64(1), "album": (*datamodel.Ref)(nil)})
			if err != nil {
				t.Fatalf("create %q: %v", s, err)
			}
			titles[id] = s
		}
		if err := db.Exec("INSERT INTO songs (title, rating) VALUES (?, 3)", "Raw Inserted Love").Error; err != nil {
			t.Fatal(err)
		}
		var rawNum int64
		if err := db.Raw("SELECT id FROM songs WHERE title = ?", "Raw Inserted Love").Scan(&rawNum).Error; err != nil {
			t.Fatal(err)
		}
		rawID := strconv.FormatInt(rawNum, 10)
		titles[rawID] = "Raw Inserted Love"
		for id, s := range titles {
			switch s {
			case "Glove Box":
				if err := songs.Update(ctx, id, datamodel.Values{"title": "Mitten Box", "rating": int64(2), "album": (*datamodel.Ref)(nil)}); err != nil {
					t.Fatal(err)
				}
				titles[id] = "Mitten Box"
			case "LOVELY Day":
				if err := songs.Delete(ctx, id); err != nil {
					t.Fatal(err)
				}
				delete(titles, id)
			case "love love love":
				// Renamed around the model: the triggers must follow.
				if err := db.Exec("UPDATE songs SET title = ? WHERE id = ?", "Hate Hate Hate", id).Error; err != nil {
					t.Fatal(err)
				}
				titles[id] = "Hate Hate Hate"
			}
		}

		check := func(t *testing.T) {
			for _, q := range searchQueries {
				var want []string
				for id, s := range titles {
					if strings.Contains(textindex.Fold(s), textindex.Fold(q)) {
						want = append(want, id)
					}
				}
				slices.SortFunc(want, byNumber)
				byTitle := slices.Clone(want)
				slices.SortFunc(byTitle, func(a, b string) int { return strings.Compare(titles[a], titles[b]) })
				for _, f := range []struct {
					name  string
					query datamodel.Query
					want  []string
				}{
					{"q", datamodel.Query{Search: q, SearchFields: []*datamodel.Field{title}}, want},
					{"contains", datamodel.Query{Filters: []datamodel.Filter{{Field: title, Op: datamodel.OpContains, Value: q}}}, want},
					{"q by title", datamodel.Query{Search: q, SearchFields: []*datamodel.Field{title}, Sort: title}, byTitle},
				} {
					// Paged (the deferred join) and whole (no limit), by id.
					for _, limit := range []int{0, 25} {
						f.query.Limit = limit
						page, err := songs.List(ctx, f.query)
						if err != nil {
							t.Fatalf("%s %q: %v", f.name, q, err)
						}
						if got := ids(page); !slices.Equal(got, f.want) {
							t.Errorf("%s %q limit %d: ids %v, want %v", f.name, q, limit, got, f.want)
						}
						if !page.AtLeast && page.Total != int64(len(want)) {
							t.Errorf("%s %q: total %d, want %d", f.name, q, page.Total, len(want))
						}
					}
				}
				// Uncounted (the lookup's search), paged: a walk of the
				// sort order bounded by the row walkRows into it, then
				// the index when the walk did not fill the page.
				for _, size := range []int{1, 2, 25} {
					var got []string
					for offset := 0; offset <= len(byTitle); offset += size {
						page, err := songs.List(ctx, datamodel.Query{Filters: []datamodel.Filter{{Field: title,
							Op: datamodel.OpContains, Value: q}}, Sort: title, Offset: offset, Limit: size, NoCount: true})
						if err != nil {
							t.Fatal(err)
						}
						if len(page.Records) > size {
							t.Fatalf("uncounted %q: %d records in a page of %d", q, len(page.Records), size)
						}
						got = append(got, ids(page)...)
					}
					if !slices.Equal(got, byTitle) {
						t.Errorf("uncounted %q by title, pages of %d: ids %v, want %v", q, size, got, byTitle)
					}
				}
				// startswith keeps the prefix rule, through the same index.
				var wantPrefix []string
				for id, s := range titles {
					if strings.HasPrefix(textindex.Fold(s), textindex.Fold(q)) {
						wantPrefix = append(wantPrefix, id)
					}
				}
				slices.SortFunc(wantPrefix, byNumber)
				page, err := songs.List(ctx, datamodel.Query{Filters: []datamodel.Filter{{Field: title, Op: datamodel.OpStartsWith, Value: q}}})
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(page); !slices.Equal(got, wantPrefix) {
					t.Errorf("startswith %q: ids %v, want %v", q, got, wantPrefix)
				}
				// By title, a page of them: never the walk below the count
				// bound.
				slices.SortFunc(wantPrefix, func(a, b string) int { return strings.Compare(titles[a], titles[b]) })
				page, err = songs.List(ctx, datamodel.Query{Filters: []datamodel.Filter{{Field: title, Op: datamodel.OpStartsWith, Value: q}},
					Sort: title, Limit: 25})
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(page); !slices.Equal(got, wantPrefix) {
					t.Errorf("startswith %q by title: ids %v, want %v", q, got, wantPrefix)
				}
			}
		}
		// Pages come from the index's candidates, from a walk along the
		// sort order (matches dense, as in these few rows), or from a walk
		// because the matches pass the count bound.
		store.SetWalkBudget(songs, 0)
		t.Run("index", check)
		store.SetWalkBudget(songs, store.WalkBudget)
		t.Run("walk", check)
		store.SetCountLimit(songs, 1)
		t.Run("bounded count reached", check)
		// Uncounted pages walk at most this many rows before the index,
		// unless their text is rare in the index (as every text of these
		// few rows is), which is then read at once: here never rare.
		store.SetRareCandidates(songs, -1)
		for _, rows := range []int64{1, 3, 8} {
			store.SetWalkRows(songs, rows)
			t.Run(fmt.Sprint("walk of ", rows, " rows"), check)
		}
		// Rare texts (here, those in at most two titles) from the index
		// at once, the others by the walk.
		store.SetRareCandidates(songs, 2)
		t.Run("rare texts from the index", check)
	})
}

// TestSearchIndexFollowsWrites reads the index itself: after creates,
// renames and deletes, a song is found by the tokens (on MySQL: the
// suffixes) of its title and no longer by those of a title it lost. A stale
// entry would not change what a search shows (the LIKE checks each
// candidate), a missing one would.
func TestSearchIndexFollowsWrites(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		db, _ := apptest.OpenMigrated(t, b)
		songs, _ := songsModel(t, db)
		indexed := func(text string) []string {
			t.Helper()
			tokens := textindex.Tokens(text)
			var q string
			var arg string
			if b.Driver == "mysql" {
				// The title's first suffix, as the index cuts it.
				q = "SELECT DISTINCT row_id FROM songs_title_suffixes WHERE prefix = CAST(? AS BINARY) ORDER BY row_id"
				folded := []rune(textindex.Fold(text))
				arg = string(folded[:min(len(folded), store.SuffixRunes)])
			} else {
				q = "SELECT docid FROM songs_title_grams WHERE grams MATCH ? ORDER BY docid"
				arg = strings.Join(tokens, " ")
			}
			var rows []int64
			if b.Driver == "postgres" {
				// The index is on app_grams(title): with the table's scan
				// ruled out, the rows come from the index's entries (an
				// array containment needs no recheck), not from titles
				// folded anew.
				err := db.Connection(func(conn *gorm.DB) error {
					if err := conn.Exec("SET enable_seqscan = off").Error; err != nil {
						return err
					}
					defer conn.Exec("RESET enable_seqscan")
					return conn.Raw("SELECT id FROM songs WHERE app_grams(title) @> ?::text[] ORDER BY id",
						"{"+strings.Join(tokens, ",")+"}").Scan(&rows).Error
				})
				if err != nil {
					t.Fatalf("read index for %q: %v", text, err)
				}
			} else if err := db.Raw(q, arg).Scan(&rows).Error; err != nil {
				t.Fatalf("read index for %q: %v", text, err)
			}
			out := make([]string, len(rows))
			for i, id := range rows {
				out[i] = strconv.FormatInt(id, 10)
			}
			return out
		}
		a, err := songs.Create(ctx, datamodel.Values{"title": "Quixotic Zephyr", "rating": int64(0), "album": (*datamodel.Ref)(nil)})
		if err != nil {
			t.Fatal(err)
		}
		bID, err := songs.Create(ctx, datamodel.Values{"title": "Jukebox Ünïcödé", "rating": int64(0), "album": (*datamodel.Ref)(nil)})
		if err != nil {
			t.Fatal(err)
		}
		if got := indexed("quixotic zephyr"); !slices.Equal(got, []string{a}) {
			t.Fatalf("after create: %v, want [%s]", got, a)
		}
		if got := indexed("JUKEBOX ÜNÏCÖDÉ"); !slices.Equal(got, []string{bID}) {
			t.Fatalf("after create (folded): %v, want [%s]", got, bID)
		}
		if err := songs.Update(ctx, a, datamodel.Values{"title": "Flummoxed Wombat", "rating": int64(0), "album": (*datamodel.Ref)(nil)}); err != nil {
			t.Fatal(err)
		}
		if got := indexed("quixotic zephyr"); len(got) != 0 {
			t.Errorf("old title still indexed for %v", got)
		}
		if got := indexed("flummoxed wombat"); !slices.Equal(got, []string{a}) {
			t.Errorf("new title: %v, want [%s]", got, a)
		}
		// A rating change leaves the title's entry alone.
		if err := songs.Update(ctx, a, datamodel.Values{"title": "Flummoxed Wombat", "rating": int64(7), "album": (*datamodel.Ref)(nil)}); err != nil {
			t.Fatal(err)
		}
		if got := indexed("flummoxed wombat"); !slices.Equal(got, []string{a}) {
			t.Errorf("after a rating change: %v, want [%s]", got, a)
		}
		// Compacting the index (after app seed) keeps every entry.
		if err := songs.OptimizeTextIndexes(ctx); err != nil {
			t.Fatal(err)
		}
		if got := indexed("flummoxed wombat"); !slices.Equal(got, []string{a}) {
			t.Errorf("after optimize: %v, want [%s]", got, a)
		}
		if err := songs.Delete(ctx, bID); err != nil {
			t.Fatal(err)
		}
		if got := indexed("jukebox"); len(got) != 0 {
			t.Errorf("deleted song still indexed: %v", got)
		}
	})
}

// TestSearchIndexSpelling proves the two spellings of the index agree: what
// MySQL's triggers store for a title (its suffixes) and what PostgreSQL's
// app_grams() makes of it are what the store looks up, and on SQLite the
// registered function is textindex's own.
func TestSearchIndexSpelling(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		db, _ := apptest.OpenMigrated(t, b)
		for _, s := range append(searchTitles, "a", "ab", "abc", "  spaced  out  ") {
			if b.Driver == "mysql" {
				if err := db.Exec("INSERT INTO songs (title, rating) VALUES (?, 0)", s).Error; err != nil {
					t.Fatal(err)
				}
				var got []string
				if err := db.Raw("SELECT CAST(prefix AS CHAR CHARACTER SET utf8mb4) FROM songs_title_suffixes "+
					"WHERE row_id = (SELECT id FROM songs WHERE title = ?) ORDER BY prefix", s).Scan(&got).Error; err != nil {
					t.Fatal(err)
				}
				// Every suffix that still holds a trigram, cut to
				// SuffixRunes characters.
				folded := []rune(textindex.Fold(s))
				var want []string
				for i := 0; i+textindex.Size <= len(folded); i++ {
					want = append(want, string(folded[i:min(len(folded), i+store.SuffixRunes)]))
				}
				want = slices.Compact(slices.Sorted(slices.Values(want)))
				if !slices.Equal(got, want) {
					t.Errorf("suffixes of %q = %q, want %q", s, got, want)
				}
				continue
			}
			query := "SELECT app_grams(?)"
			if b.Driver == "postgres" {
				query = "SELECT array_to_string(app_grams(?), ' ')" // an array there
			}
			var got string
			if err := db.Raw(query, s).Scan(&got).Error; err != nil {
				t.Fatal(err)
			}
			gotSet := slices.Compact(slices.Sorted(slices.Values(strings.Fields(got))))
			want := slices.Sorted(slices.Values(textindex.Tokens(s)))
			if !slices.Equal(gotSet, want) {
				t.Errorf("app_grams(%q) = %q, want the tokens %v", s, got, want)
			}
		}
	})
}

// plannedDB is a migrated database with a few thousand songs, a tenth of
// them on no album, analyzed: a planner weighs the sizes of tables, and
// with none in them any plan is as cheap as another.
func plannedDB(t *testing.T, b apptest.Backend) *gorm.DB {
	t.Helper()
	db, _ := apptest.OpenMigrated(t, b)
	sqlDB, _ := db.DB()
	if err := seed.Run(context.Background(), sqlDB, seed.Options{Albums: 10, Songs: 3000, NoAlbumEvery: 10}, nil); err != nil {
		t.Fatal(err)
	}
	switch b.Driver {
	case "mysql":
		if err := db.Exec("ANALYZE TABLE songs, songs_title_suffixes").Error; err != nil {
			t.Fatal(err)
		}
	case "postgres":
		if err := db.Exec("ANALYZE songs").Error; err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// postgresPlan returns PostgreSQL's plan of query with args, as text.
func postgresPlan(t *testing.T, db *gorm.DB, query string, args ...any) string {
	t.Helper()
	for i, a := range args {
		if texts, ok := a.([]string); ok {
			args[i] = textArray(texts) // GORM would spell a slice as a list
		}
	}
	var lines []string
	if err := db.Raw("EXPLAIN "+query, args...).Scan(&lines).Error; err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// textArray is a text[] argument of a statement run through GORM, in
// PostgreSQL's array syntax.
type textArray []string

func (a textArray) Value() (driver.Value, error) {
	quoted := make([]string, len(a))
	for i, s := range a {
		quoted[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return "{" + strings.Join(quoted, ",") + "}", nil
}

// TestSearchUsesIndex checks the query plan of a search: the songs are
// reached by id from the index's candidates, never by a scan of the table.
func TestSearchUsesIndex(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		db := plannedDB(t, b)
		songs, title := songsModel(t, db)
		for _, q := range []string{"love", "Straße 12"} {
			where, args := store.Where(songs, q, []*datamodel.Field{title})
			query := "SELECT songs.id FROM songs" + where + " ORDER BY songs.title LIMIT 25"
			if b.Driver == "mysql" {
				var plan []struct {
					Table string
					Type  string
				}
				if err := db.Raw("EXPLAIN "+query, args...).Scan(&plan).Error; err != nil {
					t.Fatal(err)
				}
				var tables []string
				for _, p := range plan {
					tables = append(tables, p.Table+":"+p.Type)
					if p.Table == "songs" && p.Type == "ALL" {
						t.Errorf("%q: songs scanned: %v", q, plan)
					}
				}
				// One range of the suffixes' key, not a scan of it.
				if !slices.Contains(tables, "songs_title_suffixes:range") && !slices.Contains(tables, "songs_title_suffixes:ref") {
					t.Errorf("%q: plan %v does not read a range of the suffix index", q, tables)
				}
				continue
			}
			if b.Driver == "postgres" {
				plan := postgresPlan(t, db, query, args...)
				if !strings.Contains(plan, "Bitmap Index Scan on songs_title_grams") || strings.Contains(plan, "Seq Scan on songs") {
					t.Errorf("%q: plan\n%s", q, plan)
				}
				continue
			}
			var plan []struct{ Detail string }
			if err := db.Raw("EXPLAIN QUERY PLAN "+query, args...).Scan(&plan).Error; err != nil {
				t.Fatal(err)
			}
			text := fmt.Sprint(plan)
			if !strings.Contains(text, "songs_title_grams VIRTUAL TABLE") || strings.Contains(text, "SCAN songs ") ||
				!strings.Contains(text, "SEARCH songs USING INTEGER PRIMARY KEY") {
				t.Errorf("%q: plan %s", q, text)
			}
		}
	})
}

// TestSearchIndexBuiltForExistingSongs upgrades a database whose songs and
// albums predate the indexes, from before 00002: each migration that makes
// an index (00002, MySQL's 00003, and 00005 for album names) must index
// them.
func TestSearchIndexBuiltForExistingSongs(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		db, _ := apptest.OpenMigrated(t, b)
		sqlDB, _ := db.DB()
		m, err := migrate.New(sqlDB, b.Driver)
		if err != nil {
			t.Fatal(err)
		}
		for {
			current, _, err := m.Version(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if current <= 1 {
				break
			}
			if _, err := m.Down(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Exec("INSERT INTO songs (title, rating) VALUES ('Older Than The Index', 1)").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("INSERT INTO albums (name) VALUES ('Older Than The Index')").Error; err != nil {
			t.Fatal(err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		songs, title := songsModel(t, db)
		page, err := songs.List(ctx, datamodel.Query{Search: "than the", SearchFields: []*datamodel.Field{title}, Limit: 25})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 1 {
			t.Fatalf("found %d songs, want the one from before the index", len(page.Records))
		}
		models, err := catalog.Declare(store.New(db))
		if err != nil {
			t.Fatal(err)
		}
		albums := models.Albums
		name := albums.Schema().Field("name")
		page, err = albums.List(ctx, datamodel.Query{Filters: []datamodel.Filter{{Field: name, Op: datamodel.OpContains, Value: "than the"}},
			Limit: 25})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 1 {
			t.Fatalf("found %d albums, want the one from before the index", len(page.Records))
		}
	})
}

// TestPagePlansWalkAnIndex checks that the inner query of a list page, in
// every sort order the song view offers, walks an index in order instead of
// sorting the table: a sort would read all million rows for every page.
func TestPagePlansWalkAnIndex(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		db := plannedDB(t, b)
		songs, title := songsModel(t, db)
		rating := songs.Schema().Field("rating")
		for _, sort := range []*datamodel.Field{nil, title, rating} {
			for _, desc := range []bool{false, true} {
				query := store.PageIDs(songs, sort, desc)
				var plan string
				if b.Driver == "postgres" {
					plan = postgresPlan(t, db, query, 25, 0)
					// No Sort, Incremental Sort included: the inner
					// query reads an index in order and stops.
					if strings.Contains(plan, "Sort") || !strings.Contains(plan, "Index") {
						t.Errorf("%s: plan\n%s", query, plan)
					}
					continue
				}
				if b.Driver == "mysql" {
					var rows []struct {
						Type  string
						Extra string
					}
					if err := db.Raw("EXPLAIN "+query, 25, 0).Scan(&rows).Error; err != nil {
						t.Fatal(err)
					}
					plan = fmt.Sprint(rows)
					// The first page is read without the ids first:
					// its plan walks the index too, and joins the
					// albums by key.
					first, _ := store.FirstPage(songs, nil, sort, desc)
					rows = nil
					if err := db.Raw("EXPLAIN "+first, 25).Scan(&rows).Error; err != nil {
						t.Fatal(err)
					}
					if p := fmt.Sprint(rows); strings.Contains(p, "filesort") || strings.Contains(p, "temporary") ||
						len(rows) != 2 || rows[0].Type != "index" || rows[1].Type != "eq_ref" {
						t.Errorf("%s: %s", first, p)
					}
				} else {
					var rows []struct{ Detail string }
					if err := db.Raw("EXPLAIN QUERY PLAN "+query, 25, 0).Scan(&rows).Error; err != nil {
						t.Fatal(err)
					}
					plan = fmt.Sprint(rows)
				}
				if strings.Contains(plan, "filesort") || strings.Contains(plan, "TEMP B-TREE") {
					t.Errorf("%s: sorts: %s", query, plan)
				}
			}
		}
	})
}

// TestFilteredPagePlansWalkAnIndex checks the inner query of a filtered
// list page, for each filter the song view offers and each sort order: it
// reads an index in order and never sorts the matches, as a tenth of a
// million songs (rating = 5) would be sorted for every page. An equality
// filter reads the index of the filter's column then the sort's (migration
// 00005), where the page is one range in order; a range or an inequality
// walks the sort's index and tests each row, finding the page at once
// among dense matches.
func TestFilteredPagePlansWalkAnIndex(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		db := plannedDB(t, b)
		songs, title := songsModel(t, db)
		rating, album := songs.Schema().Field("rating"), songs.Schema().Field("album")
		var albumID int64
		if err := db.Raw("SELECT MIN(id) FROM albums").Scan(&albumID).Error; err != nil {
			t.Fatal(err)
		}
		albumRef := &datamodel.Ref{ID: strconv.FormatInt(albumID, 10)}
		for _, tc := range []struct {
			filter datamodel.Filter
			sort   *datamodel.Field
			index  string // the index an equality reads; "" for any that needs no sort
		}{
			{datamodel.Filter{Field: rating, Op: datamodel.OpEq, Value: int64(5)}, title, "ix_songs_rating_title"},
			{datamodel.Filter{Field: rating, Op: datamodel.OpEq, Value: int64(5)}, rating, "ix_songs_rating"},
			{datamodel.Filter{Field: album, Op: datamodel.OpEq, Value: albumRef}, title, "ix_songs_album_id_title"},
			{datamodel.Filter{Field: album, Op: datamodel.OpEq, Value: albumRef}, rating, "ix_songs_album_id_rating"},
			// A tenth of the songs: PostgreSQL walks the title's index.
			{datamodel.Filter{Field: album, Op: datamodel.OpEmpty, Value: true}, title, ""},
			{datamodel.Filter{Field: rating, Op: datamodel.OpGte, Value: int64(5)}, title, ""},
			{datamodel.Filter{Field: rating, Op: datamodel.OpNe, Value: int64(5)}, title, ""},
			{datamodel.Filter{Field: rating, Op: datamodel.OpLt, Value: int64(3)}, rating, ""},
			{datamodel.Filter{Field: album, Op: datamodel.OpNe, Value: albumRef}, title, ""},
		} {
			for _, desc := range []bool{false, true} {
				query, args := store.FilteredPageIDs(songs, []datamodel.Filter{tc.filter}, tc.sort, desc)
				args = append(args, 25, 0)
				var plan string
				switch b.Driver {
				case "postgres":
					plan = postgresPlan(t, db, query, args...)
					// No Sort, Incremental Sort included.
					if strings.Contains(plan, "Sort") || !strings.Contains(plan, "Index") {
						t.Errorf("%s %v: sorts\n%s", query, args, plan)
					}
				case "mysql":
					var rows []struct {
						Key   string
						Extra string
					}
					if err := db.Raw("EXPLAIN "+query, args...).Scan(&rows).Error; err != nil {
						t.Fatal(err)
					}
					// A first page of many matches is read at once,
					// without the ids first: along the same index.
					first, firstArgs := store.FirstPage(songs, []datamodel.Filter{tc.filter}, tc.sort, desc)
					var firstRows []struct {
						Key   string
						Extra string
					}
					if err := db.Raw("EXPLAIN "+first, append(firstArgs, 25)...).Scan(&firstRows).Error; err != nil {
						t.Fatal(err)
					}
					plan = fmt.Sprint(rows) + " first page " + fmt.Sprint(firstRows)
					if len(rows) == 0 || len(firstRows) == 0 || firstRows[0].Key != rows[0].Key {
						t.Errorf("%s %v: the first page reads another index than its ids: %s", first, firstArgs, plan)
					}
				default:
					var rows []struct{ Detail string }
					if err := db.Raw("EXPLAIN QUERY PLAN "+query, args...).Scan(&rows).Error; err != nil {
						t.Fatal(err)
					}
					plan = fmt.Sprint(rows)
				}
				if strings.Contains(plan, "filesort") || strings.Contains(plan, "TEMP B-TREE") {
					t.Errorf("%s %v: sorts: %s", query, args, plan)
				}
				if tc.index != "" && !strings.Contains(plan, tc.index+" ") && !strings.Contains(plan, tc.index+"}") {
					t.Errorf("%s %v: does not read %s: %s", query, args, tc.index, plan)
				}
			}
		}
	})
}

// TestAlbumNameSearchUsesIndex checks the plans of the two searches of the
// song form's album lookup (a prefix, then a substring of the name, sorted
// by name) and of the album list's search: the albums are reached by id
// from the name's search index (migration 00005), never by a scan.
func TestAlbumNameSearchUsesIndex(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		db, _ := apptest.OpenMigrated(t, b)
		sqlDB, _ := db.DB()
		if err := seed.Run(context.Background(), sqlDB, seed.Options{Albums: 3000}, nil); err != nil {
			t.Fatal(err)
		}
		switch b.Driver {
		case "mysql":
			if err := db.Exec("ANALYZE TABLE albums, albums_name_suffixes").Error; err != nil {
				t.Fatal(err)
			}
		case "postgres":
			if err := db.Exec("ANALYZE albums").Error; err != nil {
				t.Fatal(err)
			}
		}
		models, err := catalog.Declare(store.New(db))
		if err != nil {
			t.Fatal(err)
		}
		albums := models.Albums.(*store.Model[store.Album])
		name := albums.Schema().Field("name")
		for _, op := range []datamodel.Op{datamodel.OpStartsWith, datamodel.OpContains} {
			for _, q := range []string{"vol. 42", "Golden River"} {
				query, args := store.FilteredPageIDs(albums, []datamodel.Filter{{Field: name, Op: op, Value: q}}, name, false)
				args = append(args, 21, 0)
				switch b.Driver {
				case "mysql":
					var plan []struct {
						Table string
						Type  string
					}
					if err := db.Raw("EXPLAIN "+query, args...).Scan(&plan).Error; err != nil {
						t.Fatal(err)
					}
					var tables []string
					for _, p := range plan {
						tables = append(tables, p.Table+":"+p.Type)
					}
					if slices.Contains(tables, "albums:ALL") || slices.Contains(tables, "albums:index") ||
						!(slices.Contains(tables, "albums_name_suffixes:range") || slices.Contains(tables, "albums_name_suffixes:ref")) {
						t.Errorf("%s %q: plan %v does not read a range of the suffix index", op, q, tables)
					}
				case "postgres":
					plan := postgresPlan(t, db, query, args...)
					if !strings.Contains(plan, "Bitmap Index Scan on albums_name_grams") || strings.Contains(plan, "Seq Scan on albums") {
						t.Errorf("%s %q: plan\n%s", op, q, plan)
					}
				default:
					var plan []struct{ Detail string }
					if err := db.Raw("EXPLAIN QUERY PLAN "+query, args...).Scan(&plan).Error; err != nil {
						t.Fatal(err)
					}
					text := fmt.Sprint(plan)
					if !strings.Contains(text, "albums_name_grams VIRTUAL TABLE") || strings.Contains(text, "SCAN albums ") ||
						!strings.Contains(text, "SEARCH albums USING INTEGER PRIMARY KEY") {
						t.Errorf("%s %q: plan %s", op, q, text)
					}
				}
			}
		}
	})
}

// TestRareTextReadsRarestTokens checks the plan of a text match that
// probes its tokens: a text one of whose tokens lists few titles is rare
// (an uncounted page reads the index at once, without the walk), one whose
// every token lists many is not, and the index is read for the rare tokens
// only, leaving out those that list more than the bound; the page is the
// same either way.
func TestRareTextReadsRarestTokens(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		db, _ := apptest.OpenMigrated(t, b)
		songs, title := songsModel(t, db)
		titles := []string{"Common Rarity"}
		for i := range 12 {
			titles = append(titles, fmt.Sprintf("Common Song %02d", i))
		}
		for _, s := range titles {
			if _, err := songs.Create(ctx, datamodel.Values{"title": s, "rating": int64(1), "album": (*datamodel.Ref)(nil)}); err != nil {
				t.Fatal(err)
			}
		}
		store.SetRareCandidates(songs, 3)
		contains := func(text string) datamodel.Query {
			return datamodel.Query{Filters: []datamodel.Filter{{Field: title, Op: datamodel.OpContains, Value: text}},
				Sort: title, Limit: 21, NoCount: true}
		}
		if b.Driver == "postgres" {
			// PostgreSQL reads the planner's statistics of the index
			// (rarity_postgres.go): before any, every text is common.
			for _, text := range []string{"rarity", "zzz"} {
				if store.RareText(songs, contains(text)) {
					t.Errorf("%q rare with no statistics", text)
				}
			}
			if err := db.Exec("ANALYZE songs").Error; err != nil {
				t.Fatal(err)
			}
			store.SetRareCandidates(songs, 3)
		}
		for text, want := range map[string]bool{"common": false, "song": false, "rarity": true, "common rarity": true,
			"zzz": true, "co": false} {
			if got := store.RareText(songs, contains(text)); got != want {
				t.Errorf("%q rare: %v, want %v", text, got, want)
			}
		}
		// Each token read lists at most the bound of titles: "com",
		// listed by every title, is not read.
		listed := func(tok string) int {
			n := 0
			for _, s := range titles {
				if slices.Contains(textindex.Tokens(s), tok) {
					n++
				}
			}
			return n
		}
		if b.Driver != "mysql" { // MySQL reads one range of its suffixes, no tokens
			toks := store.QueryTokens(songs, "title", "common rarity")
			if len(toks) == 0 || len(toks) > textindex.MaxQueryTokens {
				t.Fatalf("tokens of common rarity: %v", toks)
			}
			for _, tok := range toks {
				if listed(tok) > 3 {
					t.Errorf("tokens of common rarity: %v (%q lists %d titles)", toks, tok, listed(tok))
				}
			}
		}
		for text, want := range map[string][]string{"common rarity": {"Common Rarity"}, "rarity": {"Common Rarity"},
			"zzz": nil, "song 1": {"Common Song 10", "Common Song 11"}} {
			page, err := songs.List(ctx, contains(text))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range page.Records {
				got = append(got, r.Values["title"].(string))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q: %q, want %q", text, got, want)
			}
		}
	})
}
