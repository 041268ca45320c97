package seed

import (
	"context"
	"fmt"
	"math/rand/v2"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// RunMongo is Run on a MongoDB database: the same names, ratings and share
// of songs without an album as on SQL, written to the collections album and
// song with unordered bulk inserts of rowsPerInsert documents. Numbers in
// names continue after the documents a collection holds.
func RunMongo(ctx context.Context, db *mongo.Database, opts Options, progress Progress) error {
	if opts.Albums < 0 || opts.Songs < 0 {
		return fmt.Errorf("seed: counts must not be negative")
	}
	albums, songs := db.Collection("album"), db.Collection("song")
	firstAlbum, err := nextNumber(ctx, albums)
	if err != nil {
		return err
	}
	firstSong, err := nextNumber(ctx, songs)
	if err != nil {
		return err
	}
	total, done := opts.Albums+opts.Songs, 0
	report := func(n int) {
		done += n
		if progress != nil {
			progress(done, total)
		}
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	err = insertDocs(ctx, albums, opts.Albums, func(i int) bson.D {
		name := fmt.Sprintf("%s %s Vol. %d", pick(rng, adjectives), pick(rng, nouns), firstAlbum+int64(i))
		return bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "name", Value: name}}
	}, report)
	if err != nil {
		return err
	}
	ids, err := albumIDs(ctx, albums)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		opts.NoAlbumEvery = 1
	}
	return insertDocs(ctx, songs, opts.Songs, func(i int) bson.D {
		title := fmt.Sprintf("%s %s %d", pick(rng, adjectives), pick(rng, nouns), firstSong+int64(i))
		rating := rng.IntN(10)
		var album any
		if len(ids) > 0 && (opts.NoAlbumEvery == 0 || i%opts.NoAlbumEvery != 0) {
			album = ids[rng.IntN(len(ids))]
		}
		return bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "title", Value: title},
			{Key: "rating", Value: int32(rating)}, {Key: "album", Value: album}}
	}, report)
}

// nextNumber is the number the next seeded name of coll takes.
func nextNumber(ctx context.Context, coll *mongo.Collection) (int64, error) {
	n, err := coll.CountDocuments(ctx, bson.D{}, options.Count().SetHint("_id_"))
	if err != nil {
		return 0, fmt.Errorf("seed: count %s: %w", coll.Name(), err)
	}
	return n + 1, nil
}

// albumIDs returns the _id of every album, in _id order.
func albumIDs(ctx context.Context, albums *mongo.Collection) ([]bson.ObjectID, error) {
	cur, err := albums.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).
		SetSort(bson.D{{Key: "_id", Value: 1}}).SetHint("_id_"))
	if err != nil {
		return nil, fmt.Errorf("seed: album ids: %w", err)
	}
	var docs []struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("seed: album ids: %w", err)
	}
	ids := make([]bson.ObjectID, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, nil
}

// insertDocs writes n documents made by doc, rowsPerInsert per InsertMany.
func insertDocs(ctx context.Context, coll *mongo.Collection, n int, doc func(i int) bson.D, report func(int)) error {
	for start := 0; start < n; {
		size := min(rowsPerInsert, n-start)
		docs := make([]any, size)
		for i := range size {
			docs[i] = doc(start + i)
		}
		if _, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil {
			return fmt.Errorf("seed: insert into %s: %w", coll.Name(), err)
		}
		start += size
		report(size)
	}
	return nil
}
