package apptest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"musicadmin/internal/config"
)

// TestCopyMatchesMigration: a database copied from the process's template
// holds exactly what migrating an empty database from zero produces (every
// table, index, foreign key, routine and trigger, and goose's version rows),
// so tests on copies test the migrated schema.
func TestCopyMatchesMigration(t *testing.T) {
	ForEachSQLBackendParallel(t, func(t *testing.T, b Backend) {
		NewMigratedDatabase(t, b) // the template is built outside the timings

		start := time.Now()
		fresh, _ := OpenMigratedFromZero(t, b)
		migrated := time.Since(start)

		start = time.Now()
		copied, _ := OpenMigrated(t, b)
		took := time.Since(start)
		t.Logf("%s: migrate from zero %v, copy %v", b.Name, migrated.Round(time.Millisecond), took.Round(time.Millisecond))

		want, got := schemaOf(t, fresh, b), schemaOf(t, copied, b)
		if len(want) < 10 {
			t.Fatalf("the migrated schema reads as only %d items:\n%s", len(want), strings.Join(want, "\n"))
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("the copy lacks:\n%s", w)
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Errorf("the copy has, and a migrated database has not:\n%s", g)
			}
		}
	})
}

// TestCopiesAreIndependent: what one test writes is not in another's copy,
// and a copy's writes go through the migrated triggers and foreign keys.
func TestCopiesAreIndependent(t *testing.T) {
	ForEachSQLBackendParallel(t, func(t *testing.T, b Backend) {
		one, _ := OpenMigrated(t, b)
		two, _ := OpenMigrated(t, b)
		if err := one.Exec("INSERT INTO songs (title, rating) VALUES ('Something', 9)").Error; err != nil {
			t.Fatal(err)
		}
		indexed := "SELECT COUNT(*) FROM songs_title_grams"
		if b.Driver == config.DriverMySQL {
			// A row per suffix: count the songs they index.
			indexed = "SELECT COUNT(DISTINCT row_id) FROM songs_title_suffixes"
		}
		if b.Driver == config.DriverPostgres {
			// An index on app_grams(title), no table: find the song by
			// its tokens, with the table's scan ruled out.
			indexed = "SELECT COUNT(*) FROM songs WHERE app_grams(title) @> '{736F6D,6D6574}'"
			if err := one.Exec("SET enable_seqscan = off").Error; err != nil {
				t.Fatal(err)
			}
		}
		if n := Scalar(t, one, indexed); n != 1 {
			t.Errorf("search index rows after an insert = %d, want 1 (trigger missing?)", n)
		}
		if err := one.Exec("INSERT INTO songs (title, rating, album_id) VALUES ('Orphan', 1, 999)").Error; err == nil {
			t.Error("a song on an unknown album was stored: foreign key missing")
		}
		if n := Scalar(t, two, "SELECT COUNT(*) FROM songs"); n != 0 {
			t.Errorf("the other copy holds %d songs, want 0", n)
		}
	})
}

// schemaOf describes db's schema and bookkeeping rows as sorted lines.
func schemaOf(t *testing.T, db *gorm.DB, b Backend) []string {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var out []string
	if b.Driver == config.DriverSQLite {
		out = append(out, queryLines(t, sqlDB, "SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master")...)
		out = append(out, queryLines(t, sqlDB, "SELECT name, seq FROM sqlite_sequence")...)
		out = append(out, queryLines(t, sqlDB, "PRAGMA user_version")...)
	} else if b.Driver == config.DriverPostgres {
		var schema string
		if err := sqlDB.QueryRow("SELECT current_schema()").Scan(&schema); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default,
				collation_name, is_identity FROM information_schema.columns WHERE table_schema = current_schema()`,
			`SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()`,
			`SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
				WHERE connamespace = current_schema()::regnamespace`,
			`SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = current_schema()::regnamespace`,
		} {
			for _, line := range queryLines(t, sqlDB, q) {
				// Each test has its own schema: its name is no difference.
				out = append(out, strings.ReplaceAll(line, schema+".", ""))
			}
		}
	} else {
		d, err := dumpMySQL(ctx, sqlDB)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range d.ddl {
			out = append(out, "mode "+s.sqlMode+": "+s.text)
		}
		out = append(out, queryLines(t, sqlDB, `SELECT ROUTINE_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION,
			DATABASE_COLLATION, SECURITY_TYPE, DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()`)...)
		out = append(out, queryLines(t, sqlDB, `SELECT TRIGGER_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION,
			DATABASE_COLLATION, DEFINER, ACTION_ORDER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()`)...)
		out = append(out, queryLines(t, sqlDB, `SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME
			FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()`)...)
	}
	// The applied versions, without the time they were applied at.
	out = append(out, queryLines(t, sqlDB, "SELECT id, version_id, is_applied FROM goose_db_version")...)
	slices.Sort(out)
	return out
}

// queryLines returns query's rows, one line each.
func queryLines(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		values, err := scanRow[sql.NullString](rows, len(cols))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range values {
			fmt.Fprintf(&b, "%s=%q ", cols[i], v.String)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
