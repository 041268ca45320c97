package mongostore

import (
	"fmt"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"

	"musicadmin/internal/datamodel"
)

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

// docKey is the document key of field f: its name, or for a WriteOnly
// field the key of its hash, <name>_hash (users' password_hash), so that
// no key of a document ever holds a value as typed.
func docKey(f *datamodel.Field) string {
	if f.WriteOnly {
		return f.Name + "_hash"
	}
	return f.Name
}

// value converts a value of field f into what the document holds. A
// reference becomes the target's ObjectID, or nil; a set, the ObjectIDs of
// its options (setIDs); an id that no document can have is refused. A
// WriteOnly field is stored only as a datamodel.Hash: anything else (a
// Secret nobody hashed, an empty hash) is refused. A whole number is
// stored as a 32-bit integer when it fits, as the seed's MongoEngine
// IntField did (the shell shows rating: 9, not Long('9')); filters and
// sorts compare numbers across widths.
func (m *Model) value(f *datamodel.Field, v any) (any, error) {
	if f.WriteOnly {
		h, ok := v.(datamodel.Hash)
		if !ok || h == "" {
			return nil, fmt.Errorf("mongostore: %s.%s is stored as its hash, never as typed", m.decl.Name, f.Name)
		}
		return string(h), nil
	}
	if f.SetOf() != "" {
		return setIDs(f, v)
	}
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

// load converts a stored document into a record; references and sets
// carry only their ids until withLabels fills in the labels. A WriteOnly
// field is never read.
func (m *Model) load(doc bson.M) (datamodel.Record, error) {
	oid, _ := doc["_id"].(bson.ObjectID)
	rec := datamodel.Record{ID: oid.Hex(), Values: make(map[string]any, len(m.decl.Fields))}
	for _, f := range m.decl.Fields {
		raw := doc[f.Name]
		switch {
		case f.WriteOnly:
			continue
		case f.SetOf() != "":
			refs, err := loadSet(raw)
			if err != nil {
				return rec, fmt.Errorf("mongostore: %s %s: %s: %w", m.decl.Name, rec.ID, f.Name, err)
			}
			rec.Values[f.Name] = refs
			continue
		case f.Target() != "":
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

// fields converts v into the document's fields, in declaration order; with
// all, the fields v does not hold get their kind's empty value (a set,
// no option), but for a WriteOnly one, which is written only when given.
func (m *Model) fields(v datamodel.Values, all bool) (bson.D, error) {
	var out bson.D
	for i := range m.decl.Fields {
		f := &m.decl.Fields[i]
		val, ok := v[f.Name]
		if !ok {
			if !all || f.WriteOnly {
				continue
			}
			val = f.Kind.Empty()
		}
		stored, err := m.value(f, val)
		if err != nil {
			return nil, err
		}
		out = append(out, bson.E{Key: docKey(f), Value: stored})
	}
	return out, nil
}

// withoutHashes returns doc without the keys of WriteOnly fields: what may
// be kept beside a write (an audit intent's expectation), where a hash
// must not be.
func (m *Model) withoutHashes(doc bson.D) bson.D {
	var out bson.D
	for _, e := range doc {
		if f := m.hashed(e.Key); f == nil {
			out = append(out, e)
		}
	}
	return out
}

// hashed returns the WriteOnly field whose hash key is key, or nil.
func (m *Model) hashed(key string) *datamodel.Field {
	for i := range m.decl.Fields {
		if f := &m.decl.Fields[i]; f.WriteOnly && docKey(f) == key {
			return f
		}
	}
	return nil
}
