package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// query runs the read q, written with ? placeholders, straight on
// database/sql: on the transaction of ctx's Together, if there is one,
// else on the pool. The reads every page makes (the session, the grants,
// the page of records and its count) go this way: GORM's Raw re-parses the
// statement and runs its callbacks on each call, a cost the floor the
// bench holds the app to does not pay. GORM stays for writes, where its
// error translation (duplicate keys, foreign keys) is used. A slice
// argument is not expanded: q holds one ? per value. Each statement is
// still reported to GORM's logger, as GORM's own are, so a statement log
// (or the tests' counter) sees them all.
//
// query is for a statement whose best plan depends on its arguments'
// values (a search's pattern, a filter, LIMIT and OFFSET): PostgreSQL
// plans it with them on every run (pgx's exec mode: the unnamed
// statement, one round trip). queryByKey is for a read by key (a session,
// a user, a record by id), whose plan is the same for every value:
// PostgreSQL keeps its prepared statement and, after a few runs, its
// plan, where planning a join of six tables anew took longer than running
// it.
func query(ctx context.Context, db *gorm.DB, q string, args ...any) (*sql.Rows, error) {
	return run(ctx, on(ctx, db), db.Dialector.Name(), q, true, args)
}

// queryByKey is query for a read by key: see query.
func queryByKey(ctx context.Context, db *gorm.DB, q string, args ...any) (*sql.Rows, error) {
	return run(ctx, on(ctx, db), db.Dialector.Name(), q, false, args)
}

// on is the transaction of ctx's Together, if there is one, else db. A
// transaction's pool is its Statement's (its Config keeps the database's);
// the database's own Statement holds the database's.
func on(ctx context.Context, db *gorm.DB) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return db
}

// run runs q on db's connection pool (a transaction, a pinned connection
// or the pool), in the dialect's placeholders, planned with its values on
// PostgreSQL when byValue, and reports it to db's logger.
func run(ctx context.Context, db *gorm.DB, dialect, q string, byValue bool, args []any) (*sql.Rows, error) {
	if dialect == "postgres" {
		q = dollarPlaceholders(q)
		if byValue {
			args = append([]any{pgx.QueryExecModeExec}, args...)
		}
	}
	begin := time.Now()
	rows, err := db.Statement.ConnPool.QueryContext(ctx, q, args...)
	db.Logger.Trace(ctx, begin, func() (string, int64) { return q, -1 }, err)
	return rows, err
}

// queryRow is query's one-row form: Scan returns sql.ErrNoRows when there
// is no row.
func queryRow(ctx context.Context, db *gorm.DB, q string, args ...any) rowScanner {
	rows, err := query(ctx, db, q, args...)
	return rowScanner{rows: rows, err: err}
}

// queryRowByKey is queryByKey's one-row form.
func queryRowByKey(ctx context.Context, db *gorm.DB, q string, args ...any) rowScanner {
	rows, err := queryByKey(ctx, db, q, args...)
	return rowScanner{rows: rows, err: err}
}

// rowScanner reads the first row of rows, like sql.Row, and closes them.
type rowScanner struct {
	rows *sql.Rows
	err  error
}

// Scan copies the first row's columns into dest.
func (r rowScanner) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}

// dollarPlaceholders rewrites q's ? placeholders as PostgreSQL's $1, $2, …,
// leaving quoted text alone.
func dollarPlaceholders(q string) string {
	if strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
