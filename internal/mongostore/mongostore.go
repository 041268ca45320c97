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
// Besides the models' collections, Accounts keeps users, roles and
// user_sessions (auth.Store, so that a MongoDB deployment needs no SQL
// database), and schema_version holds the schema version recorded by
// MarkSchema.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/audit"
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

	// accountsMu makes the writes of the users and roles models of this
	// store take turns in this process (security.go).
	accountsMu sync.Mutex

	txMu    sync.Mutex
	txKnown bool // txOK has been asked of the server
	txOK    bool // the server runs multi-document transactions

	lastRecovery atomic.Int64 // unix seconds of the last RecoverAudit by a write
}

// New returns the store of db, with no model declared yet. It does no I/O.
func New(db *mongo.Database) *Store {
	return &Store{db: db, models: map[string]*Model{}}
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
	// outer is the model wrapping this one, if any (see audit).
	outer datamodel.Interface
}

var _ datamodel.Interface = (*Model)(nil)

// Declare adds the model decl to s. A reference must name a model declared
// before, and the label must not be a reference.
func (s *Store) Declare(decl datamodel.Schema) (*Model, error) {
	if err := decl.Check(); err != nil {
		return nil, err
	}
	if _, taken := s.models[decl.Name]; taken {
		return nil, fmt.Errorf("mongostore: model %q declared twice", decl.Name)
	}
	for _, f := range decl.Fields {
		if t := f.Target(); t != "" && s.models[t] == nil && t != decl.Name {
			return nil, fmt.Errorf("mongostore: %s.%s refers to undeclared model %q", decl.Name, f.Name, t)
		}
		if f.Name[0] == '$' || strings.Contains(f.Name, ".") || f.Name == "_id" {
			return nil, fmt.Errorf("mongostore: %s: field name %q is not a document key", decl.Name, f.Name)
		}
	}
	if decl.LabelField().Target() != "" {
		return nil, fmt.Errorf("mongostore: %s: label %q is a reference", decl.Name, decl.Label)
	}
	m := &Model{st: s, decl: decl, coll: s.db.Collection(decl.Name), countLimit: CountLimit, eachBatch: EachBatch, marks: &markCache{epoch: &s.markEpoch},
		counts: &countCache{epoch: &s.markEpoch}, indexed: func(*datamodel.Field) bool { return true },
		sorted: func(*datamodel.Field) bool { return true }}
	s.models[decl.Name] = m
	s.order = append(s.order, m)
	return m, nil
}

// DeclareIndexed is Declare for a model whose lists filter or search only
// the fields named in filters and sort only by those in sorts: it keeps
// indexes for those and their pairs only. A log written far more often
// than it is read (the audit log) would otherwise keep an index on every
// field and every pair of fields, each written with every document.
func (s *Store) DeclareIndexed(decl datamodel.Schema, filters, sorts []string) (*Model, error) {
	m, err := s.Declare(decl)
	if err != nil {
		return nil, err
	}
	for _, n := range append(append([]string(nil), filters...), sorts...) {
		if decl.Field(n) == nil {
			return nil, fmt.Errorf("mongostore: %s: indexed field %q is not a field", decl.Name, n)
		}
	}
	m.indexed = func(f *datamodel.Field) bool {
		return f.Unique || slices.Contains(filters, f.Name) || slices.Contains(sorts, f.Name)
	}
	m.sorted = func(f *datamodel.Field) bool { return slices.Contains(sorts, f.Name) }
	return m, nil
}

// Index is one index the store keeps: the collection, the index's name and
// its key.
type Index struct {
	Collection string
	Name       string
	Keys       bson.D
	Unique     bool
	// TTL makes the server remove a document once the date in the index's
	// one key is past (expireAfterSeconds: 0).
	TTL bool
}

// indexName is the name of the index on field f: the one a query filtering
// or sorting by f names in its hint.
func (m *Model) indexName(f *datamodel.Field) string {
	if f == nil {
		return idIndex
	}
	if f.Unique {
		return "ux_" + m.decl.Name + "_" + f.Name
	}
	return "ix_" + m.decl.Name + "_" + f.Name
}

