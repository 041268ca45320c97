package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"musicadmin/internal/apptest"
	"musicadmin/internal/catalog"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/store"
	"musicadmin/internal/textindex"
)

// TestPostgresFoldIsGoFold checks app_fold, the folding of PostgreSQL's
// search, against Go's strings.ToLower (textindex.Fold) on every code
// point, and in the contexts where ICU's own lowering differs from Go's: İ
// and a final Σ. app_grams' copy of the expression is checked on every
// character that folding changes.
func TestPostgresFoldIsGoFold(t *testing.T) {
	t.Parallel()
	apptest.RequireBackend(t, apptest.Postgres)
	db, _ := apptest.OpenMigrated(t, apptest.Postgres)
	// One pass over Unicode; app_grams only where folding changes the
	// character.
	var rows []struct {
		CP      int32
		Folded  string
		GramsOK bool
	}
	if err := db.Raw(`SELECT cp, folded,
			app_grams(repeat(chr(cp), 3)) = ARRAY[upper(encode(convert_to(repeat(folded, 3), 'UTF8'), 'hex'))] AS grams_ok
		FROM (SELECT cp, app_fold(chr(cp)) AS folded FROM generate_series(1, 1114111) cp
		      WHERE cp NOT BETWEEN 55296 AND 57343) f
		WHERE folded <> chr(cp)`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !r.GramsOK {
			t.Errorf("app_grams folds %U unlike app_fold", r.CP)
		}
	}
	got := map[rune]string{}
	for _, r := range rows {
		got[r.CP] = r.Folded
	}
	changed := 0
	for r := rune(1); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue // no character: PostgreSQL's chr() refuses them
		}
		want := textindex.Fold(string(r))
		if want != string(r) {
			changed++
		}
		pg, ok := got[r]
		if !ok {
			pg = string(r)
		}
		if pg != want {
			t.Errorf("app_fold(%U %q) = %q, Go folds to %q", r, string(r), pg, want)
		}
	}
	if changed < 1000 || len(rows) != changed {
		t.Errorf("folding changes %d characters in Go and %d in PostgreSQL", changed, len(rows))
	}

	for _, s := range []string{"ΣΊΣΥΦΟΣ", "ΟΔΟΣ ΟΔΟΣ.", "Σ", "ΑΣ", "İstanbul", "Kelvin \u212A", "ǅ ǈ ǋ", "ẞ Straße"} {
		var pg string
		if err := db.Raw("SELECT app_fold(?)", s).Scan(&pg).Error; err != nil {
			t.Fatal(err)
		}
		if want := textindex.Fold(s); pg != want {
			t.Errorf("app_fold(%q) = %q, want %q", s, pg, want)
		}
	}
}

// TestPostgresByteOrder checks the collation decision: text is unique and
// sorted by code point, as on SQLite and MySQL, whatever the database's
// default collation.
func TestPostgresByteOrder(t *testing.T) {
	t.Parallel()
	apptest.RequireBackend(t, apptest.Postgres)
	ctx := context.Background()
	db, _ := apptest.OpenMigrated(t, apptest.Postgres)
	models, err := catalog.Declare(store.New(db))
	if err != nil {
		t.Fatal(err)
	}
	albums := models.Albums
	names := []string{"abbey road", "Abbey Road", "Abbéy Road", "Zebra", "éclair", "Éclair", "a", "B", "_x", "日本", "🎸"}
	for _, n := range names {
		if _, err := albums.Create(ctx, datamodel.Values{"name": n}); err != nil {
			t.Fatalf("create %q: %v (names differing in case or accent are distinct)", n, err)
		}
	}
	_, err = albums.Create(ctx, datamodel.Values{"name": "Abbey Road"})
	var conflict *datamodel.ConflictError
	if !errors.As(err, &conflict) || conflict.Field != "name" {
		t.Errorf("duplicate name: err = %v, want a ConflictError on name", err)
	}
	name := albums.Schema().Field("name")
	for _, desc := range []bool{false, true} {
		page, err := albums.List(ctx, datamodel.Query{Sort: name, Desc: desc, Limit: 25})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range page.Records {
			got = append(got, r.Values["name"].(string))
		}
		want := slices.Clone(names)
		slices.Sort(want) // Go compares strings by bytes: code point order in UTF-8
		if desc {
			slices.Reverse(want)
		}
		if !slices.Equal(got, want) {
			t.Errorf("desc=%v: order %q, want %q", desc, got, want)
		}
	}
	var collations []string
	if err := db.Raw(`SELECT DISTINCT table_name || '.' || column_name || ':' || coalesce(collation_name, 'default')
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type IN ('character varying', 'character', 'text')
		  AND table_name <> 'goose_db_version'`).Scan(&collations).Error; err != nil {
		t.Fatal(err)
	}
	if len(collations) == 0 {
		t.Fatal("no text columns found")
	}
	for _, c := range collations {
		if !strings.HasSuffix(c, ":C") {
			t.Errorf("column %s, want collation C", c)
		}
	}
}

