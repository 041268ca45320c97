package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"musicadmin/internal/datamodel"
)

// CountLimit bounds the count of a filtered or searched list: past it the
// list says "more than CountLimit" instead of scanning every match, as a
// million-row table would need on every page view.
const CountLimit = 10_000

// countTTL is how long a cached count is trusted when another process may
// have written to the table; this process's own writes invalidate it at once.
const countTTL = 10 * time.Second

// maxCachedCounts bounds the counts remembered per model.
const maxCachedCounts = 256

// countEpoch is bumped by every create, update and delete of this process,
// on any model: a write to one table can change the counts of another
// (deleting an album clears the album of its songs). A cached count is good
// only in the epoch it was counted in.
var countEpoch atomic.Int64

// invalidateCounts makes every cached count stale. Writers call it before
// and after the statement, so no count read while the write was in flight
// survives it.
func invalidateCounts() { countEpoch.Add(1) }

// countCache remembers recent counts of one model's lists, keyed by their
// WHERE clause and arguments: the whole table on every page view, and a
// search or filter while the user pages through it, are counted once.
//
// Requests that miss the cache together share one count: when a count
// expires under load, every request in flight would otherwise run the same
// statement at once, and COUNT(*) of a million rows takes InnoDB and
// PostgreSQL a few hundred milliseconds each (a stall of seconds on two
// cores with eight connections).
type countCache struct {
	mu      sync.Mutex
	entries map[string]cachedCount
	flights map[flightKey]*countFlight
}

// flightKey names a count in flight: its cache key and the countEpoch it
// started in. A request that arrives in a later epoch (after a write began)
// must not take a count that may predate the write, so it starts its own.
type flightKey struct {
	key   string
	epoch int64
}

// countFlight is a count in flight; done is closed when it has landed.
type countFlight struct {
	done chan struct{}
	c    cachedCount
	err  error
}

// join returns the count in flight for key in epoch, or, with leader true,
// a new one that the caller must run and land.
func (c *countCache) join(key string, epoch int64) (f *countFlight, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fk := flightKey{key, epoch}
	if f, ok := c.flights[fk]; ok {
		return f, false
	}
	if c.flights == nil {
		c.flights = make(map[flightKey]*countFlight)
	}
	f = &countFlight{done: make(chan struct{})}
	c.flights[fk] = f
	return f, true
}

// land publishes the leader's result to the requests waiting on f.
func (c *countCache) land(key string, epoch int64, f *countFlight) {
	c.mu.Lock()
	delete(c.flights, flightKey{key, epoch})
	c.mu.Unlock()
	close(f.done)
}

type cachedCount struct {
	n       int64
	atLeast bool
	groups  *datamodel.Grouping // a grouping's answer (group.go), in place of n
	at      time.Time
	epoch   int64 // countEpoch when n was counted
}

func (c *countCache) get(key string) (cachedCount, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.epoch != countEpoch.Load() || time.Since(e.at) >= countTTL {
		return cachedCount{}, false
	}
	return e, true
}

func (c *countCache) put(key string, e cachedCount) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCachedCounts {
		c.entries = make(map[string]cachedCount)
	}
	c.entries[key] = e
}

// selectColumns lists the selected columns of a record: id, every field,
// and for each reference the label of the record it points at.
func (m *Model[T]) selectColumns() string {
	cols := []string{m.col("id")}
	for _, f := range m.decl.Fields {
		cols = append(cols, m.col(m.columns[f.Name]))
		if to, isRef := m.refs[f.Name]; isRef {
			cols = append(cols, refAlias(f.Name)+"."+to.labelColumn)
		}
	}
	return strings.Join(cols, ", ")
}

