package store_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
	"musicadmin/internal/store"
)

// models is every GORM model the app stores: the migrated schema must hold
// exactly their tables.
var models = []any{&store.Role{}, &store.User{}, &store.Session{}, &store.UserRole{}, &store.Permission{},
	&store.RolePermission{}, &store.AuditEntry{}, &store.LoginFailure{}, &store.AppLock{}, &store.Album{}, &store.Song{}, &store.Token{}, &store.SecondFactor{}, &store.Identity{}}

// bookkeepingTables are tables no model maps: goose's version table and
// SQLite's AUTOINCREMENT counters.
var bookkeepingTables = []string{"goose_db_version", "sqlite_sequence"}

// searchIndexTables are the search indexes of migrations 00002 (trigrams),
// 00003 (MySQL's suffixes) and 00005 (album names), which no model maps
// either.
var searchIndexTables = []string{"songs_title_grams", "songs_title_suffixes", "albums_name_grams", "albums_name_suffixes"}

// isSearchIndexTable reports whether table is a search index or, on SQLite,
// one of the shadow tables FTS4 keeps for it (songs_title_grams_segdir...).
func isSearchIndexTable(table string) bool {
	for _, ix := range searchIndexTables {
		if table == ix || strings.HasPrefix(table, ix+"_") {
			return true
		}
	}
	return false
}

func parseModel(t *testing.T, db *gorm.DB, model any) *schema.Schema {
	t.Helper()
	s, err := schema.Parse(model, &sync.Map{}, db.NamingStrategy)
	if err != nil {
		t.Fatalf("parse model %T: %v", model, err)
	}
	return s
}

// TestSchemaMatchesModels proves that the SQL migrations and the GORM models
// describe the same schema on both dialects, so the two cannot drift
// silently: every model field has a column of a compatible type, length,
// nullability and default; every column is a model field; every model index
// exists with the same uniqueness and columns, and no other index does; every
// model foreign key exists with its ON DELETE action, and no other does.
func TestSchemaMatchesModels(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		// Migrated from zero, not copied: this compares the migrations
		// themselves with the models.
		db, _ := apptest.OpenMigratedFromZero(t, b)
		m := db.Migrator()

		tables, err := m.GetTables()
		if err != nil {
			t.Fatalf("list tables: %v", err)
		}
		var want []string
		for _, model := range models {
			want = append(want, parseModel(t, db, model).Table)
		}
		for _, table := range tables {
			if !slices.Contains(want, table) && !slices.Contains(bookkeepingTables, table) &&
				!isSearchIndexTable(table) {
				t.Errorf("table %s has no model", table)
			}
		}

		for _, model := range models {
			s := parseModel(t, db, model)
			t.Run(s.Table, func(t *testing.T) {
				if !m.HasTable(model) {
					t.Fatalf("table %s is missing", s.Table)
				}
				checkColumns(t, db, b, model, s)
				checkIndexes(t, db, b, model, s)
				checkForeignKeys(t, db, b, model, s)
			})
		}
	})
}

func checkColumns(t *testing.T, db *gorm.DB, b apptest.Backend, model any, s *schema.Schema) {
	t.Helper()
	cols, err := db.Migrator().ColumnTypes(model)
	if err != nil {
		t.Fatalf("column types of %s: %v", s.Table, err)
	}
	byName := map[string]gorm.ColumnType{}
	for _, c := range cols {
		byName[c.Name()] = c
		if f := s.LookUpField(c.Name()); f == nil || f.DBName != c.Name() {
			t.Errorf("column %s.%s has no model field", s.Table, c.Name())
		}
	}
	for _, f := range s.Fields {
		if f.DBName == "" {
			continue // a relation, not a column
		}
		c, ok := byName[f.DBName]
		if !ok {
			t.Errorf("model field %s.%s has no column %s", s.Name, f.Name, f.DBName)
			continue
		}
		checkColumn(t, b, s, f, c)
	}
}

var (
	intTypes = map[string]int{"TINYINT": 8, "SMALLINT": 16, "MEDIUMINT": 24, "INT": 32, "INTEGER": 64, "BIGINT": 64,
		"INT2": 16, "INT4": 32, "INT8": 64} // the last three: PostgreSQL's names
	textTypes = []string{"VARCHAR", "CHAR", "TEXT"}
	boolTypes = []string{"BOOLEAN", "BOOL", "TINYINT"}
)

