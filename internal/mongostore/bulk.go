package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// DeleteMany removes the documents with ids and clears every reference to
// them, as Delete does one, and returns how many it removed.
//
// Where the server runs transactions, clearing and removing are one
// transaction: all or none. Elsewhere (a standalone server, FerretDB) the
// references to every selected document are cleared first, then the
// documents removed with one deleteMany: no reader ever sees a reference
// to a document this call removed, and if the removal fails part way, the
// documents left have lost their references but not themselves, and the
// same call again finishes the job (it is idempotent). Either way the
// references are swept once more afterwards, for writes that raced with
// the removal (see checkRefs).
func (m *Model) DeleteMany(ctx context.Context, ids []string) (int, error) {
	seen := map[bson.ObjectID]bool{}
	for _, id := range ids {
		if oid, ok := parseID(id); ok {
			seen[oid] = true
		}
	}
	if len(seen) == 0 {
		return 0, nil
	}
	// Only documents that exist have their references swept: an unknown
	// id must not change anything, as in Delete.
	oids, err := m.existing(ctx, keys(seen))
	if err != nil || len(oids) == 0 {
		return 0, err
	}
	m.st.invalidateMarks()
	defer m.st.invalidateMarks()
	tx, err := m.st.transactions(ctx)
	if err != nil {
		return 0, m.translate("delete from", err)
	}
	var removed int
	remove := func(ctx context.Context) error {
		if err := m.clearRefsTo(ctx, oids); err != nil {
			return err
		}
		res, err := m.coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: oids}}}},
			options.DeleteMany().SetHint(idIndex))
		if err != nil {
			return m.translate("delete from", err)
		}
		removed = int(res.DeletedCount)
		return nil
	}
	err = m.auditedMany(ctx, oids, func() error {
		if tx {
			return m.st.inTransaction(ctx, remove)
		}
		return remove(ctx)
	})
	if err != nil {
		return 0, err
	}
	return removed, m.clearRefsTo(ctx, oids)
}

// existing returns those of oids that name a document: one find.
func (m *Model) existing(ctx context.Context, oids []bson.ObjectID) ([]bson.ObjectID, error) {
	cur, err := m.coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: oids}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetHint(idIndex))
	if err != nil {
		return nil, m.translate("check", err)
	}
	var found []struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := cur.All(ctx, &found); err != nil {
		return nil, m.translate("check", err)
	}
	out := make([]bson.ObjectID, len(found))
	for i, d := range found {
		out[i] = d.ID
	}
	return out, nil
}

// clearRefsTo sets to null every reference to any of oids, and pulls them
// from every set: one update per referring field.
func (m *Model) clearRefsTo(ctx context.Context, oids []bson.ObjectID) error {
	for _, r := range m.referrers() {
		holds := bson.D{{Key: r.field.Name, Value: bson.D{{Key: "$in", Value: oids}}}}
		hint := r.model.hintOf(r.field)
		if r.field.SetOf() != "" {
			if err := r.model.pull(ctx, holds, r.field, oids, hint); err != nil {
				return err
			}
			continue
		}
		_, err := r.model.coll.UpdateMany(ctx, holds, bson.D{{Key: "$set", Value: bson.D{{Key: r.field.Name, Value: nil}}}},
			options.UpdateMany().SetHint(hint))
		if err != nil {
			return r.model.translate("clear references in", err)
		}
	}
	return nil
}
