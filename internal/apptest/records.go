package apptest

// The database behind the app's back, on any backend. Tests check what a
// request wrote, or put records in place before one, through these
// helpers: SQL statements on SQLite, MySQL and PostgreSQL, the driver's
// find, insert and update on MongoDB. None of them goes through the app's
// models, so a check that nothing was written cannot be fooled by the code
// it checks, and none of them assumes an id's form: a record id is a string,
// digits on SQL, ObjectId hex on MongoDB, as a client sees it.

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mongooptions "go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"musicadmin/internal/auth"
	"musicadmin/internal/config"
	"musicadmin/internal/store"
)

// AlbumRow is an album as the database holds it.
type AlbumRow struct {
	ID   string
	Name string
}

// SongRow is a song as the database holds it; Album is the album's id, ""
// for none.
type SongRow struct {
	ID     string
	Title  string
	Rating int
	Album  string
}

// UserRow is a user as the database holds it, with the names of its roles.
type UserRow struct {
	Username, FirstName, LastName, Email string
	PasswordHash                         string
	Active                               bool
	Roles                                []string
}

// Stored returns the checks of this file on the database cfg, which no test
// app serves (the command line's, say): an App without a server, whose
// other fields are unset. Its connection closes when t ends.
func Stored(t testing.TB, cfg config.Database) *App {
	t.Helper()
	a := &App{Site: &Site{t: t}, Config: config.Config{Database: cfg}}
	if cfg.Driver != config.DriverMongoDB {
		a.DB = Open(t, cfg)
		return a
	}
	cs, err := connstring.ParseAndValidate(cfg.DSN)
	if err != nil || cs.Database == "" {
		t.Fatalf("mongodb dsn of the test database: %v (database %q)", err, cs.Database)
	}
	client, err := mongo.Connect(mongooptions.Client().ApplyURI(cfg.DSN))
	if err != nil {
		t.Fatalf("connect to mongodb: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	a.Mongo = client.Database(cs.Database)
	return a
}

// Users returns every user with its roles' names, in id order.
func (a *App) Users() []UserRow {
	a.t.Helper()
	var out []UserRow
	if a.Mongo != nil {
		var roles []struct {
			ID   bson.ObjectID `bson:"_id"`
			Name string        `bson:"name"`
		}
		a.find("roles", nil, &roles)
		names := map[bson.ObjectID]string{}
		for _, r := range roles {
			names[r.ID] = r.Name
		}
		var docs []struct {
			Username     string          `bson:"username"`
			FirstName    string          `bson:"first_name"`
			LastName     string          `bson:"last_name"`
			Email        string          `bson:"email"`
			PasswordHash string          `bson:"password_hash"`
			Active       bool            `bson:"active"`
			Roles        []bson.ObjectID `bson:"roles"`
		}
		a.find("users", nil, &docs)
		for _, d := range docs {
			u := UserRow{Username: d.Username, FirstName: d.FirstName, LastName: d.LastName, Email: d.Email,
				PasswordHash: d.PasswordHash, Active: d.Active}
			for _, id := range d.Roles {
				name, ok := names[id]
				if !ok {
					a.t.Fatalf("user %s holds role %s, which does not exist", d.Username, id.Hex())
				}
				u.Roles = append(u.Roles, name)
			}
			out = append(out, u)
		}
		return out
	}
	var rows []struct {
		Username, FirstName, LastName, Email, PasswordHash string
		Active                                             bool
		RoleName                                           sql.NullString
	}
	q := "SELECT users.username, users.first_name, users.last_name, users.email, users.password_hash, users.active, " +
		"roles.name AS role_name FROM users LEFT JOIN user_roles ON user_roles.user_id = users.id " +
		"LEFT JOIN roles ON roles.id = user_roles.role_id ORDER BY users.id, roles.name"
	if err := a.DB.Raw(q).Scan(&rows).Error; err != nil {
		a.t.Fatalf("%s: %v", q, err)
	}
	for _, r := range rows {
		if n := len(out); n > 0 && out[n-1].Username == r.Username {
			out[n-1].Roles = append(out[n-1].Roles, r.RoleName.String)
			continue
		}
		u := UserRow{Username: r.Username, FirstName: r.FirstName, LastName: r.LastName, Email: r.Email,
			PasswordHash: r.PasswordHash, Active: r.Active}
		if r.RoleName.Valid {
			u.Roles = []string{r.RoleName.String}
		}
		out = append(out, u)
	}
	return out
}

// collections names the MongoDB collection of each SQL table the tests
// count: the catalogue's collections are named after the models, the
// accounts' after the tables (mongostore).
var collections = map[string]string{
	"albums": "album", "songs": "song",
	"users": "users", "roles": "roles", "user_sessions": "user_sessions",
	"login_failures": "login_failures", "second_factors": "second_factors",
}

// collection returns the MongoDB collection of table.
func (a *App) collection(table string) *mongo.Collection {
	a.t.Helper()
	name, ok := collections[table]
	if !ok {
		a.t.Fatalf("apptest: no MongoDB collection for table %q", table)
	}
	return a.Mongo.Collection(name)
}

// checkCtx bounds each check, so a server that hangs fails the test rather
// than stalling it until the package's timeout.
func checkCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// Count returns the number of rows of table (albums, songs, users, roles,
// user_sessions, login_failures), or of documents of its collection on MongoDB.
func (a *App) Count(table string) int64 {
	a.t.Helper()
	if a.Mongo == nil {
		if _, ok := collections[table]; !ok {
			a.t.Fatalf("apptest: Count of unknown table %q", table)
		}
		return Scalar(a.t, a.DB, "SELECT COUNT(*) FROM "+table)
	}
	ctx, cancel := checkCtx()
	defer cancel()
	n, err := a.collection(table).CountDocuments(ctx, bson.D{})
	if err != nil {
		a.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// UnknownID returns an id no record of the app has, well formed for the
// backend: an "unknown id" rather than a "malformed id".
func (a *App) UnknownID() string {
	if a.Mongo != nil {
		return bson.NewObjectID().Hex()
	}
	return "987654321"
}

// sqlID parses an id of a SQL record; ok is false for an id no SQL record
// can have.
func sqlID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}

// objectID parses an id of a MongoDB document.
func objectID(id string) (bson.ObjectID, bool) {
	oid, err := bson.ObjectIDFromHex(id)
	return oid, err == nil
}

// refValue is the stored form of an album reference: nil for "".
func (a *App) refValue(album string) any {
	a.t.Helper()
	if album == "" {
		return nil
	}
	if a.Mongo != nil {
		oid, ok := objectID(album)
		if !ok {
			a.t.Fatalf("apptest: album id %q is not an ObjectId", album)
		}
		return oid
	}
	n, ok := sqlID(album)
	if !ok {
		a.t.Fatalf("apptest: album id %q is not a SQL id", album)
	}
	return n
}

// Albums returns every album in id order (creation order on every backend).
func (a *App) Albums() []AlbumRow {
	a.t.Helper()
	return a.albums(nil, "")
}

// Album returns the album named name.
func (a *App) Album(name string) (AlbumRow, bool) {
	a.t.Helper()
	return one(a.albums(bson.D{{Key: "name", Value: name}}, "name = ?", name))
}

// AlbumByID returns the album with id.
func (a *App) AlbumByID(id string) (AlbumRow, bool) {
	a.t.Helper()
	if a.Mongo != nil {
		oid, ok := objectID(id)
		if !ok {
			return AlbumRow{}, false
		}
		return one(a.albums(bson.D{{Key: "_id", Value: oid}}, ""))
	}
	n, ok := sqlID(id)
	if !ok {
		return AlbumRow{}, false
	}
	return one(a.albums(nil, "id = ?", n))
}

// AlbumID returns the id of the album named name, and fails the test when
// there is none.
func (a *App) AlbumID(name string) string {
	a.t.Helper()
	al, ok := a.Album(name)
	if !ok {
		a.t.Fatalf("no album named %q in the database", name)
	}
	return al.ID
}

// Songs returns every song in id order.
func (a *App) Songs() []SongRow {
	a.t.Helper()
	return a.songs(nil, "")
}

// Song returns the song titled title.
func (a *App) Song(title string) (SongRow, bool) {
	a.t.Helper()
	return one(a.songs(bson.D{{Key: "title", Value: title}}, "title = ?", title))
}

// SongByID returns the song with id.
func (a *App) SongByID(id string) (SongRow, bool) {
	a.t.Helper()
	if a.Mongo != nil {
		oid, ok := objectID(id)
		if !ok {
			return SongRow{}, false
		}
		return one(a.songs(bson.D{{Key: "_id", Value: oid}}, ""))
	}
	n, ok := sqlID(id)
	if !ok {
		return SongRow{}, false
	}
	return one(a.songs(nil, "id = ?", n))
}

// SongID returns the id of the song titled title, and fails the test when
// there is none.
func (a *App) SongID(title string) string {
	a.t.Helper()
	s, ok := a.Song(title)
	if !ok {
		a.t.Fatalf("no song titled %q in the database", title)
	}
	return s.ID
}

// DanglingSongs returns how many songs refer to an album that does not
// exist.
func (a *App) DanglingSongs() int64 {
	a.t.Helper()
	if a.Mongo == nil {
		return Scalar(a.t, a.DB, "SELECT COUNT(*) FROM songs WHERE album_id IS NOT NULL AND album_id NOT IN (SELECT id FROM albums)")
	}
	albums := map[string]bool{}
	for _, al := range a.Albums() {
		albums[al.ID] = true
	}
	var n int64
	for _, s := range a.Songs() {
		if s.Album != "" && !albums[s.Album] {
			n++
		}
	}
	return n
}

func one[T any](rows []T) (T, bool) {
	if len(rows) == 0 {
		var zero T
		return zero, false
	}
	return rows[0], true
}

// albums reads albums matching filter (MongoDB) or where (SQL), in id order.
func (a *App) albums(filter bson.D, where string, args ...any) []AlbumRow {
	a.t.Helper()
	var out []AlbumRow
	if a.Mongo != nil {
		var docs []struct {
			ID   bson.ObjectID `bson:"_id"`
			Name string        `bson:"name"`
		}
		a.find("albums", filter, &docs)
		for _, d := range docs {
			out = append(out, AlbumRow{ID: d.ID.Hex(), Name: d.Name})
		}
		return out
	}
	var rows []struct {
		ID   int64
		Name string
	}
	a.query(&rows, "SELECT id, name FROM albums", where, args)
	for _, r := range rows {
		out = append(out, AlbumRow{ID: strconv.FormatInt(r.ID, 10), Name: r.Name})
	}
	return out
}

// songs reads songs matching filter (MongoDB) or where (SQL), in id order.
func (a *App) songs(filter bson.D, where string, args ...any) []SongRow {
	a.t.Helper()
	var out []SongRow
	if a.Mongo != nil {
		var docs []bson.M
		a.find("songs", filter, &docs)
		for _, d := range docs {
			s := SongRow{ID: d["_id"].(bson.ObjectID).Hex()}
			s.Title, _ = d["title"].(string)
			switch r := d["rating"].(type) {
			case int32:
				s.Rating = int(r)
			case int64:
				s.Rating = int(r)
			default:
				a.t.Fatalf("song %s: rating holds %T %v, not an integer", s.ID, d["rating"], d["rating"])
			}
			switch ref := d["album"].(type) {
			case nil:
			case bson.ObjectID:
				s.Album = ref.Hex()
			default:
				a.t.Fatalf("song %s: album holds %T, not an ObjectId or null", s.ID, d["album"])
			}
			out = append(out, s)
		}
		return out
	}
	var rows []struct {
		ID      int64
		Title   string
		Rating  int
		AlbumID sql.NullInt64
	}
	a.query(&rows, "SELECT id, title, rating, album_id FROM songs", where, args)
	for _, r := range rows {
		s := SongRow{ID: strconv.FormatInt(r.ID, 10), Title: r.Title, Rating: r.Rating}
		if r.AlbumID.Valid {
			s.Album = strconv.FormatInt(r.AlbumID.Int64, 10)
		}
		out = append(out, s)
	}
	return out
}

// SecondFactorRow is a user's second factor as the database holds it.
type SecondFactorRow struct {
	EnrolledAt, Secret, Recovery string
	LastStep                     int64
}

// SecondFactors returns every stored second factor, in id order.
func (a *App) SecondFactors() []SecondFactorRow {
	a.t.Helper()
	var out []SecondFactorRow
	if a.Mongo != nil {
		var docs []struct {
			EnrolledAt string `bson:"enrolled_at"`
			LastStep   int64  `bson:"last_step"`
			Secret     string `bson:"secret"`
			Recovery   string `bson:"recovery"`
		}
		a.find("second_factors", nil, &docs)
		for _, d := range docs {
			out = append(out, SecondFactorRow{EnrolledAt: d.EnrolledAt, Secret: d.Secret, Recovery: d.Recovery, LastStep: d.LastStep})
		}
		return out
	}
	a.query(&out, "SELECT enrolled_at, secret, recovery, last_step FROM second_factors", "", nil)
	return out
}

// query scans the rows of base, narrowed by where, ordered by id, into dest.
func (a *App) query(dest any, base, where string, args []any) {
	a.t.Helper()
	q := base
	if where != "" {
		q += " WHERE " + where
	}
	q += " ORDER BY id"
	if err := a.DB.Raw(q, args...).Scan(dest).Error; err != nil {
		a.t.Fatalf("%s %v: %v", q, args, err)
	}
}

// find decodes the documents of table's collection matching filter, in _id
// order (creation order, as ObjectIds of one process grow), into dest.
func (a *App) find(table string, filter bson.D, dest any) {
	a.t.Helper()
	if filter == nil {
		filter = bson.D{}
	}
	ctx, cancel := checkCtx()
	defer cancel()
	cur, err := a.collection(table).Find(ctx, filter, mongooptions.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		a.t.Fatalf("find %s %v: %v", table, filter, err)
	}
	if err := cur.All(ctx, dest); err != nil {
		a.t.Fatalf("read %s %v: %v", table, filter, err)
	}
}

// ExpireSessions makes every stored session expired a second ago.
func (a *App) ExpireSessions() {
	a.t.Helper()
	past := time.Now().Add(-time.Second)
	if a.Mongo != nil {
		ctx, cancel := checkCtx()
		defer cancel()
		if _, err := a.collection("user_sessions").UpdateMany(ctx, bson.D{},
			bson.D{{Key: "$set", Value: bson.D{{Key: "expires_at", Value: past}}}}); err != nil {
			a.t.Fatalf("expire sessions: %v", err)
		}
		return
	}
	if err := a.DB.Exec("UPDATE user_sessions SET expires_at = ?", past.Unix()).Error; err != nil {
		a.t.Fatalf("expire sessions: %v", err)
	}
	a.movedAccounts()
}

// movedAccounts moves the accounts' generation after a write made by hand
// (auth.Generations), as docs/operations.md tells whoever edits accounts
// in the database's console to, and waits out the window in which an
// instance's last read of it still answers (store.GenerationWindow): the
// app's instances then read every login again, not only after the little
// while they remember one. MongoDB keeps no generation: its logins are
// read on every request.
func (a *App) movedAccounts() {
	a.t.Helper()
	if a.Mongo != nil {
		return
	}
	if err := a.DB.Exec("UPDATE app_locks SET taken = taken + 1 WHERE name = ?", auth.AccountsLock).Error; err != nil {
		a.t.Fatalf("move the accounts' generation: %v", err)
	}
	time.Sleep(store.GenerationWindow)
}

// SetUserField sets one stored field of the user named username, by its
// column name (password_hash, active: the same key on MongoDB), and fails
// the test unless exactly one user matched.
func (a *App) SetUserField(username, field string, value any) {
	a.t.Helper()
	var matched int64
	if a.Mongo != nil {
		ctx, cancel := checkCtx()
		defer cancel()
		res, err := a.collection("users").UpdateOne(ctx, bson.D{{Key: "username", Value: username}},
			bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: value}}}})
		if err != nil {
			a.t.Fatalf("set %s of %s: %v", field, username, err)
		}
		matched = res.MatchedCount
	} else {
		res := a.DB.Exec("UPDATE users SET "+field+" = ? WHERE username = ?", value, username)
		if res.Error != nil {
			a.t.Fatalf("set %s of %s: %v", field, username, res.Error)
		}
		matched = res.RowsAffected
		a.movedAccounts()
	}
	if matched != 1 {
		a.t.Fatalf("set %s of %s: %d users matched, want 1", field, username, matched)
	}
}

