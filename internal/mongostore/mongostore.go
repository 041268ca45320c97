// Package mongostore implements the datamodel seam over MongoDB with the
// official driver: no SQL, no GORM. A model is a collection named by the
// schema (album, song), a record one document whose keys are the field
// names, its _id an ObjectID (the record id is its hex), a reference the
// target's ObjectID or null. Documents hold nothing else, so the seed's
// shell shows what it always did:
//
//	db.album.findOne()  { _id: ObjectId('…'), name: 'Album1' }
//	db.song.findOne()   { _id: ObjectId('…'), title: 'Song1', rating: 9, album: ObjectId('…') }
//
// Every find, count and aggregate names the index it must use (a hint) among
// those EnsureIndexes creates, so no query shape can fall back to a
// collection scan unnoticed; a test checks the hints against the server's
// index list.
//
// A set field is an array of ObjectIds and a password its hash under
// <field>_hash (sets.go, values.go), and a model may keep its documents'
// creation time (KeepCreated), so users, roles and permissions are models
// like any other, whose documents keep the shape they had before. Besides the models' collections, Accounts keeps
// user_sessions and reads users and roles for the logins (auth.Store, so
// that a MongoDB deployment needs no SQL database), locks holds the leases
// of Together, and schema_version the schema version recorded by
// MarkSchema.
package mongostore

import (
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"musicadmin/internal/datamodel"
)

// idIndex is the index MongoDB keeps on _id of every collection.
const idIndex = "_id_"

// Store is the MongoDB backend of one database: the models declared on it,
// by name, so that a reference, which names only its target model, finds
// that model's collection and label.
type Store struct {
	db     *mongo.Database
	models map[string]*Model
	order  []*Model // in declaration order

	// checked, when set (by tests), runs between a write's reference check
	// and the write: where a concurrent delete would race with it.
	checked func()

	markEpoch atomic.Int64 // writes through the store: see markCache

	docLocks stripedLocks // UpdateIf's, per document: see there

	tx    txProbe
	locks *leases // Together's

	lastRecovery atomic.Int64 // unix seconds of the last RecoverAudit by a write
}

// New returns the store of db, with no model declared yet. It does no I/O.
func New(db *mongo.Database) *Store {
	s := &Store{db: db, models: map[string]*Model{}}
	s.locks = newLeases(db, &s.tx)
	return s
}

// Database returns the store's database handle.
func (s *Store) Database() *mongo.Database { return s.db }

// Model is one declared model of a Store; it implements datamodel.Interface.
type Model struct {
	st         *Store
	decl       datamodel.Schema
	coll       *mongo.Collection
	countLimit int64 // CountLimit, lowered by tests
	eachBatch  int   // EachBatch, lowered by tests
	marks      *markCache
	counts     *countCache
	// indexed and sorted say which fields have their own index and which
	// are the sort of a pair index (see DeclareIndexed): all, by default.
	indexed, sorted func(*datamodel.Field) bool
	// createdKey, when set, is where a created document holds the time
	// of its creation (see KeepCreated).
	createdKey string
}

var _ datamodel.Interface = (*Model)(nil)

// Schema returns the model's declaration.
func (m *Model) Schema() *datamodel.Schema { return &m.decl }
