package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/datamodel"
)

// withLabels fills in the labels of the records' references and sets: one
// find by _id $in per reference or set field for the whole page, never one
// per record. A reference to a document that is gone keeps its id and an
// empty label; a set drops it (see sets.go).
func (m *Model) withLabels(ctx context.Context, recs []datamodel.Record) error {
	for i := range m.decl.Fields {
		f := &m.decl.Fields[i]
		if f.SetOf() != "" {
			if err := m.fillSet(ctx, f, recs); err != nil {
				return err
			}
			continue
		}
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
		labels, err := to.labels(ctx, ids)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if ref, _ := r.Values[f.Name].(*datamodel.Ref); ref != nil {
				ref.Label = labels[ref.ID]
			}
		}
	}
	return nil
}

// labels returns the labels of the documents of m with _id in ids, by id
// hex: one find.
func (m *Model) labels(ctx context.Context, ids bson.A) (map[string]string, error) {
	cur, err := m.coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetHint(idIndex).SetProjection(bson.D{{Key: m.decl.Label, Value: 1}}))
	if err != nil {
		return nil, m.translate("read labels of", err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return nil, m.translate("read labels of", err)
	}
	label := m.decl.LabelField()
	out := make(map[string]string, len(docs))
	for _, d := range docs {
		oid, _ := d["_id"].(bson.ObjectID)
		v, err := label.Kind.Load(d[m.decl.Label])
		if err != nil {
			return nil, fmt.Errorf("mongostore: %s %s: %w", m.decl.Name, oid.Hex(), err)
		}
		out[oid.Hex()] = label.Kind.Text(v)
	}
	return out, nil
}

// Get returns the record with id, or datamodel.ErrNotFound.
func (m *Model) Get(ctx context.Context, id string) (datamodel.Record, error) {
	oid, ok := parseID(id)
	if !ok {
		return datamodel.Record{}, datamodel.ErrNotFound
	}
	rec, _, err := m.read(ctx, oid)
	return rec, err
}

// read returns the document oid as a record, with its labels, and as
// stored, or datamodel.ErrNotFound.
func (m *Model) read(ctx context.Context, oid bson.ObjectID) (datamodel.Record, bson.M, error) {
	var doc bson.M
	err := m.coll.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}, options.FindOne().SetHint(idIndex)).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return datamodel.Record{}, nil, datamodel.ErrNotFound
	}
	if err != nil {
		return datamodel.Record{}, nil, m.translate("get", err)
	}
	rec, err := m.load(doc)
	if err != nil {
		return datamodel.Record{}, nil, err
	}
	recs := []datamodel.Record{rec}
	if err := m.withLabels(ctx, recs); err != nil {
		return datamodel.Record{}, nil, err
	}
	return recs[0], doc, nil
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
