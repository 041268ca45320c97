// Package backend opens the configured database, whichever of the four it
// is (SQLite, MySQL and PostgreSQL through GORM, MongoDB through its own
// driver), and hands the rest of the app what it needs of it: a place to
// declare models (datamodel.Declarer), the accounts' store, the audit log,
// a health probe and the schema's versions. It declares no model itself
// (internal/app does), and nothing above it knows which database it runs
// on, so switching backends is a configuration change only.
package backend

import (
	"context"
	"fmt"
	"time"

	"musicadmin/internal/accounts"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/migrate"
	"musicadmin/internal/seed"
)

// Backend is one open database.
type Backend interface {
	// Driver is the configured driver: config.DriverSQLite and the others.
	Driver() string
	// Declare declares a model on this database: its table or collection.
	datamodel.Declarer
	// Settle finishes, once every model is declared, what a process that
	// died left half done (MongoDB's audit intents); SQL has nothing to.
	Settle(ctx context.Context) error
	// Accounts keeps logins and sessions on this database, and what the
	// accounts layer and app dump and load need of it besides its models.
	Accounts() AccountStore
	// Audit is the audit log on this database.
	Audit() AuditLog
	// Seed writes the demo catalogue of opts straight into the tables or
	// collections, past the models: millions of rows in minutes.
	Seed(ctx context.Context, opts seed.Options, progress seed.Progress) error
	// ReadSnapshot runs fn with a context in which, where Snapshots says
	// so, every read of this database (models, accounts, audit log) sees
	// it as it was at one moment while others go on writing: app dump's
	// reads. fn must not write.
	ReadSnapshot(ctx context.Context, fn func(ctx context.Context) error) error
	// Snapshots reports whether ReadSnapshot reads one snapshot: true on
	// SQL (one read-only transaction, store.Store.ReadSnapshot); false on
	// MongoDB, where fn's reads each see the database as it is then.
	Snapshots() bool
	// Healthy reports whether the database answers and takes writes.
	Healthy(ctx context.Context) error
	// Pool reports the connection pool's state, for /metrics.
	Pool() PoolStats
	// Schema creates, upgrades and reports the database's schema.
	Schema() Schema
	// Close releases the connections.
	Close() error
}

// AccountStore is a database's store of logins and sessions (auth.Store),
// of what the accounts layer needs besides its models (accounts.Store),
// and of what app dump and load read and write of the accounts.
type AccountStore interface {
	auth.Store
	accounts.Store
	TransferAccounts
}

// AuditLog is a database's audit log, with the bulk append app load uses.
type AuditLog interface {
	audit.Log
	TransferAudit
}

// Schema is what create-db and the db commands do to a database: goose's
// migrations on SQL, the indexes and a recorded version on MongoDB.
type Schema interface {
	// Up brings the schema to the latest version and returns how many
	// versions it applied.
	Up(ctx context.Context) (int, error)
	// Down rolls back the latest applied version and returns it (0: none).
	Down(ctx context.Context) (int64, error)
	// Version returns the database's version and the latest the app knows.
	Version(ctx context.Context) (current, latest int64, err error)
	// Status lists every version the app knows and whether it is applied.
	Status(ctx context.Context) ([]migrate.Status, error)
}

// Open connects to the database cfg names and declares the catalogue on it.
// It does not create or check the schema: see Schema and Ready.
func Open(ctx context.Context, cfg config.Database) (Backend, error) {
	switch cfg.Driver {
	case config.DriverSQLite, config.DriverMySQL, config.DriverPostgres:
		return openSQL(ctx, cfg)
	case config.DriverMongoDB:
		return openMongo(ctx, cfg)
	default:
		return nil, fmt.Errorf("unknown database driver %q", cfg.Driver)
	}
}

// Ready returns nil when b's schema is at the version the app needs, and
// otherwise an error that tells the user to run create-db.
func Ready(ctx context.Context, b Backend) error {
	current, latest, err := b.Schema().Version(ctx)
	if err != nil {
		return fmt.Errorf("cannot read the schema version: run `app create-db` first")
	}
	if current != latest {
		return fmt.Errorf("database schema is at version %d, the app needs %d: run `app create-db`", current, latest)
	}
	return nil
}

// PoolStats is the state of a backend's connection pool.
type PoolStats struct {
	// MaxOpen is the pool's bound (0: none).
	MaxOpen int
	// Open connections, of which InUse are lent out and Idle wait.
	Open, InUse, Idle int
	// WaitCount is how many times a request waited for a connection, and
	// WaitDuration how long in all.
	WaitCount    int64
	WaitDuration time.Duration
}
