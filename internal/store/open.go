// Package store opens the database chosen by the configuration and
// implements datamodel.Interface over GORM.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"musicadmin/internal/config"
	"musicadmin/internal/textutil"
)

// SQLite connection settings. The busy timeout makes a writer wait for
// another's lock instead of failing at once; BEGIN IMMEDIATE takes the write
// lock up front, because a deferred transaction that upgrades its lock gets
// SQLITE_BUSY without waiting (SQLite's WAL documentation).
const (
	sqliteBusyTimeout = 5 * time.Second
	sqliteDriverName  = "sqlite3_musicadmin"
)

// FoldFunc is the SQL function that folds text for case-insensitive search
// on SQLite and PostgreSQL, where the built-in lower() folds ASCII only (on
// PostgreSQL: under the columns' "C" collation). On SQLite the app registers
// it; on PostgreSQL migration 00002 defines it. MySQL's LOWER() folds all of
// Unicode, like Go's strings.ToLower, so every backend matches the same rows.
const FoldFunc = "app_fold"

// GramsFunc is the SQL function that spells text as the tokens of the search
// index (textindex.Document): the SQLite migrations' triggers call the one
// the app registers; on PostgreSQL, migration 00002 defines it (returning
// the tokens as an array) and the index is on its value.
const GramsFunc = "app_grams"

// Open connects to the configured database, sets the pool and checks that
// the server answers. The returned DB translates unique and foreign-key
// violations into gorm.ErrDuplicatedKey and gorm.ErrForeignKeyViolated.
func Open(ctx context.Context, cfg config.Database) (*gorm.DB, error) {
	dialector, pool, err := dialectorOf(cfg)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		TranslateError: true,
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		if pool != nil {
			_ = pool.Close()
		}
		return nil, fmt.Errorf("open %s database: %s", cfg.Driver, Redact(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", cfg.Driver, err)
	}
	sizePool(sqlDB, cfg.Driver)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("database %s unreachable: %s", cfg.Driver, Redact(err))
	}
	if cfg.Driver == config.DriverPostgres {
		if err := checkPostgresEncoding(pingCtx, db); err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
	}
	return db, nil
}

// dialectorOf returns GORM's dialector for cfg's driver and DSN, and the
// pool it opened for it, if any (PostgreSQL's), which the caller closes if
// gorm.Open fails.
func dialectorOf(cfg config.Database) (gorm.Dialector, *sql.DB, error) {
	switch cfg.Driver {
	case config.DriverSQLite:
		registerSQLiteDriver()
		return sqlite.Dialector{DriverName: sqliteDriverName, DSN: SQLiteDSN(cfg.DSN, cfg.SQLiteSynchronous)}, nil, nil
	case config.DriverMySQL:
		dsn, err := MySQLDSN(cfg.DSN)
		if err != nil {
			return nil, nil, err
		}
		return mysql.Open(dsn), nil, nil
	case config.DriverPostgres:
		pgCfg, err := PostgresConfig(cfg.DSN)
		if err != nil {
			return nil, nil, err
		}
		// The pool is opened here rather than by the dialector from a DSN
		// string, so that the settings PostgresConfig adds are kept.
		pool := stdlib.OpenDB(*pgCfg)
		return postgres.New(postgres.Config{Conn: pool}), pool, nil
	}
	return nil, nil, fmt.Errorf("unknown database driver %q", cfg.Driver)
}

// sizePool sets the connection pool's limits for the driver.
func sizePool(sqlDB *sql.DB, driverName string) {
	switch driverName {
	case config.DriverSQLite:
		// Readers run in parallel under WAL; writers queue on the busy timeout.
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
		// A connection opened while the file could not be written stays
		// read-only for its life (sqliteDriver retires those after a
		// refused write); a lifetime retires any other stale state too,
		// such as one opened before the file was replaced by a restore.
		sqlDB.SetConnMaxLifetime(10 * time.Minute)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	case config.DriverMySQL:
		// Connections are recycled before any server or proxy timeout can
		// close them under us (go-sql-driver/mysql README).
		sqlDB.SetMaxOpenConns(16)
		sqlDB.SetMaxIdleConns(8)
		sqlDB.SetConnMaxLifetime(3 * time.Minute)
		sqlDB.SetConnMaxIdleTime(time.Minute)
	case config.DriverPostgres:
		// Every PostgreSQL connection is a server process: keep few idle
		// ones (the server's default max_connections is 100, shared by
		// every app and tool), and recycle them so a server-side timeout
		// or a proxy never hands us a dead one.
		sqlDB.SetMaxOpenConns(16)
		sqlDB.SetMaxIdleConns(4)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		sqlDB.SetConnMaxIdleTime(time.Minute)
	}
}

// checkPostgresEncoding refuses a PostgreSQL database whose encoding is
// not UTF8. Text is any Unicode: a database in another encoding would
// refuse some of it at the first write, as a server error.
func checkPostgresEncoding(ctx context.Context, db *gorm.DB) error {
	var enc string
	if err := db.WithContext(ctx).Raw("SHOW server_encoding").Scan(&enc).Error; err != nil {
		return fmt.Errorf("database %s unreachable: %s", config.DriverPostgres, Redact(err))
	}
	if enc != "UTF8" {
		return fmt.Errorf("postgres database has encoding %s: create it with ENCODING 'UTF8'", enc)
	}
	return nil
}

