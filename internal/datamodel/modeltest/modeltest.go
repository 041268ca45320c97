// Package modeltest holds checks of the datamodel seam that every store
// must pass, run by each store's own tests on its own backend. It is
// imported only by tests.
package modeltest

import (
	"context"
	"errors"
	"testing"

	"musicadmin/internal/datamodel"
)

// UpdateIf checks the conditional write on a store of the catalogue's
// models: albums {name}, songs {title, rating, album}, both empty. race,
// when not nil, sets the function the store runs between UpdateIf's
// version check and its write (its test hook): the race cases then put a
// concurrent write exactly there, where only the write's own condition
// can catch it. A store whose check and write hold one lock passes nil.
func UpdateIf(t *testing.T, albums, songs datamodel.Interface, race func(func())) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	help, err := albums.Create(ctx, datamodel.Values{"name": "Help!"})
	must(err)
	song, err := songs.Create(ctx, datamodel.Values{"title": "Yesterday", "rating": int64(5), "album": &datamodel.Ref{ID: help}})
	must(err)
	schema := songs.Schema()
	read := func() datamodel.Record {
		t.Helper()
		rec, err := songs.Get(ctx, song)
		must(err)
		return rec
	}
	values := func(rec datamodel.Record) string {
		ref, _ := rec.Values["album"].(*datamodel.Ref)
		album := "-"
		if ref != nil {
			album = ref.ID
		}
		return rec.Values["title"].(string) + "/" + schema.Field("rating").Kind.Text(rec.Values["rating"]) + "/" + album
	}
	mine := datamodel.Values{"title": "Mine", "rating": int64(1), "album": (*datamodel.Ref)(nil)}

	// The version as read: the write goes through, and the version moves.
	v0 := schema.Version(read())
	must(songs.UpdateIf(ctx, song, v0, datamodel.Values{"title": "Yesterday", "rating": int64(6), "album": &datamodel.Ref{ID: help}}))
	if got := values(read()); got != "Yesterday/6/"+help {
		t.Fatalf("after a current write: %s", got)
	}
	v1 := schema.Version(read())
	if v1 == v0 {
		t.Fatal("a write left the version as it was")
	}

	// The old version: nothing written.
	if err := songs.UpdateIf(ctx, song, v0, mine); !errors.Is(err, datamodel.ErrStale) {
		t.Fatalf("write with the old version: %v, want ErrStale", err)
	}
	if got := values(read()); got != "Yesterday/6/"+help {
		t.Fatalf("a stale write wrote: %s", got)
	}
	// The values already stored, saved again: with the current version
	// (MySQL then counts no changed row) and with an old one (the save
	// loses nothing), both succeed.
	same := datamodel.Values{"title": "Yesterday", "rating": int64(6), "album": &datamodel.Ref{ID: help}}
	must(songs.UpdateIf(ctx, song, v1, same))
	must(songs.UpdateIf(ctx, song, v0, same))
	// Errors of Update still come through on a current version.
	other, err := songs.Create(ctx, datamodel.Values{"title": "Taken", "rating": int64(0), "album": (*datamodel.Ref)(nil)})
	must(err)
	var conflict *datamodel.ConflictError
	if err := songs.UpdateIf(ctx, song, v1, datamodel.Values{"title": "Taken"}); !errors.As(err, &conflict) || conflict.Field != "title" {
		t.Fatalf("write of a taken title: %v, want a ConflictError on title", err)
	}
	must(songs.Delete(ctx, other))
	// Unknown ids.
	for _, id := range []string{"", "x", "0"} {
		if err := songs.UpdateIf(ctx, id, v1, mine); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("UpdateIf(%q): %v, want ErrNotFound", id, err)
		}
	}

	// Deleting the album clears the song's reference, which is a change
	// of the song: a form loaded before it is stale.
	gone, err := albums.Create(ctx, datamodel.Values{"name": "Gone"})
	must(err)
	must(songs.Update(ctx, song, datamodel.Values{"album": &datamodel.Ref{ID: gone}}))
	before := schema.Version(read())
	must(albums.Delete(ctx, gone))
	if err := songs.UpdateIf(ctx, song, before, datamodel.Values{"rating": int64(2)}); !errors.Is(err, datamodel.ErrStale) {
		t.Fatalf("write from before the album was deleted: %v, want ErrStale", err)
	}
	if got := values(read()); got != "Yesterday/6/-" {
		t.Fatalf("after the album was deleted: %s", got)
	}

	if race == nil {
		return
	}
	// A write between the check and the write: the write's own condition
	// refuses it, and the other write stands.
	armed := func(f func()) {
		once := f
		race(func() {
			if f := once; f != nil {
				once = nil // the racing write may come through the hook itself
				f()
			}
		})
	}
	defer race(nil)
	cur := schema.Version(read())
	armed(func() { must(songs.Update(ctx, song, datamodel.Values{"rating": int64(9)})) })
	if err := songs.UpdateIf(ctx, song, cur, mine); !errors.Is(err, datamodel.ErrStale) {
		t.Fatalf("write raced by another: %v, want ErrStale", err)
	}
	if got := values(read()); got != "Yesterday/9/-" {
		t.Fatalf("after a raced write: %s, want the other write's values only", got)
	}
	// The racing write stored what this one writes: nothing is lost.
	cur = schema.Version(read())
	armed(func() { must(songs.Update(ctx, song, mine)) })
	must(songs.UpdateIf(ctx, song, cur, mine))
	if got := values(read()); got != "Mine/1/-" {
		t.Fatalf("after a race to the same values: %s", got)
	}
	// The record deleted in between.
	cur = schema.Version(read())
	armed(func() { must(songs.Delete(ctx, song)) })
	if err := songs.UpdateIf(ctx, song, cur, datamodel.Values{"title": "Ghost"}); !errors.Is(err, datamodel.ErrNotFound) {
		t.Fatalf("write raced by a delete: %v, want ErrNotFound", err)
	}
	if n, err := songs.Count(ctx, nil); err != nil || n != 0 {
		t.Fatalf("songs after a raced delete: %d, %v", n, err)
	}
}
