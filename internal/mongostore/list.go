package mongostore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/datamodel"
)

// CountLimit bounds the count of a filtered or searched list, as on SQL
// (store.CountLimit): past it the list says "more than CountLimit" instead
// of counting every match. The unfiltered total is the collection's
// estimatedDocumentCount, read from its metadata.
const CountLimit = 10_000

// matchNothing is a condition no document meets: an $in of nothing.
var matchNothing = bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}}

// filter builds the query of filters and search: the conditions, joined
// by $and. Field names come from the declaration, never from request text.
func (m *Model) filter(filters []datamodel.Filter, search string, searchFields []*datamodel.Field) (bson.D, error) {
	var conds bson.A
	for _, flt := range filters {
		cond, err := m.condition(flt)
		if err != nil {
			return nil, err
		}
		conds = append(conds, cond)
	}
	if search != "" && len(searchFields) > 0 {
		var ors bson.A
		for _, f := range searchFields {
			ors = append(ors, textMatch(f, search, false))
		}
		conds = append(conds, bson.D{{Key: "$or", Value: ors}})
	}
	if len(conds) == 0 {
		return bson.D{}, nil
	}
	return bson.D{{Key: "$and", Value: conds}}, nil
}

// textMatch matches f's text against text, folded, anywhere or (prefix)
// at its start.
func textMatch(f *datamodel.Field, text string, prefix bool) bson.D {
	pattern, ok := foldPattern(text, prefix)
	if !ok {
		return matchNothing
	}
	return bson.D{{Key: f.Name, Value: bson.Regex{Pattern: pattern}}}
}

// condition is the query of one filter.
func (m *Model) condition(flt datamodel.Filter) (bson.D, error) {
	f := flt.Field
	if f.SetOf() != "" {
		// "Holds": the documents whose array has the option.
		oid, ok := parseID(datamodel.Held(flt.Value))
		switch {
		case flt.Op != datamodel.OpEq:
			return nil, fmt.Errorf("mongostore: operator %q on set %s.%s", flt.Op, m.decl.Name, f.Name)
		case !ok:
			return matchNothing, nil
		}
		return bson.D{{Key: f.Name, Value: oid}}, nil
	}
	if flt.Op == datamodel.OpEmpty {
		// null matches a null value and a missing key alike.
		if empty, _ := flt.Value.(bool); empty {
			return bson.D{{Key: f.Name, Value: nil}}, nil
		}
		return bson.D{{Key: f.Name, Value: bson.D{{Key: "$ne", Value: nil}}}}, nil
	}
	v, err := m.value(f, flt.Value)
	if err != nil {
		// A reference to an id no document can have: equal to nothing.
		v = bson.NilObjectID
	}
	switch flt.Op {
	case datamodel.OpContains, datamodel.OpStartsWith:
		s, _ := v.(string)
		return textMatch(f, s, flt.Op == datamodel.OpStartsWith), nil
	case datamodel.OpEq:
		return bson.D{{Key: f.Name, Value: v}}, nil
	case datamodel.OpNe:
		// $ne also matches null, as the SQL store's "<> ? OR IS NULL".
		return bson.D{{Key: f.Name, Value: bson.D{{Key: "$ne", Value: v}}}}, nil
	case datamodel.OpGt, datamodel.OpGte, datamodel.OpLt, datamodel.OpLte:
		return bson.D{{Key: f.Name, Value: bson.D{{Key: "$" + string(flt.Op), Value: v}}}}, nil
	}
	return nil, fmt.Errorf("mongostore: operator %q on %s.%s", flt.Op, m.decl.Name, f.Name)
}

// tiebreak reports whether sorting by f needs _id to order ties: not for a
// unique required field, whose unique index alone gives the order.
func tiebreak(f *datamodel.Field) bool { return f != nil && !(f.Unique && f.Required) }

// sortSpec is the sort of a list by f (nil: by _id), ties by _id.
func (m *Model) sortSpec(f *datamodel.Field, desc bool) bson.D {
	dir := 1
	if desc {
		dir = -1
	}
	if f == nil {
		return bson.D{{Key: "_id", Value: dir}}
	}
	if !tiebreak(f) {
		return bson.D{{Key: f.Name, Value: dir}}
	}
	return bson.D{{Key: f.Name, Value: dir}, {Key: "_id", Value: dir}}
}

// selective returns the field of the first filter that picks few documents
// through its index: equality on a reference (one album's songs), a set
// holding an option (one role's users) or a unique field (one document).
// Nil when there is none.
func selective(filters []datamodel.Filter) *datamodel.Field {
	for _, f := range filters {
		if f.Op == datamodel.OpEq && (f.Field.Target() != "" || f.Field.SetOf() != "" || f.Field.Unique) {
			return f.Field
		}
	}
	return nil
}