// joins returns the LEFT JOINs that load reference labels in the same query
// as the rows: a list page costs the same number of statements whatever the
// number of rows it shows.
func (m *Model[T]) joins() string {
	var b strings.Builder
	for _, f := range m.decl.Fields {
		if to, isRef := m.refs[f.Name]; isRef {
			a := refAlias(f.Name)
			fmt.Fprintf(&b, " LEFT JOIN %s %s ON %s.id = %s", to.table, a, a, m.col(m.columns[f.Name]))
		}
	}
	return b.String()
}

func (m *Model[T]) col(c string) string { return m.table + "." + c }

func refAlias(field string) string { return "ref_" + field }

func (m *Model[T]) orderBy(sort *datamodel.Field, desc bool) string {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	if sort == nil {
		return " ORDER BY " + m.col("id") + dir
	}
	if sort.Unique && sort.Required {
		// No ties to break. Saying so matters: MariaDB walks a unique
		// index for ORDER BY col, but for ORDER BY col, id it reads the
		// whole index and sorts it (the id is not part of a unique key).
		return " ORDER BY " + m.col(m.columns[sort.Name]) + dir
	}
	return " ORDER BY " + m.col(m.columns[sort.Name]) + dir + ", " + m.col("id") + dir
}

// WalkBudget is how many rows the walk along the sort order may be expected
// to test before the text index is the cheaper way to a page: the index
// costs a read of its token lists plus a lookup and a sort of every match.
const WalkBudget = 10_000

// walkBeatsIndex reports whether walking the sort order and testing rows
// one by one is expected to find the rows a page needs (the first end of
// them) within WalkBudget rows, given that matches of the table's rows
// match. Dense matches are found that way at once, while the index would
// read and sort them all; more matches than the count bound are always
// dense.
//
// The estimate holds when matching is independent of the sort order. A
// prefix of the sort column is not: its matches are one run of the order
// (a few, one per spelling of its case), and the walk reads every row
// before them, which may be most of the table (albums starting "gol", by
// name: 40% of the index read before "Golden"). Then, up to the count
// bound, the index is taken: its cost is bounded by the matches, the
// walk's is not. A substring is left to the estimate: most fall inside a
// text (albums holding "river", by name: the walk finds a page in 500
// rows, 0.5 ms, where the index reads and sorts 4,000 matches, 4 ms).
func (m *Model[T]) walkBeatsIndex(ctx context.Context, end, matches int64, atLeast, prefixOfSort bool) (bool, error) {
	if atLeast {
		return true, nil
	}
	if matches == 0 || prefixOfSort {
		return false, nil
	}
	rows, _, err := m.total(ctx, "", nil)
	if err != nil {
		return false, err
	}
	return end*rows/matches <= m.walkBudget, nil
}