// Healthy reports whether the database answers and takes writes. A ping
// passes on a read-only database, so the probe is a write that changes
// nothing: a DELETE whose condition no row meets. It is cheap enough to
// poll: no row is read or written.
func Healthy(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("store: health: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("store: health: ping: %w", err)
	}
	if err := db.WithContext(ctx).Exec("DELETE FROM " + Session{}.TableName() + " WHERE 1 = 0").Error; err != nil {
		return fmt.Errorf("store: health: write probe: %w", err)
	}
	return nil
}

// SQLiteDSN adds the connection settings every SQLite connection needs:
// foreign keys on (off by default in SQLite), WAL, a busy timeout,
// immediate transactions, and a cache of prepared statements per
// connection (the few statements every page runs, such as the session's
// and the grants', are then parsed and planned once per connection, not
// once per request: a third of their cost). synchronous is
// database.sqlite_synchronous (NORMAL when empty). Settings already in dsn
// are kept.
func SQLiteDSN(dsn, synchronous string) string {
	if synchronous == "" {
		synchronous = config.SQLiteSyncNormal
	}
	params := []struct{ key, value string }{
		{"_foreign_keys", "1"},
		{"_journal_mode", "WAL"},
		{"_synchronous", synchronous},
		{"_busy_timeout", fmt.Sprint(sqliteBusyTimeout.Milliseconds())},
		{"_txlock", "immediate"},
		{"_stmt_cache_size", "32"},
	}
	base, query, _ := strings.Cut(dsn, "?")
	values, err := url.ParseQuery(query)
	if err != nil {
		values = url.Values{}
	}
	for _, p := range params {
		if values.Get(p.key) == "" {
			values.Set(p.key, p.value)
		}
	}
	return base + "?" + values.Encode()
}

// MySQLDSN fixes what the app relies on in a MySQL DSN: utf8mb4 with the
// binary collation (the same comparisons as SQLite), parsed times in UTC,
// bounded network timeouts and arguments interpolated by the driver.
func MySQLDSN(dsn string) (string, error) {
	c, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("bad mysql dsn: %s", Redact(err))
	}
	c.ParseTime = true
	c.Loc = time.UTC
	c.Collation = "utf8mb4_bin"
	// Arguments are written into the statement by the driver, escaped for
	// utf8mb4, rather than sent to a statement prepared for the one query
	// and closed after it: one round trip a query instead of two (three
	// packets), which on a page's few short reads was most of MySQL's
	// lead over SQLite. Safe with utf8mb4 (the driver refuses the
	// charsets where escaping is ambiguous) and whatever sql_mode says of
	// backslashes.
	c.InterpolateParams = true
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	delete(c.Params, "charset")
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 30 * time.Second
	}
	return c.FormatDSN(), nil
}

// postgresConnectTimeout bounds a connection attempt when the DSN sets no
// connect_timeout: pgx would otherwise wait as long as the kernel does.
const postgresConnectTimeout = 5 * time.Second

// PostgresConfig parses a PostgreSQL DSN (a postgres:// URL or key=value
// pairs, as libpq reads them) and fixes what the app relies on, keeping
// what the DSN sets itself: a connect timeout. Plans are left to the
// statements (store.query): one whose plan depends on its values (a
// search's pattern and tokens, LIMIT and OFFSET) is sent as the unnamed
// statement and planned with them on every run, where a prepared one may
// switch to a generic plan after five runs and a generic plan of a search
// can scan the whole table; a read by key keeps its prepared plan.
func PostgresConfig(dsn string) (*pgx.ConnConfig, error) {
	c, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx masks the password of a URL in its message; Redact also
		// covers a key=value DSN.
		return nil, fmt.Errorf("bad postgres dsn: %s", Redact(err))
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = postgresConnectTimeout
	}
	return c, nil
}

var (
	// urlPassword is the password of a URL: scheme://user:password@host.
	urlPassword = regexp.MustCompile(`(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@\s]*@`)
	// keywordPassword is the password of a key=value DSN (libpq's form),
	// quoted or not.
	keywordPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*)`)
)

// Redact returns the error text on one line without anything that looks
// like a DSN password: driver errors sometimes echo the DSN.
func Redact(err error) string {
	s := err.Error()
	s = urlPassword.ReplaceAllString(s, "${1}***@")
	s = keywordPassword.ReplaceAllString(s, "${1}***")
	// user:password@tcp(...) -> user:***@tcp(...)
	if at := strings.Index(s, "@"); at > 0 {
		if colon := strings.LastIndex(s[:at], ":"); colon >= 0 && !strings.ContainsAny(s[colon:at], " /") {
			s = s[:colon+1] + "***" + s[at:]
		}
	}
	return textutil.OneLine(s)
}
