package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/datamodel"
)

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
