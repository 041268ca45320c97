// Package store opens the database chosen by the configuration and
// implements datamodel.Interface over GORM.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/mysql"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"musicadmin/internal/config"
	"musicadmin/internal/textindex"
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
// on SQLite, where the built-in lower() folds ASCII only. MySQL's LOWER()
// folds all of Unicode, like Go's strings.ToLower, so both backends match
// the same rows.
const FoldFunc = "app_fold"

// GramsFunc is the SQL function that spells text as the tokens of the search
// index (textindex.Document); the SQLite migrations' triggers call it.
const GramsFunc = "app_grams"

var registerSQLite sync.Once

func registerSQLiteDriver() {
	registerSQLite.Do(func() {
		sql.Register(sqliteDriverName, &sqlite3.SQLiteDriver{
			ConnectHook: func(c *sqlite3.SQLiteConn) error {
				if err := c.RegisterFunc(FoldFunc, textindex.Fold, true); err != nil {
					return fmt.Errorf("register %s: %w", FoldFunc, err)
				}
				if err := c.RegisterFunc(GramsFunc, textindex.Document, true); err != nil {
					return fmt.Errorf("register %s: %w", GramsFunc, err)
				}
				return nil
			},
		})
	})
}

// Open connects to the configured database, sets the pool and checks that
// the server answers. The returned DB translates unique and foreign-key
// violations into gorm.ErrDuplicatedKey and gorm.ErrForeignKeyViolated.
func Open(ctx context.Context, cfg config.Database) (*gorm.DB, error) {
	var dialector gorm.Dialector
	switch cfg.Driver {
	case config.DriverSQLite:
		registerSQLiteDriver()
		dialector = sqlite.Dialector{DriverName: sqliteDriverName, DSN: SQLiteDSN(cfg.DSN)}
	case config.DriverMySQL:
		dsn, err := MySQLDSN(cfg.DSN)
		if err != nil {
			return nil, err
		}
		dialector = mysql.Open(dsn)
	default:
		return nil, fmt.Errorf("unknown database driver %q", cfg.Driver)
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		TranslateError: true,
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %s", cfg.Driver, Redact(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", cfg.Driver, err)
	}
	switch cfg.Driver {
	case config.DriverSQLite:
		// Readers run in parallel under WAL; writers queue on the busy timeout.
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	case config.DriverMySQL:
		// Connections are recycled before any server or proxy timeout can
		// close them under us (go-sql-driver/mysql README).
		sqlDB.SetMaxOpenConns(16)
		sqlDB.SetMaxIdleConns(8)
		sqlDB.SetConnMaxLifetime(3 * time.Minute)
		sqlDB.SetConnMaxIdleTime(time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("database %s unreachable: %s", cfg.Driver, Redact(err))
	}
	return db, nil
}

// SQLiteDSN adds the connection settings every SQLite connection needs:
// foreign keys on (off by default in SQLite), WAL, a busy timeout and
// immediate transactions. Settings already in dsn are kept.
func SQLiteDSN(dsn string) string {
	params := []struct{ key, value string }{
		{"_foreign_keys", "1"},
		{"_journal_mode", "WAL"},
		{"_synchronous", "NORMAL"},
		{"_busy_timeout", fmt.Sprint(sqliteBusyTimeout.Milliseconds())},
		{"_txlock", "immediate"},
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
// binary collation (the same comparisons as SQLite), parsed times in UTC and
// bounded network timeouts.
func MySQLDSN(dsn string) (string, error) {
	c, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("bad mysql dsn: %s", Redact(err))
	}
	c.ParseTime = true
	c.Loc = time.UTC
	c.Collation = "utf8mb4_bin"
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

// Redact returns the error text without anything that looks like a DSN
// password: driver errors sometimes echo the DSN.
func Redact(err error) string {
	s := err.Error()
	// user:password@tcp(...) -> user:***@tcp(...)
	if at := strings.Index(s, "@"); at > 0 {
		if colon := strings.LastIndex(s[:at], ":"); colon >= 0 && !strings.ContainsAny(s[colon:at], " /") {
			s = s[:colon+1] + "***" + s[at:]
		}
	}
	return textutil.OneLine(s)
}
