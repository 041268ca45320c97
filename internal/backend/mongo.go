package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"musicadmin/internal/accounts"
	"musicadmin/internal/audit"
	"musicadmin/internal/catalog"
	"musicadmin/internal/config"
	"musicadmin/internal/migrate"
	"musicadmin/internal/mongostore"
)

// mongoConnectTimeout bounds how long Open waits for a server, as the SQL
// backends' ping does.
const mongoConnectTimeout = 5 * time.Second

// Mongo is a backend on MongoDB: the catalogue and the accounts in one
// database, named by the DSN's path.
type Mongo struct {
	client   *mongo.Client
	db       *mongo.Database
	store    *mongostore.Store
	models   *catalog.Models
	accounts *mongostore.Accounts
	audit    *mongostore.AuditLog
	security accounts.Models
}

var _ Backend = (*Mongo)(nil)

func openMongo(ctx context.Context, cfg config.Database) (*Mongo, error) {
	cs, err := connstring.ParseAndValidate(cfg.DSN)
	if err != nil {
		// The driver's message may quote the URI, password and all.
		return nil, errors.New("mongodb dsn is not a valid connection string (want mongodb://host:27017/dbname)")
	}
	if cs.Database == "" {
		return nil, errors.New("mongodb dsn names no database (want mongodb://host:27017/dbname)")
	}
	// The default bounds apply unless the DSN sets its own
	// (serverSelectionTimeoutMS, connectTimeoutMS): set after ApplyURI,
	// they would override the user's.
	opts := options.Client()
	if !cs.ServerSelectionTimeoutSet {
		opts.SetServerSelectionTimeout(mongoConnectTimeout)
	}
	if !cs.ConnectTimeoutSet {
		opts.SetConnectTimeout(mongoConnectTimeout)
	}
	opts.ApplyURI(cfg.DSN)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("database mongodb unreachable: %s", mongostore.Redact(err))
	}
	pingCtx, cancel := context.WithTimeout(ctx, mongoConnectTimeout)
	defer cancel()
	if err := client.Ping(pingCtx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("database mongodb unreachable: %s", mongostore.Redact(err))
	}
	b, err := NewMongo(client.Database(cs.Database))
	if err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	// Changes a process that died left half recorded are settled at every
	// start (see mongostore's audit.go).
	if _, err := b.store.RecoverAudit(ctx, mongostore.AuditSettleAfter); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("database mongodb: settle the audit log: %s", mongostore.Redact(err))
	}
	return b, nil
}

// NewMongo returns the backend over db. Its Close disconnects db's client.
func NewMongo(db *mongo.Database) (*Mongo, error) {
	st := mongostore.New(db)
	models, err := catalog.OnMongo(st)
	if err != nil {
		return nil, err
	}
	log, err := st.DeclareAuditLog()
	if err != nil {
		return nil, err
	}
	// On the same store as the catalogue and the audit log: the audit
	// log's intents name a model of it (users, roles) to settle.
	sec, err := declareMongoAccounts(st)
	if err != nil {
		return nil, err
	}
	return &Mongo{client: db.Client(), db: db, store: st, models: models, accounts: mongostore.NewAccounts(db), audit: log,
		security: sec}, nil
}

// Database is the driver's handle, for what only MongoDB does (tests).
func (b *Mongo) Database() *mongo.Database { return b.db }

// Store is the models' store, for its index list (tests).
func (b *Mongo) Store() *mongostore.Store { return b.store }

func (b *Mongo) Driver() string                 { return config.DriverMongoDB }
func (b *Mongo) Catalog() *catalog.Models       { return b.models }
func (b *Mongo) Accounts() AccountStore         { return b.accounts }
func (b *Mongo) Schema() Schema                 { return mongoSchema{b} }
func (b *Mongo) Audit() audit.Log               { return b.audit }
func (b *Mongo) AccountModels() accounts.Models { return b.security }

func (b *Mongo) Healthy(ctx context.Context) error { return mongostore.Healthy(ctx, b.db) }

func (b *Mongo) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), mongoConnectTimeout)
	defer cancel()
	if err := b.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("backend: close: %w", err)
	}
	return nil
}

// The versions of a MongoDB database's schema: a document store has no
// tables to migrate, but its collections and indexes change with the code
// as SQL tables do, and db status must say which version a database has.
// A new version is a new entry here and what Up does for it. A name is one
// word, as a migration file's name is on SQL: db status prints
// "STATE VERSION NAME", which scripts split on white space.
var mongoVersions = []migrate.Status{
	{Version: 1, Name: "init"},        // the collections and indexes of the catalogue and the accounts
	{Version: 2, Name: "permissions"}, // the permissions collection and its unique index
	{Version: 3, Name: "audit_log"},   // the audit log, its indexes and its intents (audit_pending)
	{Version: 4, Name: "security"},    // an index per field of users and roles, which their lists read
	{Version: 5, Name: "accounts"},    // permissions as a model (view_name, label), roles holding them by id
}

