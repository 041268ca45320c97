package store

import (
	"context"
	"strings"

	"musicadmin/internal/datamodel"
)

// EachBatch is how many records Each reads per statement: enough that the
// statements cost little next to the rows, few enough that a batch is a
// few hundred kilobytes whatever the table's size.
const EachBatch = 1000

// SetEachBatch changes how many records Each reads per statement; tests
// lower it to cross batch boundaries with a few records.
func (m *Model[T]) SetEachBatch(n int) {
	if n > 0 {
		m.eachBatch = n
	}
}

// Each calls fn with every record matching q, in q's order.
//
// It walks the order in batches by keyset (each batch starts after the
// last record of the one before: its sort value and id), not by OFFSET,
// so a million rows cost a million rows and not their square, and not by
// one open cursor: no connection, snapshot or SQLite read lock is held
// while fn runs, so fn may write (even to this database), and MySQL's
// net_write_timeout cannot cut a slow consumer off mid-result.
//
// Text matches scan along the sort order instead of reading candidates
// from the trigram index: every batch would read the index's token lists
// again, while the scan, resumed where the last batch stopped, reads the
// table once in all.
func (m *Model[T]) Each(ctx context.Context, q datamodel.Query, fn func(datamodel.Record) error) error {
	where, args, _, err := m.where(q.Filters, q.Search, q.SearchFields, false)
	if err != nil {
		return err
	}
	where = strings.TrimPrefix(where, " WHERE ")
	if q.Sort == nil || q.Sort.Target() == "" {
		return m.walk(ctx, where, args, "", q.Sort, q.Desc, fn)
	}
	// A reference may be NULL, which no keyset comparison reaches and
	// which each dialect sorts at another end. The records without one
	// are walked on their own, by id, before the others ascending and
	// after them descending: the same order on every backend.
	col := m.col(m.columns[q.Sort.Name])
	empty := func() error { return m.walk(ctx, where, args, col+" IS NULL", nil, q.Desc, fn) }
	set := func() error { return m.walk(ctx, where, args, col+" IS NOT NULL", q.Sort, q.Desc, fn) }
	return datamodel.EmptyFirst(q.Desc, empty, set)
}

// walk reads the records matching where and extra (conditions without
// the WHERE keyword, "" for none) in the order of sort, batch by batch.
func (m *Model[T]) walk(ctx context.Context, where string, args []any, extra string, sort *datamodel.Field,
	desc bool, fn func(datamodel.Record) error) error {
	var base []string
	if where != "" {
		base = append(base, "("+where+")")
	}
	if extra != "" {
		base = append(base, extra)
	}
	var last *datamodel.Record
	for {
		conds, qargs := base, append([]any(nil), args...)
		if last != nil {
			c, a, err := m.after(sort, desc, *last)
			if err != nil {
				return err
			}
			conds, qargs = append(conds[:len(conds):len(conds)], c), append(qargs, a...)
		}
		query := "SELECT " + m.selectColumns() + " FROM " + m.table + m.joins()
		if len(conds) > 0 {
			query += " WHERE " + strings.Join(conds, " AND ")
		}
		query += m.orderBy(sort, desc) + " LIMIT ?"
		recs, err := m.scan(m.conn(ctx).Raw(query, append(qargs, m.eachBatch)...).Rows())
		if err != nil {
			return m.translate("read", err)
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(recs) < m.eachBatch {
			return nil
		}
		last = &recs[len(recs)-1]
	}
}

// after is the condition "after rec in the order of sort", and its
// arguments: by id alone, by a unique required field alone (the order has
// no ties), or by the field and then id, spelled so that its first term,
// col >= value, bounds the walk of the field's index.
func (m *Model[T]) after(sort *datamodel.Field, desc bool, rec datamodel.Record) (string, []any, error) {
	op := " > ?"
	if desc {
		op = " < ?"
	}
	id, _ := parseID(rec.ID)
	if sort == nil {
		return m.col("id") + op, []any{id}, nil
	}
	key, err := m.arg(sort, rec.Values[sort.Name])
	if err != nil {
		return "", nil, err
	}
	col := m.col(m.columns[sort.Name])
	if sort.Unique && sort.Required {
		return col + op, []any{key}, nil
	}
	return col + op[:2] + "= ? AND (" + col + op + " OR " + m.col("id") + op + ")", []any{key, key, id}, nil
}