// listHint names the index a page is read through. With an equality
// filter on a unique field, its index (one document). With an equality
// filter on a field paired with the sort's (see Indexes), the pair's: the
// matches are one range of it, in sort order. Otherwise with a selective
// filter, its index: the few matches are then sorted in memory. Otherwise
// the sort's index: the page walks it in order and tests each document
// against the filters, which finds the page at once when matches are dense
// and never sorts the whole collection (the SQL store's "walk"). A range
// filter is never a pair's: its matches span many values of the filter
// field, each in sort order, so the server would sort them all.
func (m *Model) listHint(filters []datamodel.Filter, sort *datamodel.Field) string {
	for _, f := range filters {
		if f.Op == datamodel.OpEq && f.Field.Unique {
			return m.indexName(f.Field) // one document
		}
	}
	for _, f := range filters {
		if f.Op == datamodel.OpEq && pairs(f.Field, sort) && m.indexed(f.Field) && m.sorted(sort) {
			return m.pairIndexName(f.Field, sort)
		}
	}
	if f := selective(filters); f != nil {
		return m.hintOf(f)
	}
	return m.hintOf(sort)
}

// countHint names the index a count reads: a selective filter's, else the
// first filtered or searched field's (a match on the indexed field alone
// is then read from the index without fetching documents), else _id's.
func (m *Model) countHint(filters []datamodel.Filter, searchFields []*datamodel.Field) string {
	if f := selective(filters); f != nil {
		return m.hintOf(f)
	}
	if len(filters) > 0 {
		return m.hintOf(filters[0].Field)
	}
	if len(searchFields) > 0 {
		return m.hintOf(searchFields[0])
	}
	return idIndex
}

// total counts the matches of filter: the whole collection from its
// metadata (estimatedDocumentCount: no scan; exact but after an unclean
// shutdown of the server, or on a sharded cluster with orphaned documents),
// any other list up to countLimit (atLeast then says there are more),
// remembered until a write.
func (m *Model) total(ctx context.Context, filter bson.D, hint string) (n int64, atLeast bool, err error) {
	if len(filter) == 0 && mongo.SessionFromContext(ctx) != nil {
		// In a transaction (a Together's), which runs no count command:
		// an exact count instead.
		n, err = m.coll.CountDocuments(ctx, filter, options.Count().SetHint(idIndex))
		if err != nil {
			return 0, false, m.translate("count", err)
		}
		return n, false, nil
	}
	if len(filter) == 0 {
		n, err = m.coll.EstimatedDocumentCount(ctx)
		if err != nil {
			return 0, false, m.translate("count", err)
		}
		return n, false, nil
	}
	key := markKey(filter, nil, false)
	if c, ok := m.counts.get(key); ok {
		return c.n, c.atLeast, nil
	}
	epoch := m.st.markEpoch.Load()
	n, err = m.coll.CountDocuments(ctx, filter, options.Count().SetHint(hint).SetLimit(m.countLimit+1))
	if err != nil {
		return 0, false, m.translate("count", err)
	}
	if n > m.countLimit {
		n, atLeast = m.countLimit, true
	}
	m.counts.put(key, epoch, cachedCount{n: n, atLeast: atLeast})
	return n, atLeast, nil
}

// countCache remembers the bounded counts of one model's filtered lists, as
// the SQL store does: a user paging through a search has it counted once.
// Like bookmarks, a count is good in the store's write epoch it was taken
// in and for markTTL (writes from elsewhere).
type countCache struct {
	epoch   *atomic.Int64
	mu      sync.Mutex
	entries map[string]cachedCount
}

type cachedCount struct {
	n       int64
	atLeast bool
	groups  *datamodel.Grouping // a grouping's answer (group.go), in place of n
	epoch   int64
	at      time.Time
}

