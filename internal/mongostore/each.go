package mongostore

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/datamodel"
)

// EachBatch is how many documents Each reads per batch of its cursor, as
// on SQL (store.EachBatch).
const EachBatch = 1000

// SetEachBatch changes how many documents Each reads per batch; tests lower
// it to cross batch boundaries with a few documents.
func (m *Model) SetEachBatch(n int) {
	if n > 0 {
		m.eachBatch = n
	}
}

// Each calls fn with every document matching q, in q's order.
//
// It reads through one cursor on the index List's hint names, batch by
// batch (getMore), and loads each batch's reference labels in one query.
// One cursor rather than a find per batch: a server that cannot walk an
// index in order (FerretDB v1.24 sorts every find in memory) would sort
// the whole collection again for every batch, which made a dump of 20,000
// songs take 19 s instead of 2. A cursor idle for ten minutes, because fn
// is that slow (a stalled client of an export), is closed by the server:
// then the walk resumes after the last document handed to fn (its sort key
// and _id, as List's bookmarks do), so nothing is skipped or repeated.
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
	return datamodel.EmptyFirst(q.Desc, empty, set)
}

// walk reads the documents of filter in the order sort and hands them to
// fn, resuming after the last one handed over (by key, nil: _id) when the
// server has closed the cursor.
func (m *Model) walk(ctx context.Context, filter bson.D, hint string, sort bson.D, key *datamodel.Field, desc bool,
	fn func(datamodel.Record) error) error {
	var from *mark
	for {
		where := filter
		if from != nil {
			where = and(filter, after(key, from, desc))
		}
		last, err := m.stream(ctx, where, hint, sort, fn)
		if last != nil {
			from = last
		}
		if !cursorLost(err) {
			return err
		}
	}
}

// stream hands every document of one cursor to fn, a batch at a time, and
// returns the sort key of the last one handed over.
func (m *Model) stream(ctx context.Context, filter bson.D, hint string, sort bson.D, fn func(datamodel.Record) error) (*mark, error) {
	cur, err := m.coll.Find(ctx, filter, options.Find().SetHint(hint).SetSort(sort).SetBatchSize(int32(m.eachBatch)))
	if err != nil {
		return nil, m.translate("read", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var last *mark
	docs := make([]bson.M, 0, m.eachBatch)
	flush := func() error {
		recs, keys, err := m.loadAll(ctx, docs, sort[0].Key)
		if err != nil {
			return err
		}
		for i, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
			last = &keys[i]
		}
		docs = docs[:0]
		return nil
	}
	for cur.Next(ctx) {
		var d bson.M
		if err := cur.Decode(&d); err != nil {
			return last, m.translate("read", err)
		}
		if docs = append(docs, d); len(docs) == m.eachBatch {
			if err := flush(); err != nil {
				return last, err
			}
		}
	}
	if err := cur.Err(); err != nil {
		// The documents read before the cursor was lost are handed over
		// first: the resumed walk starts after them.
		if ferr := flush(); ferr != nil {
			return last, ferr
		}
		if cursorLost(err) {
			return last, err
		}
		return last, m.translate("read", err)
	}
	return last, flush()
}

// codeCursorNotFound is the server's answer to a getMore on a cursor it
// has closed, after ten idle minutes.
const codeCursorNotFound = 43

func cursorLost(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(codeCursorNotFound)
}
