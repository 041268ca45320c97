package mongostore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The schema version is one document, { _id: "schema", version, applied_at },
// in its own collection: what goose's version table is to the SQL
// backends, so that create-db can record what it built and db status can
// tell it. A document store has no schema to migrate, but its indexes and
// document shapes change with the code all the same.
const (
	schemaColl = "schema_version"
	schemaID   = "schema"
)

// SchemaVersion returns the schema version recorded in the store's
// database and when it was recorded: 0 and the zero time when none is (a
// database create-db has not run on).
func (s *Store) SchemaVersion(ctx context.Context) (version int, appliedAt time.Time, err error) {
	var doc struct {
		Version   int64     `bson:"version"`
		AppliedAt time.Time `bson:"applied_at"`
	}
	err = s.db.Collection(schemaColl).FindOne(ctx, bson.D{{Key: "_id", Value: schemaID}},
		options.FindOne().SetHint(idIndex)).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, translate("read schema version", err)
	}
	return int(doc.Version), doc.AppliedAt, nil
}

// MarkSchema records version, a positive number, as the schema version of
// the store's database, applied now. It records what it is given: refusing
// to go back to an older version is for its caller, which knows which
// versions it can work with.
func (s *Store) MarkSchema(ctx context.Context, version int) error {
	if version < 1 || version > math.MaxInt32 {
		return fmt.Errorf("mongostore: schema version %d out of range", version)
	}
	// A 32-bit integer, as the shell shows it plainly: version: 1.
	_, err := s.db.Collection(schemaColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: schemaID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: int32(version)}, {Key: "applied_at", Value: time.Now()}}}},
		options.UpdateOne().SetUpsert(true).SetHint(idIndex))
	if err != nil {
		return translate("record schema version", err)
	}
	return nil
}
