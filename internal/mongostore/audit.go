package mongostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// The audit log on MongoDB. Its entries are the documents of audit_log,
// the model audit.Schema declares (so its list reads like any model's):
//
//	audit_log { _id: ObjectId, at, username, action, view_name,
//	            record_id, record_label, changes: JSON text }
//
// Nothing ever updates or deletes one. A change and its entry cannot be
// one transaction on a server without transactions (a standalone mongod,
// FerretDB), so each audited change goes through an intent, written ahead:
//
//  1. insert the intent into audit_pending: who, what, the record as it
//     was, and how to tell afterwards whether the change happened;
//  2. make the change;
//  3. insert the entry into audit_log under the intent's _id (a repeat
//     meets the unique _id and is skipped), then delete the intent.
//
// A process that dies between the steps leaves the intent behind.
// RecoverAudit, run at every start (server and CLI), settles each intent
// older than the longest write: if the record shows the change happened
// (a created or updated document matches what was written, a deleted one
// is gone) the entry is written, otherwise the intent is dropped. So a
// change without its entry, or an entry without its change, does not
// outlive the next start.
const (
	auditColl   = "audit_log"
	pendingColl = "audit_pending"
)

// intent is a change about to be made, in audit_pending.
type intent struct {
	ID       bson.ObjectID   `bson:"_id"`
	Model    string          `bson:"model"`
	Username string          `bson:"username"`
	View     string          `bson:"view"`
	Action   string          `bson:"action"`
	RecordID bson.ObjectID   `bson:"record_id"`
	Old      *audit.Snapshot `bson:"old"`
	// Expect matches the record once an update or create happened.
	Expect bson.D `bson:"expect"`
}

// AuditLog is the MongoDB audit log.
type AuditLog struct {
	st      *Store
	entries *Model
	// lastImport is the _id after the last one ImportEntries wrote.
	lastImport bson.ObjectID
}

var _ audit.Log = (*AuditLog)(nil)

// DeclareAuditLog declares the audit log's model on s.
func (s *Store) DeclareAuditLog() (*AuditLog, error) {
	// The audit list filters by user, action, view and record, searches
	// labels, and sorts by time: those are indexed, nothing else.
	m, err := s.DeclareIndexed(audit.Schema, []string{"username", "action", "view_name", "record_id", "record_label"}, []string{"at"})
	if err != nil {
		return nil, err
	}
	return &AuditLog{st: s, entries: m}, nil
}

// Entries implements audit.Log.
func (l *AuditLog) Entries() datamodel.Interface { return l.entries }

// Append implements audit.Log.
func (l *AuditLog) Append(ctx context.Context, e audit.Entry) error {
	doc, err := auditDoc(bson.NewObjectID(), e)
	if err != nil {
		return err
	}
	if _, err := l.st.db.Collection(auditColl).InsertOne(ctx, doc); err != nil {
		return translate("append audit entry", err)
	}
	audit.Wrote(1)
	return nil
}

func auditDoc(id bson.ObjectID, e audit.Entry) (bson.D, error) {
	changes := e.Changes
	if changes == nil {
		changes = []audit.Change{}
	}
	js, err := json.Marshal(changes)
	if err != nil {
		return nil, fmt.Errorf("mongostore: audit changes: %w", err)
	}
	return bson.D{{Key: "_id", Value: id}, {Key: "at", Value: audit.FormatTime(e.Time)},
		{Key: "username", Value: e.Username}, {Key: "action", Value: e.Action}, {Key: "view_name", Value: e.View},
		{Key: "record_id", Value: e.RecordID}, {Key: "record_label", Value: e.RecordLabel},
		{Key: "changes", Value: string(js)}}, nil
}

// audited makes the change write does to the document oid (action), and
// when ctx carries an actor, records it through an intent (see above).
// expect matches the document once a create or update happened.
func (m *Model) audited(ctx context.Context, action string, oid bson.ObjectID, expect bson.D, write func() error) error {
	actor, ok := audit.From(ctx)
	if !ok {
		return write()
	}
	// A hash (a password's) is not kept beside the write: the other
	// values tell whether it happened.
	in := intent{ID: bson.NewObjectID(), Model: m.decl.Name, Username: actor.Username, View: actor.View,
		Action: action, RecordID: oid, Expect: m.withoutHashes(expect)}
	if action != audit.ActionCreate {
		rec, err := m.Get(ctx, oid.Hex())
		if err != nil {
			return err
		}
		in.Old = audit.Take(m.Schema(), &rec)
	}
	pending := m.st.db.Collection(pendingColl)
	if _, err := pending.InsertOne(ctx, in); err != nil {
		return translate("write audit intent", err)
	}
	if err := write(); err != nil {
		// Most likely nothing happened; if the intent cannot be dropped
		// now, RecoverAudit looks at the record and decides.
		_, _ = pending.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: in.ID}},
			options.DeleteOne().SetHint(idIndex))
		return err
	}
	if err := m.st.settle(context.WithoutCancel(ctx), in, true); err != nil {
		return err
	}
	m.st.recoverNow(ctx)
	return nil
}

// recoverInterval is how often writes look for intents left by a process
// that died, besides every start.
const recoverInterval = time.Minute

// recoverNow runs RecoverAudit when no write has for recoverInterval: one
// indexed find that finds nothing, almost always. Its error is left for
// the next one: the write it follows succeeded.
func (s *Store) recoverNow(ctx context.Context) {
	now := time.Now().Unix()
	last := s.lastRecovery.Load()
	if now-last < int64(recoverInterval/time.Second) || !s.lastRecovery.CompareAndSwap(last, now) {
		return
	}
	_, _ = s.RecoverAudit(context.WithoutCancel(ctx), AuditSettleAfter)
}

