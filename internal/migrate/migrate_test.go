package migrate_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"
	"gorm.io/gorm"

	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
	"musicadmin/internal/migrate"
	"musicadmin/internal/store"
	"musicadmin/migrations"
)

var appTables = []any{&store.Role{}, &store.User{}, &store.Session{}, &store.Album{}, &store.Song{}}

// openFresh opens a new, empty database: these tests migrate from zero.
func openFresh(t *testing.T, b apptest.Backend) *gorm.DB {
	t.Helper()
	return apptest.Open(t, apptest.NewDatabase(t, b))
}

// embedded returns the migration file names of driver.
func embedded(t *testing.T, driver string) []string {
	t.Helper()
	entries, err := fs.ReadDir(migrations.FS, driver)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// versions returns the versions of driver's migrations, oldest first. They
// need not be contiguous: goose runs them in order, and a branch may number
// its migration after one another branch has yet to merge.
func versions(t *testing.T, driver string) []int64 {
	t.Helper()
	var out []int64
	for _, name := range embedded(t, driver) {
		prefix, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s/%s: no version: %v", driver, name, err)
		}
		out = append(out, v)
	}
	return out
}

func checkTables(t *testing.T, db *gorm.DB, want bool) {
	t.Helper()
	for _, model := range appTables {
		if got := db.Migrator().HasTable(model); got != want {
			t.Errorf("table of %T exists = %v, want %v", model, got, want)
		}
	}
}

func TestUpDownUp(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		db := openFresh(t, b)
		m := apptest.Migrator(t, db, b.Driver)
		vs := versions(t, b.Driver)
		total := len(vs)

		current, latest, err := m.Version(ctx)
		if err != nil {
			t.Fatalf("Version on an empty database: %v", err)
		}
		if current != 0 || latest != vs[total-1] {
			t.Fatalf("Version = %d, %d; want 0, %d", current, latest, vs[total-1])
		}
		status, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(status) != total {
			t.Fatalf("Status lists %d migrations, want %d", len(status), total)
		}
		for _, s := range status {
			if s.Applied {
				t.Errorf("migration %d applied on an empty database", s.Version)
			}
		}
		checkTables(t, db, false)

		n, err := m.Up(ctx)
		if err != nil || n != total {
			t.Fatalf("Up = %d, %v; want %d, nil", n, err, total)
		}
		checkTables(t, db, true)
		if current, _, _ = m.Version(ctx); current != latest {
			t.Errorf("version after Up = %d, want %d", current, latest)
		}
		status, _ = m.Status(ctx)
		for _, s := range status {
			if !s.Applied {
				t.Errorf("migration %d %s not applied after Up", s.Version, s.Name)
			}
		}
		if err := db.Create(&store.Album{Name: "Abbey Road"}).Error; err != nil {
			t.Fatalf("insert after Up: %v", err)
		}

		// Up again is a no-op (create-db is idempotent).
		if n, err := m.Up(ctx); err != nil || n != 0 {
			t.Errorf("second Up = %d, %v; want 0, nil", n, err)
		}

		// Down one at a time, newest first, back to an empty database.
		for i := total - 1; i >= 0; i-- {
			want := vs[i]
			v, err := m.Down(ctx)
			if err != nil || v != want {
				t.Fatalf("Down = %d, %v; want %d, nil", v, err, want)
			}
		}
		checkTables(t, db, false)
		if current, _, _ = m.Version(ctx); current != 0 {
			t.Errorf("version after every Down = %d, want 0", current)
		}
		if v, err := m.Down(ctx); err != nil || v != 0 {
			t.Errorf("Down on an empty schema = %d, %v; want 0, nil", v, err)
		}

		// And up again: a clean schema, the old rows gone.
		if n, err := m.Up(ctx); err != nil || n != total {
			t.Fatalf("Up after Down = %d, %v; want %d, nil", n, err, total)
		}
		checkTables(t, db, true)
		var albums int64
		if err := db.Model(&store.Album{}).Count(&albums).Error; err != nil || albums != 0 {
			t.Errorf("albums after down and up = %d, %v; want 0", albums, err)
		}
		if err := db.Create(&store.Album{Name: "Abbey Road"}).Error; err != nil {
			t.Errorf("insert after up again: %v", err)
		}
	})
}

// TestMigrationsArePaired checks that every dialect has the same
// migrations, each with an Up and a Down section, so switching the driver
// never changes the schema's history and every step can be rolled back.
func TestMigrationsArePaired(t *testing.T) {
	t.Parallel()
	sqlite := embedded(t, config.DriverSQLite)
	if len(sqlite) == 0 {
		t.Fatal("no migrations embedded")
	}
	for _, driver := range allDrivers {
		if other := embedded(t, driver); !slices.Equal(sqlite, other) {
			t.Errorf("migrations differ between dialects:\nsqlite %v\n%-6s %v", sqlite, driver, other)
		}
		for _, name := range embedded(t, driver) {
			body, err := fs.ReadFile(migrations.FS, driver+"/"+name)
			if err != nil {
				t.Fatal(err)
			}
			up := strings.Index(string(body), "-- +goose Up")
			down := strings.Index(string(body), "-- +goose Down")
			if up < 0 || down < up {
				t.Errorf("%s/%s: want a -- +goose Up section followed by a -- +goose Down section", driver, name)
			}
		}
	}
}

