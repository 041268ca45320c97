package mongostore

import (
	"cmp"
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
// although the document was written. A set's options are checked and swept
// the same way, each missing one pulled from the array rather than set to
// null; a read drops an option that is gone instead of showing its id.

// dangling is a reference or set field of a document with the ids it holds
// that name no document of its target.
type dangling struct {
	field *datamodel.Field
	ids   []bson.ObjectID
}

// danglingRefs returns the reference and set fields of doc that hold ids
// of documents that do not exist.
func (m *Model) danglingRefs(ctx context.Context, doc bson.D) ([]dangling, error) {
	var out []dangling
	for _, e := range doc {
		f := m.decl.Field(e.Key)
		switch {
		case f == nil:
		case f.Target() != "":
			oid, isRef := e.Value.(bson.ObjectID)
			if !isRef {
				continue
			}
			ok, err := m.st.models[f.Target()].exists(ctx, oid)
			if err != nil {
				return nil, err
			}
			if !ok {
				out = append(out, dangling{f, []bson.ObjectID{oid}})
			}
		case f.SetOf() != "":
			oids, _ := e.Value.([]bson.ObjectID)
			gone, err := m.st.models[f.SetOf()].missing(ctx, oids)
			if err != nil {
				return nil, err
			}
			if len(gone) > 0 {
				out = append(out, dangling{f, gone})
			}
		}
	}
	return out, nil
}

// checkRefs returns an InvalidRefError for the first reference or set of
// doc holding an id whose document does not exist.
func (m *Model) checkRefs(ctx context.Context, doc bson.D) error {
	bad, err := m.danglingRefs(ctx, doc)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return &datamodel.InvalidRefError{Field: bad[0].field.Name}
	}
	return nil
}

// recheckRefs clears the references of the document id, just written with
// doc, whose target has been deleted since checkRefs, and pulls such
// targets from its sets.
func (m *Model) recheckRefs(ctx context.Context, id bson.ObjectID, doc bson.D) error {
	bad, err := m.danglingRefs(ctx, doc)
	if err != nil {
		return err
	}
	for _, d := range bad {
		if d.field.SetOf() != "" {
			if err := m.pull(ctx, bson.D{{Key: "_id", Value: id}}, d.field, d.ids, idIndex); err != nil {
				return err
			}
			continue
		}
		_, err = m.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: d.field.Name, Value: d.ids[0]}},
			bson.D{{Key: "$set", Value: bson.D{{Key: d.field.Name, Value: nil}}}}, options.UpdateOne().SetHint(idIndex))
		if err != nil {
			return m.translate("clear a reference of", err)
		}
	}
	return nil
}

// referrer is a reference or set field of some model pointing at another.
type referrer struct {
	model *Model
	field *datamodel.Field
}

// referrers lists the reference and set fields, of every model, that
// point at m.
func (m *Model) referrers() []referrer {
	var out []referrer
	for _, other := range m.st.order {
		for i := range other.decl.Fields {
			if f := &other.decl.Fields[i]; f.Target() == m.decl.Name || f.SetOf() == m.decl.Name {
				out = append(out, referrer{other, f})
			}
		}
	}
	return out
}

// clearRefs sets to null every reference to oid and pulls it from every
// set.
func (m *Model) clearRefs(ctx context.Context, oid bson.ObjectID) error {
	return m.clearRefsTo(ctx, []bson.ObjectID{oid})
}

// Choices lists every document a reference field may point at, or a set
// field hold, as id and label, ordered by label and then id.
func (m *Model) Choices(ctx context.Context, field *datamodel.Field) ([]datamodel.Ref, error) {
	to := m.st.models[cmp.Or(field.Target(), field.SetOf())]
	if to == nil {
		return nil, fmt.Errorf("mongostore: %s.%s is not a reference or a set", m.decl.Name, field.Name)
	}
	label := to.decl.LabelField()
	cur, err := to.coll.Find(ctx, bson.D{}, options.Find().SetSort(to.sortSpec(label, false)).
		SetHint(to.hintOf(label)).SetProjection(bson.D{{Key: label.Name, Value: 1}}))
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
