package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mongooptions "go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ferretDBMaxSize is the largest catalogue the MongoDB column is measured
// at when the server is FerretDB: FerretDB v1.24 sorts every find in memory
// (5 to 7 s a page at 200,000 documents), so its figures are the test
// server's, not the app's. On it the column proves that the pages answer,
// and answer the same rows, not how fast; a real mongod, named by
// APP_TEST_MONGODB_URI, is measured at every size.
const ferretDBMaxSize = 10_000

// mongoServerURI is the server the MongoDB column runs on: the tests' one
// (internal/mongostore/mongotest reads the same variable), or a local one.
func mongoServerURI() string {
	if uri := os.Getenv("APP_TEST_MONGODB_URI"); uri != "" {
		return uri
	}
	return "mongodb://127.0.0.1:27017"
}

var mongoBackend = backend{
	name: "mongodb",
	server: func() string {
		u, err := url.Parse(mongoServerURI())
		if err != nil {
			return "(unparsable URI)"
		}
		return u.Host
	},
	probe: func(ctx context.Context) error {
		return withMongo(ctx, func(c *mongo.Client) error { return c.Ping(ctx, nil) })
	},
	create: func(_ context.Context, _, name string) (string, error) {
		// The server makes the database at create-db's first write.
		u, err := url.Parse(mongoServerURI())
		if err != nil {
			return "", fmt.Errorf("bad mongodb uri: %w", err)
		}
		u.Path = "/" + name
		return u.String(), nil
	},
	drop: func(ctx context.Context, name string) error {
		return withMongo(ctx, func(c *mongo.Client) error { return c.Database(name).Drop(ctx) })
	},
	maxSize: func(ctx context.Context) int {
		var info bson.M
		err := withMongo(ctx, func(c *mongo.Client) error {
			return c.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
		})
		if _, ferret := info["ferretdbVersion"]; err == nil && ferret {
			return ferretDBMaxSize
		}
		return 0
	},
}

// withMongo runs fn with a client of the server, with short timeouts: a
// server that does not answer is skipped, not waited for.
func withMongo(ctx context.Context, fn func(*mongo.Client) error) error {
	c, err := mongo.Connect(mongooptions.Client().ApplyURI(mongoServerURI()).SetServerSelectionTimeout(5 * time.Second))
	if err != nil {
		return err
	}
	defer func() { _ = c.Disconnect(context.WithoutCancel(ctx)) }()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return fn(c)
}

// recordIDs matches a record id where a page writes one: in a record's
// URL (its show, edit, delete or history page), in a filter by album (a
// link's, the bulk form's list query), as the value of an input or a
// choice, or as a lookup result's id; and a form's version, a digest of
// the stored values, references included.
var recordIDs = regexp.MustCompile(`(/(?:show|edit|delete|history)/|[?;"]album=|value="|"id":")([0-9a-f]{24}|[0-9]+)|(name="version" value=")[0-9a-f]+`)

// maskIDs blanks record ids and versions, which differ between backends
// (digits on SQL, ObjectIds on MongoDB) while the records are the same.
func maskIDs(b []byte) []byte { return recordIDs.ReplaceAll(b, []byte("${1}${3}ID")) }

// mongoID returns the _id (hex) of the document of coll whose field ends
// with " <n>": the seed numbers names alike on every backend (album "…
// Vol. n", song "… n"), so it is the record the SQL backends number n.
func mongoID(ctx context.Context, dsn, coll, field, suffix string, n int) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	var doc struct {
		ID bson.ObjectID `bson:"_id"`
	}
	err = withMongo(ctx, func(c *mongo.Client) error {
		return c.Database(u.Path[1:]).Collection(coll).FindOne(ctx,
			bson.D{{Key: field, Value: bson.Regex{Pattern: fmt.Sprintf("%s%d$", suffix, n)}}}).Decode(&doc)
	})
	if err != nil {
		return "", fmt.Errorf("%s %d on mongodb: %w", coll, n, err)
	}
	return doc.ID.Hex(), nil
}

// albumFilter is a page's filter by album id; songPage a song's edit form,
// show page or API record.
var (
	albumFilter = regexp.MustCompile(`album=([0-9]+)`)
	songPage    = regexp.MustCompile(`^(` + regexp.QuoteMeta(editPath) + `|` + regexp.QuoteMeta(showPath) + `|` +
		regexp.QuoteMeta(apiPath) + `)([0-9]+)$`)
)

// jsonIDs matches what an API answer holds that differs between backends
// for the same records: a version (a digest of the values, references
// included), and an id, a JSON string of digits (SQL) or an ObjectId's hex
// (MongoDB), as a record's id, in the ids of a list and as a reference.
// No seeded title is all digits.
var jsonIDs = regexp.MustCompile(`("version":")[0-9a-f]+"|(")(?:[0-9a-f]{24}|[0-9]+)"`)

// maskJSONIDs blanks the ids and versions of an API answer, as maskIDs
// does a page's.
func maskJSONIDs(b []byte) []byte { return jsonIDs.ReplaceAll(b, []byte(`${1}${2}ID"`)) }

// mongoPaths maps the paths of pages that name a record by its SQL id (a
// filter by album, a song's edit form, show page or API record) to the
// same page naming that record's ObjectId in the database of dsn.
func mongoPaths(ctx context.Context, dsn string, pages []benchPage) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pages {
		if m := albumFilter.FindStringSubmatch(p.path); m != nil {
			n, _ := strconv.Atoi(m[1])
			oid, err := mongoID(ctx, dsn, "album", "name", ` Vol\. `, n)
			if err != nil {
				return nil, err
			}
			out[p.path] = strings.Replace(p.path, m[0], "album="+oid, 1)
		}
		if m := songPage.FindStringSubmatch(p.path); m != nil {
			n, _ := strconv.Atoi(m[2])
			oid, err := mongoID(ctx, dsn, "song", "title", " ", n)
			if err != nil {
				return nil, err
			}
			out[p.path] = m[1] + oid
		}
	}
	return out, nil
}
