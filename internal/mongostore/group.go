package mongostore

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/datamodel"
)

// Group groups the documents matching q by q.By in one aggregation: $match
// (the list's filter), $group with an accumulator per series, $sort and
// $limit (one more than q.Limit, to know whether any are left), hinted to
// an index that holds the key (and the series' field, where a pair's index
// does). The groups' labels are one find by _id $in, as a page's are.
// When groups are left over, a second aggregation takes the documents of
// none of the kept groups together: Other. The answer is remembered as a
// filtered list's count is (the store's write epoch, markTTL). The
// Grouping returned may be shared: callers must not change it.
func (m *Model) Group(ctx context.Context, q datamodel.GroupQuery) (datamodel.Grouping, error) {
	if err := q.Check(&m.decl); err != nil {
		return datamodel.Grouping{}, err
	}
	filter, err := m.filter(q.Filters, q.Search, q.SearchFields)
	if err != nil {
		return datamodel.Grouping{}, err
	}
	key := markKey(filter, nil, false)
	if key != "" {
		key = q.Key(key)
	}
	if c, ok := m.counts.get(key); ok {
		return *c.groups, nil
	}
	epoch := m.st.markEpoch.Load()
	g, err := m.groupNow(ctx, q, filter)
	if err != nil {
		return datamodel.Grouping{}, err
	}
	m.counts.put(key, epoch, cachedCount{groups: &g})
	return g, nil
}

// groupHint names the index a grouping reads: a filter's or the search's,
// as a count's; else the pair's index of the key and the one field the
// series read, which holds every value the aggregation needs; else the
// key's.
func (m *Model) groupHint(q datamodel.GroupQuery) string {
	if len(q.Filters) > 0 || q.Search != "" {
		return m.countHint(q.Filters, q.SearchFields)
	}
	var read *datamodel.Field
	for _, s := range q.Series {
		switch {
		case s.Field == nil:
		case read == nil:
			read = s.Field
		case read.Name != s.Field.Name:
			return m.hintOf(q.By)
		}
	}
	if read != nil && pairs(q.By, read) && m.indexed(q.By) && m.sorted(read) {
		return m.pairIndexName(q.By, read)
	}
	return m.hintOf(q.By)
}

// accumulators are the $group stage of q: _id the key, v0, v1, ... the
// series.
func accumulators(q datamodel.GroupQuery, byKey bool) bson.D {
	id := any(nil)
	if byKey {
		id = "$" + q.By.Name
	}
	group := bson.D{{Key: "_id", Value: id}}
	for i, s := range q.Series {
		acc := bson.D{{Key: "$sum", Value: 1}}
		if s.Agg != datamodel.AggCount {
			acc = bson.D{{Key: "$" + string(s.Agg), Value: "$" + s.Field.Name}}
		}
		group = append(group, bson.E{Key: "v" + strconv.Itoa(i), Value: acc})
	}
	return group
}

func (m *Model) groupNow(ctx context.Context, q datamodel.GroupQuery, filter bson.D) (datamodel.Grouping, error) {
	sort := bson.D{{Key: "_id", Value: 1}}
	if q.Rank != datamodel.ByKey {
		// null, the value of no value, sorts below every number.
		sort = bson.D{{Key: "v" + strconv.Itoa(q.Rank), Value: -1}, {Key: "_id", Value: 1}}
	}
	pipeline := bson.A{
		bson.D{{Key: "$match", Value: filter}},
		bson.D{{Key: "$group", Value: accumulators(q, true)}},
		bson.D{{Key: "$sort", Value: sort}},
	}
	if q.Limit > 0 {
		pipeline = append(pipeline, bson.D{{Key: "$limit", Value: q.Limit + 1}})
	}
	docs, err := m.aggregate(ctx, pipeline, m.groupHint(q))
	if err != nil {
		return datamodel.Grouping{}, err
	}
	var out datamodel.Grouping
	var keys bson.A
	isRef := q.By.Target() != ""
	var refs []datamodel.Record // the groups' keys as records, for withLabels
	for _, d := range docs {
		if q.Limit > 0 && len(out.Groups) == q.Limit {
			out.Other = &datamodel.Group{}
			break
		}
		g := datamodel.Group{Values: seriesValues(d, len(q.Series))}
		raw := d["_id"]
		keys = append(keys, raw)
		switch x := raw.(type) {
		case nil:
		case bson.ObjectID:
			if !isRef {
				return datamodel.Grouping{}, fmt.Errorf("mongostore: %s.%s holds an ObjectID", m.decl.Name, q.By.Name)
			}
			ref := &datamodel.Ref{ID: x.Hex()}
			g.Key = ref
			refs = append(refs, datamodel.Record{Values: map[string]any{q.By.Name: ref}})
		default:
			if g.Key, err = q.By.Kind.Load(raw); err != nil || isRef {
				return datamodel.Grouping{}, fmt.Errorf("mongostore: %s.%s: cannot group by %T: %v", m.decl.Name, q.By.Name, raw, err)
			}
		}
		out.Groups = append(out.Groups, g)
	}
	if len(refs) > 0 {
		if err := m.withLabels(ctx, refs); err != nil {
			return datamodel.Grouping{}, err
		}
	}
	if out.Other != nil {
		rest := and(filter, bson.D{{Key: q.By.Name, Value: bson.D{{Key: "$nin", Value: keys}}}})
		docs, err := m.aggregate(ctx, bson.A{
			bson.D{{Key: "$match", Value: rest}},
			bson.D{{Key: "$group", Value: accumulators(q, false)}},
		}, m.groupHint(q))
		if err != nil {
			return datamodel.Grouping{}, err
		}
		out.Other = &datamodel.Group{Values: seriesValues(nil, len(q.Series))}
		if len(docs) > 0 {
			out.Other.Values = seriesValues(docs[0], len(q.Series))
		}
		for i, s := range q.Series {
			if s.Agg == datamodel.AggCount && math.IsNaN(out.Other.Values[i]) {
				out.Other.Values[i] = 0 // the others went meanwhile
			}
		}
	}
	return out, nil
}

// aggregate runs pipeline through the hinted index and reads every
// document it returns.
func (m *Model) aggregate(ctx context.Context, pipeline bson.A, hint string) ([]bson.M, error) {
	cur, err := m.coll.Aggregate(ctx, pipeline, options.Aggregate().SetHint(hint))
	if err != nil {
		return nil, m.translate("group", err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return nil, m.translate("group", err)
	}
	return docs, nil
}

// seriesValues reads v0 ... v(n-1) of an aggregation's document (nil:
// none), NaN for a null or missing value.
func seriesValues(d bson.M, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
		switch x := d["v"+strconv.Itoa(i)].(type) {
		case int32:
			out[i] = float64(x)
		case int64:
			out[i] = float64(x)
		case float64:
			out[i] = x
		case bson.Decimal128:
			if f, err := strconv.ParseFloat(x.String(), 64); err == nil {
				out[i] = f
			}
		}
	}
	return out
}
