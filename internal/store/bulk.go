package store

import (
	"context"
)

// DeleteMany removes the records with ids in one DELETE statement, which
// every SQL database runs as one transaction: all or none. The foreign
// keys' ON DELETE SET NULL clear the references to them within it, as for
// Delete. Ids that cannot be a record's are skipped.
func (m *Model[T]) DeleteMany(ctx context.Context, ids []string) (int, error) {
	ns := make([]int64, 0, len(ids))
	for _, id := range ids {
		if n, ok := parseID(id); ok {
			ns = append(ns, n)
		}
	}
	if len(ns) == 0 {
		return 0, nil
	}
	invalidateCounts()
	defer invalidateCounts()
	res := m.db.WithContext(ctx).Delete(new(T), ns)
	if res.Error != nil {
		return 0, m.translate("delete", res.Error)
	}
	return int(res.RowsAffected), nil
}
