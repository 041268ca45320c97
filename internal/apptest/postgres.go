package apptest

// PostgreSQL test databases. Each test gets its own schema, not its own
// database, in one shared database (postgresTestDB) of the server named by
// APP_TEST_POSTGRES_DSN: its DSN sets search_path to that schema, so the
// migrations, the app and GORM's Migrator see the schema as their whole
// database. Measured on PostgreSQL 15, 2 cores: CREATE DATABASE from a
// migrated template takes 120-580 ms and DROP DATABASE 600-1000 ms (it
// waits for a checkpoint), where a new schema takes 2 ms and DROP SCHEMA
// ... CASCADE 5-50 ms.
//
// A migrated schema is a copy, as on the other backends, made in one
// statement (postgresCopySQL): the Up sections of the embedded migrations
// and goose's version table with the rows migrating wrote, which a schema
// migrated by goose once per process gave. Under -race that takes 40-90 ms
// where goose takes 200 ms (it parses every file and runs each statement
// on its own). TestCopyMatchesMigration proves the copy is the migrated
// schema.
//
// A schema is dropped when its test ends. Schemas of a test process that
// died first (a timeout, ^C) are dropped by the next test process: each
// process holds a session advisory lock named by its id, which is part of
// its schemas' names, for as long as it lives; a schema whose process's
// lock is free belongs to nobody.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"musicadmin/internal/apptest/slow"
	"musicadmin/internal/config"
	"musicadmin/migrations"
)

// postgresTestDB is the database that holds the test schemas, created on
// the server when missing.
const postgresTestDB = "musicadmin_test"

// postgresSchemaPrefix starts the name of every test schema:
// <prefix><process id in hex>_<sequence>.
const postgresSchemaPrefix = "musicadmin_t_"

// postgresServerDSN is the DSN of the server the tests make their schemas
// on; its database is only used to create postgresTestDB.
func postgresServerDSN() string {
	if dsn := os.Getenv("APP_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// redactPostgresDSN returns the server DSN without its password, for
// messages.
func redactPostgresDSN(dsn string) string {
	c, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// withDatabase returns dsn with its database and runtime parameters
// replaced: a postgres:// URL gets a new path and query values, a key=value
// DSN more pairs (the last of a key wins in libpq's form).
func withDatabase(dsn, database string, params map[string]string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("APP_TEST_POSTGRES_DSN: %w", err)
		}
		u.Path = "/" + database
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	out := dsn + " dbname=" + database
	for k, v := range params {
		out += " " + k + "=" + v
	}
	return out, nil
}

// pgState is the process's connection to the test database: the pool that
// creates and drops schemas, and the session that holds the process's lock.
var pgState struct {
	once    sync.Once
	err     error
	admin   *sql.DB   // on postgresTestDB
	lock    *sql.Conn // holds pg_advisory_lock(procID) while the process lives
	procID  int64
	nextSeq atomic.Int64
}

// postgresReachable connects to the server once per process, creates the
// test database when missing, takes the process's lock and drops what
// dead test processes left behind.
func postgresReachable() error {
	pgState.once.Do(func() { pgState.err = setUpPostgres() })
	return pgState.err
}

func setUpPostgres() error {
	server, err := openPostgres(postgresServerDSN())
	if err != nil {
		return err
	}
	defer server.Close()
	if err := slow.Server(server.PingContext); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), slow.ServerTimeout)
	defer cancel()
	var exists bool
	if err := server.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)",
		postgresTestDB).Scan(&exists); err != nil {
		return fmt.Errorf("look for database %s: %w", postgresTestDB, err)
	}
	if !exists {
		// UTF8 whatever the server's default, as docs/operations.md asks of an
		// app database; another test process may create it at the same
		// time.
		_, err := server.ExecContext(ctx, "CREATE DATABASE "+postgresTestDB+" TEMPLATE template0 ENCODING 'UTF8'")
		var pe *pgconn.PgError
		if err != nil && !(errors.As(err, &pe) && (pe.Code == "42P04" || pe.Code == "23505")) {
			return fmt.Errorf("create database %s: %w", postgresTestDB, err)
		}
	}
	dsn, err := withDatabase(postgresServerDSN(), postgresTestDB, nil)
	if err != nil {
		return err
	}
	admin, err := openPostgres(dsn)
	if err != nil {
		return err
	}
	lock, err := admin.Conn(ctx)
	if err != nil {
		admin.Close()
		return err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	procID := int64(binary.BigEndian.Uint64(b[:]) >> 1)
	if _, err := lock.ExecContext(ctx, "SELECT pg_advisory_lock($1)", procID); err != nil {
		lock.Close()
		admin.Close()
		return fmt.Errorf("take the test process lock: %w", err)
	}
	pgState.admin, pgState.lock, pgState.procID = admin, lock, procID
	if err := dropOrphanSchemas(ctx, admin); err != nil {
		fmt.Fprintf(os.Stderr, "apptest: dropping the schemas of dead test processes: %v\n", err)
	}
	return nil
}

func openPostgres(dsn string) (*sql.DB, error) {
	c, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("APP_TEST_POSTGRES_DSN: %w", err)
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = slow.ServerTimeout
	}
	db := stdlib.OpenDB(*c)
	db.SetMaxOpenConns(4)
	return db, nil
}

