package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"musicadmin/internal/datamodel"
)

// EachBatch is how many documents Each reads per find, as on SQL
// (store.EachBatch).
const EachBatch = 1000

// SetEachBatch changes how many documents Each reads per find; tests lower
// it to cross batch boundaries with a few documents.
func (m *Model) SetEachBatch(n int) {
	if n > 0 {
		m.eachBatch = n
	}
}

// Each calls fn with every document matching q, in q's order.
//
// It reads in batches by keyset, each a find that starts after the last
// document of the one before (its sort key and _id, as List's bookmarks
// do) through the index List's hint names, so every batch is a bounded
// walk of that index: no cursor stays open while fn runs (a server closes
// idle cursors after ten minutes), and no batch skips over the ones before.
func (m *Model) Each(ctx context.Context, q datamodel.Query, fn func(datamodel.Record) error) error {
	filter, err := m.filter(q.Filters, q.Search, q.SearchFields)
	if err != nil {
		return err
	}
	hint := m.listHint(q.Filters, q.Sort)
	sort := m.sortSpec(q.Sort, q.Desc)
	if q.Sort == nil || q.Sort.Target() == "" {
		return m.walk(ctx, filter, hint, sort, q.Sort, q.Desc, fn)
	}
	// A reference may be null, which a range from a key of another type
	// never matches. The documents without one are walked on their own,
	// by _id (their sort key is the same null), before the others
	// ascending and after them descending: the order of the SQL stores.
	name := q.Sort.Name
	empty := func() error {
		return m.walk(ctx, and(filter, bson.D{{Key: name, Value: nil}}), hint, sort, nil, q.Desc, fn)
	}
	set := func() error {
		return m.walk(ctx, and(filter, bson.D{{Key: name, Value: bson.D{{Key: "$ne", Value: nil}}}}), hint, sort, q.Sort, q.Desc, fn)
	}
	first, second := empty, set
	if q.Desc {
		first, second = set, empty
	}
	if err := first(); err != nil {
		return err
	}
	return second()
}

// walk reads the documents of filter in the order sort, batch by batch,
// each batch after the last one's key of field key (nil: _id).
func (m *Model) walk(ctx context.Context, filter bson.D, hint string, sort bson.D, key *datamodel.Field, desc bool,
	fn func(datamodel.Record) error) error {
	var from *mark
	for {
		where := filter
		if from != nil {
			where = and(filter, after(key, from, desc))
		}
		recs, keys, err := m.find(ctx, where, hint, sort, 0, int64(m.eachBatch))
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(recs) < m.eachBatch {
			return nil
		}
		from = &keys[len(keys)-1]
	}
}