// DeleteUser removes the user named username, and fails the test unless
// there was one. On SQL the user's sessions go with it (ON DELETE CASCADE);
// on MongoDB they stay, pointing at nobody, as a user removed by hand
// leaves them.
func (a *App) DeleteUser(username string) {
	a.t.Helper()
	var deleted int64
	if a.Mongo != nil {
		ctx, cancel := checkCtx()
		defer cancel()
		res, err := a.collection("users").DeleteOne(ctx, bson.D{{Key: "username", Value: username}})
		if err != nil {
			a.t.Fatalf("delete user %s: %v", username, err)
		}
		deleted = res.DeletedCount
	} else {
		res := a.DB.Exec("DELETE FROM users WHERE username = ?", username)
		if res.Error != nil {
			a.t.Fatalf("delete user %s: %v", username, res.Error)
		}
		deleted = res.RowsAffected
		a.movedAccounts()
	}
	if deleted != 1 {
		a.t.Fatalf("delete user %s: %d deleted, want 1", username, deleted)
	}
}

// String shows the album in a failure message.
func (r AlbumRow) String() string { return fmt.Sprintf("album %s %q", r.ID, r.Name) }

// String shows the song in a failure message.
func (r SongRow) String() string {
	album := r.Album
	if album == "" {
		album = "-"
	}
	return fmt.Sprintf("song %s %q rating %d album %s", r.ID, r.Title, r.Rating, album)
}

// Snapshot is the catalogue as the database holds it, for a check that
// requests wrote nothing: take one before and one after, and compare them
// with Same.
type Snapshot struct {
	Albums []AlbumRow
	Songs  []SongRow
}

// Snapshot reads the catalogue.
func (a *App) Snapshot() Snapshot { return Snapshot{Albums: a.Albums(), Songs: a.Songs()} }

func (s Snapshot) String() string {
	var b strings.Builder
	for _, al := range s.Albums {
		fmt.Fprintln(&b, al)
	}
	for _, so := range s.Songs {
		fmt.Fprintln(&b, so)
	}
	return b.String()
}

// Same reports whether s and o hold the same records.
func (s Snapshot) Same(o Snapshot) bool { return s.String() == o.String() }
