// Package apptest is the test harness: a real app over its own SQLite file,
// MySQL database, PostgreSQL schema (a copy of one migrated once per test
// process, or for PostgreSQL migrated anew, see template.go and
// postgres.go) or MongoDB database (mongo.go), an httptest server for it or for any handler (Serve), and a
// client with a cookie jar that follows no redirects, so every status can be
// asserted, with the page helpers the tests share; on request (Strict) the
// security tests' oracle judges every answer (oracle.go). Servers slow to
// answer are waited for (package slow). It is imported only by tests.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"musicadmin/internal/app"
	"musicadmin/internal/apptest/slow"
	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/config"
	"musicadmin/internal/mongostore/mongotest"
	"musicadmin/internal/server"
)

// Admin credentials of every test app.
const (
	AdminUser     = "admin"
	AdminPassword = "admin-password-1"
)

// Backend is a database kind the suite runs on.
type Backend struct {
	Name   string // "sqlite", "mysql", "postgres" or "mongodb"
	Driver string
}

var (
	SQLite   = Backend{Name: "sqlite", Driver: config.DriverSQLite}
	MySQL    = Backend{Name: "mysql", Driver: config.DriverMySQL}
	Postgres = Backend{Name: "postgres", Driver: config.DriverPostgres}
	MongoDB  = Backend{Name: "mongodb", Driver: config.DriverMongoDB}
)

// SQL reports whether b is one of the SQL backends.
func (b Backend) SQL() bool { return b.Driver != config.DriverMongoDB }

// Backends are the backends ForEachBackend runs on: all four.
var Backends = []Backend{SQLite, MySQL, Postgres, MongoDB}

// SQLBackends are the backends ForEachSQLBackend runs on.
var SQLBackends = []Backend{SQLite, MySQL, Postgres}

// ForEachBackend runs fn as a subtest on every backend. MySQL, PostgreSQL
// and MongoDB are skipped, loudly, when no server answers, except under
// CI=true where that fails the test.
func ForEachBackend(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	forEach(t, Backends, fn)
}

// ForEachSQLBackend is ForEachBackend for what only SQL has: migrations,
// query plans, the GORM store.
func ForEachSQLBackend(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	forEach(t, SQLBackends, fn)
}

// ForEachSQLBackendParallel is ForEachBackendParallel on the SQL backends.
func ForEachSQLBackendParallel(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	t.Parallel()
	ForEachSQLBackend(t, func(t *testing.T, b Backend) {
		t.Parallel()
		fn(t, b)
	})
}

func forEach(t *testing.T, backends []Backend, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			RequireBackend(t, b)
			fn(t, b)
		})
	}
}

// ForEachBackendParallel is ForEachBackend for a test that owns its
// databases and touches no process-wide state (no t.Setenv, no package
// variable): the test runs in parallel with the other parallel tests, and
// its per-backend subtests with each other.
func ForEachBackendParallel(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	t.Parallel()
	ForEachBackend(t, func(t *testing.T, b Backend) {
		t.Parallel()
		fn(t, b)
	})
}

// RequireBackend skips or fails t when b cannot run here.
func RequireBackend(t testing.TB, b Backend) {
	t.Helper()
	var err error
	var where, hint string
	switch b.Driver {
	case config.DriverMySQL:
		err, where, hint = mysqlReachable(), redactDSN(mysqlServerDSN()), "Set APP_TEST_MYSQL_DSN or start MariaDB."
	case config.DriverPostgres:
		err, where, hint = postgresReachable(), redactPostgresDSN(postgresServerDSN()), "Set APP_TEST_POSTGRES_DSN or start PostgreSQL."
	case config.DriverMongoDB:
		err, where, hint = mongotest.Reachable(), mongotest.RedactedURI(), "Set APP_TEST_MONGODB_URI or run .ci/ferretdb.sh start."
	default:
		return
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true and does not answer at %s: %v", b.Name, where, err)
	}
	once, _ := warnOnce.LoadOrStore(b.Name, &sync.Once{})
	once.(*sync.Once).Do(func() {
		fmt.Fprintf(os.Stderr, "\n*** %s tests SKIPPED: no server at %s (%v). %s ***\n\n", b.Name, where, err, hint)
	})
	t.Skipf("%s not reachable: %v", b.Name, err)
}

var (
	warnOnce   sync.Map // backend name -> *sync.Once
	probeOnce  sync.Once
	probeError error
)

