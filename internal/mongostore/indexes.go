package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/datamodel"
)

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

// pairs reports whether m keeps an index on (f, by): for each field f that
// many documents share a value of (not unique), and each other field by
// that a list sorts by (not a reference: its order, by ObjectId, means
// nothing to a reader, and no view offers it; not a set, which has no
// order). A WriteOnly field is in no index: nothing filters or sorts by it.
func pairs(f, by *datamodel.Field) bool {
	return f != nil && by != nil && f.Name != by.Name && !f.Unique && by.Target() == "" && by.SetOf() == "" &&
		!f.WriteOnly && !by.WriteOnly
}

// Indexes lists the indexes EnsureIndexes creates, besides _id's: one per
// field, and one per filter × sort pair. A unique field's index is unique
// on the field alone: it refuses duplicates, and as no two documents share
// a value it also gives the sort order without an _id tiebreak. Any other
// field's index is (field, _id): equality and range filters on the field,
// and its sort with ties broken by _id, are walks of that index, and
// clearing references to a deleted record finds them through it; on a
// set's array it is a multikey index, whose entries are the options, so
// "holds R" and pulling a deleted R walk one range of it. A pair's
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
			if !m.indexed(f) || f.WriteOnly {
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
