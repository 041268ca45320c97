package store

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"

	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// AppLock is a row of app_locks (migration 00009): a lock of Together,
// by name, and how often it was taken.
type AppLock struct {
	Name  string `gorm:"primaryKey;size:64"`
	Taken int64  `gorm:"not null;default:0"`
}

// TableName is the table of migration 00009.
func (AppLock) TableName() string { return "app_locks" }

// txKey carries the transaction of a Together, or of a ReadSnapshot, in
// its fn's context.
type txKey struct{}

// conn returns the transaction of a Together (or ReadSnapshot) that ctx
// is inside of, or else db: every read and write of the store goes
// through here, so that a model's own transaction nests in a Together's
// (as a savepoint) and commits with it.
func conn(ctx context.Context, db *gorm.DB) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.WithContext(ctx)
	}
	return db.WithContext(ctx)
}

func (m *Model[T]) conn(ctx context.Context) *gorm.DB { return conn(ctx, m.db) }

var _ datamodel.Together = (*Store)(nil)

// Together runs fn in one transaction holding the row of app_locks called
// name (migration 00009), which every other Together of that name waits
// for until this one commits or rolls back: a row lock on MySQL and
// PostgreSQL, and on SQLite the database's write lock, which the UPDATE
// takes. A Together inside another one joins it.
func (s *Store) Together(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return together(ctx, s.db, name, fn)
}

func together(ctx context.Context, db *gorm.DB, name string, fn func(ctx context.Context) error) error {
	if _, inside := ctx.Value(txKey{}).(*gorm.DB); inside {
		return fn(ctx)
	}
	invalidateCounts()
	defer invalidateCounts()
	if name == auth.AccountsLock {
		// Every instance's read of the generation then goes stale
		// before the write returns (GenerationWindow), unless nothing
		// waits on it.
		defer wroteAccounts(ctx, !auth.EndsNoLoginIn(ctx))
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockRow(tx, name); err != nil {
			return err
		}
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
}

// ReadSnapshot runs fn with a context in which every read of this
// database through the store (models, accounts, audit log: all go through
// conn) sees it as it was at one moment, while others go on writing: one
// read-only transaction, REPEATABLE READ on MySQL and PostgreSQL (their
// snapshot isolation: InnoDB's snapshot is taken at the transaction's first
// read, PostgreSQL's at its first statement), and on SQLite a deferred one
// (sqliteConn.BeginTx), which under WAL reads one snapshot and blocks no
// writer. fn must not write. A dump made this way is what
// mysqldump --single-transaction and pg_dump make: one point in time. The
// price is the server's: MySQL keeps the undo log, PostgreSQL its dead
// rows, SQLite its WAL file (no checkpoint passes the reader) from the
// snapshot on, for as long as fn reads. Inside a Together, fn joins its
// transaction instead.
func (s *Store) ReadSnapshot(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, inside := ctx.Value(txKey{}).(*gorm.DB); inside {
		return fn(ctx)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
}

// lockRow takes the row of app_locks called name, making it first when
// there is none.
func lockRow(tx *gorm.DB, name string) error {
	res := tx.Exec("UPDATE app_locks SET taken = taken + 1 WHERE name = ?", name)
	if res.Error != nil {
		return translateErr("take the lock "+name, res.Error)
	}
	if res.RowsAffected > 0 {
		return nil
	}
	if err := tx.Exec("INSERT INTO app_locks (name, taken) VALUES (?, 1)", name).Error; err != nil {
		return translateErr("make the lock "+name, err)
	}
	return nil
}

// translateErr wraps err with what failed, and with
// datamodel.ErrUnavailable when the database is busy or unreachable.
func translateErr(op string, err error) error {
	if Unavailable(err) {
		return fmt.Errorf("store: %s: %w: %w", op, datamodel.ErrUnavailable, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}