// baseType is the column's type name without length or modifiers.
func baseType(c gorm.ColumnType) string {
	name := strings.ToUpper(c.DatabaseTypeName())
	name, _, _ = strings.Cut(name, "(")
	name, _, _ = strings.Cut(name, " ")
	return strings.TrimSpace(name)
}

func checkColumn(t *testing.T, b apptest.Backend, s *schema.Schema, f *schema.Field, c gorm.ColumnType) {
	t.Helper()
	where := s.Table + "." + f.DBName
	typ := baseType(c)
	switch f.DataType {
	case schema.Int, schema.Uint:
		bits, ok := intTypes[typ]
		if !ok {
			t.Errorf("%s: column type %s, model %s wants an integer", where, c.DatabaseTypeName(), f.FieldType)
			break
		}
		if b.Driver == config.DriverMySQL && typ == "INTEGER" {
			bits = 32 // MySQL's INTEGER is INT
		}
		// A Go int64 needs all 64 bits (ids, Unix times); a Go int at least
		// 32, the rest being ruled out by CHECK constraints.
		need := 32
		if f.IndirectFieldType.Kind() == reflect.Int64 || f.IndirectFieldType.Kind() == reflect.Uint64 {
			need = 64
		}
		if bits < need {
			t.Errorf("%s: column type %s holds %d bits, model %s needs %d", where, c.DatabaseTypeName(), bits, f.FieldType, need)
		}
	case schema.String:
		if !slices.Contains(textTypes, typ) {
			t.Errorf("%s: column type %s, model %s wants text", where, c.DatabaseTypeName(), f.FieldType)
			break
		}
		if typ != "TEXT" {
			length, ok := c.Length()
			if !ok || length != int64(f.Size) {
				t.Errorf("%s: column %s has length %d (known %v), model size:%d", where, c.DatabaseTypeName(), length, ok, f.Size)
			}
		}
	case schema.Bool:
		if !slices.Contains(boolTypes, typ) {
			t.Errorf("%s: column type %s, model %s wants a boolean", where, c.DatabaseTypeName(), f.FieldType)
		}
	default:
		t.Errorf("%s: model type %s (%s) is not covered by this test: extend it", where, f.FieldType, f.DataType)
	}

	// Nullability: only a pointer field may be NULL, and then the column
	// must allow it; every other field needs NOT NULL in model and schema.
	modelNullable := !f.PrimaryKey && !f.NotNull
	if modelNullable && f.FieldType.Kind() != reflect.Pointer {
		t.Errorf("%s: model field %s is neither a pointer nor `not null`", where, f.Name)
	}
	if nullable, ok := c.Nullable(); !ok {
		t.Errorf("%s: nullability unknown", where)
	} else if nullable != modelNullable && !f.PrimaryKey {
		t.Errorf("%s: column nullable=%v, model nullable=%v", where, nullable, modelNullable)
	}

	if pk, ok := c.PrimaryKey(); ok && pk != f.PrimaryKey {
		t.Errorf("%s: column primary key=%v, model %v", where, pk, f.PrimaryKey)
	}
	if f.PrimaryKey && f.DataType == schema.Int && f.AutoIncrement {
		ai, ok := c.AutoIncrement()
		// SQLite's INTEGER PRIMARY KEY is the rowid: auto-incrementing
		// whatever the driver reports. PostgreSQL's is an identity column.
		if b.Driver != config.DriverSQLite && (!ok || !ai) {
			t.Errorf("%s: integer primary key is not AUTO_INCREMENT / an identity", where)
		}
	}

	// Defaults: a model default must be the column default (booleans as 0/1).
	if f.HasDefaultValue && f.DefaultValue != "" {
		got, ok := c.DefaultValue()
		norm := func(v string) string {
			v = strings.ToLower(strings.Trim(v, "'\"() "))
			switch v {
			case "true":
				return "1"
			case "false":
				return "0"
			}
			return v
		}
		if !ok || norm(got) != norm(f.DefaultValue) {
			t.Errorf("%s: column default %q (known %v), model default %q", where, got, ok, f.DefaultValue)
		}
	}
}