// mysqlServerDSN is the DSN of the server (no database) the tests create
// their databases on.
func mysqlServerDSN() string {
	if dsn := os.Getenv("APP_TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return "root@tcp(127.0.0.1:3306)/"
}

func redactDSN(dsn string) string {
	c, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	c.Passwd = ""
	return c.FormatDSN()
}

// mysqlReachable waits for the server once per process (slow.Server).
func mysqlReachable() error {
	probeOnce.Do(func() {
		c, err := mysqldriver.ParseDSN(mysqlServerDSN())
		if err != nil {
			probeError = err
			return
		}
		c.DBName = ""
		if c.Timeout == 0 {
			c.Timeout = slow.ServerTimeout
		}
		probeError = slow.Server(func(ctx context.Context) error {
			db, err := sql.Open("mysql", c.FormatDSN())
			if err != nil {
				return err
			}
			defer db.Close()
			return db.PingContext(ctx)
		})
	})
	return probeError
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewDatabase returns the configuration of a fresh, empty database of
// backend b, removed when the test ends.
func NewDatabase(t testing.TB, b Backend) config.Database {
	t.Helper()
	RequireBackend(t, b)
	switch b.Driver {
	case config.DriverSQLite:
		return config.Database{Driver: b.Driver, DSN: filepath.Join(t.TempDir(), "test.db")}
	case config.DriverPostgres:
		return postgresSchema(t, false)
	case config.DriverMongoDB:
		return mongoDatabase(t)
	default:
		name, drop, err := createMySQLDatabase()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := drop(); err != nil {
				t.Error(err)
			}
		})
		return config.Database{Driver: b.Driver, DSN: mysqlDSN(name)}
	}
}

// OpenMigrated opens a new database of backend b at the latest schema, a
// copy of the one the process migrated once (template.go).
func OpenMigrated(t testing.TB, b Backend) (*gorm.DB, config.Database) {
	t.Helper()
	cfg := NewMigratedDatabase(t, b)
	return Open(t, cfg), cfg
}

// App is a running app over a fresh database.
type App struct {
	*Site
	Backend Backend
	// Data is the app's backend.
	Data *app.App
	// DB is the SQL database (nil on MongoDB), Mongo the MongoDB one (nil
	// on SQL), for checks that read behind the app's back.
	DB     *gorm.DB
	Mongo  *mongo.Database
	Config config.Config
	Web    *server.App
	Log    *SyncBuffer
}

// Option changes how NewApp builds the app.
type Option func(*options)

type options struct {
	wrapDB func(*gorm.DB) *gorm.DB
	strict bool // see Strict
	// configure changes the configuration before the server is built.
	configure func(*config.Config)
	// totpClock is server.Options.TOTPClock.
	totpClock func() time.Time
}

// TOTPClock makes NewApp's server check second factors' codes at clock's
// time (server.Options.TOTPClock).
func TOTPClock(clock func() time.Time) Option { return func(o *options) { o.totpClock = clock } }

// Configure makes NewApp change its configuration with f before it builds
// the server (e.g. auth.totp.required_for_roles).
func Configure(f func(*config.Config)) Option { return func(o *options) { o.configure = f } }

// WrapDB makes the app use f(db) instead of db, for instance a session with
// a logger that counts statements. It applies to SQL backends only.
func WrapDB(f func(*gorm.DB) *gorm.DB) Option { return func(o *options) { o.wrapDB = f } }

// NewApp starts the app on backend b with an admin user.
func NewApp(t testing.TB, b Backend, opts ...Option) *App {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	data, db, mdb, dbCfg := openMigratedBackend(t, b, o)
	cfg := config.Default()
	cfg.Database = dbCfg
	cfg.SecretKey = SecretKey
	if o.configure != nil {
		o.configure(&cfg)
	}
	logs := &SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	web, err := server.New(cfg, data, log, server.Options{BcryptCost: bcrypt.MinCost, TOTPClock: o.totpClock})
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	if _, err := web.Users.Create(context.Background(), auth.NewUser{Username: AdminUser, FirstName: "Ada",
		LastName: "Admin", Email: "admin@example.com", Password: AdminPassword}); err != nil {
		t.Fatalf("create admin: %v", err)
	}
	site := Serve(t, web.Handler)
	site.strict = o.strict
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	a := &App{Site: site, Backend: b, Data: data, DB: db, Mongo: mdb, Config: cfg, Web: web, Log: logs}
	if o.strict {
		a.watch(t)
	}
	return a
}