// pairIndexName is the name of the index on filter field f, then sort
// field by: the one a list filtered by equality on f and sorted by names in
// its hint.
func (m *Model) pairIndexName(f, by *datamodel.Field) string {
	return "ix_" + m.decl.Name + "_" + f.Name + "_" + by.Name
}

// pairs reports whether m keeps an index on (f, by): for each field f that
// many documents share a value of (not unique), and each other field by
// that a list sorts by (not a reference: its order, by ObjectId, means
// nothing to a reader, and no view offers it).
func pairs(f, by *datamodel.Field) bool {
	return f != nil && by != nil && f.Name != by.Name && !f.Unique && by.Target() == ""
}

// Indexes lists the indexes EnsureIndexes creates, besides _id's: one per
// field, and one per filter × sort pair. A unique field's index is unique
// on the field alone: it refuses duplicates, and as no two documents share
// a value it also gives the sort order without an _id tiebreak. Any other
// field's index is (field, _id): equality and range filters on the field,
// and its sort with ties broken by _id, are walks of that index, and
// clearing references to a deleted record finds them through it. A pair's
// index is (filter field, sort field[, _id]), as the SQL migration 00005's:
// a list filtered by equality and sorted by another field reads one range
// of it in order (rating 5 by title), where the sort's index alone would
// test documents until a page is full and the filter's would sort every
// match.
func (s *Store) Indexes() []Index {
	var out []Index
	for _, m := range s.order {
		for i := range m.decl.Fields {
			f := &m.decl.Fields[i]
			if !m.indexed(f) {
				continue
			}
			ix := Index{Collection: m.decl.Name, Name: m.indexName(f), Unique: f.Unique, Keys: bson.D{{Key: f.Name, Value: 1}}}
			if !f.Unique {
				ix.Keys = append(ix.Keys, bson.E{Key: "_id", Value: 1})
			}
			out = append(out, ix)
		}
		for i := range m.decl.Fields {
			for j := range m.decl.Fields {
				f, by := &m.decl.Fields[i], &m.decl.Fields[j]
				if !pairs(f, by) || !m.indexed(f) || !m.sorted(by) {
					continue
				}
				keys := bson.D{{Key: f.Name, Value: 1}, {Key: by.Name, Value: 1}}
				if tiebreak(by) {
					keys = append(keys, bson.E{Key: "_id", Value: 1})
				}
				out = append(out, Index{Collection: m.decl.Name, Name: m.pairIndexName(f, by), Keys: keys})
			}
		}
	}
	return out
}

// EnsureIndexes creates the collections' indexes, and with them the
// collections. It is idempotent: see ensureIndexes.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	byColl := map[string][]Index{}
	for _, ix := range s.Indexes() {
		byColl[ix.Collection] = append(byColl[ix.Collection], ix)
	}
	for _, m := range s.order {
		if err := ensureIndexes(ctx, m.coll, byColl[m.decl.Name]); err != nil {
			return err
		}
	}
	return nil
}

// ensureIndexes creates the indexes want of coll that it lacks. An index
// that exists under its name with the same definition is left alone (only
// the missing ones are sent, as FerretDB v1.24 fails a createIndexes naming
// only existing indexes, and drops the connection with it); one that exists
// with another definition is an error, never silently kept.
func ensureIndexes(ctx context.Context, coll *mongo.Collection, want []Index) error {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return translate("list indexes of "+coll.Name(), err)
	}
	existing := map[string]*mongo.IndexSpecification{}
	for _, sp := range specs {
		existing[sp.Name] = &sp
	}
	var missing []mongo.IndexModel
	for _, ix := range want {
		if sp := existing[ix.Name]; sp != nil {
			ttl := sp.ExpireAfterSeconds != nil && *sp.ExpireAfterSeconds == 0
			if !sameKeys(sp.KeysDocument, ix.Keys) || (sp.Unique != nil && *sp.Unique) != ix.Unique || ttl != ix.TTL {
				return fmt.Errorf("mongostore: index %s of %s exists with another definition (%s): drop it to have it rebuilt",
					ix.Name, coll.Name(), sp.KeysDocument)
			}
			continue
		}
		opts := options.Index().SetName(ix.Name)
		if ix.Unique {
			opts.SetUnique(true)
		}
		if ix.TTL {
			opts.SetExpireAfterSeconds(0)
		}
		missing = append(missing, mongo.IndexModel{Keys: ix.Keys, Options: opts})
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := coll.Indexes().CreateMany(ctx, missing); err != nil {
		return translate("create indexes of "+coll.Name(), err)
	}
	return nil
}

