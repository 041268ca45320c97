package backend_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"musicadmin/internal/apptest"
	"musicadmin/internal/backend"
	"musicadmin/internal/config"
)

// TestMongoSchema: create-db on MongoDB creates the indexes and records
// the latest version (8) once; db status and the run check read it; there is no down
// migration.
func TestMongoSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := apptest.OpenBackend(t, apptest.NewDatabase(t, apptest.MongoDB))
	if err := backend.Ready(ctx, b); err == nil || !strings.Contains(err.Error(), "run `app create-db`") {
		t.Fatalf("Ready on an empty database: %v, want the create-db hint", err)
	}
	if n, err := b.Schema().Down(ctx); err != nil || n != 0 {
		t.Errorf("Down at version 0: %d, %v; want nothing to roll back", n, err)
	}
	for i, want := range []int{9, 0} {
		if n, err := b.Schema().Up(ctx); err != nil || n != want {
			t.Fatalf("Up #%d: %d, %v; want %d applied", i+1, n, err, want)
		}
	}
	if cur, latest, err := b.Schema().Version(ctx); err != nil || cur != 9 || latest != 9 {
		t.Errorf("Version: %d, %d, %v; want 9, 9", cur, latest, err)
	}
	st, err := b.Schema().Status(ctx)
	if err != nil || len(st) != 9 || !st[0].Applied || !st[8].Applied || st[8].Version != 9 {
		t.Errorf("Status: %+v, %v", st, err)
	}
	if err := backend.Ready(ctx, b); err != nil {
		t.Errorf("Ready after Up: %v", err)
	}
	if _, err := b.Schema().Down(ctx); err == nil || !strings.Contains(err.Error(), "no down migration") {
		t.Errorf("Down at version 8: %v, want a refusal", err)
	}
	if err := b.Healthy(ctx); err != nil {
		t.Errorf("Healthy: %v", err)
	}
	mdb := b.Backend.(*backend.Mongo).Database()
	names, err := mdb.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"album", "song", "users", "roles", "permissions", "tokens", "second_factors", "identities", "user_sessions", "login_failures", "schema_version"} {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
			t.Errorf("collection %s missing after create-db: %v", want, names)
		}
	}
}

// TestOpenMongoDSNErrors: a DSN that names no database or does not parse
// is refused before any connection, without echoing its password.
func TestOpenMongoDSNErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ dsn, want string }{
		{"mongodb://u:secret-pw@127.0.0.1:27017", "names no database"},
		{"mongodb://u:secret-pw@127.0.0.1:27017/", "names no database"},
		{"mongo://u:secret-pw@127.0.0.1/music", "not a valid connection string"},
		{"mongodb://u:secret-pw@127.0.0.1:27017/music?connectTimeoutMS=abc", "not a valid connection string"},
	} {
		_, err := backend.Open(context.Background(), config.Database{Driver: config.DriverMongoDB, DSN: c.dsn})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("Open(%q): %v, want %q and no password", c.dsn, err, c.want)
		}
	}
}

// TestReadmeMongoShell adds Album1 and Song1 (rating 9, on Album1) through
// the app's forms on MongoDB, as the README tells, and checks that the raw
// documents are what the README says the seed's Mongo shell shows. A
// document the shell writes (rating a double, as the shell's numbers are)
// shows in the app.
func TestReadmeMongoShell(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)<!-- mongo-shell:[^>]*-->\n```\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README has no mongo-shell block")
	}

	a := apptest.NewApp(t, apptest.MongoDB)
	c := a.LoggedIn()
	if r := c.Submit("/albumview/add", url.Values{"name": {"Album1"}}); r.Status != http.StatusFound {
		t.Fatalf("add Album1: %d", r.Status)
	}
	ctx := context.Background()
	var album bson.D
	if err := a.Mongo.Collection("album").FindOne(ctx, bson.D{}).Decode(&album); err != nil {
		t.Fatal(err)
	}
	albumID := album[0].Value.(bson.ObjectID)
	if r := c.Submit("/songsview/add", url.Values{"title": {"Song1"}, "rating": {"9"}, "album": {albumID.Hex()}}); r.Status != http.StatusFound {
		t.Fatalf("add Song1: %d", r.Status)
	}
	var song bson.D
	if err := a.Mongo.Collection("song").FindOne(ctx, bson.D{}).Decode(&song); err != nil {
		t.Fatal(err)
	}
	shell := "> db.album.findOne()\n" + shellDoc(album) + "\n> db.song.findOne()\n" + shellDoc(song) + "\n"
	if shell != string(block[1]) {
		t.Errorf("the README says the shell shows\n%s\nthe documents are\n%s", block[1], shell)
	}
	if got := song[len(song)-1]; got.Key != "album" || got.Value != albumID {
		t.Errorf("song.album = %v, want the album's _id %v", got, albumID)
	}

	if _, err := a.Mongo.Collection("song").InsertOne(ctx, bson.D{{Key: "title", Value: "Song2"},
		{Key: "rating", Value: 3.0}, {Key: "album", Value: nil}}); err != nil {
		t.Fatal(err)
	}
	r := c.Get("/songsview/list/?sort=title")
	r.ExpectStatus(t, "song list", http.StatusOK)
	if rows := r.Rows(); len(rows) != 2 || fmt.Sprint(rows[1][:3]) != "[Song2 3 ]" {
		t.Errorf("rows %q, want Song2 with rating 3 and no album second", rows)
	}
}

// shellDoc writes d as the Mongo shell prints it, ids elided.
func shellDoc(d bson.D) string {
	parts := make([]string, len(d))
	for i, e := range d {
		var v string
		switch x := e.Value.(type) {
		case bson.ObjectID:
			v = "ObjectId('…')"
		case string:
			v = "'" + x + "'"
		case nil:
			v = "null"
		default:
			v = fmt.Sprint(x)
		}
		parts[i] = e.Key + ": " + v
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}
