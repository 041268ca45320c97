package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// BatchError is datamodel.BatchError, by its old name.
type BatchError = datamodel.BatchError

// CreateBatch stores the records vs as Create does, each with the same
// checks, but all in one transaction, and returns their ids in order. It
// is what app load writes with: one commit per record (Create's) is what a
// load of a hundred thousand songs spends its time on, several times over
// on MySQL and PostgreSQL. Either every record is written or, on a
// *BatchError naming the record that failed, none.
func (m *Model[T]) CreateBatch(ctx context.Context, vs []datamodel.Values) ([]string, error) {
	ids := make([]string, 0, len(vs))
	invalidateCounts()
	defer invalidateCounts()
	failed := -1
	actor, auditing := audit.From(ctx)
	err := m.conn(ctx).Transaction(func(tx *gorm.DB) error {
		for i, v := range vs {
			row, err := m.row(v)
			if err != nil {
				return &BatchError{Index: i, Err: err}
			}
			if err := tx.Model(new(T)).Create(row).Error; err != nil {
				failed = i
				return err
			}
			id, err := m.createdID(row)
			if err != nil {
				return err
			}
			ids = append(ids, id)
			if auditing {
				rec, err := m.in(tx).Get(ctx, id)
				if err != nil {
					return fmt.Errorf("store: read %s %s back for the audit log: %w", m.table, id, err)
				}
				if err := appendAudit(tx, audit.NewEntry(actor, audit.ActionCreate, &m.decl, nil, &rec, time.Now())); err != nil {
					return err
				}
			}
		}
		return nil
	})
	var be *BatchError
	switch {
	case err == nil:
		return ids, nil
	case errors.As(err, &be):
		return nil, be
	}
	if failed < 0 {
		return nil, m.translate("create", err)
	}
	// Translated after the rollback: the checks read the database as the
	// batch left it, which is as it was.
	return nil, &BatchError{Index: failed, Err: m.translateWrite(ctx, "create", err, vs[failed], "")}
}
