package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/mattn/go-sqlite3"

	"musicadmin/internal/textindex"
)

var registerSQLite sync.Once

func registerSQLiteDriver() {
	registerSQLite.Do(func() {
		sql.Register(sqliteDriverName, &sqliteDriver{inner: &sqlite3.SQLiteDriver{
			ConnectHook: func(c *sqlite3.SQLiteConn) error {
				if err := c.RegisterFunc(FoldFunc, textindex.Fold, true); err != nil {
					return fmt.Errorf("register %s: %w", FoldFunc, err)
				}
				if err := c.RegisterFunc(GramsFunc, textindex.Document, true); err != nil {
					return fmt.Errorf("register %s: %w", GramsFunc, err)
				}
				return nil
			},
		}})
	})
}

// sqliteDriver opens SQLite connections that leave the pool once the
// database has refused a write as read-only.
//
// SQLite opens a file it may not write read-only, silently, and such a
// connection stays read-only for its whole life. An app started while its
// file was not writable would keep those connections in its pool and answer
// 503 to every write even after the file became writable. So a read-only
// error marks every connection of that database opened before it stale:
// database/sql closes a stale connection instead of reusing it, and the next
// one opened sees the file as it is now.
type sqliteDriver struct {
	inner *sqlite3.SQLiteDriver
	// readOnlyErrors counts, per DSN, the writes refused as read-only.
	readOnlyErrors sync.Map // string -> *atomic.Uint64
}

func (d *sqliteDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.inner.Open(dsn)
	if err != nil {
		return nil, err
	}
	counter, _ := d.readOnlyErrors.LoadOrStore(dsn, new(atomic.Uint64))
	n := counter.(*atomic.Uint64)
	return &sqliteConn{SQLiteConn: c.(*sqlite3.SQLiteConn), readOnlyErrors: n, seen: n.Load()}, nil
}

// sqliteConn is a SQLite connection that knows when it is stale.
type sqliteConn struct {
	*sqlite3.SQLiteConn
	readOnlyErrors *atomic.Uint64
	seen           uint64 // readOnlyErrors when the connection was opened
}

// database/sql finds these methods by type assertion: one whose signature
// drifted from the interface would silently stop being called, and stale
// connections would stay in the pool.
var (
	_ driver.Driver          = (*sqliteDriver)(nil)
	_ driver.Conn            = (*sqliteConn)(nil)
	_ driver.Validator       = (*sqliteConn)(nil)
	_ driver.SessionResetter = (*sqliteConn)(nil)
	_ driver.ConnBeginTx     = (*sqliteConn)(nil)
	_ driver.ExecerContext   = (*sqliteConn)(nil)
)

func (c *sqliteConn) stale() bool { return c.readOnlyErrors.Load() != c.seen }

// IsValid implements driver.Validator: database/sql closes a connection
// that is not valid when it comes back to the pool.
func (c *sqliteConn) IsValid() bool { return !c.stale() }

// ResetSession implements driver.SessionResetter: a stale connection is
// not reused.
func (c *sqliteConn) ResetSession(context.Context) error {
	if c.stale() {
		return driver.ErrBadConn
	}
	return nil
}

// BeginTx refuses to start a transaction on a stale connection: with
// driver.ErrBadConn database/sql begins it on another one, so the write
// that follows does not fail on a read-only connection.
//
// A read-only transaction (ReadSnapshot's) begins DEFERRED, whatever the
// DSN's _txlock says: it takes no write lock, so writers go on while it
// reads, and under WAL it reads one snapshot of the database, taken at its
// first read. The driver's own BeginTx ignores opts and would take the
// write lock (BEGIN IMMEDIATE) for as long as the reads last.
func (c *sqliteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.stale() {
		return nil, driver.ErrBadConn
	}
	if opts.ReadOnly {
		if _, err := c.SQLiteConn.ExecContext(ctx, "BEGIN DEFERRED", nil); err != nil {
			return nil, err
		}
		return readTx{c.SQLiteConn}, nil
	}
	return c.SQLiteConn.BeginTx(ctx, opts)
}

// readTx is a read-only transaction begun by sqliteConn.BeginTx. It wrote
// nothing, so committing and rolling back are alike; a COMMIT that fails
// is rolled back, as the driver's own transactions are, since database/sql
// counts the transaction done either way.
type readTx struct{ c *sqlite3.SQLiteConn }

func (t readTx) Commit() error {
	_, err := t.c.ExecContext(context.Background(), "COMMIT", nil)
	if err != nil {
		_, _ = t.c.ExecContext(context.Background(), "ROLLBACK", nil)
	}
	return err
}

func (t readTx) Rollback() error {
	_, err := t.c.ExecContext(context.Background(), "ROLLBACK", nil)
	return err
}

// ExecContext notes a write refused as read-only. Outside a transaction the
// refused statement wrote nothing, so the error also wraps driver.ErrBadConn:
// database/sql then tries it again on another connection, up to a new one.
func (c *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	inTx := !c.AutoCommit()
	res, err := c.SQLiteConn.ExecContext(ctx, query, args)
	var se sqlite3.Error
	if err != nil && errors.As(err, &se) && se.Code == sqlite3.ErrReadonly {
		c.readOnlyErrors.Add(1)
		if !inTx {
			return nil, fmt.Errorf("%w: %w", driver.ErrBadConn, err)
		}
	}
	return res, err
}
