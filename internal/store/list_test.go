package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/catalog"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/seed"
	"musicadmin/internal/store"
)

// TestListPagesMatchOneOrderedScan walks every page of the song list, in
// both directions and several sort orders, and checks that the pages put
// together are exactly the ordered table: the deferred join and the walk
// from the far end for deep pages must never skip or repeat a row.
func TestListPagesMatchOneOrderedScan(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		db, _ := apptest.OpenMigrated(t, b)
		sqlDB, _ := db.DB()
		if err := seed.Run(ctx, sqlDB, seed.Options{Albums: 7, Songs: 103, NoAlbumEvery: 5}, nil); err != nil {
			t.Fatal(err)
		}
		models, err := catalog.Declare(store.New(db))
		if err != nil {
			t.Fatal(err)
		}
		songs := models.Songs
		title, rating := songs.Schema().Field("title"), songs.Schema().Field("rating")
		highRated := []datamodel.Filter{{Field: rating, Op: datamodel.OpGte, Value: int64(5)}}
		for _, tc := range []struct {
			sort    *datamodel.Field
			desc    bool
			filters []datamodel.Filter
		}{
			{nil, false, nil}, {title, false, nil}, {title, true, nil}, {rating, false, nil}, {rating, true, nil},
			{title, false, highRated}, {rating, true, highRated},
		} {
			name := fmt.Sprintf("sort=%v desc=%v filtered=%v", tc.sort != nil, tc.desc, tc.filters != nil)
			all, err := songs.List(ctx, datamodel.Query{Sort: tc.sort, Desc: tc.desc, Filters: tc.filters})
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(all.Records)) != all.Total || all.AtLeast {
				t.Fatalf("%s: %d records, total %d (at least: %v)", name, len(all.Records), all.Total, all.AtLeast)
			}
			for _, size := range []int{1, 10, 25, 100} {
				var got []string
				for offset := 0; offset < len(all.Records); offset += size {
					page, err := songs.List(ctx, datamodel.Query{Sort: tc.sort, Desc: tc.desc, Filters: tc.filters,
						Offset: offset, Limit: size})
					if err != nil {
						t.Fatal(err)
					}
					if page.Total != all.Total {
						t.Fatalf("%s size %d offset %d: total %d, want %d", name, size, offset, page.Total, all.Total)
					}
					for _, r := range page.Records {
						got = append(got, r.ID)
					}
				}
				if len(got) != len(all.Records) {
					t.Fatalf("%s size %d: pages hold %d rows, want %d", name, size, len(got), len(all.Records))
				}
				for i, r := range all.Records {
					if got[i] != r.ID {
						t.Fatalf("%s size %d: row %d is id %s, want %s", name, size, i, got[i], r.ID)
					}
				}
			}
			past, err := songs.List(ctx, datamodel.Query{Sort: tc.sort, Filters: tc.filters, Offset: len(all.Records) + 5, Limit: 10})
			if err != nil || len(past.Records) != 0 {
				t.Fatalf("%s: a page past the end gave %d rows, err %v", name, len(past.Records), err)
			}
		}
	})
}

