package apptest

// Migrated databases without migrating each one (PostgreSQL's: see
// postgres.go). A test process migrates one database per backend from zero,
// once, and keeps what that produced in
// memory: the SQLite file's bytes, or the statements that rebuild the MySQL
// schema (SHOW CREATE of every table, routine and trigger, plus every row
// the migrations wrote, which is goose's version table). The migrated
// database itself is removed at once, so nothing outlives the process.
// Each test then gets its own copy: a file written from the bytes, or a new
// MySQL database where the statements are replayed.
//
// Why replay DDL rather than CREATE TABLE ... LIKE: LIKE drops foreign keys
// on MariaDB, and knows no routines or triggers. TestCopyMatchesMigration
// proves a copy and a freshly migrated database hold the same schema and
// version rows.
//
// Measured (MariaDB 10.11, 2 cores, 2026-11): SQLite, a copy takes 2 ms
// against 10-40 ms to migrate. MySQL, a copy and a migration from zero
// both take 55-65 ms (the InnoDB CREATE TABLEs are the cost; creating them
// on parallel connections did not help) and DROP DATABASE 30 ms more. The
// copy stays because its cost follows the final schema, not the number of
// migrations, which only grows. A pool of migrated databases emptied
// between tests (DELETE and an AUTO_INCREMENT reset of every table: 28 ms)
// was not chosen: nothing could drop the pool at the end of the process
// without a TestMain in every package, and a test that altered the schema
// would poison it.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"musicadmin/internal/apptest/slow"
	"musicadmin/internal/config"
	"musicadmin/internal/migrate"
	"musicadmin/internal/store"
)

// Open opens the database of cfg with the app's settings and closes it when
// the test ends.
func Open(t testing.TB, cfg config.Database) *gorm.DB {
	t.Helper()
	db, err := openStore(cfg)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.Driver, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	return db
}

// openStore is store.Open, tried again while the database is unreachable
// (see OpenBackend).
func openStore(cfg config.Database) (db *gorm.DB, err error) {
	err = slow.Until(slow.ServerDeadline, func(ctx context.Context) error {
		db, err = store.Open(ctx, cfg)
		return err
	}, unreachable)
	return db, err
}

// Migrator returns the app's migrator over db.
func Migrator(t testing.TB, db *gorm.DB, driver string) *migrate.Migrator {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.New(sqlDB, driver)
	if err != nil {
		t.Fatalf("migrate.New: %v", err)
	}
	return m
}

// MigrateUp applies every migration to db and fails the test on error.
func MigrateUp(t testing.TB, db *gorm.DB, driver string) {
	t.Helper()
	if _, err := Migrator(t, db, driver).Up(context.Background()); err != nil {
		t.Fatalf("migrate up (%s): %v", driver, err)
	}
}

// OpenMigratedFromZero is OpenMigrated for the tests of the migrations and
// the schema themselves: it runs every migration on an empty database
// instead of copying the process's template.
func OpenMigratedFromZero(t testing.TB, b Backend) (*gorm.DB, config.Database) {
	t.Helper()
	cfg := NewDatabase(t, b)
	db := Open(t, cfg)
	MigrateUp(t, db, b.Driver)
	return db, cfg
}

// NewMigratedDatabase returns the configuration of a new database of
// backend b at the latest schema, copied from the process's template, and
// removed when the test ends.
func NewMigratedDatabase(t testing.TB, b Backend) config.Database {
	t.Helper()
	RequireBackend(t, b)
	switch b.Driver {
	case config.DriverPostgres:
		return postgresSchema(t, true)
	case config.DriverMongoDB:
		return migratedMongoDatabase(t)
	}
	tpl := templates[b.Driver]
	if tpl == nil {
		t.Fatalf("no template for driver %q", b.Driver)
	}
	tpl.once.Do(func() { tpl.err = tpl.build() })
	if tpl.err != nil {
		t.Fatalf("prepare the %s template: %v", b.Name, tpl.err)
	}
	switch b.Driver {
	case config.DriverSQLite:
		path := filepath.Join(t.TempDir(), "test.db")
		if err := os.WriteFile(path, tpl.file, 0o600); err != nil {
			t.Fatal(err)
		}
		return config.Database{Driver: b.Driver, DSN: path}
	default:
		cfg := NewDatabase(t, b)
		if err := replay(cfg.DSN, tpl.schema); err != nil {
			t.Fatalf("copy the mysql template: %v", err)
		}
		return cfg
	}
}