// sameKeys reports whether an index's key document, as listed by the
// server, is keys: the same fields in the same order and directions.
func sameKeys(listed bson.Raw, keys bson.D) bool {
	elems, err := listed.Elements()
	if err != nil || len(elems) != len(keys) {
		return false
	}
	for i, e := range elems {
		dir, ok := e.Value().AsInt64OK()
		if !ok {
			if f, isFloat := e.Value().DoubleOK(); isFloat {
				dir, ok = int64(f), true
			}
		}
		want, _ := keys[i].Value.(int)
		if e.Key() != keys[i].Key || !ok || dir != int64(want) {
			return false
		}
	}
	return true
}

// transactions reports whether the server runs multi-document transactions:
// a replica set member or a mongos. A standalone mongod, and FerretDB v1,
// do not. The answer is asked once.
func (s *Store) transactions(ctx context.Context) (bool, error) {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	if s.txKnown {
		return s.txOK, nil
	}
	var hello struct {
		SetName string `bson:"setName"`
		Msg     string `bson:"msg"`
	}
	if err := s.db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return false, err
	}
	s.txOK, s.txKnown = hello.SetName != "" || hello.Msg == "isdbgrid", true
	return s.txOK, nil
}

// Schema returns the model's declaration.
func (m *Model) Schema() *datamodel.Schema { return &m.decl }

// ValidID accepts an ObjectID's hex as the store writes it: 24 lower-case
// hex digits. Upper case would name the same document by another id.
func (m *Model) ValidID(id string) bool {
	_, ok := parseID(id)
	return ok
}

func parseID(id string) (bson.ObjectID, bool) {
	if len(id) != 24 {
		return bson.ObjectID{}, false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return bson.ObjectID{}, false
		}
	}
	oid, err := bson.ObjectIDFromHex(id)
	return oid, err == nil
}

// value converts a value of field f into what the document holds. A
// reference becomes the target's ObjectID, or nil; an id that no document
// can have is refused. A whole number is stored as a 32-bit integer when it
// fits, as the seed's MongoEngine IntField did (the shell shows rating: 9,
// not Long('9')); filters and sorts compare numbers across widths.
func (m *Model) value(f *datamodel.Field, v any) (any, error) {
	stored := f.Kind.Store(v)
	if f.Target() != "" {
		if stored == nil {
			return nil, nil
		}
		s, _ := stored.(string)
		oid, ok := parseID(s)
		if !ok {
			return nil, &datamodel.InvalidRefError{Field: f.Name}
		}
		return oid, nil
	}
	if n, ok := stored.(int64); ok && n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32(n), nil
	}
	return stored, nil
}

// load converts a stored document into a record; references carry only
// their id until withLabels fills in the labels.
func (m *Model) load(doc bson.M) (datamodel.Record, error) {
	oid, _ := doc["_id"].(bson.ObjectID)
	rec := datamodel.Record{ID: oid.Hex(), Values: make(map[string]any, len(m.decl.Fields))}
	for _, f := range m.decl.Fields {
		raw := doc[f.Name]
		if f.Target() != "" {
			var ref *datamodel.Ref
			switch x := raw.(type) {
			case nil:
			case bson.ObjectID:
				ref = &datamodel.Ref{ID: x.Hex()}
			default:
				return rec, fmt.Errorf("mongostore: %s %s: %s holds %T, not an ObjectID", m.decl.Name, rec.ID, f.Name, raw)
			}
			rec.Values[f.Name] = ref
			continue
		}
		v, err := f.Kind.Load(raw)
		if err != nil {
			return rec, fmt.Errorf("mongostore: %s %s: %s: %w", m.decl.Name, rec.ID, f.Name, err)
		}
		rec.Values[f.Name] = v
	}
	return rec, nil
}

