package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// backend is one database the app can run on, as the bench sees it: the
// app's driver name and how to make and drop a fresh database on it. Adding
// a backend is one more entry in backends.
type backend struct {
	// name is the app's database.driver and the column group's name.
	name string
	// server says where the backend's server is, without a password, for
	// messages.
	server func() string
	// probe reports whether the server answers.
	probe func(ctx context.Context) error
	// create makes a fresh, empty database called name (dir is a private
	// directory for files) and returns the app's DSN for it.
	create func(ctx context.Context, dir, name string) (dsn string, err error)
	// drop removes the database create made.
	drop func(ctx context.Context, name string) error
	// maxSize, when set and not 0, is the largest size the backend is
	// measured at (the MongoDB column on FerretDB).
	maxSize func(ctx context.Context) int
}

// backends are the backends the bench knows, SQLite first: it is the one
// every ratio is to, and the floor runs on its file.
var backends = []backend{
	{
		name:   "sqlite",
		server: func() string { return "a file" },
		probe:  func(context.Context) error { return nil },
		create: func(_ context.Context, dir, _ string) (string, error) { return filepath.Join(dir, "app.db"), nil },
		// The file goes with the temporary directory.
		drop: func(context.Context, string) error { return nil },
	},
	{
		name:   "mysql",
		server: func() string { return redactMySQL(mysqlServerDSN()) },
		probe: func(ctx context.Context) error {
			return onServer(ctx, "mysql", mysqlServerDSN(), "SELECT 1")
		},
		create: func(ctx context.Context, _, name string) (string, error) {
			// The app's tables say their charset and collation themselves;
			// the database's are for anything made without.
			if err := onServer(ctx, "mysql", mysqlServerDSN(),
				"CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
				return "", err
			}
			c, err := mysqldriver.ParseDSN(mysqlServerDSN())
			if err != nil {
				return "", err
			}
			c.DBName = name
			c.ParseTime = true
			return c.FormatDSN(), nil
		},
		drop: func(ctx context.Context, name string) error {
			return onServer(ctx, "mysql", mysqlServerDSN(), "DROP DATABASE IF EXISTS "+name)
		},
	},
	{
		name:   "postgres",
		server: func() string { return redactPostgres(postgresServerDSN()) },
		probe: func(ctx context.Context) error {
			return onServer(ctx, "pgx", postgresServerDSN(), "SELECT 1")
		},
		create: func(ctx context.Context, _, name string) (string, error) {
			// template0: the app needs UTF8, whatever template1 holds.
			if err := onServer(ctx, "pgx", postgresServerDSN(),
				"CREATE DATABASE "+name+" ENCODING 'UTF8' TEMPLATE template0"); err != nil {
				return "", err
			}
			return postgresWithDatabase(postgresServerDSN(), name)
		},
		drop: func(ctx context.Context, name string) error {
			// FORCE: a connection the app left behind must not keep the
			// database.
			return onServer(ctx, "pgx", postgresServerDSN(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		},
	},
	mongoBackend, // mongo.go
}

// backendByName returns the known backend called name.
func backendByName(name string) (backend, bool) {
	for _, b := range backends {
		if b.name == name {
			return b, true
		}
	}
	return backend{}, false
}

// mysqlServerDSN is the server the MySQL column runs on: the tests' server
// (internal/apptest reads the same variable), or a local one.
func mysqlServerDSN() string {
	if dsn := os.Getenv("APP_TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return "root@tcp(127.0.0.1:3306)/"
}

// postgresServerDSN is the server the PostgreSQL column runs on, read as
// the tests read it; its database is only used to create the bench's.
func postgresServerDSN() string {
	if dsn := os.Getenv("APP_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// onServer runs one statement on the server of dsn over a fresh
// connection, outside the DSN's own database (the statement may drop it),
// with a connect timeout: a server that does not answer is skipped, not
// waited for.
func onServer(ctx context.Context, driver, dsn, stmt string) error {
	var db *sql.DB
	switch driver {
	case "mysql":
		c, err := mysqldriver.ParseDSN(dsn)
		if err != nil {
			return fmt.Errorf("bad mysql dsn: %w", err)
		}
		c.DBName = ""
		c.Timeout = 5 * time.Second
		connector, err := mysqldriver.NewConnector(c)
		if err != nil {
			return fmt.Errorf("bad mysql dsn: %w", err)
		}
		db = sql.OpenDB(connector)
	default:
		c, err := pgx.ParseConfig(dsn)
		if err != nil {
			return fmt.Errorf("bad postgres dsn: %w", err)
		}
		c.ConnectTimeout = 5 * time.Second
		db = stdlib.OpenDB(*c)
	}
	defer db.Close()
	// Dropping a large database can take a while; a probe that hangs
	// should not hang for ever.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", strings.Fields(stmt)[0], err)
	}
	return nil
}

// postgresWithDatabase returns dsn (a URL or key=value pairs) naming
// database instead of its own.
func postgresWithDatabase(dsn, database string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("bad postgres dsn: %w", err)
		}
		u.Path = "/" + database
		return u.String(), nil
	}
	// In libpq's key=value form the last of a key wins.
	return dsn + " dbname=" + database, nil
}

func redactMySQL(dsn string) string {
	c, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return c.Addr
}

func redactPostgres(dsn string) string {
	c, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return fmt.Sprintf("%s:%d", c.Host, c.Port)
}

// chooseBackends resolves the --backends list: SQLite is always in, first
// (every ratio is to it); an unknown name is an error; a backend whose
// server does not answer is logged and left out, or, when strict, an error.
func chooseBackends(ctx context.Context, names []string, strict bool) (chosen []backend, skipped []string, err error) {
	want := map[string]bool{"sqlite": true}
	for _, n := range names {
		if _, ok := backendByName(n); !ok {
			return nil, nil, fmt.Errorf("unknown backend %q (known: %s)", n, knownBackends())
		}
		want[n] = true
	}
	for _, b := range backends {
		if !want[b.name] {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		perr := b.probe(pctx)
		cancel()
		if perr != nil {
			msg := fmt.Sprintf("%s: no server at %s (%v)", b.name, b.server(), perr)
			if strict {
				return nil, nil, errors.New(msg)
			}
			logf("%s: skipped", msg)
			skipped = append(skipped, msg)
			continue
		}
		chosen = append(chosen, b)
	}
	return chosen, skipped, nil
}

func knownBackends() string {
	var names []string
	for _, b := range backends {
		names = append(names, b.name)
	}
	return strings.Join(names, ",")
}