func checkIndexes(t *testing.T, db *gorm.DB, b apptest.Backend, model any, s *schema.Schema) {
	t.Helper()
	m := db.Migrator()
	got, err := m.GetIndexes(model)
	if err != nil {
		t.Fatalf("indexes of %s: %v", s.Table, err)
	}
	// GORM's PostgreSQL Migrator lists an index's columns in table order,
	// not in key order: read the key order from the catalog.
	var pgColumns map[string][]string
	if b.Driver == config.DriverPostgres {
		pgColumns = postgresIndexColumns(t, db, s.Table)
	}
	dbIndexes := map[string]gorm.Index{}
	for _, idx := range got {
		if pk, _ := idx.PrimaryKey(); pk || idx.Name() == "PRIMARY" || strings.HasPrefix(idx.Name(), "sqlite_autoindex_") {
			continue
		}
		dbIndexes[idx.Name()] = idx
	}
	declared := map[string]bool{}
	for _, want := range s.ParseIndexes() {
		declared[want.Name] = true
		if !m.HasIndex(model, want.Name) {
			t.Errorf("index %s on %s is missing", want.Name, s.Table)
			continue
		}
		idx, ok := dbIndexes[want.Name]
		if !ok {
			t.Errorf("index %s on %s: not listed by GetIndexes", want.Name, s.Table)
			continue
		}
		wantUnique := want.Class == "UNIQUE"
		if unique, ok := idx.Unique(); !ok || unique != wantUnique {
			t.Errorf("index %s on %s: unique=%v (known %v), model unique=%v", want.Name, s.Table, unique, ok, wantUnique)
		}
		var wantCols []string
		for _, opt := range want.Fields {
			wantCols = append(wantCols, opt.DBName)
		}
		cols := idx.Columns()
		if pgColumns != nil {
			cols = pgColumns[want.Name]
			// InnoDB and SQLite end every index in the primary key by
			// themselves; PostgreSQL's migration spells it: INCLUDEd in
			// a unique index (outside the key, or uniqueness would be
			// on the pair), or the last key column of another.
			wantLast := "id"
			if wantUnique {
				wantLast = "INCLUDE id"
			}
			if len(cols) == len(wantCols)+1 && cols[len(cols)-1] == wantLast {
				cols = cols[:len(cols)-1]
			}
		}
		if !slices.Equal(cols, wantCols) {
			t.Errorf("index %s on %s: columns %v, model %v", want.Name, s.Table, cols, wantCols)
		}
	}
	for name := range dbIndexes {
		if !declared[name] {
			t.Errorf("index %s on %s is not declared in the model", name, s.Table)
		}
	}
}

