package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/store"
)

// TestEachReadsTitleOrderFromOneIndex: a batch of the export's walk in
// title order (the song list's default order, either way) reads the index
// of every column in title order (migration 00011) and the album by id,
// never the songs' table row by row nor a sort.
func TestEachReadsTitleOrderFromOneIndex(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		db := plannedDB(t, b)
		if b.Driver == "postgres" {
			// An index-only scan reads the table for the pages not yet
			// all-visible: vacuum, as autovacuum does after a load, marks
			// them.
			if err := db.Exec("VACUUM songs").Error; err != nil {
				t.Fatal(err)
			}
		}
		songs, title := songsModel(t, db)
		const index = "ix_songs_title_rating_album_id"
		for _, desc := range []bool{false, true} {
			query := store.BatchQuery(songs, title, desc)
			args := []any{"M", 1000}
			var plan string
			switch b.Driver {
			case "postgres":
				// Only the index's order is held here: VACUUM cannot mark
				// pages all-visible while another session of the shared
				// test server holds an older snapshot, and then the planner
				// may as well walk the narrower unique index of titles.
				plan = postgresPlan(t, db, query, args...)
				inOrder := strings.Contains(plan, "Scan using "+index) || strings.Contains(plan, "Scan using ux_songs_title") ||
					strings.Contains(plan, "Scan Backward using "+index) || strings.Contains(plan, "Scan Backward using ux_songs_title")
				if !inOrder || strings.Contains(plan, "Sort") || strings.Contains(plan, "Seq Scan on songs") {
					t.Errorf("%s: not a walk of a title index:\n%s", query, plan)
				}
			case "mysql":
				var rows []struct {
					Table string
					Key   string
					Extra string
				}
				if err := db.Raw("EXPLAIN "+query, args...).Scan(&rows).Error; err != nil {
					t.Fatal(err)
				}
				plan = fmt.Sprint(rows)
				if len(rows) == 0 || rows[0].Key != index || !strings.Contains(rows[0].Extra, "Using index") ||
					strings.Contains(plan, "filesort") {
					t.Errorf("%s: does not read %s alone: %s", query, index, plan)
				}
			default:
				var rows []struct{ Detail string }
				if err := db.Raw("EXPLAIN QUERY PLAN "+query, args...).Scan(&rows).Error; err != nil {
					t.Fatal(err)
				}
				plan = fmt.Sprint(rows)
				if !strings.Contains(plan, "COVERING INDEX "+index) || strings.Contains(plan, "TEMP B-TREE") {
					t.Errorf("%s: does not read %s alone: %s", query, index, plan)
				}
			}
		}
	})
}

// TestEachGivesTheCacheBack: on SQLite a walk reads through one connection
// with a larger page cache, which goes back to the pool with its own size,
// after a walk that ends, that fn stops, or whose context is cancelled.
func TestEachGivesTheCacheBack(t *testing.T) {
	db := plannedDB(t, apptest.SQLite)
	sqlDB, _ := db.DB()
	sqlDB.SetMaxOpenConns(1) // the walk's connection is the one checked
	songs, title := songsModel(t, db)
	songs.SetEachBatch(100)
	cacheSize := func() int64 {
		t.Helper()
		var n int64
		if err := db.Raw("PRAGMA cache_size").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := cacheSize()
	stop := errors.New("stop")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		fn      func(n int) error
		wantErr bool
	}{
		{"whole", context.Background(), func(int) error { return nil }, false},
		{"stopped", context.Background(), func(n int) error {
			if n == 250 {
				return stop
			}
			return nil
		}, true},
		{"cancelled", ctx, func(n int) error {
			if n == 250 {
				cancel()
			}
			return nil
		}, true},
	} {
		n := 0
		err := songs.EachReused(tc.ctx, datamodel.Query{Sort: title}, func(datamodel.Record) error {
			n++
			return tc.fn(n)
		})
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err %v after %d records", tc.name, err, n)
		}
		if got := cacheSize(); got != want {
			t.Errorf("%s: cache_size %d after the walk, want %d", tc.name, got, want)
		}
	}
}