// template is one backend's migrated database, kept in memory.
type template struct {
	once   sync.Once
	err    error
	build  func() error
	file   []byte     // SQLite: the database file
	schema *mysqlDump // MySQL: what rebuilds the database
}

var templates = map[string]*template{}

func init() {
	sqliteTpl, mysqlTpl := &template{}, &template{}
	sqliteTpl.build = func() (err error) { sqliteTpl.file, err = migratedSQLiteFile(); return err }
	mysqlTpl.build = func() (err error) { mysqlTpl.schema, err = migratedMySQLDump(); return err }
	templates[config.DriverSQLite] = sqliteTpl
	templates[config.DriverMySQL] = mysqlTpl
}

// migrateDSN opens cfg and runs every migration.
func migrateDSN(cfg config.Database) (*sql.DB, error) {
	db, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	m, err := migrate.New(sqlDB, cfg.Driver)
	if err == nil {
		_, err = m.Up(context.Background())
	}
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	return sqlDB, nil
}

// migratedSQLiteFile migrates a new SQLite file and returns its bytes,
// complete: the WAL is checkpointed into the file before it is read.
func migratedSQLiteFile() ([]byte, error) {
	dir, err := os.MkdirTemp("", "apptest-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	sqlDB, err := migrateDSN(config.Database{Driver: config.DriverSQLite, DSN: path})
	if err != nil {
		return nil, err
	}
	_, err = sqlDB.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	if cerr := sqlDB.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("the WAL still holds %d bytes after the checkpoint", fi.Size())
	}
	return os.ReadFile(path)
}

// mysqlDump is what rebuilds a MySQL database: DDL then rows.
type mysqlDump struct {
	ddl  []ddlStatement
	rows []rowInsert
}

type ddlStatement struct {
	sqlMode string // the mode a routine or trigger was created under; "" for tables
	text    string
}

type rowInsert struct {
	table  string
	query  string
	values []any
}

// migratedMySQLDump migrates a new MySQL database, reads it back as a dump
// and drops it.
func migratedMySQLDump() (*mysqlDump, error) {
	name, drop, err := createMySQLDatabase()
	if err != nil {
		return nil, err
	}
	defer drop()
	cfg := config.Database{Driver: config.DriverMySQL, DSN: mysqlDSN(name)}
	sqlDB, err := migrateDSN(cfg)
	if err != nil {
		return nil, err
	}
	defer sqlDB.Close()
	return dumpMySQL(context.Background(), sqlDB)
}

// mysqlObjects are the kinds of object the migrations may create, in the
// order they are replayed: the query that lists them in the current
// database, and the SHOW CREATE statement and column that spell each one.
var mysqlObjects = []struct{ list, show, column string }{
	{`SELECT TABLE_NAME FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`, "TABLE", "Create Table"},
	{`SELECT ROUTINE_NAME FROM information_schema.ROUTINES
		WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = 'FUNCTION' ORDER BY ROUTINE_NAME`, "FUNCTION", "Create Function"},
	{`SELECT ROUTINE_NAME FROM information_schema.ROUTINES
		WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = 'PROCEDURE' ORDER BY ROUTINE_NAME`, "PROCEDURE", "Create Procedure"},
	{`SELECT TRIGGER_NAME FROM information_schema.TRIGGERS
		WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_ORDER`, "TRIGGER", "SQL Original Statement"},
}