// settle writes the entry of a change that happened, or only drops the
// intent of one that did not, and then drops the intent.
func (s *Store) settle(ctx context.Context, in intent, happened bool) error {
	if happened {
		m := s.models[in.Model]
		if m == nil {
			return fmt.Errorf("mongostore: audit intent %s names unknown model %q", in.ID.Hex(), in.Model)
		}
		var now *audit.Snapshot
		if in.Action != audit.ActionDelete {
			rec, err := m.Get(ctx, in.RecordID.Hex())
			switch {
			case errors.Is(err, datamodel.ErrNotFound):
				// Deleted since: the entry records the change as the
				// intent knew it.
			case err != nil:
				return err
			default:
				now = audit.Take(m.Schema(), &rec)
			}
		}
		e := audit.Build(audit.Actor{Username: in.Username, View: in.View}, in.Action, m.Schema(), in.Old, now,
			in.ID.Timestamp())
		if e.RecordID == "" {
			e.RecordID = in.RecordID.Hex()
		}
		if in.Action != audit.ActionUpdate || len(e.Changes) > 0 {
			doc, err := auditDoc(in.ID, e)
			if err != nil {
				return err
			}
			switch _, err := s.db.Collection(auditColl).InsertOne(ctx, doc); {
			case err == nil:
				audit.Wrote(1)
			case !mongo.IsDuplicateKeyError(err):
				return translate("write audit entry", err)
			}
		}
	}
	_, err := s.db.Collection(pendingColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: in.ID}},
		options.DeleteOne().SetHint(idIndex))
	if err != nil {
		return translate("drop audit intent", err)
	}
	return nil
}

// AuditSettleAfter is how old an intent must be before RecoverAudit
// settles it: longer than any write takes (the server's write timeout is
// a minute), so that an intent another instance is still working on is
// left alone.
const AuditSettleAfter = 5 * time.Minute

// RecoverAudit settles every intent older than age (see the comment at the
// top) and returns how many it settled.
func (s *Store) RecoverAudit(ctx context.Context, age time.Duration) (int, error) {
	cutoff := bson.NewObjectIDFromTimestamp(time.Now().Add(-age))
	if age <= 0 {
		cutoff = bson.NewObjectIDFromTimestamp(time.Now().Add(time.Second))
	}
	cur, err := s.db.Collection(pendingColl).Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: cutoff}}}},
		options.Find().SetHint(idIndex).SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, translate("find audit intents", err)
	}
	var intents []intent
	if err := cur.All(ctx, &intents); err != nil {
		return 0, translate("read audit intents", err)
	}
	for _, in := range intents {
		m := s.models[in.Model]
		if m == nil {
			return 0, fmt.Errorf("mongostore: audit intent %s names unknown model %q", in.ID.Hex(), in.Model)
		}
		happened, err := m.happened(ctx, in)
		if err != nil {
			return 0, err
		}
		if err := s.settle(ctx, in, happened); err != nil {
			return 0, err
		}
	}
	return len(intents), nil
}

// happened reports whether the change of in was made.
func (m *Model) happened(ctx context.Context, in intent) (bool, error) {
	filter := bson.D{{Key: "_id", Value: in.RecordID}}
	if in.Action != audit.ActionDelete {
		filter = append(filter, in.Expect...)
	}
	n, err := m.coll.CountDocuments(ctx, filter, options.Count().SetHint(idIndex))
	if err != nil {
		return false, m.translate("check audit intent on", err)
	}
	if in.Action == audit.ActionDelete {
		return n == 0, nil
	}
	return n == 1, nil
}

// auditedMany is audited for a delete of several documents: one intent
// each, written before, settled after.
func (m *Model) auditedMany(ctx context.Context, oids []bson.ObjectID, write func() error) error {
	actor, ok := audit.From(ctx)
	if !ok {
		return write()
	}
	recs, err := m.getMany(ctx, oids)
	if err != nil {
		return err
	}
	intents := make([]intent, 0, len(recs))
	docs := make([]any, 0, len(recs))
	for i := range recs {
		oid, _ := parseID(recs[i].ID)
		in := intent{ID: bson.NewObjectID(), Model: m.decl.Name, Username: actor.Username, View: actor.View,
			Action: audit.ActionDelete, RecordID: oid, Old: audit.Take(m.Schema(), &recs[i])}
		intents, docs = append(intents, in), append(docs, in)
	}
	if len(docs) > 0 {
		if _, err := m.st.db.Collection(pendingColl).InsertMany(ctx, docs); err != nil {
			return translate("write audit intents", err)
		}
	}
	werr := write()
	ctx = context.WithoutCancel(ctx)
	for _, in := range intents {
		// What the write did to each document is asked of the database:
		// after an error, some may be gone and some not.
		happened := werr == nil
		if werr != nil {
			var err error
			if happened, err = m.happened(ctx, in); err != nil {
				return werr
			}
		}
		if err := m.st.settle(ctx, in, happened); err != nil && werr == nil {
			return err
		}
	}
	return werr
}

// getMany reads the documents oids name, with their labels.
func (m *Model) getMany(ctx context.Context, oids []bson.ObjectID) ([]datamodel.Record, error) {
	cur, err := m.coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: oids}}}},
		options.Find().SetHint(idIndex).SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, m.translate("read", err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return nil, m.translate("read", err)
	}
	recs := make([]datamodel.Record, 0, len(docs))
	for _, d := range docs {
		rec, err := m.load(d)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	if err := m.withLabels(ctx, recs); err != nil {
		return nil, err
	}
	return recs, nil
}
