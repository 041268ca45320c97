package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// AuditEntry is a row of audit_log (migration 00007): append-only, by
// triggers as well as by the code, which never updates or deletes one.
type AuditEntry struct {
	ID          int64  `gorm:"primaryKey"`
	At          string `gorm:"size:32;not null;index:ix_audit_log_at;index:ix_audit_log_username_at,priority:2;index:ix_audit_log_action_at,priority:2;index:ix_audit_log_view_name_at,priority:2;index:ix_audit_log_view_name_record_id_at,priority:3"`
	Username    string `gorm:"size:256;not null;index:ix_audit_log_username_at,priority:1"`
	Action      string `gorm:"size:32;not null;index:ix_audit_log_action_at,priority:1"`
	ViewName    string `gorm:"size:64;not null;default:'';index:ix_audit_log_view_name_at,priority:1;index:ix_audit_log_view_name_record_id_at,priority:1"`
	RecordID    string `gorm:"size:64;not null;default:'';index:ix_audit_log_view_name_record_id_at,priority:2"`
	RecordLabel string `gorm:"size:501;not null;default:''"`
	Changes     string `gorm:"not null"`
}

// TableName is the table of migration 00007.
func (AuditEntry) TableName() string { return "audit_log" }

// auditRow converts e into its row.
func auditRow(e audit.Entry) (*AuditEntry, error) {
	changes := e.Changes
	if changes == nil {
		changes = []audit.Change{}
	}
	js, err := json.Marshal(changes)
	if err != nil {
		return nil, fmt.Errorf("store: audit changes: %w", err)
	}
	return &AuditEntry{At: audit.FormatTime(e.Time), Username: e.Username, Action: e.Action, ViewName: e.View,
		RecordID: e.RecordID, RecordLabel: e.RecordLabel, Changes: string(js)}, nil
}

// appendAudit writes e with tx: in the caller's transaction, so that the
// change and its entry commit together or not at all.
func appendAudit(tx *gorm.DB, e audit.Entry) error {
	row, err := auditRow(e)
	if err != nil {
		return err
	}
	if err := tx.Create(row).Error; err != nil {
		return fmt.Errorf("store: write audit entry: %w", err)
	}
	audit.Wrote(1)
	return nil
}

// AuditLog is the SQL audit log: entries that record no change of a
// record (logins, logouts, password changes) are appended here; the
// entries of a record's change are written by its Model, in its
// transaction.
type AuditLog struct {
	db      *gorm.DB
	entries *Model[AuditEntry]
}

var _ audit.Log = (*AuditLog)(nil)

// NewAuditLog returns the audit log kept in st's database.
func NewAuditLog(st *Store) (*AuditLog, error) {
	entries, err := NewModel[AuditEntry](st, audit.Schema)
	if err != nil {
		return nil, err
	}
	return &AuditLog{db: st.db, entries: entries}, nil
}

// Entries implements audit.Log.
func (l *AuditLog) Entries() datamodel.Interface { return l.entries }

// Append implements audit.Log.
func (l *AuditLog) Append(ctx context.Context, e audit.Entry) error {
	if err := appendAudit(conn(ctx, l.db), e); err != nil {
		return accountsErr("append audit entry", err)
	}
	return nil
}

// InTx runs fn in a transaction of db, passing fn a db of the transaction
// and an append function that writes audit entries in it: for writes
// outside a Model (a password change) whose entry must commit with them.
func InTx(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB, record func(audit.Entry) error) error) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(tx, func(e audit.Entry) error { return appendAudit(tx, e) })
	})
}

// audited runs write and, when ctx carries an actor, writes the audit
// entry of the change in the same transaction. id names the record an
// update or delete changes (nil for a create): write is given that record
// as the transaction reads it first, when there is an actor, or always with
// needOld (UpdateIf compares its version), and returns the record's id.
// Without an actor and without a record to read (app load, the store's own
// tests) write runs alone, one statement, as before the audit log.
func (m *Model[T]) audited(ctx context.Context, action string, id *string, needOld bool,
	write func(tx *gorm.DB, old *datamodel.Record) (string, error)) (string, error) {
	actor, auditing := audit.From(ctx)
	readOld := id != nil && (auditing || needOld)
	if !auditing {
		// One statement, its own transaction; UpdateIf's read comes
		// first, and the statement's WHERE re-checks what it read.
		if !readOld {
			id = nil
		}
		old, err := recordOf(func(id string) (datamodel.Record, error) { return m.Get(ctx, id) }, id)
		if err != nil {
			return "", err
		}
		return write(m.conn(ctx), old)
	}
	var done string
	err := m.conn(ctx).Transaction(func(tx *gorm.DB) error {
		in := m.in(tx)
		get := func(id string) (datamodel.Record, error) { return in.Get(ctx, id) }
		var err error
		done, err = auditedWrite(tx, actor, action, &m.decl, id, get, write)
		return err
	})
	return done, err
}

// recordOf reads the record of id with get; none for no id.
func recordOf(get func(id string) (datamodel.Record, error), id *string) (*datamodel.Record, error) {
	if id == nil {
		return nil, nil
	}
	rec, err := get(*id)
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// auditedWrite runs write in tx and writes the audit entry of action by
// actor, with the record of id as get reads it before (none for a
// create) and the record write returns the id of as get reads it after
// (none for a delete). An update that changed nothing has no entry.
func auditedWrite(tx *gorm.DB, actor audit.Actor, action string, decl *datamodel.Schema, id *string,
	get func(id string) (datamodel.Record, error),
	write func(tx *gorm.DB, old *datamodel.Record) (string, error)) (string, error) {
	old, err := recordOf(get, id)
	if err != nil {
		return "", err
	}
	done, err := write(tx, old)
	if err != nil {
		return "", err
	}
	var rec *datamodel.Record
	if action != audit.ActionDelete {
		got, err := get(done)
		if err != nil {
			return "", fmt.Errorf("store: read %s %s back for the audit log: %w", decl.Name, done, err)
		}
		rec = &got
	}
	e := audit.NewEntry(actor, action, decl, old, rec, time.Now())
	if action == audit.ActionUpdate && len(e.Changes) == 0 {
		return done, nil // saved unchanged: nothing happened to record
	}
	return done, appendAudit(tx, e)
}

// in returns m working in the transaction tx.
func (m *Model[T]) in(tx *gorm.DB) *Model[T] {
	c := *m
	c.db = tx
	return &c
}
