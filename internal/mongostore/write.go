package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

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
	if m.createdKey != "" {
		doc = append(doc, bson.E{Key: m.createdKey, Value: time.Now()})
	}
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
	cur, doc, err := m.read(ctx, oid)
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
	for i, e := range was {
		if f := m.decl.Field(e.Key); f != nil && f.SetOf() != "" {
			// A set's array as stored, in its own order and with any
			// option since deleted, which a read sorts and drops.
			was[i].Value = doc[e.Key]
		}
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
			return m.st.inTransaction(ctx, remove)
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
