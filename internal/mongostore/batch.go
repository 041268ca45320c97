package mongostore

import (
	"cmp"
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/datamodel"
)

// CreateBatch stores the records vs as Create does and returns their ids
// in order, with one reference check per target before the batch, one
// insertMany, and one re-check after: what app load writes with, as
// Create's three round trips per record are most of what a load costs.
//
// Without transactions it cannot be all or none the way the SQL stores'
// CreateBatch is, so it comes as close as it can: every record is checked
// before anything is written, and when the insert fails part way (a value
// taken meanwhile, a lost server) the documents it did write are deleted
// again before the *datamodel.BatchError naming the failed record returns.
// Only a server lost between the two leaves part of a batch behind. The
// re-check clears references to targets deleted meanwhile, as Create's
// does (see the comment above danglingRefs).
func (m *Model) CreateBatch(ctx context.Context, vs []datamodel.Values) ([]string, error) {
	docs := make([]bson.D, len(vs))
	for i, v := range vs {
		fields, err := m.fields(v, true)
		if err != nil {
			return nil, &datamodel.BatchError{Index: i, Err: err}
		}
		docs[i] = fields
	}
	missing, err := m.missingTargets(ctx, docs)
	if err != nil {
		return nil, err
	}
	for i, doc := range docs {
		if f := m.danglingIn(doc, missing); f != nil {
			return nil, &datamodel.BatchError{Index: i, Err: &datamodel.InvalidRefError{Field: f.Name}}
		}
	}
	if m.st.checked != nil {
		m.st.checked()
	}
	ids := make([]string, len(docs))
	oids := make([]bson.ObjectID, len(docs))
	inserts := make([]any, len(docs))
	now := time.Now()
	for i, doc := range docs {
		oids[i] = bson.NewObjectID()
		ids[i] = oids[i].Hex()
		inserts[i] = append(bson.D{{Key: "_id", Value: oids[i]}}, doc...)
		if m.createdKey != "" {
			inserts[i] = append(inserts[i].(bson.D), bson.E{Key: m.createdKey, Value: now})
		}
	}
	m.st.invalidateMarks()
	defer m.st.invalidateMarks()
	if _, err := m.coll.InsertMany(ctx, inserts, options.InsertMany().SetOrdered(true)); err != nil {
		return nil, m.undoBatch(ctx, err, vs, oids)
	}
	if err := m.clearGoneTargets(ctx, docs, oids); err != nil {
		return nil, err
	}
	return ids, nil
}

// clearGoneTargets clears, in the documents with oids just inserted from
// docs, the references to targets deleted meanwhile, and takes those out
// of their sets.
func (m *Model) clearGoneTargets(ctx context.Context, docs []bson.D, oids []bson.ObjectID) error {
	missing, err := m.missingTargets(ctx, docs)
	if err != nil {
		return err
	}
	for name, gone := range missing {
		if len(gone) == 0 {
			continue
		}
		f := m.decl.Field(name)
		filter := bson.D{{Key: name, Value: bson.D{{Key: "$in", Value: keys(gone)}}}, {Key: "_id", Value: bson.D{{Key: "$in", Value: oids}}}}
		if f.SetOf() != "" {
			if err := m.pull(ctx, filter, f, keys(gone), m.hintOf(f)); err != nil {
				return err
			}
			continue
		}
		_, err := m.coll.UpdateMany(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: name, Value: nil}}}},
			options.UpdateMany().SetHint(m.hintOf(f)))
		if err != nil {
			return m.translate("clear references of", err)
		}
	}
	return nil
}

// undoBatch deletes what an ordered insertMany wrote before it failed with
// err, and returns the BatchError of the record it failed at.
func (m *Model) undoBatch(ctx context.Context, err error, vs []datamodel.Values, oids []bson.ObjectID) error {
	failed := 0
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && len(bwe.WriteErrors) > 0 {
		failed = bwe.WriteErrors[0].Index
	}
	// Delete every id of the batch, not just those before failed: with a
	// lost connection the server may have written more than it said.
	_, derr := m.coll.DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: oids}}}},
		options.DeleteMany().SetHint(idIndex))
	if derr != nil {
		return &datamodel.BatchError{Index: failed, Err: errors.Join(m.translate("create", err),
			m.translate("remove the partly written batch of", derr))}
	}
	return &datamodel.BatchError{Index: failed, Err: m.translateWrite(ctx, "create", err, vs[failed], "")}
}

// heldIDs returns the ids a reference or set field's stored value holds.
func heldIDs(v any) []bson.ObjectID {
	switch x := v.(type) {
	case bson.ObjectID:
		return []bson.ObjectID{x}
	case []bson.ObjectID:
		return x
	}
	return nil
}

// missingTargets returns, per reference or set field, the ids that docs
// refer to and that name no document of the target: one find per field.
func (m *Model) missingTargets(ctx context.Context, docs []bson.D) (map[string]map[bson.ObjectID]bool, error) {
	out := map[string]map[bson.ObjectID]bool{}
	for i := range m.decl.Fields {
		f := &m.decl.Fields[i]
		to := cmp.Or(f.Target(), f.SetOf())
		if to == "" {
			continue
		}
		want := map[bson.ObjectID]bool{}
		for _, doc := range docs {
			for _, e := range doc {
				if e.Key == f.Name {
					for _, oid := range heldIDs(e.Value) {
						want[oid] = true
					}
				}
			}
		}
		if len(want) == 0 {
			continue
		}
		target := m.st.models[to]
		cur, err := target.coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys(want)}}}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetHint(idIndex))
		if err != nil {
			return nil, target.translate("check references to", err)
		}
		var found []struct {
			ID bson.ObjectID `bson:"_id"`
		}
		if err := cur.All(ctx, &found); err != nil {
			return nil, target.translate("check references to", err)
		}
		for _, d := range found {
			delete(want, d.ID)
		}
		out[f.Name] = want
	}
	return out, nil
}

// danglingIn returns the first reference or set field of doc holding an
// id that missing holds, or nil.
func (m *Model) danglingIn(doc bson.D, missing map[string]map[bson.ObjectID]bool) *datamodel.Field {
	for _, e := range doc {
		for _, oid := range heldIDs(e.Value) {
			if missing[e.Key][oid] {
				return m.decl.Field(e.Key)
			}
		}
	}
	return nil
}

func keys(set map[bson.ObjectID]bool) []bson.ObjectID {
	out := make([]bson.ObjectID, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	return out
}
