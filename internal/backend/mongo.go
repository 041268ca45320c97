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
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/migrate"
	"musicadmin/internal/mongostore"
	"musicadmin/internal/seed"
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
	accounts *mongostore.Accounts
	audit    *mongostore.AuditLog
	pool     *mongoPool // nil when the client was made elsewhere (tests)
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
	selection, connect := mongoConnectTimeout, mongoConnectTimeout
	if cs.ServerSelectionTimeoutSet {
		selection = cs.ServerSelectionTimeout
	} else {
		opts.SetServerSelectionTimeout(selection)
	}
	if cs.ConnectTimeoutSet {
		connect = cs.ConnectTimeout
	} else {
		opts.SetConnectTimeout(connect)
	}
	opts.ApplyURI(cfg.DSN)
	// The driver's default pool bound, unless the DSN sets one.
	pool := &mongoPool{maxOpen: 100}
	if cs.MaxPoolSizeSet {
		pool.maxOpen = int(cs.MaxPoolSize)
	}
	opts.SetPoolMonitor(pool.monitor())
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("database mongodb unreachable: %s", mongostore.Redact(err))
	}
	// The ping selects a server, then opens a connection to it: a DSN that
	// sets its own timeouts gets the sum of them to answer in, not the
	// default bound, which it may have set them to exceed.
	wait := mongoConnectTimeout
	if cs.ServerSelectionTimeoutSet || cs.ConnectTimeoutSet {
		wait = max(wait, selection+connect)
	}
	pingCtx, cancel := context.WithTimeout(ctx, wait)
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
	b.pool = pool
	return b, nil
}

// Pool reports the driver's connections, as its pool events counted them.
func (b *Mongo) Pool() PoolStats { return b.pool.stats() }

// Settle settles the changes a process that died left half recorded
// (see mongostore's audit.go): at every start, once the models the
// intents name are declared.
func (b *Mongo) Settle(ctx context.Context) error {
	if _, err := b.store.RecoverAudit(ctx, mongostore.AuditSettleAfter); err != nil {
		return fmt.Errorf("database mongodb: settle the audit log: %s", mongostore.Redact(err))
	}
	return nil
}

// NewMongo returns the backend over db. Its Close disconnects db's client.
func NewMongo(db *mongo.Database) (*Mongo, error) {
	st := mongostore.New(db)
	log, err := st.DeclareAuditLog()
	if err != nil {
		return nil, err
	}
	return &Mongo{client: db.Client(), db: db, store: st, accounts: mongostore.NewAccounts(db), audit: log}, nil
}

// Database is the driver's handle, for what only MongoDB does (tests).
func (b *Mongo) Database() *mongo.Database { return b.db }

// Store is the models' store, for its index list (tests).
func (b *Mongo) Store() *mongostore.Store { return b.store }

func (b *Mongo) Driver() string         { return config.DriverMongoDB }
func (b *Mongo) Accounts() AccountStore { return b.accounts }
func (b *Mongo) Schema() Schema         { return mongoSchema{b} }
func (b *Mongo) Audit() AuditLog        { return b.audit }

// ReadSnapshot runs fn on ctx as it is: its reads are not one snapshot.
// MongoDB's snapshot reads (read concern "snapshot") need a replica set
// and last at most minSnapshotHistoryWindowInSeconds (5 minutes by
// default), or a transaction's 60 seconds: a dump of a large catalogue
// would outlast them, and FerretDB has none. mongodump --oplog of a
// replica set is MongoDB's consistent copy.
func (b *Mongo) ReadSnapshot(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(ctx)
}

func (b *Mongo) Snapshots() bool { return false }

// Seed writes the demo catalogue with bulk inserts.
func (b *Mongo) Seed(ctx context.Context, opts seed.Options, progress seed.Progress) error {
	return seed.RunMongo(ctx, b.db, opts, progress)
}

// collections says how a model is kept, beyond one collection of its
// name: the fields its lists filter, search or sort by, each with an
// index (a model not listed has one per field and per filter × sort
// pair), and a key the store stamps at each insert. The accounts' models
// are few documents: an index per field their lists filter, search or
// sort by (and per set, for its holders), none per filter × sort pair,
// which a few hundred documents sorted in memory do not need and every
// write would pay for; the permissions are listed only as a role's
// choices, by label. A user keeps its created_at, which app dump carries.
// A token is found by its digest (unique) and listed by its user.
var collections = map[string]struct {
	indexed []string
	created string
}{
	accounts.PermissionsModel: {indexed: []string{accounts.FieldLabel}},
	accounts.RolesModel:       {indexed: []string{accounts.FieldName, accounts.FieldPermissions}},
	accounts.UsersModel: {indexed: []string{accounts.FieldUsername, "first_name", "last_name", "email",
		accounts.FieldActive, accounts.FieldRoles}, created: "created_at"},
	accounts.TokensModel: {indexed: []string{accounts.FieldDigest, accounts.FieldUser}},
	// A second factor is found by its user (unique).
	accounts.SecondFactorsModel: {indexed: []string{accounts.FieldUser}},
	// An identity is found by its digest (unique), deleted with its user.
	accounts.IdentitiesModel: {indexed: []string{accounts.FieldDigest, accounts.FieldUser}},
}

// Declare declares decl on its collection, which holds the audit log's
// intents too: they name a model of this store to settle.
func (b *Mongo) Declare(decl datamodel.Schema) (datamodel.Interface, error) {
	c, ok := collections[decl.Name]
	if !ok {
		return b.store.Declare(decl)
	}
	m, err := b.store.DeclareIndexed(decl, c.indexed, nil)
	if err != nil || c.created == "" {
		return m, err
	}
	return m, m.KeepCreated(c.created)
}

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
	{Version: 1, Name: "init"},           // the collections and indexes of the catalogue and the accounts
	{Version: 2, Name: "permissions"},    // the permissions collection and its unique index
	{Version: 3, Name: "audit_log"},      // the audit log, its indexes and its intents (audit_pending)
	{Version: 4, Name: "security"},       // an index per field of users and roles, which their lists read
	{Version: 5, Name: "accounts"},       // permissions as a model (view_name, label), roles holding them by id
	{Version: 6, Name: "tokens"},         // API tokens, unique by digest, indexed by user
	{Version: 7, Name: "second_factors"}, // TOTP second factors, unique by user
	{Version: 8, Name: "identities"},     // identities at OpenID providers, unique by digest
	{Version: 9, Name: "user_settings"},  // users' language and time_zone; a document without them has none
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