// postgresIndexColumns returns the columns of every index of table, in
// key order, by index name; an INCLUDEd column (not part of the key) is
// listed as "INCLUDE col" after the key columns.
func postgresIndexColumns(t *testing.T, db *gorm.DB, table string) map[string][]string {
	t.Helper()
	var rows []struct {
		Name     string
		Column   string
		Included bool
	}
	if err := db.Raw(`SELECT ci.relname AS name, a.attname AS "column", k.pos > i.indnkeyatts AS included
		FROM pg_index i
		JOIN pg_class ci ON ci.oid = i.indexrelid
		CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos)
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		WHERE i.indrelid = ?::regclass
		ORDER BY ci.relname, k.pos`, table).Scan(&rows).Error; err != nil {
		t.Fatalf("index columns of %s: %v", table, err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		col := r.Column
		if r.Included {
			col = "INCLUDE " + col
		}
		out[r.Name] = append(out[r.Name], col)
	}
	return out
}

// foreignKey is one foreign key as the database has it.
type foreignKey struct {
	name, column, refTable, refColumn, onDelete string
}

func dbForeignKeys(t *testing.T, db *gorm.DB, b apptest.Backend, table string) []foreignKey {
	t.Helper()
	var fks []foreignKey
	switch b.Driver {
	case config.DriverSQLite:
		rows, err := db.Raw("SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?)", table).Rows()
		if err != nil {
			t.Fatalf("foreign keys of %s: %v", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var fk foreignKey
			if err := rows.Scan(&fk.refTable, &fk.column, &fk.refColumn, &fk.onDelete); err != nil {
				t.Fatal(err)
			}
			fks = append(fks, fk)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	case config.DriverPostgres:
		rows, err := db.Raw(`SELECT c.conname, a.attname, rt.relname, ra.attname,
				CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
					WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END
			FROM pg_constraint c
			JOIN pg_class rt ON rt.oid = c.confrelid
			JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
			JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
			WHERE c.contype = 'f' AND c.conrelid = ?::regclass`, table).Rows()
		if err != nil {
			t.Fatalf("foreign keys of %s: %v", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var fk foreignKey
			if err := rows.Scan(&fk.name, &fk.column, &fk.refTable, &fk.refColumn, &fk.onDelete); err != nil {
				t.Fatal(err)
			}
			fks = append(fks, fk)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	default:
		rows, err := db.Raw(`SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE
			FROM information_schema.KEY_COLUMN_USAGE k
			JOIN information_schema.REFERENTIAL_CONSTRAINTS r
			  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
			WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL`, table).Rows()
		if err != nil {
			t.Fatalf("foreign keys of %s: %v", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var fk foreignKey
			if err := rows.Scan(&fk.name, &fk.column, &fk.refTable, &fk.refColumn, &fk.onDelete); err != nil {
				t.Fatal(err)
			}
			fks = append(fks, fk)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return fks
}

func checkForeignKeys(t *testing.T, db *gorm.DB, b apptest.Backend, model any, s *schema.Schema) {
	t.Helper()
	fks := dbForeignKeys(t, db, b, s.Table)
	matched := make([]bool, len(fks))
	for _, rel := range s.Relationships.Relations {
		c := rel.ParseConstraint()
		if c == nil {
			continue
		}
		if c.Schema != s {
			continue // declared on the other side
		}
		if !db.Migrator().HasConstraint(model, c.Name) {
			t.Errorf("foreign key %s on %s is missing (HasConstraint)", c.Name, s.Table)
		}
		if len(c.ForeignKeys) != 1 || len(c.References) != 1 {
			t.Errorf("constraint %s: only single-column foreign keys are covered", c.Name)
			continue
		}
		col, refTable, refCol := c.ForeignKeys[0].DBName, c.ReferenceSchema.Table, c.References[0].DBName
		wantOnDelete := strings.ToUpper(c.OnDelete)
		found := false
		for i, fk := range fks {
			if fk.column != col || fk.refTable != refTable || fk.refColumn != refCol {
				continue
			}
			found, matched[i] = true, true
			if b.Driver != config.DriverSQLite && fk.name != c.Name {
				t.Errorf("foreign key on %s.%s is named %s, model %s", s.Table, col, fk.name, c.Name)
			}
			if strings.ToUpper(fk.onDelete) != wantOnDelete {
				t.Errorf("foreign key %s: ON DELETE %s, model %s", c.Name, fk.onDelete, wantOnDelete)
			}
		}
		if !found {
			t.Errorf("foreign key %s (%s.%s -> %s.%s) is missing", c.Name, s.Table, col, refTable, refCol)
		}
	}
	for i, fk := range fks {
		if !matched[i] {
			t.Errorf("foreign key %s.%s -> %s.%s is not declared in the model", s.Table, fk.column, fk.refTable, fk.refColumn)
		}
	}
}

// TestSongAlbumForeignKey checks that the Song -> Album foreign key is live:
// an unknown album is refused, and deleting an album keeps its songs with no
// album (ON DELETE SET NULL).
func TestSongAlbumForeignKey(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		db, _ := apptest.OpenMigrated(t, b)
		if !db.Migrator().HasConstraint(&store.Song{}, "Album") {
			t.Fatal("HasConstraint(Song, Album) = false")
		}
		album := store.Album{Name: "Abbey Road"}
		if err := db.Create(&album).Error; err != nil {
			t.Fatal(err)
		}
		song := store.Song{Title: "Something", Rating: 8, AlbumID: &album.ID}
		if err := db.Create(&song).Error; err != nil {
			t.Fatal(err)
		}
		missing := album.ID + 1000
		err := db.Create(&store.Song{Title: "Orphan", AlbumID: &missing}).Error
		if !errors.Is(err, gorm.ErrForeignKeyViolated) {
			t.Errorf("song on an unknown album: err = %v, want ErrForeignKeyViolated", err)
		}
		if err := db.Delete(&store.Album{}, album.ID).Error; err != nil {
			t.Fatalf("delete album: %v", err)
		}
		var got store.Song
		if err := db.First(&got, song.ID).Error; err != nil {
			t.Fatalf("song after album delete: %v", err)
		}
		if got.AlbumID != nil {
			t.Errorf("song.album_id = %d after album delete, want NULL", *got.AlbumID)
		}
	})
}

// TestSQLiteConnectionSettings checks every pooled SQLite connection, not
// just the first: foreign keys on, WAL, a busy timeout.
func TestSQLiteConnectionSettings(t *testing.T) {
	t.Parallel()
	cfg := apptest.NewDatabase(t, apptest.SQLite)
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	ctx := context.Background()
	const n = 4
	for i := range n {
		// Hold every connection at once, so the pool opens n of them.
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var fk, busy int
		var journal string
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if fk != 1 {
			t.Errorf("connection %d: foreign_keys = %d, want 1", i, fk)
		}
		if !strings.EqualFold(journal, "wal") {
			t.Errorf("connection %d: journal_mode = %q, want wal", i, journal)
		}
		if time.Duration(busy)*time.Millisecond < time.Second {
			t.Errorf("connection %d: busy_timeout = %d ms, want at least 1 s", i, busy)
		}
	}
	if stats := sqlDB.Stats(); stats.OpenConnections < n {
		t.Errorf("open connections = %d, want %d distinct ones checked", stats.OpenConnections, n)
	}
}

// TestMySQLCharsetAndCollation checks that the migrations themselves make
// every table and text column utf8mb4 with utf8mb4_bin, even in a database
// whose default is something else, and that the connection talks utf8mb4.
func TestMySQLCharsetAndCollation(t *testing.T) {
	t.Parallel()
	cfg := apptest.NewDatabase(t, apptest.MySQL)
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	sqlDB.SetMaxOpenConns(1) // the ALTER below and what follows on one session
	if err := db.Exec("ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci").Error; err != nil {
		t.Fatalf("change the database default: %v", err)
	}
	apptest.MigrateUp(t, db, config.DriverMySQL)

	var conn struct{ Charset, Collation string }
	if err := db.Raw("SELECT @@character_set_connection AS charset, @@collation_connection AS collation").Scan(&conn).Error; err != nil {
		t.Fatal(err)
	}
	if conn.Charset != "utf8mb4" || conn.Collation != "utf8mb4_bin" {
		t.Errorf("connection charset %s collation %s, want utf8mb4 utf8mb4_bin", conn.Charset, conn.Collation)
	}

	var tables []struct{ Name, Collation string }
	if err := db.Raw(`SELECT TABLE_NAME AS name, TABLE_COLLATION AS collation FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'goose_db_version'`).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	// Two search indexes: song titles' (00003's suffixes replaced 00002's
	// trigrams) and album names' (00005).
	if want := len(models) + 2; len(tables) != want {
		t.Errorf("%d app tables, want %d", len(tables), want)
	}
	for _, tb := range tables {
		if tb.Collation != "utf8mb4_bin" {
			t.Errorf("table %s: collation %s, want utf8mb4_bin", tb.Name, tb.Collation)
		}
	}
	var cols []struct{ Table, Column, Charset, Collation string }
	if err := db.Raw(`SELECT TABLE_NAME AS ` + "`table`" + `, COLUMN_NAME AS ` + "`column`" + `, CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation
		FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'goose_db_version' AND CHARACTER_SET_NAME IS NOT NULL`).Scan(&cols).Error; err != nil {
		t.Fatal(err)
	}
	if len(cols) == 0 {
		t.Fatal("no text columns found")
	}
	for _, c := range cols {
		if c.Charset != "utf8mb4" || c.Collation != "utf8mb4_bin" {
			t.Errorf("column %s.%s: %s %s, want utf8mb4 utf8mb4_bin", c.Table, c.Column, c.Charset, c.Collation)
		}
	}
}
