package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"

	"musicadmin/internal/datamodel"
)

// postgresUnavailable are the SQLSTATE codes of a PostgreSQL server that is
// busy, shutting down or out of room, or of a transaction that lost a race
// and may succeed when run again (PostgreSQL's "Appendix A. Error Codes").
var postgresUnavailable = map[string]bool{
	"40001": true, // serialization_failure
	"40P01": true, // deadlock_detected
	"55P03": true, // lock_not_available (lock_timeout)
	"57014": true, // query_canceled (statement_timeout)
	"57P01": true, // admin_shutdown
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now (starting up, recovering)
	"53000": true, // insufficient_resources
	"53100": true, // disk_full
	"53200": true, // out_of_memory
	"53300": true, // too_many_connections
	"53400": true, // configuration_limit_exceeded
	"25006": true, // read_only_sql_transaction (a standby, or read-only mode)
	"08000": true, // connection_exception
	"08003": true, // connection_does_not_exist
	"08006": true, // connection_failure
	"08001": true, // sqlclient_unable_to_establish_sqlconnection
	"08004": true, // sqlserver_rejected_establishment_of_sqlconnection
}

// Unavailable reports whether err means the database is busy, read-only or
// unreachable rather than that the request was wrong: such a request may
// succeed when tried again, and the user gets a 503, never a 500.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrReadonly, sqlite3.ErrIoErr,
			sqlite3.ErrCantOpen, sqlite3.ErrFull, sqlite3.ErrProtocol, sqlite3.ErrPerm:
			return true
		}
		return false
	}
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, // too many connections
			1203, // max_user_connections
			1205, // lock wait timeout
			1213, // deadlock
			1053, // server shutdown in progress
			1927, // connection killed
			1317, // query interrupted
			2006, 2013:
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// The server answered: the code says whether trying again can help
		// (a refused password or an unknown database cannot).
		return postgresUnavailable[pe.Code]
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true // no server answered at all
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) ||
		pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, mysqldriver.ErrInvalidConn) ||
		errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &ne)
}

// translateWrite maps a failed write. A unique violation becomes a
// ConflictError naming the field that holds the value, and a broken
// reference an InvalidRefError naming the field, both found by asking the
// database rather than by reading the error text.
func (m *Model[T]) translateWrite(ctx context.Context, op string, err error, v datamodel.Values, id string) error {
	switch {
	case errors.Is(err, gorm.ErrDuplicatedKey):
		for i := range m.decl.Fields {
			f := &m.decl.Fields[i]
			if val, ok := v[f.Name]; ok && f.Unique {
				if taken, cerr := m.Exists(ctx, f, val, id); cerr == nil && taken {
					return &datamodel.ConflictError{Field: f.Name}
				}
			}
		}
		// The holder is gone already (it raced with this write): no field
		// to name.
		return &datamodel.ConflictError{}
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		for name, to := range m.refs {
			ref, _ := v[name].(*datamodel.Ref)
			if ref == nil {
				continue
			}
			n, _ := parseID(ref.ID)
			var found []int64
			if ferr := m.conn(ctx).Table(to.table).Where("id = ?", n).Limit(1).Pluck("id", &found).Error; ferr == nil && len(found) == 0 {
				return &datamodel.InvalidRefError{Field: name}
			}
		}
		return datamodel.ErrInvalidRef
	}
	return m.translate(op, err)
}

func (m *Model[T]) translate(op string, err error) error {
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return datamodel.ErrNotFound
	case Unavailable(err):
		return fmt.Errorf("store: %s %s: %w: %w", op, m.table, datamodel.ErrUnavailable, err)
	}
	return fmt.Errorf("store: %s %s: %w", op, m.table, err)
}