// allDrivers are the SQL dialects, each with its migrations folder.
var allDrivers = []string{config.DriverSQLite, config.DriverMySQL, config.DriverPostgres}

func TestNewUnknownDriver(t *testing.T) {
	t.Parallel()
	db := openFresh(t, apptest.SQLite)
	sqlDB, _ := db.DB()
	for _, driver := range []string{"mongodb", "", "sqlite3", "postgresql"} {
		if _, err := migrate.New(sqlDB, driver); err == nil {
			t.Errorf("New(%q) succeeded, want an error", driver)
		}
	}
}

// migrationsDir makes a migrations folder holding the given files per
// dialect.
func migrationsDir(t *testing.T, files map[string][]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "migrations")
	for driver, names := range files {
		if err := os.MkdirAll(filepath.Join(dir, driver), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if err := os.WriteFile(filepath.Join(dir, driver, name), []byte("-- +goose Up\n-- +goose Down\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestNewFiles(t *testing.T) {
	t.Parallel()
	t.Run("numbered after the highest version of any dialect", func(t *testing.T) {
		dir := migrationsDir(t, map[string][]string{
			"sqlite":   {"00001_init.sql", "00002_add_x.sql", "README"},
			"mysql":    {"00001_init.sql", "00003_add_y.sql"},
			"postgres": {"00001_init.sql"},
		})
		paths, err := migrate.NewFiles(dir, "  Add_Genre ")
		if err != nil {
			t.Fatalf("NewFiles: %v", err)
		}
		want := []string{filepath.Join(dir, "sqlite", "00004_add_genre.sql"), filepath.Join(dir, "mysql", "00004_add_genre.sql"),
			filepath.Join(dir, "postgres", "00004_add_genre.sql")}
		if !slices.Equal(paths, want) {
			t.Fatalf("NewFiles = %v, want %v", paths, want)
		}
		for _, p := range paths {
			body, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("file not written: %v", err)
			}
			s := string(body)
			if up, down := strings.Index(s, "-- +goose Up"), strings.Index(s, "-- +goose Down"); up < 0 || down < up {
				t.Errorf("%s lacks the goose Up/Down sections:\n%s", p, s)
			}
		}
		// The next one follows.
		paths, err = migrate.NewFiles(dir, "second")
		if err != nil || len(paths) != 3 || filepath.Base(paths[0]) != "00005_second.sql" {
			t.Errorf("second NewFiles = %v, %v; want 00005_second.sql in each dialect", paths, err)
		}
	})
	t.Run("bad names", func(t *testing.T) {
		dir := migrationsDir(t, map[string][]string{"sqlite": nil, "mysql": nil, "postgres": nil})
		for _, name := range []string{"", "   ", "add genre", "../escape", "a/b", "add-genre", "_lead", strings.Repeat("a", 65), "née"} {
			if paths, err := migrate.NewFiles(dir, name); err == nil {
				t.Errorf("NewFiles(%q) = %v, want an error", name, paths)
			}
		}
		for _, driver := range allDrivers {
			if entries, _ := os.ReadDir(filepath.Join(dir, driver)); len(entries) != 0 {
				t.Errorf("bad names wrote files in %s: %v", driver, entries)
			}
		}
	})
	t.Run("missing dialect folder", func(t *testing.T) {
		dir := migrationsDir(t, map[string][]string{"sqlite": nil, "mysql": nil})
		if _, err := migrate.NewFiles(dir, "x"); err == nil {
			t.Error("NewFiles without a postgres folder succeeded")
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, "sqlite")); len(entries) != 0 {
			t.Errorf("a failed NewFiles wrote %v", entries)
		}
	})
}

// TestNewFilesAreRunnable applies the embedded migrations plus a fresh pair
// from NewFiles with goose on both dialects: what `db new` writes must run
// up and down as it is.
func TestNewFilesAreRunnable(t *testing.T) {
	dir := t.TempDir()
	for _, driver := range allDrivers {
		if err := os.MkdirAll(filepath.Join(dir, driver), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range embedded(t, driver) {
			body, _ := fs.ReadFile(migrations.FS, driver+"/"+name)
			if err := os.WriteFile(filepath.Join(dir, driver, name), body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := migrate.NewFiles(dir, "next_step"); err != nil {
		t.Fatal(err)
	}
	dialects := map[string]goose.Dialect{config.DriverSQLite: goose.DialectSQLite3, config.DriverMySQL: goose.DialectMySQL,
		config.DriverPostgres: goose.DialectPostgres}
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		db := openFresh(t, b)
		sqlDB, _ := db.DB()
		p, err := goose.NewProvider(dialects[b.Driver], sqlDB, os.DirFS(filepath.Join(dir, b.Driver)))
		if err != nil {
			t.Fatalf("goose does not accept the new files: %v", err)
		}
		vs := versions(t, b.Driver)
		want := len(vs) + 1
		res, err := p.Up(ctx)
		if err != nil || len(res) != want {
			t.Fatalf("Up = %d results, %v; want %d", len(res), err, want)
		}
		if _, err := p.Down(ctx); err != nil {
			t.Fatalf("Down of the new migration: %v", err)
		}
		if v, _ := p.GetDBVersion(ctx); v != vs[len(vs)-1] {
			t.Errorf("version after Down = %d, want %d", v, vs[len(vs)-1])
		}
	})
}
