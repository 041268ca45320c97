package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	"gorm.io/gorm"

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
// one open cursor: no statement, snapshot or SQLite read lock is held
// while fn runs, so fn may write (even to this database), and MySQL's
// net_write_timeout cannot cut a slow consumer off mid-result. (On SQLite
// a walk longer than a batch keeps one connection of the pool, idle
// between batches, for its page cache: see walker.)
//
// Text matches scan along the sort order instead of reading candidates
// from the trigram index: every batch would read the index's token lists
// again, while the scan, resumed where the last batch stopped, reads the
// table once in all.
func (m *Model[T]) Each(ctx context.Context, q datamodel.Query, fn func(datamodel.Record) error) error {
	return m.each(ctx, q, false, fn)
}

var _ datamodel.Reuser = (*Model[struct{ ID int64 }])(nil)

// EachReused is Each handing fn one record refilled for every call
// (datamodel.Reuser): besides the values the driver reads, a record costs
// no allocation but its id's text, where Each makes a map and a Ref for
// every one.
func (m *Model[T]) EachReused(ctx context.Context, q datamodel.Query, fn func(datamodel.Record) error) error {
	return m.each(ctx, q, true, fn)
}

func (m *Model[T]) each(ctx context.Context, q datamodel.Query, reuse bool, fn func(datamodel.Record) error) error {
	where, args, _, err := m.where(q.Filters, q.Search, q.SearchFields, false)
	if err != nil {
		return err
	}
	where = strings.TrimPrefix(where, " WHERE ")
	w := &walker[T]{m: m, ctx: ctx, db: m.conn(ctx), reuse: reuse, fn: fn}
	defer w.release()
	if q.Sort == nil || q.Sort.Target() == "" {
		return w.walk(where, args, "", q.Sort, q.Desc)
	}
	// A reference may be NULL, which no keyset comparison reaches and
	// which each dialect sorts at another end. The records without one
	// are walked on their own, by id, before the others ascending and
	// after them descending: the same order on every backend.
	col := m.col(m.columns[q.Sort.Name])
	empty := func() error { return w.walk(where, args, col+" IS NULL", nil, q.Desc) }
	set := func() error { return w.walk(where, args, col+" IS NOT NULL", q.Sort, q.Desc) }
	return datamodel.EmptyFirst(q.Desc, empty, set)
}

// eachCacheKiB is the page cache of the SQLite connection a long walk
// reads through (PRAGMA cache_size, in KiB; the connections' default is
// 2,000). A walk in the order of an index reaches the records it refers to
// (the songs' albums) in no order: with their table in the cache, each of
// its pages is read from the file once instead of once a row. 4 MiB holds
// the 100,000 albums of a million songs (3.2 MB: pages read again and
// again stay in the cache, the songs' pages pass through it once); the
// memory is the walk's alone and is given back when it ends. At 8 MiB the
// export of a million songs was no faster (672,000-827,000 rows/s against
// 736,000-906,000) and its peak RSS 3 MB higher.
const eachCacheKiB = 4 << 10

// walker is one walk of Each: it reads records batch by batch through db
// into one batch, reused, and hands them to fn.
type walker[T any] struct {
	m     *Model[T]
	ctx   context.Context
	db    *gorm.DB
	reuse bool
	fn    func(datamodel.Record) error
	b     batch
	rec   datamodel.Record // the record handed over when reuse

	// pin, once the walk is longer than a batch, on SQLite outside a
	// transaction: the connection of the pool it holds from then on, with
	// eachCacheKiB of page cache, and that connection's own size. It is
	// held between batches with nothing open on it: no statement, no
	// snapshot. A walk of one batch costs no statement more.
	pin       *sql.Conn
	cacheSize int64
	tried     bool
}

// widen moves the walk to a connection of its own with a larger page
// cache, where there is one to take; a failure leaves it where it was.
func (w *walker[T]) widen() {
	if w.tried {
		return
	}
	w.tried = true
	if _, inTx := w.ctx.Value(txKey{}).(*gorm.DB); inTx || w.m.st.dialect != "sqlite" {
		return
	}
	sqlDB, err := w.m.db.DB()
	if err != nil {
		return
	}
	conn, err := sqlDB.Conn(w.ctx)
	if err != nil {
		return
	}
	if err := conn.QueryRowContext(w.ctx, "PRAGMA cache_size").Scan(&w.cacheSize); err != nil {
		_ = conn.Close()
		return
	}
	if _, err := conn.ExecContext(w.ctx, fmt.Sprintf("PRAGMA cache_size = -%d", eachCacheKiB)); err != nil {
		_ = conn.Close()
		return
	}
	// As gorm's DB.Connection does: statements of db now go to conn.
	db := w.m.db.WithContext(w.ctx)
	db.Statement.ConnPool = conn
	w.db, w.pin = db, conn
}