func (c *countCache) get(key string) (cachedCount, bool) {
	if key == "" {
		return cachedCount{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.epoch != c.epoch.Load() || time.Since(e.at) >= markTTL {
		return cachedCount{}, false
	}
	return e, true
}

// put remembers a count taken in epoch, unless a write has happened since.
func (c *countCache) put(key string, epoch int64, e cachedCount) {
	if key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch.Load() {
		return
	}
	if c.entries == nil || len(c.entries) >= maxMarkLists {
		c.entries = make(map[string]cachedCount)
	}
	e.epoch, e.at = epoch, time.Now()
	c.entries[key] = e
}

// Count returns exactly how many documents match filters.
func (m *Model) Count(ctx context.Context, filters []datamodel.Filter) (int64, error) {
	filter, err := m.filter(filters, "", nil)
	if err != nil {
		return 0, err
	}
	if len(filter) == 0 {
		n, _, err := m.total(ctx, filter, "")
		return n, err
	}
	n, err := m.coll.CountDocuments(ctx, filter, options.Count().SetHint(m.countHint(filters, nil)))
	if err != nil {
		return 0, m.translate("count", err)
	}
	return n, nil
}

// List returns one page of documents matching q and the total of matches.
//
// Deep pages never skip further than they must. A page is read from the
// nearest known position in the sort order: the start, the end (walking
// backwards, when the total is exact), or a bookmark left by an earlier
// page of the same list: the sort key and _id of its first and last
// document. From a bookmark the page is a range on the sort index (key
// after the bookmark's, ties by _id), so paging forward or back from a
// page just shown skips nothing, and a jump skips only the distance from
// the nearest bookmark (at most half the list when the total is exact, as
// either end is known). Bookmarks are kept only for
// sorts whose key always holds a value of one type (_id, a required field,
// a number), since MongoDB's range operators match only values of the
// bound's type; any other sort walks from the start or the end. They are
// dropped by any write through the store and after markTTL, as writes from
// elsewhere can move positions.
func (m *Model) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	filter, err := m.filter(q.Filters, q.Search, q.SearchFields)
	if err != nil {
		return datamodel.Page{}, err
	}
	epoch := m.marks.epoch.Load() // before any read: a write from now on voids this page's marks
	// Uncounted, a list is as one past the count bound.
	total, atLeast := int64(0), true
	if !q.NoCount {
		if total, atLeast, err = m.total(ctx, filter, m.countHint(q.Filters, q.SearchFields)); err != nil {
			return datamodel.Page{}, err
		}
	}
	page := datamodel.Page{Total: total, AtLeast: atLeast}
	hint := m.listHint(q.Filters, q.Sort)
	if q.Limit <= 0 {
		page.Records, _, err = m.find(ctx, filter, hint, m.sortSpec(q.Sort, q.Desc), 0, 0)
		return page, err
	}

	offset := int64(q.Offset)
	plan, limit := fromNearerEnd(offset, int64(q.Limit), total, atLeast)
	if limit <= 0 {
		return page, nil
	}
	ranged := rangeable(q.Sort)
	key := ""
	if ranged {
		key = markKey(filter, q.Sort, q.Desc)
		plan = fromNearestMark(plan, m.marks.get(key), offset, limit)
	}
	recs, keys, err := m.readPage(ctx, filter, hint, q, plan, limit)
	if err != nil {
		return datamodel.Page{}, err
	}
	if ranged && len(recs) > 0 {
		first, last := pinned(keys, plan.backward, offset, limit)
		m.marks.add(key, epoch, first, last)
	}
	page.Records = recs
	return page, nil
}

// fromNearerEnd plans the read of the page of limit documents at offset:
// skip offset documents from the start or, when the total is exact (not
// atLeast) and the end is nearer, walk backward from the end. The limit
// returned is cut to the documents the list holds past offset: 0 or less
// when none.
func fromNearerEnd(offset, limit, total int64, atLeast bool) (anchor, int64) {
	plan := anchor{skip: offset}
	if atLeast {
		return plan, limit
	}
	fromEnd := total - offset - limit
	if fromEnd < 0 {
		limit += fromEnd
		fromEnd = 0
	}
	if fromEnd < plan.skip {
		plan = anchor{skip: fromEnd, backward: true}
	}
	return plan, limit
}

// readPage reads up to limit documents of filter as plan says, and returns
// them in the list's order (q's sort and direction) with their sort keys: a
// backward walk reads the reverse order, which is turned around here.
func (m *Model) readPage(ctx context.Context, filter bson.D, hint string, q datamodel.Query, plan anchor,
	limit int64) ([]datamodel.Record, []mark, error) {
	desc := q.Desc != plan.backward
	where := filter
	if plan.from != nil {
		where = and(filter, after(q.Sort, plan.from, desc))
	}
	recs, keys, err := m.find(ctx, where, hint, m.sortSpec(q.Sort, desc), plan.skip, limit)
	if err != nil {
		return nil, nil, err
	}
	if plan.backward {
		slices.Reverse(recs)
		slices.Reverse(keys)
	}
	return recs, keys, nil
}

// find reads documents of filter in sort order through the hinted index and
// loads them as records, with their references' labels, and each one's
// sort key (a mark without its position).
func (m *Model) find(ctx context.Context, filter bson.D, hint string, sort bson.D, skip, limit int64) ([]datamodel.Record, []mark, error) {
	opts := options.Find().SetHint(hint).SetSort(sort)
	if skip > 0 {
		opts.SetSkip(skip)
	}
	if limit > 0 {
		opts.SetLimit(limit)
	}
	cur, err := m.coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, nil, m.translate("list", err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return nil, nil, m.translate("list", err)
	}
	return m.loadAll(ctx, docs, sort[0].Key)
}

// loadAll loads docs as records, with their references' labels, and each
// one's key of the field sortKey (a mark without its position).
func (m *Model) loadAll(ctx context.Context, docs []bson.M, sortKey string) ([]datamodel.Record, []mark, error) {
	recs := make([]datamodel.Record, 0, len(docs))
	keys := make([]mark, 0, len(docs))
	for _, d := range docs {
		rec, err := m.load(d)
		if err != nil {
			return nil, nil, err
		}
		recs = append(recs, rec)
		id, _ := d["_id"].(bson.ObjectID)
		keys = append(keys, mark{key: d[sortKey], id: id})
	}
	if err := m.withLabels(ctx, recs); err != nil {
		return nil, nil, err
	}
	return recs, keys, nil
}

func and(a, b bson.D) bson.D {
	if len(a) == 0 {
		return b
	}
	return bson.D{{Key: "$and", Value: bson.A{a, b}}}
}