// dumpMySQL reads the schema and rows of db's current database.
func dumpMySQL(ctx context.Context, db *sql.DB) (*mysqlDump, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	d := &mysqlDump{}
	var others int
	if err := conn.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()) +
		(SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE())`).Scan(&others); err != nil {
		return nil, err
	}
	if others > 0 {
		return nil, errors.New("the migrations create views or events, which apptest does not copy yet")
	}
	var tables []string
	for _, kind := range mysqlObjects {
		objects, err := names(ctx, conn, kind.list)
		if err != nil {
			return nil, err
		}
		for _, name := range objects {
			text, mode, err := showCreate(ctx, conn, "SHOW CREATE "+kind.show+" "+quoteName(name), kind.column)
			if err != nil {
				return nil, err
			}
			d.ddl = append(d.ddl, ddlStatement{sqlMode: mode, text: text})
		}
		if kind.show == "TABLE" {
			tables = objects
		}
	}
	for _, table := range tables {
		rows, err := tableRows(ctx, conn, table)
		if err != nil {
			return nil, err
		}
		d.rows = append(d.rows, rows...)
	}
	return d, nil
}

// replay rebuilds d in the (empty) database of dsn, on one connection, with
// foreign key checks off so tables can be created in any order.
func replay(dsn string, d *mysqlDump) error {
	// The app's connection settings (utf8mb4_bin), which the migrations ran
	// under and routines and triggers record.
	dsn, err := store.MySQLDSN(dsn)
	if err != nil {
		return err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET FOREIGN_KEY_CHECKS = 0"); err != nil {
		return err
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode").Scan(&mode); err != nil {
		return err
	}
	for _, s := range d.ddl {
		if s.sqlMode != "" && s.sqlMode != mode {
			if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ?", s.sqlMode); err != nil {
				return err
			}
			mode = s.sqlMode
		}
		if _, err := conn.ExecContext(ctx, s.text); err != nil {
			return fmt.Errorf("%s: %w", firstLine(s.text), err)
		}
	}
	for _, r := range d.rows {
		if _, err := conn.ExecContext(ctx, r.query, r.values...); err != nil {
			return fmt.Errorf("copy a row of %s: %w", r.table, err)
		}
	}
	return nil
}

func names(ctx context.Context, conn *sql.Conn, query string, args ...any) ([]string, error) {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// showCreate runs a SHOW CREATE statement and returns its column named
// column, and its sql_mode column when it has one.
func showCreate(ctx context.Context, conn *sql.Conn, query, column string) (text, sqlMode string, err error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return "", "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", "", err
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return "", "", err
		}
		return "", "", fmt.Errorf("%s: no row", query)
	}
	values, err := scanRow[sql.NullString](rows, len(cols))
	if err != nil {
		return "", "", err
	}
	found := false
	for i, c := range cols {
		switch c {
		case column:
			text, found = values[i].String, values[i].Valid
		case "sql_mode":
			sqlMode = values[i].String
		}
	}
	if !found {
		return "", "", fmt.Errorf("%s: no %q in %v (no privilege to read it?)", query, column, cols)
	}
	return text, sqlMode, rows.Err()
}

// tableRows reads every row of table as an INSERT to replay.
func tableRows(ctx context.Context, conn *sql.Conn, table string) ([]rowInsert, error) {
	rows, err := conn.QueryContext(ctx, "SELECT * FROM "+quoteName(table))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteName(c)
	}
	query := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", quoteName(table), strings.Join(quoted, ", "),
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "))
	var out []rowInsert
	for rows.Next() {
		values, err := scanRow[any](rows, len(cols))
		if err != nil {
			return nil, err
		}
		out = append(out, rowInsert{table: table, query: query, values: values})
	}
	return out, rows.Err()
}

// scanRow scans the current row into n values of type T.
func scanRow[T any](rows *sql.Rows, n int) ([]T, error) {
	values := make([]T, n)
	ptrs := make([]any, n)
	for i := range values {
		ptrs[i] = &values[i]
	}
	return values, rows.Scan(ptrs...)
}

func quoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// createMySQLDatabase creates an empty database on the test server and
// returns its name and a function that drops it.
func createMySQLDatabase() (name string, drop func() error, err error) {
	c, err := mysqldriver.ParseDSN(mysqlServerDSN())
	if err != nil {
		return "", nil, fmt.Errorf("APP_TEST_MYSQL_DSN: %w", err)
	}
	c.DBName = ""
	admin, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		return "", nil, err
	}
	name = "musicadmin_test_" + randomSuffix()
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create test database: %w", err)
	}
	return name, func() error {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			return fmt.Errorf("drop test database %s: %w", name, err)
		}
		return nil
	}, nil
}

// mysqlDSN is the DSN of database name on the test server.
func mysqlDSN(name string) string {
	c, err := mysqldriver.ParseDSN(mysqlServerDSN())
	if err != nil {
		return ""
	}
	c.DBName = name
	c.ParseTime = true
	if c.Timeout == 0 {
		c.Timeout = slow.ServerTimeout // the app's 5 s is for users
	}
	return c.FormatDSN()
}