// TestPostgresWriteErrors checks what the store relies on of the postgres
// driver: unique and foreign-key violations come back as GORM's errors,
// and a new record's id is returned (RETURNING).
func TestPostgresWriteErrors(t *testing.T) {
	t.Parallel()
	apptest.RequireBackend(t, apptest.Postgres)
	ctx := context.Background()
	db, _ := apptest.OpenMigrated(t, apptest.Postgres)
	if err := db.Create(&store.Album{Name: "One"}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&store.Album{Name: "One"}).Error; !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Errorf("duplicate: err = %v, want gorm.ErrDuplicatedKey", err)
	}
	missing := int64(999)
	if err := db.Create(&store.Song{Title: "x", AlbumID: &missing}).Error; !errors.Is(err, gorm.ErrForeignKeyViolated) {
		t.Errorf("unknown album: err = %v, want gorm.ErrForeignKeyViolated", err)
	}
	if err := db.Exec("INSERT INTO songs (title, rating) VALUES ('bad', 10)").Error; err == nil || store.Unavailable(err) {
		t.Errorf("rating 10: err = %v, want a CHECK violation that is not 'unavailable'", err)
	}
	if err := db.Exec("INSERT INTO albums (name) VALUES (?)", strings.Repeat("é", 101)).Error; err == nil {
		t.Error("a name of 101 characters was stored")
	}
	if err := db.Exec("INSERT INTO albums (name) VALUES (?)", strings.Repeat("é", 100)).Error; err != nil {
		t.Errorf("a name of 100 two-byte characters: %v", err)
	}

	models, err := catalog.Declare(store.New(db))
	if err != nil {
		t.Fatal(err)
	}
	id, err := models.Albums.Create(ctx, datamodel.Values{"name": "Two"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := models.Albums.Get(ctx, id)
	if err != nil || rec.Values["name"] != "Two" {
		t.Errorf("Get(%s) = %+v, %v; want the album just created", id, rec, err)
	}
	_, err = models.Songs.Create(ctx, datamodel.Values{"title": "Orphan", "rating": int64(1),
		"album": &datamodel.Ref{ID: "12345"}})
	var invalid *datamodel.InvalidRefError
	if !errors.As(err, &invalid) || invalid.Field != "album" {
		t.Errorf("song on an unknown album: err = %v, want an InvalidRefError on album", err)
	}
}

// TestPostgresUnavailable checks which PostgreSQL errors mean "busy or
// unreachable, try again" (503) rather than a failed request.
func TestPostgresUnavailable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "40001"}, true},
		{&pgconn.PgError{Code: "40P01"}, true},
		{&pgconn.PgError{Code: "55P03"}, true},
		{&pgconn.PgError{Code: "57P01"}, true},
		{&pgconn.PgError{Code: "57P03"}, true},
		{&pgconn.PgError{Code: "53300"}, true},
		{fmt.Errorf("store: list songs: %w", &pgconn.PgError{Code: "40001"}), true},
		{&pgconn.PgError{Code: "23505"}, false}, // unique violation
		{&pgconn.PgError{Code: "23514"}, false}, // check violation
		{&pgconn.PgError{Code: "42601"}, false}, // syntax error
		{&pgconn.PgError{Code: "28P01"}, false}, // wrong password
		{&pgconn.PgError{Code: "3D000"}, false}, // no such database
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
	} {
		if got := store.Unavailable(tt.err); got != tt.want {
			t.Errorf("Unavailable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}

	// A server that is not there, as the driver reports it.
	_, err := store.Open(context.Background(), config.Database{Driver: config.DriverPostgres,
		DSN: "postgres://music:Sup3rS3cret@127.0.0.1:1/music?sslmode=disable&connect_timeout=2"})
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "Sup3rS3cret") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Open error %q: want one line without the password", err)
	}
}

