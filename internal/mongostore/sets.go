package mongostore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/datamodel"
)

// A Set field (datamodel.Set) is kept in its holder's document, under the
// field's key, as the array of the chosen documents' ObjectIds, sorted and
// each once (Set.Store's order: two writes of the same options store the
// same array):
//
//	users { …, roles: [ObjectId('…'), ObjectId('…')] }
//
// so that "the users holding role R" is {roles: R}, one walk of the
// field's multikey index, and a user's roles need no join collection. A
// read gives each record's set as Refs with the options' labels, ordered
// by label then id, from one find per set field for a whole page or
// batch; an id whose document is gone is no option, as a join drops it on
// SQL. Deleting an option pulls it from every set that holds it, where a
// reference to it is cleared (refs.go), with the same guarantees.

// setIDs converts a set's value into the ObjectIds its document holds,
// sorted and each once; an id that no document can have is an
// InvalidRefError of f. No option is an empty array, never null.
func setIDs(f *datamodel.Field, v any) ([]bson.ObjectID, error) {
	ids := datamodel.IDs(v)
	out := make([]bson.ObjectID, 0, len(ids))
	for _, id := range ids {
		oid, ok := parseID(id)
		if !ok {
			return nil, &datamodel.InvalidRefError{Field: f.Name}
		}
		out = append(out, oid)
	}
	return out, nil
}

// loadSet reads a set's array as Refs without labels; a document without
// the key holds no option.
func loadSet(raw any) ([]datamodel.Ref, error) {
	switch x := raw.(type) {
	case nil:
		return []datamodel.Ref{}, nil
	case bson.A:
		out := make([]datamodel.Ref, 0, len(x))
		for _, e := range x {
			oid, ok := e.(bson.ObjectID)
			if !ok {
				return nil, fmt.Errorf("holds %T in its set, not an ObjectID", e)
			}
			out = append(out, datamodel.Ref{ID: oid.Hex()})
		}
		return out, nil
	}
	return nil, fmt.Errorf("holds %T, not an array of ObjectIDs", raw)
}

// fillSet gives the sets f of recs their options' labels: one find by _id
// $in for them all. Options whose document is gone are dropped.
func (m *Model) fillSet(ctx context.Context, f *datamodel.Field, recs []datamodel.Record) error {
	to := m.st.models[f.SetOf()]
	var ids bson.A
	seen := map[string]bool{}
	for _, r := range recs {
		refs, _ := r.Values[f.Name].([]datamodel.Ref)
		for _, ref := range refs {
			if !seen[ref.ID] {
				seen[ref.ID] = true
				oid, _ := parseID(ref.ID)
				ids = append(ids, oid)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	labels, err := to.labels(ctx, ids)
	if err != nil {
		return err
	}
	for _, r := range recs {
		refs, _ := r.Values[f.Name].([]datamodel.Ref)
		out := make([]datamodel.Ref, 0, len(refs))
		for _, ref := range refs {
			if label, ok := labels[ref.ID]; ok {
				out = append(out, datamodel.Ref{ID: ref.ID, Label: label})
			}
		}
		slices.SortFunc(out, func(a, b datamodel.Ref) int {
			return cmp.Or(strings.Compare(a.Label, b.Label), strings.Compare(a.ID, b.ID))
		})
		r.Values[f.Name] = out
	}
	return nil
}

// missing returns those of oids that name no document of m: one find.
func (m *Model) missing(ctx context.Context, oids []bson.ObjectID) ([]bson.ObjectID, error) {
	if len(oids) == 0 {
		return nil, nil
	}
	found, err := m.existing(ctx, oids)
	if err != nil {
		return nil, err
	}
	var out []bson.ObjectID
	for _, oid := range oids {
		if !slices.Contains(found, oid) {
			out = append(out, oid)
		}
	}
	return out, nil
}

// pull takes oids out of the set f of the documents filter matches.
func (m *Model) pull(ctx context.Context, filter bson.D, f *datamodel.Field, oids []bson.ObjectID, hint string) error {
	_, err := m.coll.UpdateMany(ctx, filter, bson.D{{Key: "$pullAll", Value: bson.D{{Key: f.Name, Value: oids}}}},
		options.UpdateMany().SetHint(hint))
	if err != nil {
		return m.translate("take options from the sets of", err)
	}
	return nil
}

// hintOf names the index of field f when m keeps one (see DeclareIndexed),
// and _id's otherwise: a hint must name an index the server has.
func (m *Model) hintOf(f *datamodel.Field) string {
	if f != nil && !m.indexed(f) {
		return idIndex
	}
	return m.indexName(f)
}