// withLabels fills in the labels of the records' references: one find by
// _id $in per reference field for the whole page, never one per record. A
// reference to a document that is gone keeps its id and an empty label.
func (m *Model) withLabels(ctx context.Context, recs []datamodel.Record) error {
	for _, f := range m.decl.Fields {
		to := m.st.models[f.Target()]
		if to == nil {
			continue
		}
		var ids bson.A
		seen := map[string]bool{}
		for _, r := range recs {
			if ref, _ := r.Values[f.Name].(*datamodel.Ref); ref != nil && !seen[ref.ID] {
				seen[ref.ID] = true
				oid, _ := parseID(ref.ID)
				ids = append(ids, oid)
			}
		}
		if len(ids) == 0 {
			continue
		}
		cur, err := to.coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
			options.Find().SetHint(idIndex).SetProjection(bson.D{{Key: to.decl.Label, Value: 1}}))
		if err != nil {
			return to.translate("read labels of", err)
		}
		var docs []bson.M
		if err := cur.All(ctx, &docs); err != nil {
			return to.translate("read labels of", err)
		}
		labels := make(map[string]string, len(docs))
		for _, d := range docs {
			oid, _ := d["_id"].(bson.ObjectID)
			v, err := to.decl.LabelField().Kind.Load(d[to.decl.Label])
			if err != nil {
				return fmt.Errorf("mongostore: %s %s: %w", to.decl.Name, oid.Hex(), err)
			}
			labels[oid.Hex()] = to.decl.LabelField().Kind.Text(v)
		}
		for _, r := range recs {
			if ref, _ := r.Values[f.Name].(*datamodel.Ref); ref != nil {
				ref.Label = labels[ref.ID]
			}
		}
	}
	return nil
}

// Get returns the record with id, or datamodel.ErrNotFound.
func (m *Model) Get(ctx context.Context, id string) (datamodel.Record, error) {
	oid, ok := parseID(id)
	if !ok {
		return datamodel.Record{}, datamodel.ErrNotFound
	}
	var doc bson.M
	err := m.coll.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}, options.FindOne().SetHint(idIndex)).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return datamodel.Record{}, datamodel.ErrNotFound
	}
	if err != nil {
		return datamodel.Record{}, m.translate("get", err)
	}
	rec, err := m.load(doc)
	if err != nil {
		return datamodel.Record{}, err
	}
	recs := []datamodel.Record{rec}
	if err := m.withLabels(ctx, recs); err != nil {
		return datamodel.Record{}, err
	}
	return recs[0], nil
}

// Exists reports whether a document other than exceptID has field == value.
func (m *Model) Exists(ctx context.Context, field *datamodel.Field, value any, exceptID string) (bool, error) {
	v, err := m.value(field, value)
	var bad *datamodel.InvalidRefError
	if errors.As(err, &bad) {
		return false, nil // an id no document has
	}
	if err != nil {
		return false, err
	}
	filter := bson.D{{Key: field.Name, Value: v}}
	if except, ok := parseID(exceptID); ok {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$ne", Value: except}}})
	}
	err = m.coll.FindOne(ctx, filter, options.FindOne().SetHint(m.indexName(field)).
		SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, m.translate("check", err)
	}
	return true, nil
}

// exists reports whether a document has _id oid.
func (m *Model) exists(ctx context.Context, oid bson.ObjectID) (bool, error) {
	err := m.coll.FindOne(ctx, bson.D{{Key: "_id", Value: oid}},
		options.FindOne().SetHint(idIndex).SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, m.translate("check", err)
	}
	return true, nil
}

