package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"musicadmin/internal/datamodel"
)

// WalkRows is how many rows of the sort order an uncounted page of a text
// match walks, testing each, before it reads the text's search index
// instead. Without a count there is no telling a dense text (a page within
// a few thousand rows of the order, where the index would read and sort
// thousands of matches) from a rare one (the index reads a few), so the
// walk is tried first and bounded. Matches cluster in the order as names
// do: at 100,000 album names (one in 24 holding "river"), the page of
// "river" is found 3,000 rows in (1 ms, where the index takes 4). A text
// whose index lists few rows for one of its tokens (RareCandidates,
// rarity.go) skips the walk: a text no name holds cost the walk of
// WalkRows rows, about 1 ms on PostgreSQL and MySQL and 0.4 ms on SQLite,
// before its index answered nothing.
const WalkRows = 4_000

// walkBounds remembers, per sort order, the sort key of the row WalkRows
// into it: the end of the bounded walk. Any key would give the same pages
// (a walk that fills its page up to a key has found the first matches of
// the order); a stale one only walks a little more or less, so it is read
// again after countTTL, not after every write.
type walkBounds struct {
	mu      sync.Mutex
	entries map[walkOrder]walkBound
}

// walkOrder names a sort order: the sort field's name ("" for the id) and
// its direction.
type walkOrder struct {
	field string
	desc  bool
}

type walkBound struct {
	key   any // nil: the table has no more than WalkRows rows
	found bool
	at    time.Time
}

// walkable reports whether a page sorted by sort can be walked up to a key
// of it: the order is the sort column's alone, or its ties broken by the
// id, and the rows up to a key are the start of the order (no NULLs, which
// the dialects place at either end).
func walkable(sort *datamodel.Field) bool { return sort == nil || sort.Required }

// walkBound returns the sort key of the row m.walkRows into the order of
// sort and desc, and false when the table has no more rows than that.
func (m *Model[T]) walkBound(ctx context.Context, sort *datamodel.Field, desc bool) (any, bool, error) {
	order := walkOrder{desc: desc}
	col := m.col("id")
	if sort != nil {
		order.field, col = sort.Name, m.col(m.columns[sort.Name])
	}
	b := m.bounds
	b.mu.Lock()
	e, ok := b.entries[order]
	b.mu.Unlock()
	if ok && time.Since(e.at) < countTTL {
		return e.key, e.found, nil
	}
	e = walkBound{at: time.Now()}
	err := queryRow(ctx, m.db, "SELECT "+col+" FROM "+m.table+m.orderBy(sort, desc)+" LIMIT 1 OFFSET ?",
		m.walkRows-1).Scan(&e.key)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, false, m.translate("list", err)
	default:
		e.found = true
		if raw, isBytes := e.key.([]byte); isBytes {
			// MySQL's text: compared as text, so that it bounds the
			// column's index.
			e.key = string(raw)
		}
	}
	b.mu.Lock()
	if b.entries == nil {
		b.entries = make(map[walkOrder]walkBound)
	}
	b.entries[order] = e
	b.mu.Unlock()
	return e.key, e.found, nil
}

// walkFirst reads the page of q, an uncounted text match, by walking the
// sort order up to the row m.walkRows into it and testing each row. ok is
// false when that walk did not fill the page: the page is then to be read
// from the search index. A table that small is walked to its end, which
// answers the page whatever it holds.
func (m *Model[T]) walkFirst(ctx context.Context, q datamodel.Query) (records []datamodel.Record, ok bool, err error) {
	where, args, _, err := m.where(q.Filters, q.Search, q.SearchFields, false)
	if err != nil {
		return nil, false, err
	}
	bound, found, err := m.walkBound(ctx, q.Sort, q.Desc)
	if err != nil {
		return nil, false, err
	}
	if found {
		col, cmp := m.col("id"), " <= ?"
		if q.Sort != nil {
			col = m.col(m.columns[q.Sort.Name])
		}
		if q.Desc {
			cmp = " >= ?"
		}
		if where == "" {
			where = " WHERE "
		} else {
			where += " AND "
		}
		where += col + cmp
		args = append(args, bound)
	}
	records, err = m.readPage(ctx, q, where, args, 0, true, false, false)
	if err != nil {
		return nil, false, err
	}
	return records, !found || len(records) == q.Limit, nil
}
