package mongostore

import (
	"context"
	"fmt"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/textutil"
)

// Healthy reports whether db's server answers and takes writes. A ping
// passes on a secondary or a server that refuses writes, so the probe is
// a write that changes nothing: a delete whose filter no document meets,
// by the _id index. It is cheap enough to poll.
func Healthy(ctx context.Context, db *mongo.Database) error {
	if err := db.Client().Ping(ctx, nil); err != nil {
		return fmt.Errorf("mongostore: health: ping: %w", err)
	}
	_, err := db.Collection(sessionsColl).DeleteOne(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}}, options.DeleteOne().SetHint(idIndex))
	if err != nil {
		return fmt.Errorf("mongostore: health: write probe: %w", err)
	}
	return nil
}

// credentials is the user:password@ of a connection string.
var credentials = regexp.MustCompile(`(mongodb(\+srv)?://)[^@/\s]*@`)

// Redact returns err's message on one line without the credentials of any
// connection string it quotes: it goes to a terminal or a log.
func Redact(err error) string {
	return textutil.OneLine(credentials.ReplaceAllString(err.Error(), "${1}"))
}