// TestRedact checks that no DSN password of any driver's form survives in
// an error message.
func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"cannot parse `postgres://ada:s3cret@db:5432/music`: bad port", "cannot parse `postgres://ada:***@db:5432/music`: bad port"},
		{"postgresql://ada:s3cr%40t@db/music?sslmode=disable failed", "postgresql://ada:***@db/music?sslmode=disable failed"},
		{"host=db user=ada password=s3cret dbname=music: refused", "host=db user=ada password=*** dbname=music: refused"},
		{"host=db password='s3 cr\\'et' dbname=music", "host=db password=*** dbname=music"},
		{"Error 1045: ada:s3cret@tcp(db:3306)/music", "Error 1045: ada:***@tcp(db:3306)/music"},
		{"plain\nerror  text", "plain error text"},
	} {
		if got := store.Redact(errors.New(tt.in)); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPostgresConfig checks the connection settings the app adds to a
// PostgreSQL DSN, and that the DSN's own win.
func TestPostgresConfig(t *testing.T) {
	t.Parallel()
	c, err := store.PostgresConfig("postgres://ada:pw@db:5432/music?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if _, set := c.RuntimeParams["plan_cache_mode"]; set || c.ConnectTimeout == 0 {
		t.Errorf("runtime params %v, connect timeout %v", c.RuntimeParams, c.ConnectTimeout)
	}
	c, err = store.PostgresConfig("host=db user=ada dbname=music plan_cache_mode=auto connect_timeout=9")
	if err != nil {
		t.Fatal(err)
	}
	if c.RuntimeParams["plan_cache_mode"] != "auto" || c.ConnectTimeout.Seconds() != 9 {
		t.Errorf("the DSN's settings were overridden: %v, %v", c.RuntimeParams, c.ConnectTimeout)
	}
	if _, err := store.PostgresConfig("postgres://ada:Sup3rS3cret@db:notaport/music"); err == nil ||
		strings.Contains(err.Error(), "Sup3rS3cret") {
		t.Errorf("bad DSN: err = %v, want an error without the password", err)
	}
}

// TestPostgresPlansByValue: on PostgreSQL a search read from its index,
// whose plan depends on its pattern, is planned with its values on every
// run (the unnamed statement: never among the connection's prepared
// statements, so never a generic plan), while a read by id keeps its
// prepared statement and, after five runs, a generic plan it no longer
// re-plans. A search whose count finds its matches many walks the sort
// order: that page is prepared, reads the same songs, and keeps a generic
// plan too (its substring test is by position, which the planner does not
// weigh by value as it weighs a LIKE pattern).
func TestPostgresPlansByValue(t *testing.T) {
	t.Parallel()
	apptest.RequireBackend(t, apptest.Postgres)
	db := plannedDB(t, apptest.Postgres)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1) // one connection, whose statements are read below
	songs, title := songsModel(t, db)
	ctx := context.Background()
	search := datamodel.Query{Search: "love", SearchFields: []*datamodel.Field{title}, Sort: title, Limit: 5}
	store.SetWalkBudget(songs, 0) // the index's candidates, sorted
	page, err := songs.List(ctx, search)
	if err != nil || len(page.Records) == 0 {
		t.Fatalf("search: %v, %d records", err, len(page.Records))
	}
	id := page.Records[0].ID
	for range 8 {
		if _, err := songs.List(ctx, search); err != nil {
			t.Fatal(err)
		}
		if _, err := songs.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	type statement struct {
		Statement    string
		GenericPlans int64
	}
	prepared := func() []statement {
		t.Helper()
		var stmts []statement
		if err := db.Raw("SELECT statement, generic_plans FROM pg_prepared_statements").Scan(&stmts).Error; err != nil {
			t.Fatal(err)
		}
		return stmts
	}
	byID := false
	for _, s := range prepared() {
		if strings.Contains(s.Statement, "app_grams") || strings.Contains(s.Statement, "strpos(") {
			t.Errorf("a search read from its index is a prepared statement, which may get a generic plan: %s", s.Statement)
		}
		if strings.Contains(s.Statement, "songs.id = $1") && s.GenericPlans > 0 {
			byID = true
		}
	}
	if !byID {
		t.Errorf("the read by id has no prepared statement with a generic plan: %+v", prepared())
	}

	store.SetWalkBudget(songs, store.WalkBudget)
	for range 8 {
		walked, err := songs.List(ctx, search)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(walked.Records, page.Records, func(a, b datamodel.Record) bool { return a.ID == b.ID }) {
			t.Fatalf("the walked search read other songs than the index's: %v, want %v", walked.Records, page.Records)
		}
	}
	walkedPrepared := false
	for _, s := range prepared() {
		if strings.Contains(s.Statement, "strpos(") && strings.Contains(s.Statement, "LIMIT 5))") {
			walkedPrepared = true
			if s.GenericPlans == 0 {
				t.Errorf("the walked search is planned anew on every run, never generically: %s", s.Statement)
			}
		}
	}
	if !walkedPrepared {
		t.Errorf("the search walked for its many matches is not prepared: %+v", prepared())
	}
}
