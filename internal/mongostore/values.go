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