// List returns one page of records matching q and the total of matches.
//
// The page is found by a "deferred join": the inner query walks only the
// sort column's index to skip Offset rows and keeps Limit ids, and only
// those rows are read in full and joined to their references. Past the
// middle of an exactly counted list it walks from the other end, so the
// last page of a million rows costs what the first does.
func (m *Model[T]) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	prefix, byPrefix := m.prefixRanges(q)
	// An uncounted text match first probes its tokens' lists in the
	// search index (remembered a while): the index is then read for the
	// rare ones, and a rare text is read from it without walking the
	// order first. A counted one weighs the walk by its count.
	rare := false
	if !byPrefix && q.NoCount && q.Limit > 0 && len(m.textIndex) > 0 {
		var err error
		if rare, err = m.rareText(ctx, q); err != nil {
			return datamodel.Page{}, err
		}
	}
	where, args, indexed, err := m.where(q.Filters, q.Search, q.SearchFields, true)
	if err != nil {
		return datamodel.Page{}, err
	}
	// Uncounted, a list is as one past the count bound.
	total, atLeast := int64(0), true
	if !q.NoCount {
		if total, atLeast, err = m.total(ctx, where, args); err != nil {
			return datamodel.Page{}, err
		}
	}
	if byPrefix {
		records, err := m.prefixPage(ctx, q, prefix)
		return datamodel.Page{Records: records, Total: total, AtLeast: atLeast}, err
	}
	walked := false
	if indexed && q.Limit > 0 {
		// A match on a text index: walk the sort order testing rows,
		// or read the index's candidates and sort them. Counted, the
		// count chooses; uncounted, a bounded walk is tried first
		// (never along a prefix of the order: its matches are one run
		// of it, which the walk finds last).
		var walk bool
		switch {
		case !q.NoCount:
			if walk, err = m.walkBeatsIndex(ctx, int64(q.Offset+q.Limit), total, atLeast, prefixOfSort(q)); err != nil {
				return datamodel.Page{}, err
			}
		case walkable(q.Sort) && !prefixOfSort(q) && !rare:
			records, ok, err := m.walkFirst(ctx, q)
			if err != nil || ok {
				return datamodel.Page{Records: records, Total: total, AtLeast: atLeast}, err
			}
		}
		if walk {
			where, args, _, _ = m.where(q.Filters, q.Search, q.SearchFields, false)
		}
		indexed, walked = !walk, walk
	}
	// Counted past the bound, or walked because the count found the
	// matches many: the first rows of the order hold a page of them
	// whatever the values are. Not so for a prefix: its matches are one
	// run of its text's order, wherever the prefix puts it.
	dense := !q.NoCount && (atLeast || walked) && !slices.ContainsFunc(q.Filters, func(f datamodel.Filter) bool {
		return f.Op == datamodel.OpStartsWith
	})
	records, err := m.readPage(ctx, q, where, args, total, atLeast, indexed, dense)
	if err != nil {
		return datamodel.Page{}, err
	}
	return datamodel.Page{Records: records, Total: total, AtLeast: atLeast}, nil
}

// readPage reads the page of q from the rows where matches, of which there
// are total (atLeast: or more, or uncounted). matchesFirst says where
// takes its candidates from a search index, to be read before the sort;
// dense, that the count found the matches so many that the sort order's
// first rows hold a page of them.
func (m *Model[T]) readPage(ctx context.Context, q datamodel.Query, where string, args []any, total int64,
	atLeast, matchesFirst, dense bool) ([]datamodel.Record, error) {
	if q.Limit <= 0 || q.Offset == 0 && oneAtMost(q.Filters) {
		// Every match, or the one a unique field's equality can have:
		// no page to find, so no deferred join, whose plan costs more
		// than the lookup itself (an API token's check, per request).
		records, err := m.scan(query(ctx, m.db, "SELECT "+m.selectColumns()+" FROM "+m.table+m.joins()+
			where+m.orderBy(q.Sort, q.Desc), args...))
		if err != nil {
			return nil, m.translate("list", err)
		}
		return records, nil
	}
	offset, limit, desc, reversed := int64(q.Offset), int64(q.Limit), q.Desc, false
	if !atLeast && offset > 0 && offset+limit/2 > total/2 {
		reversed, desc = true, !desc
		offset = total - int64(q.Offset) - limit
		if offset < 0 {
			limit += offset
			offset = 0
		}
		if limit <= 0 {
			return nil, nil
		}
	}
	ids := m.pageIDs(where, q.Sort, desc)
	if matchesFirst {
		ids = m.matchesFirstIDs(where, q.Sort, desc)
	}
	first := offset == 0 && !matchesFirst
	run, outer, pageArgs := query, "", append(args, limit, offset)
	switch m.st.dialect {
	case "mysql":
		if first && (where == "" || dense) {
			// A first page, unfiltered or of many matches, is found in
			// the first rows of the sort column's index: with no rows to
			// skip, the ids read first save nothing, and the derived
			// table MariaDB fills with them and joins costs a fifth of
			// the statement's time unfiltered, a third filtered (at 100k
			// songs, 25 rows).
			outer, pageArgs = m.firstPage(where, q.Sort, desc), append(args, limit)
		} else {
			outer = m.deferredJoin(ids, m.orderBy(q.Sort, desc))
		}
	case "postgres":
		if first && (len(args) == 0 || dense) {
			// A list's first page, unfiltered or with many matches: its
			// LIMIT written in (a number of the app's, as the page size
			// is), it is prepared once per connection. Sent with its
			// values, PostgreSQL parsed and planned it on every request:
			// 0.3-0.5 ms of an API page's 0.4-1 ms in the server at 100k
			// songs (every index of the table is weighed). Unfiltered,
			// the statement has no value and one plan. Filtered, its plan
			// may depend on the values, and a generic plan, made for no
			// value in particular, can walk the whole sort order for a
			// filter that matches little; but where the count found the
			// matches many, the walk the generic plan makes is short for
			// every value, and it is the plan PostgreSQL's own choice of
			// a custom one makes. So a filter's page is prepared only
			// then: a sparse one is planned with its values, under
			// another statement text.
			ids = m.sortedIDs(where, q.Sort, desc) + " LIMIT " + strconv.FormatInt(limit, 10)
			run, pageArgs = queryByKey, args
		}
		// The page's ids as an array the rows are read by, rather than
		// a subquery joined to the table: the same reads, but PostgreSQL
		// plans the join of a subquery to a table of many indexes in
		// 0.7-0.8 ms (EXPLAIN's planning time, the song list's
		// rating__gte=5 at 100k songs, the machine loaded) and this in
		// 0.15-0.2, which it then runs faster too (0.15 ms against
		// 0.25-0.35).
		outer = "SELECT " + m.selectColumns() + " FROM " + m.table + m.joins() + " WHERE " + m.col("id") +
			" = ANY(ARRAY(" + ids + "))" + m.orderBy(q.Sort, desc)
	default:
		outer = m.deferredJoin(ids, m.orderBy(q.Sort, desc))
	}
	records, err := m.scan(run(ctx, m.db, outer, pageArgs...))
	if err != nil {
		return nil, m.translate("list", err)
	}
	if reversed {
		slices.Reverse(records)
	}
	return records, nil
}