// TestCountsFollowWrites pages a list, writes, and lists again: a count the
// list remembered must never outlive a write of this process, to the same
// model or to another whose delete changes this one (ON DELETE SET NULL).
func TestCountsFollowWrites(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		db, _ := apptest.OpenMigrated(t, b)
		models, err := catalog.Declare(store.New(db))
		if err != nil {
			t.Fatal(err)
		}
		albums, songs := models.Albums, models.Songs
		rating, album := songs.Schema().Field("rating"), songs.Schema().Field("album")
		albumID, err := albums.Create(ctx, datamodel.Values{"name": "Counted"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for i := range 3 {
			id, err := songs.Create(ctx, datamodel.Values{"title": fmt.Sprint("Counted ", i), "rating": int64(i), "album": &datamodel.Ref{ID: albumID}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		count := func(filters ...datamodel.Filter) int64 {
			t.Helper()
			// Twice: the second answer may come from the cache.
			var n int64
			for range 2 {
				page, err := songs.List(ctx, datamodel.Query{Filters: filters, Limit: 25})
				if err != nil {
					t.Fatal(err)
				}
				n = page.Total
			}
			return n
		}
		high := datamodel.Filter{Field: rating, Op: datamodel.OpGte, Value: int64(1)}
		inAlbum := datamodel.Filter{Field: album, Op: datamodel.OpEq, Value: &datamodel.Ref{ID: albumID}}
		if n := count(high); n != 2 {
			t.Fatalf("rating >= 1: %d, want 2", n)
		}
		if n := count(); n != 3 {
			t.Fatalf("all: %d, want 3", n)
		}
		if err := songs.Update(ctx, ids[0], datamodel.Values{"title": "Counted 0", "rating": int64(9), "album": &datamodel.Ref{ID: albumID}}); err != nil {
			t.Fatal(err)
		}
		if n := count(high); n != 3 {
			t.Errorf("rating >= 1 after an update: %d, want 3", n)
		}
		if err := songs.Delete(ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
		if n := count(high); n != 2 {
			t.Errorf("rating >= 1 after a delete: %d, want 2", n)
		}
		if n := count(); n != 2 {
			t.Errorf("all after a delete: %d, want 2", n)
		}
		if n := count(inAlbum); n != 2 {
			t.Fatalf("in album: %d, want 2", n)
		}
		if err := albums.Delete(ctx, albumID); err != nil {
			t.Fatal(err)
		}
		if n := count(inAlbum); n != 0 {
			t.Errorf("in album after the album's delete: %d, want 0", n)
		}
	})
}

// TestPostgresKeepsTheFirstPagePrepared: on PostgreSQL an unfiltered first
// page (a list's, an API page's), which has no value to plan with, is
// prepared once per connection and run again as it is; a filtered page is
// still sent with its values, planned with them. Read from the connection's
// pg_prepared_statements, on a pool of one connection.
func TestPostgresKeepsTheFirstPagePrepared(t *testing.T) {
	apptest.RequireBackend(t, apptest.Postgres)
	db, _ := apptest.OpenMigrated(t, apptest.Postgres)
	sqlDB, _ := db.DB()
	sqlDB.SetMaxOpenConns(1)
	if err := seed.Run(context.Background(), sqlDB, seed.Options{Albums: 10, Songs: 300}, nil); err != nil {
		t.Fatal(err)
	}
	songs, title := songsModel(t, db)
	rating := songs.Schema().Field("rating")
	ctx := context.Background()
	prepared := func(marker string) int64 {
		t.Helper()
		var n int64
		if err := db.Raw("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE ?", "%"+marker+"%").
			Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	for range 3 {
		if _, err := songs.List(ctx, datamodel.Query{Sort: title, Limit: 25}); err != nil {
			t.Fatal(err)
		}
		if _, err := songs.List(ctx, datamodel.Query{Sort: title, Limit: 24, Filters: []datamodel.Filter{
			{Field: rating, Op: datamodel.OpGte, Value: 5}}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := prepared("ORDER BY songs.title ASC LIMIT 25))"); n != 1 {
		t.Errorf("the unfiltered first page is prepared %d times on the connection, want 1", n)
	}
	if n := prepared("songs.rating >="); n != 0 {
		t.Errorf("the filtered page of few matches is prepared (%d): its plan would no longer see its values", n)
	}

	// Past the count's bound, a filter's matches are many: its first page
	// is prepared, and holds what the page planned with its values does.
	page := func(f datamodel.Filter) []string {
		t.Helper()
		// A prefix of the titles sorted by rating: sorted by title, the
		// prefix's run of the index is read at once.
		sort := title
		if f.Op == datamodel.OpStartsWith {
			sort = rating
		}
		res, err := songs.List(ctx, datamodel.Query{Sort: sort, Limit: 24, Filters: []datamodel.Filter{f}})
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(res.Records))
		for i, r := range res.Records {
			ids[i] = r.ID
		}
		return ids
	}
	many := datamodel.Filter{Field: rating, Op: datamodel.OpGte, Value: 5}
	prefix := datamodel.Filter{Field: title, Op: datamodel.OpStartsWith, Value: "b"}
	planned, plannedPrefix := page(many), page(prefix)
	store.SetCountLimit(songs, 10)
	for range 3 {
		if got := page(many); !slices.Equal(got, planned) {
			t.Fatalf("the prepared page of rating >= 5: %v, want %v", got, planned)
		}
		if got := page(prefix); !slices.Equal(got, plannedPrefix) {
			t.Fatalf("the page of a prefix: %v, want %v", got, plannedPrefix)
		}
	}
	if len(planned) != 24 || len(plannedPrefix) < 10 {
		t.Fatalf("pages of %d and %d songs: the seed no longer fills them", len(planned), len(plannedPrefix))
	}
	if n := prepared("songs.rating >= $1 ORDER BY songs.title ASC LIMIT 24))"); n != 1 {
		t.Errorf("the filtered first page of many matches is prepared %d times, want 1", n)
	}
	if n := prepared("ESCAPE"); n != 0 {
		t.Errorf("the page of a prefix is prepared (%d): its matches are one run of the order, which a generic plan would walk to", n)
	}
}
