package backend

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"

	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/migrate"
	"musicadmin/internal/seed"
	"musicadmin/internal/store"
)

// SQL is a backend on SQLite, MySQL or PostgreSQL, through GORM.
type SQL struct {
	driver   string
	db       *gorm.DB
	store    *store.Store
	accounts *store.Accounts
	audit    *store.AuditLog
	schema   *migrate.Migrator
	// sqliteFile is the SQLite database's file ("" on other drivers and
	// in memory): Healthy checks the room left on its disk.
	sqliteFile string
}

var _ Backend = (*SQL)(nil)

func openSQL(ctx context.Context, cfg config.Database) (*SQL, error) {
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b, err := NewSQL(db, cfg.Driver)
	if err != nil {
		if sqlDB, dbErr := db.DB(); dbErr == nil {
			_ = sqlDB.Close()
		}
		return nil, err
	}
	if cfg.Driver == config.DriverSQLite {
		b.sqliteFile = store.SQLiteFile(cfg.DSN)
	}
	return b, nil
}

// NewSQL returns the backend over db, opened by store.Open for driver. Its
// Close closes db.
func NewSQL(db *gorm.DB, driver string) (*SQL, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("backend: %w", err)
	}
	m, err := migrate.New(sqlDB, driver)
	if err != nil {
		return nil, err
	}
	st := store.New(db)
	log, err := store.NewAuditLog(st)
	if err != nil {
		return nil, err
	}
	return &SQL{driver: driver, db: db, store: st, accounts: store.NewAccounts(db), audit: log, schema: m}, nil
}

// DB is the GORM handle, for what only SQL does (tests).
func (b *SQL) DB() *gorm.DB { return b.db }

func (b *SQL) Driver() string         { return b.driver }
func (b *SQL) Accounts() AccountStore { return b.accounts }
func (b *SQL) Schema() Schema         { return b.schema }
func (b *SQL) Audit() AuditLog        { return b.audit }

// Declare declares decl over its table.
func (b *SQL) Declare(decl datamodel.Schema) (datamodel.Interface, error) {
	return b.store.Declare(decl)
}

// Settle has nothing to do: on SQL a change and its audit entry are one
// transaction.
func (b *SQL) Settle(context.Context) error { return nil }

// Seed writes the demo catalogue with multi-row INSERTs.
func (b *SQL) Seed(ctx context.Context, opts seed.Options, progress seed.Progress) error {
	sqlDB, err := b.db.DB()
	if err != nil {
		return err
	}
	return seed.Run(ctx, sqlDB, opts, progress)
}

// ReadSnapshot runs fn in one read-only transaction: see
// store.Store.ReadSnapshot.
func (b *SQL) ReadSnapshot(ctx context.Context, fn func(ctx context.Context) error) error {
	return b.store.ReadSnapshot(ctx, fn)
}

func (b *SQL) Snapshots() bool { return true }

// Healthy reports whether the database answers and takes a write, and, on
// SQLite, whether its disk has room for the next ones.
func (b *SQL) Healthy(ctx context.Context) error {
	if err := store.Healthy(ctx, b.db); err != nil {
		return err
	}
	if b.sqliteFile != "" {
		return store.CheckDiskRoom(b.sqliteFile)
	}
	return nil
}

// Pool reports database/sql's pool.
func (b *SQL) Pool() PoolStats {
	sqlDB, err := b.db.DB()
	if err != nil {
		return PoolStats{}
	}
	s := sqlDB.Stats()
	return PoolStats{MaxOpen: s.MaxOpenConnections, Open: s.OpenConnections, InUse: s.InUse, Idle: s.Idle,
		WaitCount: s.WaitCount, WaitDuration: s.WaitDuration}
}

func (b *SQL) Close() error {
	sqlDB, err := b.db.DB()
	if err != nil {
		return fmt.Errorf("backend: close: %w", err)
	}
	return sqlDB.Close()
}

// BackupSQLite copies b, which must be a SQLite database, into a new file
// at path while the app serves (store.BackupSQLite: VACUUM INTO, then
// integrity_check), checks that the copy's schema is at the version this
// app runs, and returns the copy's size in bytes. A file at path is
// store.ErrBackupExists, and nothing is written.
func BackupSQLite(ctx context.Context, b Backend, path string) (int64, error) {
	s, ok := b.(*SQL)
	if !ok || s.driver != config.DriverSQLite {
		return 0, fmt.Errorf("backup: the database is %s, not SQLite", b.Driver())
	}
	return store.BackupSQLite(ctx, s.db, path, func(ctx context.Context, copyDB *sql.DB) error {
		m, err := migrate.New(copyDB, config.DriverSQLite)
		if err != nil {
			return err
		}
		current, latest, err := m.Version(ctx)
		if err != nil {
			return fmt.Errorf("read its schema version: %w", err)
		}
		if current != latest {
			return fmt.Errorf("its schema is at version %d, the app's at %d", current, latest)
		}
		return nil
	})
}