// release gives the walk's connection back to the pool with its own page
// cache size: even when ctx is done, else the connection would keep the
// walk's cache.
func (w *walker[T]) release() {
	if w.pin == nil {
		return
	}
	if _, err := w.pin.ExecContext(context.WithoutCancel(w.ctx), fmt.Sprintf("PRAGMA cache_size = %d", w.cacheSize)); err != nil {
		// A connection of unknown cache size leaves the pool.
		_ = w.pin.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = w.pin.Close()
}

// walk reads the records matching where and extra (conditions without
// the WHERE keyword, "" for none) in the order of sort, batch by batch.
func (w *walker[T]) walk(where string, args []any, extra string, sort *datamodel.Field, desc bool) error {
	m := w.m
	var base []string
	if where != "" {
		base = append(base, "("+where+")")
	}
	if extra != "" {
		base = append(base, extra)
	}
	var after string
	var afterArgs []any
	for {
		conds, qargs := base, append([]any(nil), args...)
		if after != "" {
			conds, qargs = append(conds[:len(conds):len(conds)], after), append(qargs, afterArgs...)
		}
		rows, err := run(w.ctx, w.db, m.st.dialect, m.batchQuery(conds, sort, desc), true, append(qargs, m.eachBatch))
		if err == nil {
			err = m.read(&w.b, rows)
		}
		if err != nil {
			return m.translate("read", err)
		}
		n := len(w.b.ids)
		var last datamodel.Record
		for i := range n {
			last = w.record(i)
			if err := w.fn(last); err != nil {
				return err
			}
		}
		if n < m.eachBatch {
			return nil
		}
		w.widen()
		// The next batch starts after the last record: its key is taken
		// now, before the next read refills the batch.
		if after, afterArgs, err = m.after(sort, desc, last); err != nil {
			return err
		}
	}
}

// batchQuery is the statement of one batch of a walk: the records
// matching conds, in the order of sort, at most as many as its one
// argument, the last, says.
func (m *Model[T]) batchQuery(conds []string, sort *datamodel.Field, desc bool) string {
	query := "SELECT " + m.selectColumns() + " FROM " + m.table + m.joins()
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	return query + m.orderBy(sort, desc) + " LIMIT ?"
}

// record is record i of the batch: the walker's own, refilled, when
// reuse, else a new one.
func (w *walker[T]) record(i int) datamodel.Record {
	m, b := w.m, &w.b
	rec := &w.rec
	if !w.reuse {
		rec = &datamodel.Record{}
	}
	if !w.reuse || rec.Values == nil {
		rec.Values = make(map[string]any, len(m.decl.Fields))
	}
	rec.ID = formatID(b.ids[i])
	fields := len(m.decl.Fields)
	for j, f := range m.decl.Fields {
		k := i*fields + j
		if !b.isRef[j] {
			rec.Values[f.Name] = b.vals[k]
			continue
		}
		var ref *datamodel.Ref
		if b.hasRef[k] {
			if w.reuse {
				ref = &b.refs[k]
			} else {
				r := b.refs[k]
				ref = &r
			}
		}
		rec.Values[f.Name] = ref
	}
	return *rec
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

// batch is the records of one batch of a walk as read, in slices the next
// batch refills: the ids, and the value of every field of every record,
// record i's field j at i*len(fields)+j: in vals, or for a reference in
// refs, with hasRef false for none.
type batch struct {
	ids    []int64
	vals   []any
	refs   []datamodel.Ref
	hasRef []bool
	isRef  []bool // per field
	dest   []any  // the scan targets
}

// read reads rows, selected with selectColumns, into b.
func (m *Model[T]) read(b *batch, rows *sql.Rows) error {
	defer rows.Close()
	fields := m.decl.Fields
	if b.dest == nil {
		b.dest = []any{new(int64)}
		b.isRef = make([]bool, len(fields))
		for i, f := range fields {
			if _, b.isRef[i] = m.refs[f.Name]; b.isRef[i] {
				b.dest = append(b.dest, new(sql.NullInt64), new(sql.NullString))
			} else {
				b.dest = append(b.dest, new(any))
			}
		}
	}
	b.ids, b.vals, b.refs, b.hasRef = b.ids[:0], b.vals[:0], b.refs[:0], b.hasRef[:0]
	for rows.Next() {
		if err := rows.Scan(b.dest...); err != nil {
			return err
		}
		b.ids = append(b.ids, *b.dest[0].(*int64))
		d := 1
		for j, f := range fields {
			if b.isRef[j] {
				id, label := b.dest[d].(*sql.NullInt64), b.dest[d+1].(*sql.NullString)
				var ref datamodel.Ref
				if id.Valid {
					ref = datamodel.Ref{ID: formatID(id.Int64), Label: label.String}
				}
				b.vals, b.refs, b.hasRef = append(b.vals, nil), append(b.refs, ref), append(b.hasRef, id.Valid)
				d += 2
				continue
			}
			v, err := f.Kind.Load(*b.dest[d].(*any))
			if err != nil {
				return fmt.Errorf("store: %s.%s: %w", m.table, f.Name, err)
			}
			b.vals, b.refs, b.hasRef = append(b.vals, v), append(b.refs, datamodel.Ref{}), append(b.hasRef, false)
			d++
		}
	}
	return rows.Err()
}