// oneAtMost reports whether filters match one record at most: one of them
// is the equality of a unique field.
func oneAtMost(filters []datamodel.Filter) bool {
	for _, f := range filters {
		if f.Op == datamodel.OpEq && f.Field.Unique && f.Value != nil {
			return true
		}
	}
	return false
}

// prefixOfSort reports whether q filters the field it sorts by with
// startswith.
func prefixOfSort(q datamodel.Query) bool {
	for _, f := range q.Filters {
		if q.Sort != nil && f.Field.Name == q.Sort.Name && f.Op == datamodel.OpStartsWith {
			return true
		}
	}
	return false
}

// pageIDs is the inner query of a page: the ids of LIMIT ? rows after
// OFFSET ? in the sort order, read from the sort column's index alone.
func (m *Model[T]) pageIDs(where string, sort *datamodel.Field, desc bool) string {
	return m.sortedIDs(where, sort, desc) + " LIMIT ? OFFSET ?"
}

// deferredJoin reads the rows of the ids query ids (a subquery that
// selects id) in full, with their references, in order.
func (m *Model[T]) deferredJoin(ids, order string) string {
	return "SELECT " + m.selectColumns() + " FROM (" + ids + ") page_ids JOIN " + m.table + " ON " +
		m.col("id") + " = page_ids.id" + m.joins() + order
}

// firstPage reads the first LIMIT ? rows where matches in the sort order,
// with their references, in one statement without a subquery.
func (m *Model[T]) firstPage(where string, sort *datamodel.Field, desc bool) string {
	return "SELECT " + m.selectColumns() + " FROM " + m.table + m.joins() + where + m.orderBy(sort, desc) + " LIMIT ?"
}