// Instance starts another instance of a's app, as a second process on the
// same database would be: its own connections (OpenBackend), its own
// server.New with opts (BcryptCost 0: the minimum) and with a's
// configuration changed by change (nil: none), its own server and log.
// What the instances share is the database, and only that. An instance of
// a Strict app is Strict.
func (a *App) Instance(t testing.TB, opts server.Options, change func(*config.Config)) *App {
	t.Helper()
	if opts.BcryptCost == 0 {
		opts.BcryptCost = bcrypt.MinCost
	}
	cfg := a.Config
	if change != nil {
		change(&cfg)
	}
	data := OpenBackend(t, cfg.Database)
	logs := &SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	web, err := server.New(cfg, data, log, opts)
	if err != nil {
		t.Fatalf("build another instance: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log of another instance:\n%s", logs.String())
		}
	})
	site := Serve(t, web.Handler)
	site.strict = a.strict
	other := &App{Site: site, Backend: a.Backend, Data: data, DB: a.DB, Mongo: a.Mongo, Config: cfg, Web: web, Log: logs}
	if other.strict {
		other.watch(t)
	}
	return other
}

// OpenBackend opens the backend of cfg, closed when the test ends.
func OpenBackend(t testing.TB, cfg config.Database) *app.App {
	t.Helper()
	b, err := openBackend(cfg)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.Driver, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// openBackend is app.Open, tried again while the database is
// unreachable.
func openBackend(cfg config.Database) (b *app.App, err error) {
	err = slow.Until(slow.ServerDeadline, func(ctx context.Context) error {
		b, err = app.Open(ctx, cfg)
		return err
	}, unreachable)
	return b, err
}

// unreachable reports whether err is the store's or the backend's "database
// ... unreachable", which a server too busy to answer the ping in the
// app's time gives as well: the server answered the tests' probe, so
// opening is worth another try (slow.Until).
func unreachable(err error) bool { return strings.Contains(err.Error(), " unreachable: ") }

// openMigratedBackend opens a fresh database of b at the latest schema as
// the app's backend, and the handle tests read it through.
func openMigratedBackend(t testing.TB, b Backend, o options) (*app.App, *gorm.DB, *mongo.Database, config.Database) {
	t.Helper()
	if !b.SQL() {
		cfg := NewMigratedDatabase(t, b)
		data := OpenBackend(t, cfg)
		return data, nil, data.Backend.(*backend.Mongo).Database(), cfg
	}
	db, cfg := OpenMigrated(t, b)
	appDB := db
	if o.wrapDB != nil {
		appDB = o.wrapDB(db)
	}
	sqlData, err := backend.NewSQL(appDB, b.Driver)
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	data, err := app.Declare(context.Background(), sqlData)
	if err != nil {
		t.Fatalf("declare: %v", err)
	}
	return data, db, nil, cfg
}

// Scalar is Scalar on the app's database.
func (a *App) Scalar(t testing.TB, query string, args ...any) int64 {
	t.Helper()
	return Scalar(t, a.DB, query, args...)
}

// Scalar returns the one integer that query selects, and fails the test
// when the query fails or selects no row or NULL: a check that "nothing was written"
// must not pass on a query that did not run.
func Scalar(t testing.TB, db *gorm.DB, query string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := db.Raw(query, args...).Row().Scan(&n); err != nil {
		t.Fatalf("%s %v: %v", query, args, err)
	}
	if !n.Valid {
		t.Fatalf("%s %v: NULL, want a number", query, args)
	}
	return n.Int64
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers (the server log).
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// Contains reports whether the log holds sub.
func (s *SyncBuffer) Contains(sub string) bool { return strings.Contains(s.String(), sub) }

// First loads the first record of type T matching conds (GORM's inline
// conditions: an id, or a query and its arguments) and fails the test when
// the query fails or finds nothing.
func First[T any](t testing.TB, db *gorm.DB, conds ...any) T {
	t.Helper()
	var v T
	if err := db.First(&v, conds...).Error; err != nil {
		t.Fatalf("load %T %v: %v", v, conds, err)
	}
	return v
}

// postgresSchema returns the configuration of a new PostgreSQL schema,
// migrated or empty, dropped when the test ends.
func postgresSchema(t testing.TB, migrated bool) config.Database {
	t.Helper()
	dsn, drop, err := createPostgresSchema(migrated)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return config.Database{Driver: config.DriverPostgres, DSN: dsn}
}