// fields converts v into the document's fields, in declaration order; with
// all, the fields v does not hold get their kind's empty value.
func (m *Model) fields(v datamodel.Values, all bool) (bson.D, error) {
	var out bson.D
	for i := range m.decl.Fields {
		f := &m.decl.Fields[i]
		val, ok := v[f.Name]
		if !ok {
			if !all {
				continue
			}
			val = f.Kind.Empty()
		}
		stored, err := m.value(f, val)
		if err != nil {
			return nil, err
		}
		out = append(out, bson.E{Key: f.Name, Value: stored})
	}
	return out, nil
}

// Without transactions, MongoDB cannot make "the target exists" and "the
// reference is written" one step, and with them it cannot either: a
// transaction that reads the target does not lock it against a concurrent
// delete. So a write checks each target before it writes (an id that names
// nothing is refused with InvalidRefError) and again after; a target that
// was deleted in between has its reference cleared, as that delete would
// have done had it come after the write. Delete clears references before
// and after removing the document. Together: whatever the interleaving, no
// reference to a deleted document survives both operations. What is not
// guaranteed: a reader may see, for the few milliseconds between a racing
// write and its re-check, a reference whose target is gone (it reads as the
// id with an empty label); a process that dies, or loses the server, in
// that window leaves the reference in place (it reads the same way, and
// saving the record again refuses it as InvalidRefError until another
// target is chosen); and a write whose re-check fails reports the error
// although the document was written.

// danglingRefs returns the reference fields of doc whose target does not
// exist, with the ids they hold.
func (m *Model) danglingRefs(ctx context.Context, doc bson.D) ([]*datamodel.Field, []bson.ObjectID, error) {
	var fields []*datamodel.Field
	var ids []bson.ObjectID
	for _, e := range doc {
		oid, isRef := e.Value.(bson.ObjectID)
		f := m.decl.Field(e.Key)
		if !isRef || f == nil || f.Target() == "" {
			continue
		}
		ok, err := m.st.models[f.Target()].exists(ctx, oid)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			fields, ids = append(fields, f), append(ids, oid)
		}
	}
	return fields, ids, nil
}

// checkRefs returns an InvalidRefError for the first reference of doc whose
// target does not exist.
func (m *Model) checkRefs(ctx context.Context, doc bson.D) error {
	fields, _, err := m.danglingRefs(ctx, doc)
	if err != nil {
		return err
	}
	if len(fields) > 0 {
		return &datamodel.InvalidRefError{Field: fields[0].Name}
	}
	return nil
}

// recheckRefs clears the references of the document id, just written with
// doc, whose target has been deleted since checkRefs.
func (m *Model) recheckRefs(ctx context.Context, id bson.ObjectID, doc bson.D) error {
	fields, ids, err := m.danglingRefs(ctx, doc)
	if err != nil {
		return err
	}
	for i, f := range fields {
		_, err = m.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: f.Name, Value: ids[i]}},
			bson.D{{Key: "$set", Value: bson.D{{Key: f.Name, Value: nil}}}}, options.UpdateOne().SetHint(idIndex))
		if err != nil {
			return m.translate("clear a reference of", err)
		}
	}
	return nil
}

// Create stores a new document from v and returns its id.
func (m *Model) Create(ctx context.Context, v datamodel.Values) (string, error) {
	fields, err := m.fields(v, true)
	if err != nil {
		return "", err
	}
	if err := m.checkRefs(ctx, fields); err != nil {
		return "", err
	}
	if m.st.checked != nil {
		m.st.checked()
	}
	oid := bson.NewObjectID()
	doc := append(bson.D{{Key: "_id", Value: oid}}, fields...)
	m.st.invalidateMarks()
	defer m.st.invalidateMarks()
	err = m.audited(ctx, audit.ActionCreate, oid, nil, func() error {
		if _, err := m.coll.InsertOne(ctx, doc); err != nil {
			return m.translateWrite(ctx, "create", err, v, "")
		}
		return m.recheckRefs(ctx, oid, fields)
	})
	if err != nil {
		return "", err
	}
	return oid.Hex(), nil
}

