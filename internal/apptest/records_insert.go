package apptest

// Records written behind the app's back, on any backend: a test's
// fixtures, in batches, fast.

import (
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"

	"musicadmin/internal/store"
)

// InsertAlbum stores an album directly and returns its id.
func (a *App) InsertAlbum(name string) string {
	a.t.Helper()
	if a.Mongo != nil {
		ctx, cancel := checkCtx()
		defer cancel()
		oid := bson.NewObjectID()
		if _, err := a.collection("albums").InsertOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: name}}); err != nil {
			a.t.Fatalf("insert album %q: %v", name, err)
		}
		return oid.Hex()
	}
	al := store.Album{Name: name}
	if err := a.DB.Create(&al).Error; err != nil {
		a.t.Fatalf("insert album %q: %v", name, err)
	}
	return strconv.FormatInt(al.ID, 10)
}

// InsertAlbums stores albums directly, in order and in batches (one insert
// each is slow on MongoDB's test server), and returns their ids.
func (a *App) InsertAlbums(names []string) []string {
	a.t.Helper()
	const batch = 500
	ids := make([]string, 0, len(names))
	if a.Mongo != nil {
		ctx, cancel := checkCtx()
		defer cancel()
		for start := 0; start < len(names); start += batch {
			var docs []any
			for _, name := range names[start:min(start+batch, len(names))] {
				oid := bson.NewObjectID()
				docs = append(docs, bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: name}})
				ids = append(ids, oid.Hex())
			}
			if _, err := a.collection("albums").InsertMany(ctx, docs); err != nil {
				a.t.Fatalf("insert albums: %v", err)
			}
		}
		return ids
	}
	rows := make([]store.Album, len(names))
	for i, name := range names {
		rows[i] = store.Album{Name: name}
	}
	if err := a.DB.CreateInBatches(&rows, batch).Error; err != nil {
		a.t.Fatalf("insert albums: %v", err)
	}
	for _, r := range rows {
		ids = append(ids, strconv.FormatInt(r.ID, 10))
	}
	return ids
}

// InsertSong stores a song directly and returns its id; album "" is none.
func (a *App) InsertSong(title string, rating int, album string) string {
	a.t.Helper()
	return a.InsertSongs([]SongRow{{Title: title, Rating: rating, Album: album}})[0]
}

// InsertSongs stores songs directly, in order and in batches, and returns
// their ids.
func (a *App) InsertSongs(songs []SongRow) []string {
	a.t.Helper()
	const batch = 500
	ids := make([]string, 0, len(songs))
	if a.Mongo != nil {
		ctx, cancel := checkCtx()
		defer cancel()
		for start := 0; start < len(songs); start += batch {
			var docs []any
			for _, s := range songs[start:min(start+batch, len(songs))] {
				oid := bson.NewObjectID()
				// rating as the app writes it: a 32-bit integer.
				docs = append(docs, bson.D{{Key: "_id", Value: oid}, {Key: "title", Value: s.Title},
					{Key: "rating", Value: int32(s.Rating)}, {Key: "album", Value: a.refValue(s.Album)}})
				ids = append(ids, oid.Hex())
			}
			if _, err := a.collection("songs").InsertMany(ctx, docs); err != nil {
				a.t.Fatalf("insert songs: %v", err)
			}
		}
		return ids
	}
	rows := make([]store.Song, len(songs))
	for i, s := range songs {
		rows[i] = store.Song{Title: s.Title, Rating: s.Rating}
		if ref := a.refValue(s.Album); ref != nil {
			n := ref.(int64)
			rows[i].AlbumID = &n
		}
	}
	if err := a.DB.CreateInBatches(&rows, batch).Error; err != nil {
		a.t.Fatalf("insert songs: %v", err)
	}
	for _, r := range rows {
		ids = append(ids, strconv.FormatInt(r.ID, 10))
	}
	return ids
}