// mongoUpgrades are what a version changes in the documents a database
// already has, beyond collections and indexes: each runs when Up passes
// its version, before the indexes are ensured (which may be the old
// ones'), and is idempotent, so a run cut short is finished by the next.
var mongoUpgrades = map[int64]func(ctx context.Context, b *Mongo) error{
	5: func(ctx context.Context, b *Mongo) error { return b.accounts.UpgradePermissions(ctx) },
}

// mongoSchema is the schema of a MongoDB database: its indexes, created by
// Up, and the version recorded in its schema_version collection.
type mongoSchema struct{ b *Mongo }

func (s mongoSchema) latest() int64 { return mongoVersions[len(mongoVersions)-1].Version }

// Up creates every collection and index the app uses, idempotently, and
// records the latest version. Running it on an up-to-date database creates
// nothing and applies no version.
func (s mongoSchema) Up(ctx context.Context) (int, error) {
	current, latest, err := s.Version(ctx)
	if err != nil {
		return 0, err
	}
	if current > latest {
		return 0, fmt.Errorf("database schema is at version %d, newer than this app's %d", current, latest)
	}
	// A new database (version 0) has no documents to change.
	for v := current + 1; current > 0 && v <= latest; v++ {
		if up := mongoUpgrades[v]; up != nil {
			if err := up(ctx, s.b); err != nil {
				return 0, fmt.Errorf("mongodb: upgrade to version %d: %w", v, err)
			}
		}
	}
	// Indexes are ensured even at the latest version: one dropped by hand
	// comes back, as the hints of every query need it.
	if err := s.b.store.EnsureIndexes(ctx); err != nil {
		return 0, err
	}
	if _, err := s.b.accounts.EnsureIndexes(ctx); err != nil {
		return 0, err
	}
	if current == latest {
		return 0, nil
	}
	if err := s.b.store.MarkSchema(ctx, int(latest)); err != nil {
		return 0, err
	}
	return int(latest - current), nil
}

// Down refuses: version 1 is the collections themselves, and rolling it
// back would mean dropping every record. (SQL's first down migration drops
// the tables too, but there a user can see it in the migration's file.)
func (s mongoSchema) Down(ctx context.Context) (int64, error) {
	current, _, err := s.Version(ctx)
	if err != nil {
		return 0, err
	}
	if current == 0 {
		return 0, nil
	}
	return 0, fmt.Errorf("mongodb: version %d has no down migration (it would drop the collections): drop the database to start over", current)
}

func (s mongoSchema) Version(ctx context.Context) (current, latest int64, err error) {
	v, _, err := s.b.store.SchemaVersion(ctx)
	if err != nil {
		return 0, 0, err
	}
	return int64(v), s.latest(), nil
}

func (s mongoSchema) Status(ctx context.Context) ([]migrate.Status, error) {
	current, _, err := s.Version(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]migrate.Status, len(mongoVersions))
	for i, v := range mongoVersions {
		v.Applied = v.Version <= current
		out[i] = v
	}
	return out, nil
}

// declareMongoAccounts declares users, roles and permissions on st, over
// the collections Accounts reads for logins. They are few documents: an
// index per field their lists filter, search or sort by (and per set, for
// its holders), none per filter × sort pair, which a few hundred documents
// sorted in memory do not need and every write would pay for. The
// permissions are listed only as a role's choices, by label. A user
// document keeps its created_at, which app dump carries.
func declareMongoAccounts(st *mongostore.Store) (accounts.Models, error) {
	var m accounts.Models
	var err error
	if m.Permissions, err = st.DeclareIndexed(accounts.PermissionSchema, []string{accounts.FieldLabel}, nil); err != nil {
		return m, err
	}
	if m.Roles, err = st.DeclareIndexed(accounts.RoleSchema, []string{accounts.FieldName, accounts.FieldPermissions}, nil); err != nil {
		return m, err
	}
	users, err := st.DeclareIndexed(accounts.UserSchema, []string{accounts.FieldUsername, "first_name", "last_name", "email",
		accounts.FieldActive, accounts.FieldRoles}, nil)
	if err != nil {
		return m, err
	}
	m.Users = users
	return m, users.KeepCreated("created_at")
}