// dropOrphanSchemas drops the test schemas whose process no longer holds
// its lock.
func dropOrphanSchemas(ctx context.Context, admin *sql.DB) error {
	rows, err := admin.QueryContext(ctx, "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", postgresSchemaPrefix)
	if err != nil {
		return err
	}
	owners := map[int64][]string{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		hexID, _, _ := strings.Cut(strings.TrimPrefix(name, postgresSchemaPrefix), "_")
		if id, err := strconv.ParseInt(hexID, 16, 64); err == nil {
			owners[id] = append(owners[id], name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	conn, err := admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for id, schemas := range owners {
		var free bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", id).Scan(&free); err != nil {
			return err
		}
		if !free {
			continue // its process is alive
		}
		for _, s := range schemas {
			if _, err := conn.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+s+" CASCADE"); err != nil {
				return err
			}
		}
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", id); err != nil {
			return err
		}
	}
	return nil
}

// createPostgresSchema makes a new schema, empty or, with migrated, at the
// latest version, and returns the DSN of a database whose search_path is
// that schema, and a function that drops it.
func createPostgresSchema(migrated bool) (dsn string, drop func() error, err error) {
	if err := postgresReachable(); err != nil {
		return "", nil, err
	}
	var fill string
	if migrated {
		if fill, err = postgresCopySQL(); err != nil {
			return "", nil, fmt.Errorf("prepare the postgres copy: %w", err)
		}
	}
	name := fmt.Sprintf("%s%x_%d", postgresSchemaPrefix, pgState.procID, pgState.nextSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), slow.ServerTimeout)
	defer cancel()
	// Without arguments the statements go as one simple query: one round
	// trip, one implicit transaction, in which SET LOCAL holds.
	if _, err := pgState.admin.ExecContext(ctx, "CREATE SCHEMA "+name+";\nSET LOCAL search_path = "+name+";\n"+fill); err != nil {
		return "", nil, fmt.Errorf("create test schema: %w", err)
	}
	params := map[string]string{"search_path": name}
	if c, err := pgx.ParseConfig(postgresServerDSN()); err == nil && c.ConnectTimeout == 0 {
		// The app's 5 s is for users; a test on a busy machine waits longer.
		params["connect_timeout"] = strconv.Itoa(int(slow.ServerTimeout.Seconds()))
	}
	dsn, err = withDatabase(postgresServerDSN(), postgresTestDB, params)
	if err != nil {
		return "", nil, err
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), slow.ServerTimeout)
		defer cancel()
		if _, err := pgState.admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
			return fmt.Errorf("drop test schema %s: %w", name, err)
		}
		return nil
	}
	return dsn, drop, nil
}

// pgCopy is postgresCopySQL's result, made once per process.
var pgCopy struct {
	once sync.Once
	sql  string
	err  error
}

// gooseVersionTable is the version table goose's postgres dialect creates
// (its internal/dialects/postgres.go); TestCopyMatchesMigration fails if
// goose changes it.
const gooseVersionTable = `CREATE TABLE goose_db_version (
	id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	version_id bigint NOT NULL,
	is_applied boolean NOT NULL,
	tstamp timestamp NOT NULL DEFAULT now()
);
`

// postgresCopySQL returns the statements that bring an empty schema (the
// search_path's first) to what migrating it from zero gives.
func postgresCopySQL() (string, error) {
	pgCopy.once.Do(func() { pgCopy.sql, pgCopy.err = buildPostgresCopySQL() })
	return pgCopy.sql, pgCopy.err
}

func buildPostgresCopySQL() (string, error) {
	var b strings.Builder
	files, err := fs.Glob(migrations.FS, config.DriverPostgres+"/*.sql")
	if err != nil {
		return "", err
	}
	for _, f := range files { // in version order: the names start with it
		body, err := fs.ReadFile(migrations.FS, f)
		if err != nil {
			return "", err
		}
		_, up, okUp := strings.Cut(string(body), "-- +goose Up")
		up, _, okDown := strings.Cut(up, "-- +goose Down")
		if !okUp || !okDown || strings.Contains(up, "+goose NO TRANSACTION") {
			return "", fmt.Errorf("%s: not a plain Up/Down migration: copy it with goose instead", f)
		}
		b.WriteString(up)
		b.WriteString(";\n")
	}
	// The version rows come from goose itself, migrating a scratch schema.
	dsn, drop, err := createPostgresSchema(false)
	if err != nil {
		return "", err
	}
	defer drop()
	db, err := migrateDSN(config.Database{Driver: config.DriverPostgres, DSN: dsn})
	if err != nil {
		return "", err
	}
	defer db.Close()
	rows, err := db.Query("SELECT id, version_id, is_applied FROM goose_db_version ORDER BY id")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	b.WriteString(gooseVersionTable)
	for rows.Next() {
		var id, version int64
		var applied bool
		if err := rows.Scan(&id, &version, &applied); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "INSERT INTO goose_db_version (id, version_id, is_applied) OVERRIDING SYSTEM VALUE VALUES (%d, %d, %t);\n",
			id, version, applied)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	b.WriteString("SELECT setval(pg_get_serial_sequence('goose_db_version', 'id'), max(id)) FROM goose_db_version;\n")
	return b.String(), nil
}