// Update writes v to the document with id.
func (m *Model) Update(ctx context.Context, id string, v datamodel.Values) error {
	oid, ok := parseID(id)
	if !ok {
		return datamodel.ErrNotFound
	}
	fields, err := m.fields(v, false)
	if err != nil {
		return err
	}
	if len(fields) == 0 {
		if _, err := m.Get(ctx, id); err != nil {
			return err
		}
		return nil
	}
	if err := m.checkRefs(ctx, fields); err != nil {
		return err
	}
	if m.st.checked != nil {
		m.st.checked()
	}
	m.st.invalidateMarks()
	defer m.st.invalidateMarks()
	return m.audited(ctx, audit.ActionUpdate, oid, fields, func() error {
		res, err := m.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: fields}},
			options.UpdateOne().SetHint(idIndex))
		if err != nil {
			return m.translateWrite(ctx, "update", err, v, id)
		}
		if res.MatchedCount == 0 {
			return datamodel.ErrNotFound
		}
		return m.recheckRefs(ctx, oid, fields)
	})
}

// UpdateIf writes v to the document with id if it still has version. The
// version is checked on the document as read first; then the update's
// filter names every stored value besides _id, so that a write landing
// between that read and this one makes it match nothing: one
// single-document update, atomic without a transaction (FerretDB runs
// none).
func (m *Model) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	oid, ok := parseID(id)
	if !ok {
		return datamodel.ErrNotFound
	}
	fields, err := m.fields(v, false)
	if err != nil {
		return err
	}
	// FerretDB v1 matches an update's filter and writes the document in
	// two steps, so two conditional updates of one document sent at once
	// can both match (seen: 2 of 16 parallel saves won). MongoDB applies
	// the filter and the write atomically; the lock makes this process's
	// own saves of one document take turns on any server, at the cost of
	// serialising saves of the same document, which is what they are.
	unlock := m.st.docLocks.lock(oid)
	defer unlock()
	m.st.invalidateMarks()
	defer m.st.invalidateMarks()
	return m.audited(ctx, audit.ActionUpdate, oid, fields, func() error { return m.updateIf(ctx, oid, version, v, fields) })
}

// updateIf is UpdateIf's check and write, under the document's lock.
func (m *Model) updateIf(ctx context.Context, oid bson.ObjectID, version string, v datamodel.Values, fields bson.D) error {
	id := oid.Hex()
	cur, err := m.Get(ctx, id)
	if err != nil {
		return err
	}
	if m.decl.Version(cur) != version {
		return m.stale(cur, v)
	}
	if len(fields) == 0 {
		return nil
	}
	if err := m.checkRefs(ctx, fields); err != nil {
		return err
	}
	was, err := m.fields(datamodel.Values(cur.Values), true)
	if err != nil {
		return err
	}
	if m.st.checked != nil {
		m.st.checked()
	}
	filter := append(bson.D{{Key: "_id", Value: oid}}, was...)
	res, err := m.coll.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: fields}}, options.UpdateOne().SetHint(idIndex))
	if err != nil {
		return m.translateWrite(ctx, "update", err, v, id)
	}
	if res.MatchedCount == 0 {
		now, err := m.Get(ctx, id)
		if err != nil {
			return err
		}
		return m.stale(now, v)
	}
	return m.recheckRefs(ctx, oid, fields)
}

// stale is UpdateIf's answer for a document that no longer has the
// version asked for: ErrStale, unless it already holds v, when nothing is
// lost.
func (m *Model) stale(rec datamodel.Record, v datamodel.Values) error {
	if m.decl.Holds(rec, v) {
		return nil
	}
	return datamodel.ErrStale
}

// referrer is a reference field of some model pointing at another.
type referrer struct {
	model *Model
	field *datamodel.Field
}

// referrers lists the reference fields, of every model, that point at m.
func (m *Model) referrers() []referrer {
	var out []referrer
	for _, other := range m.st.order {
		for i := range other.decl.Fields {
			if f := &other.decl.Fields[i]; f.Target() == m.decl.Name {
				out = append(out, referrer{other, f})
			}
		}
	}
	return out
}

