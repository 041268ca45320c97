package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"musicadmin/internal/audit"
)

// DeleteMany removes the records with ids in one DELETE statement, which
// every SQL database runs as one transaction: all or none. The foreign
// keys' ON DELETE SET NULL clear the references to them within it, as for
// Delete. Ids that cannot be a record's are skipped.
func (m *Model[T]) DeleteMany(ctx context.Context, ids []string) (int, error) {
	ns := parseIDs(ids)
	if len(ns) == 0 {
		return 0, nil
	}
	invalidateCounts()
	defer invalidateCounts()
	actor, auditing := audit.From(ctx)
	if !auditing {
		res := m.conn(ctx).Delete(new(T), ns)
		if res.Error != nil {
			return 0, m.translate("delete", res.Error)
		}
		return int(res.RowsAffected), nil
	}
	// Audited: the records are read in the transaction that deletes them,
	// and each gets its entry there. FOR UPDATE keeps MySQL and PostgreSQL
	// from changing them between the read and the delete (SQLite's write
	// transaction holds the whole database already).
	var n int
	err := m.conn(ctx).Transaction(func(tx *gorm.DB) error {
		q := "SELECT " + m.selectColumns() + " FROM " + m.table + m.joins() + " WHERE " + m.col("id") + " IN ?"
		if m.st.dialect != "sqlite" {
			q += " FOR UPDATE OF " + m.table
			if m.st.dialect == "mysql" {
				q = strings.TrimSuffix(q, " OF "+m.table)
			}
		}
		old, err := m.in(tx).scan(tx.Raw(q, ns).Rows())
		if err != nil {
			return err
		}
		res := tx.Delete(new(T), ns)
		if res.Error != nil {
			return res.Error
		}
		n = int(res.RowsAffected)
		now := time.Now()
		for i := range old {
			if err := appendAudit(tx, audit.NewEntry(actor, audit.ActionDelete, &m.decl, &old[i], nil, now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, m.translate("delete", err)
	}
	return n, nil
}

// parseIDs returns the ids that can be a record's, as numbers; the others
// name no record and are skipped.
func parseIDs(ids []string) []int64 {
	ns := make([]int64, 0, len(ids))
	for _, id := range ids {
		if n, ok := parseID(id); ok {
			ns = append(ns, n)
		}
	}
	return ns
}
