package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"musicadmin/internal/datamodel"
)

// translate wraps a failed operation with its context, marking the failures
// that a retry may cure as datamodel.ErrUnavailable (a 503, never a 500).
func (m *Model) translate(op string, err error) error {
	return translate(op+" "+m.decl.Name, err)
}

// translate wraps err, the failure of what, as Model.translate does.
func translate(what string, err error) error {
	if Unavailable(err) {
		return fmt.Errorf("mongostore: %s: %w: %w", what, datamodel.ErrUnavailable, err)
	}
	return fmt.Errorf("mongostore: %s: %w", what, err)
}

// translateWrite maps a failed write. A duplicate key becomes a
// ConflictError naming the field whose value another document holds, found
// by asking the database rather than by reading the error text, whose form
// differs between servers. Any other refusal by the server is checked the
// same way, because FerretDB v1.24 answers a duplicate on update with an
// InternalError (its SQLite's UNIQUE constraint), not E11000. The database
// is asked outside any transaction of ctx, which the refusal has ended.
func (m *Model) translateWrite(ctx context.Context, op string, err error, v datamodel.Values, id string) error {
	var se mongo.ServerError
	if !mongo.IsDuplicateKeyError(err) && (!errors.As(err, &se) || Unavailable(err)) {
		return m.translate(op, err)
	}
	ctx = outside(ctx)
	for i := range m.decl.Fields {
		f := &m.decl.Fields[i]
		if val, ok := v[f.Name]; ok && f.Unique {
			if taken, cerr := m.Exists(ctx, f, val, id); cerr == nil && taken {
				return &datamodel.ConflictError{Field: f.Name}
			}
		}
	}
	if !mongo.IsDuplicateKeyError(err) {
		return m.translate(op, err)
	}
	// The holder is gone already (it raced with this write): no field to
	// name.
	return &datamodel.ConflictError{}
}

// unavailableCodes are server error codes that mean "not now" rather than
// "never": shutdown, elections, interrupted operations, write conflicts.
var unavailableCodes = []int{
	6,     // HostUnreachable
	7,     // HostNotFound
	89,    // NetworkTimeout
	91,    // ShutdownInProgress
	112,   // WriteConflict
	189,   // PrimarySteppedDown
	262,   // ExceededTimeLimit
	9001,  // SocketException
	10107, // NotWritablePrimary
	11600, // InterruptedAtShutdown
	11602, // InterruptedDueToReplStateChange
	13435, // NotPrimaryNoSecondaryOk
	13436, // NotPrimaryOrSecondary
}

// Unavailable reports whether err means the server is unreachable, busy or
// changing primaries rather than that the request was wrong.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var sse topology.ServerSelectionError
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, mongo.ErrClientDisconnected) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &sse) {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		if se.HasErrorLabel("TransientTransactionError") || se.HasErrorLabel("RetryableWriteError") {
			return true
		}
		for _, c := range unavailableCodes {
			if se.HasErrorCode(c) {
				return true
			}
		}
	}
	return false
}