// clearRefs sets to null every reference to oid.
func (m *Model) clearRefs(ctx context.Context, oid bson.ObjectID) error {
	for _, r := range m.referrers() {
		_, err := r.model.coll.UpdateMany(ctx, bson.D{{Key: r.field.Name, Value: oid}},
			bson.D{{Key: "$set", Value: bson.D{{Key: r.field.Name, Value: nil}}}},
			options.UpdateMany().SetHint(r.model.indexName(r.field)))
		if err != nil {
			return r.model.translate("clear references in", err)
		}
	}
	return nil
}

// Delete removes the document with id and clears every reference to it.
//
// Where the server runs transactions (a replica set, mongos), clearing the
// references and removing the document are one transaction: readers see
// both or neither. Elsewhere (a standalone server, FerretDB) the references
// are cleared first and the document removed after, so that no reader ever
// sees a reference to a missing document because of this delete; if the
// removal then fails, the references are lost but the document stays, and
// deleting it again finishes the job. Either way the references are swept
// once more after the removal, for writes that raced with it (see
// checkRefs).
func (m *Model) Delete(ctx context.Context, id string) error {
	oid, ok := parseID(id)
	if !ok {
		return datamodel.ErrNotFound
	}
	m.st.invalidateMarks()
	defer m.st.invalidateMarks()
	tx, err := m.st.transactions(ctx)
	if err != nil {
		return m.translate("delete from", err)
	}
	remove := func(ctx context.Context) error {
		if err := m.clearRefs(ctx, oid); err != nil {
			return err
		}
		res, err := m.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}}, options.DeleteOne().SetHint(idIndex))
		if err != nil {
			return m.translate("delete from", err)
		}
		if res.DeletedCount == 0 {
			return datamodel.ErrNotFound
		}
		return nil
	}
	err = m.audited(ctx, audit.ActionDelete, oid, nil, func() error {
		if tx {
			return m.st.db.Client().UseSession(ctx, func(ctx context.Context) error {
				_, err := mongo.SessionFromContext(ctx).WithTransaction(ctx, func(ctx context.Context) (any, error) {
					return nil, remove(ctx)
				})
				return err
			})
		}
		// An unknown id must not sweep anything.
		if found, ferr := m.exists(ctx, oid); ferr != nil || !found {
			if ferr != nil {
				return ferr
			}
			return datamodel.ErrNotFound
		}
		return remove(ctx)
	})
	if err != nil {
		return err
	}
	return m.clearRefs(ctx, oid)
}

// Choices lists every document field may point at, as id and label, ordered
// by label and then id.
func (m *Model) Choices(ctx context.Context, field *datamodel.Field) ([]datamodel.Ref, error) {
	to := m.st.models[field.Target()]
	if to == nil {
		return nil, fmt.Errorf("mongostore: %s.%s is not a reference", m.decl.Name, field.Name)
	}
	label := to.decl.LabelField()
	cur, err := to.coll.Find(ctx, bson.D{}, options.Find().SetSort(to.sortSpec(label, false)).
		SetHint(to.indexName(label)).SetProjection(bson.D{{Key: label.Name, Value: 1}}))
	if err != nil {
		return nil, to.translate("choices of", err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return nil, to.translate("choices of", err)
	}
	out := make([]datamodel.Ref, 0, len(docs))
	for _, d := range docs {
		oid, _ := d["_id"].(bson.ObjectID)
		v, err := label.Kind.Load(d[label.Name])
		if err != nil {
			return nil, fmt.Errorf("mongostore: %s %s: %w", to.decl.Name, oid.Hex(), err)
		}
		out = append(out, datamodel.Ref{ID: oid.Hex(), Label: label.Kind.Text(v)})
	}
	return out, nil
}

// stripedLocks are mutexes picked by a document's id: a fixed number, so
// memory stays bounded whatever the number of documents, at the cost of
// unrelated documents sometimes sharing one.
type stripedLocks [64]sync.Mutex

func (l *stripedLocks) lock(oid bson.ObjectID) (unlock func()) {
	var h uint32
	for _, b := range oid {
		h = h*31 + uint32(b)
	}
	mu := &l[h%uint32(len(l))]
	mu.Lock()
	return mu.Unlock
}