// sortedIDs is pageIDs without its LIMIT and OFFSET: every id in the
// sort order.
func (m *Model[T]) sortedIDs(where string, sort *datamodel.Field, desc bool) string {
	return "SELECT " + m.col("id") + " FROM " + m.table + where + m.orderBy(sort, desc)
}

// matchesFirstIDs is pageIDs for a where that takes its candidates from a
// search index: on PostgreSQL, the matches are read first and sorted
// after. Left to plan the page at once, PostgreSQL guesses the matches of
// the grams' index are dense (it cannot tell how many an array holds) and
// walks the sort column's index computing every row's grams: 80 ms for
// the first page of the 4,000 of 100,000 album names holding "the", which
// the index reads and sorts in 3. The subquery's OFFSET 0 keeps it from
// being merged into the page's query. Elsewhere the index is a subquery
// of ids (a virtual table on SQLite, the suffixes on MySQL) read first.
func (m *Model[T]) matchesFirstIDs(where string, sort *datamodel.Field, desc bool) string {
	if m.st.dialect != "postgres" {
		return m.pageIDs(where, sort, desc)
	}
	cols := m.col("id")
	if sort != nil {
		cols += ", " + m.col(m.columns[sort.Name])
	}
	return "SELECT " + m.col("id") + " FROM (SELECT " + cols + " FROM " + m.table + where + " OFFSET 0) " + m.table +
		m.orderBy(sort, desc) + " LIMIT ? OFFSET ?"
}

// total counts the matches of where: exactly for the whole table, up to
// countLimit otherwise (atLeast then says there are more). Counts come from
// the model's cache while no write has made them stale.
func (m *Model[T]) total(ctx context.Context, where string, args []any) (n int64, atLeast bool, err error) {
	key := where + "\x00" + fmt.Sprintf("%#v", args)
	c, err := m.cached(ctx, key, func() (c cachedCount, err error) {
		q := "SELECT COUNT(*) FROM " + m.table
		if where != "" {
			q = fmt.Sprintf("SELECT COUNT(*) FROM (SELECT 1 FROM %s%s LIMIT %d) bounded", m.table, where, m.countLimit+1)
		}
		if err := queryRow(ctx, m.db, q, args...).Scan(&c.n); err != nil {
			return c, m.translate("count", err)
		}
		if where != "" && c.n > m.countLimit {
			c.n, c.atLeast = m.countLimit, true
		}
		return c, nil
	})
	return c.n, c.atLeast, err
}

// cached returns the answer the cache holds under key, or computes it:
// once for every request that misses together (they share the leader's
// answer), remembered in the epoch it began in. A count and a grouping
// (group.go) are cached alike.
func (m *Model[T]) cached(ctx context.Context, key string, compute func() (cachedCount, error)) (c cachedCount, err error) {
	if c, ok := m.counts.get(key); ok {
		return c, nil
	}
	epoch, at := countEpoch.Load(), time.Now()
	f, leader := m.counts.join(key, epoch)
	if !leader {
		select {
		case <-f.done:
			if f.err == nil {
				return f.c, nil
			}
			// The leader failed, perhaps only because its own request
			// was cancelled: compute here.
		case <-ctx.Done():
			return cachedCount{}, m.translate("count", ctx.Err())
		}
	} else {
		defer func() {
			f.c, f.err = c, err
			m.counts.land(key, epoch, f)
		}()
	}
	if c, err = compute(); err != nil {
		return cachedCount{}, err
	}
	c.at, c.epoch = at, epoch
	m.counts.put(key, c)
	return c, nil
}

// Count returns exactly how many records match filters.
func (m *Model[T]) Count(ctx context.Context, filters []datamodel.Filter) (int64, error) {
	where, args, _, err := m.where(filters, "", nil, true)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := queryRow(ctx, m.db, "SELECT COUNT(*) FROM "+m.table+where, args...).Scan(&n); err != nil {
		return 0, m.translate("count", err)
	}
	return n, nil
}
