package mongostore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
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

// accumulators are the $group stage of q: _id the key (or none: every
// document one group), v0, v1, ... the series, and for an average nI,
// the count it divides vI, the sum, by. $avg is not used: FerretDB has
// none. The count is of documents, which is the count of values: the
// store writes every field of a document, an Int its Default when empty.
func accumulators(q datamodel.GroupQuery, byKey bool) bson.D {
	id := any(nil)
	if byKey {
		id = "$" + q.By.Name
	}
	group := bson.D{{Key: "_id", Value: id}}
	for i, s := range q.Series {
		acc := bson.D{{Key: "$sum", Value: 1}}
		switch s.Agg {
		case datamodel.AggCount:
		case datamodel.AggAvg:
			acc = bson.D{{Key: "$sum", Value: "$" + s.Field.Name}}
			group = append(group, bson.E{Key: "n" + strconv.Itoa(i), Value: bson.D{{Key: "$sum", Value: 1}}})
		case datamodel.AggMin, datamodel.AggMax:
			continue // read by extremes: FerretDB has neither accumulator
		default:
			acc = bson.D{{Key: "$" + string(s.Agg), Value: "$" + s.Field.Name}}
		}
		group = append(group, bson.E{Key: "v" + strconv.Itoa(i), Value: acc})
	}
	return group
}

// rankedInMemory reports whether q's groups are ranked here rather than by
// the server: by an average, a minimum or a maximum, which the $group
// stage does not compute.
func rankedInMemory(q datamodel.GroupQuery) bool {
	return q.Rank != datamodel.ByKey && q.Series[q.Rank].Agg != datamodel.AggCount && q.Series[q.Rank].Agg != datamodel.AggSum
}

// extremes reads the minimums and maximums of q's series into the groups'
// documents: for each, the first document of the group (filter and the
// key, or for the others, none of the kept keys) in the field's order, one
// find through the index of the key and the field.
func (m *Model) extremes(ctx context.Context, q datamodel.GroupQuery, filter bson.D, docs []bson.M) error {
	for i, s := range q.Series {
		if s.Agg != datamodel.AggMin && s.Agg != datamodel.AggMax {
			continue
		}
		dir := 1
		if s.Agg == datamodel.AggMax {
			dir = -1
		}
		hint := m.hintOf(s.Field)
		if pairs(q.By, s.Field) && m.indexed(q.By) && m.sorted(s.Field) {
			hint = m.pairIndexName(q.By, s.Field)
		}
		for _, d := range docs {
			where, ok := d["\x00where"].(bson.D)
			if !ok {
				where = and(filter, bson.D{{Key: q.By.Name, Value: d["_id"]}})
			}
			where = and(where, bson.D{{Key: s.Field.Name, Value: bson.D{{Key: "$ne", Value: nil}}}})
			var first bson.M
			err := m.coll.FindOne(ctx, where, options.FindOne().SetHint(hint).
				SetSort(bson.D{{Key: s.Field.Name, Value: dir}}).SetProjection(bson.D{{Key: s.Field.Name, Value: 1}})).Decode(&first)
			switch {
			case errors.Is(err, mongo.ErrNoDocuments):
			case err != nil:
				return m.translate("group", err)
			default:
				d["v"+strconv.Itoa(i)] = first[s.Field.Name]
			}
		}
	}
	return nil
}

func (m *Model) groupNow(ctx context.Context, q datamodel.GroupQuery, filter bson.D) (datamodel.Grouping, error) {
	sort := bson.D{{Key: "_id", Value: 1}}
	if q.Rank != datamodel.ByKey {
		// null, the value of no value, sorts below every number.
		sort = bson.D{{Key: "v" + strconv.Itoa(q.Rank), Value: -1}, {Key: "_id", Value: 1}}
	}
	inMemory := rankedInMemory(q)
	var tail bson.A
	if !inMemory {
		tail = bson.A{bson.D{{Key: "$sort", Value: sort}}}
		if q.Limit > 0 {
			tail = append(tail, bson.D{{Key: "$limit", Value: q.Limit + 1}})
		}
	}
	docs, err := m.groups(ctx, q, filter, true, tail)
	if err != nil {
		return datamodel.Grouping{}, err
	}
	if err := m.extremes(ctx, q, filter, docs); err != nil {
		return datamodel.Grouping{}, err
	}
	if inMemory {
		// Every group was read: the sums and counts rank them, and those
		// past the limit add up to the others.
		slices.SortStableFunc(docs, func(a, b bson.M) int {
			ga := datamodel.Group{Key: a["_id"], Values: seriesValues(a, q)}
			gb := datamodel.Group{Key: b["_id"], Values: seriesValues(b, q)}
			switch {
			case q.Less(ga, gb, idLess):
				return -1
			case q.Less(gb, ga, idLess):
				return 1
			}
			return 0
		})
	}
	var out datamodel.Grouping
	var keys bson.A
	isRef := q.By.Target() != ""
	var refs []datamodel.Record // the groups' keys as records, for withLabels
	for i, d := range docs {
		if q.Limit > 0 && len(out.Groups) == q.Limit {
			out.Other = &datamodel.Group{}
			if inMemory {
				out.Other.Values = seriesValues(mergeGroups(docs[i:], q), q)
			}
			break
		}
		g := datamodel.Group{Values: seriesValues(d, q)}
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
	if out.Other != nil && !inMemory {
		rest := and(filter, bson.D{{Key: q.By.Name, Value: bson.D{{Key: "$nin", Value: keys}}}})
		docs, err := m.groups(ctx, q, rest, false, nil)
		if err != nil {
			return datamodel.Grouping{}, err
		}
		d := bson.M{} // none: the others went meanwhile
		if len(docs) > 0 {
			d = docs[0]
		}
		d["\x00where"] = rest
		if err := m.extremes(ctx, q, nil, []bson.M{d}); err != nil {
			return datamodel.Grouping{}, err
		}
		out.Other.Values = seriesValues(d, q)
	}
	return out, nil
}

// idLess orders group keys as the server does: numbers by value,
// ObjectIDs by their bytes.
func idLess(x, y any) bool {
	if a, ok := x.(bson.ObjectID); ok {
		b, _ := y.(bson.ObjectID)
		return a.Hex() < b.Hex()
	}
	a, _ := toFloat(x)
	b, _ := toFloat(y)
	return a < b
}

// mergeGroups adds up groups as the server's $group would have: counts
// and sums add, minimums and maximums compare.
func mergeGroups(docs []bson.M, q datamodel.GroupQuery) bson.M {
	out := bson.M{}
	for _, d := range docs {
		for k, v := range d {
			if k == "_id" {
				continue
			}
			x, ok := toFloat(v)
			if !ok {
				continue
			}
			prev, had := toFloat(out[k])
			agg := datamodel.AggSum
			if i, err := strconv.Atoi(k[1:]); err == nil && k[0] == 'v' {
				agg = q.Series[i].Agg
			}
			switch {
			case !had:
				out[k] = x
			case agg == datamodel.AggMin:
				out[k] = min(prev, x)
			case agg == datamodel.AggMax:
				out[k] = max(prev, x)
			default:
				out[k] = prev + x
			}
		}
	}
	return out
}

// groups runs the $group stages of q over the documents of match, by key
// (or, not byKey, all of them as one group), one aggregation per
// accumulator: FerretDB computes only the first accumulator of a $group
// stage (the others come back 0). The first is the rank's, followed by
// tail (its $sort and $limit); the others read the groups it kept only.
// The documents returned hold _id and every accumulator's value.
func (m *Model) groups(ctx context.Context, q datamodel.GroupQuery, match bson.D, byKey bool, tail bson.A) ([]bson.M, error) {
	accs := accumulators(q, byKey)
	id, accs := accs[0], accs[1:]
	if len(accs) == 0 { // only extremes: the groups are the keys counted
		accs = bson.D{{Key: "c", Value: bson.D{{Key: "$sum", Value: 1}}}}
	}
	if q.Rank != datamodel.ByKey {
		name := "v" + strconv.Itoa(q.Rank)
		i := slices.IndexFunc(accs, func(e bson.E) bool { return e.Key == name })
		if i >= 0 {
			accs[0], accs[i] = accs[i], accs[0]
		}
	}
	var docs []bson.M
	byID := map[any]bson.M{}
	for i, acc := range accs {
		pipeline := bson.A{bson.D{{Key: "$match", Value: match}}, bson.D{{Key: "$group", Value: bson.D{id, acc}}}}
		if i == 0 {
			pipeline = append(pipeline, tail...)
		} else if byKey && len(tail) > 0 {
			keys := bson.A{}
			for _, d := range docs {
				keys = append(keys, d["_id"])
			}
			pipeline[0] = bson.D{{Key: "$match", Value: and(match, bson.D{{Key: q.By.Name, Value: bson.D{{Key: "$in", Value: keys}}}})}}
		}
		got, err := m.aggregate(ctx, pipeline, m.groupHint(q))
		if err != nil {
			return nil, err
		}
		for _, g := range got {
			if i == 0 {
				docs = append(docs, g)
				byID[g["_id"]] = g
			} else if d := byID[g["_id"]]; d != nil {
				d[acc.Key] = g[acc.Key]
			}
		}
	}
	return docs, nil
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

// seriesValues reads q's series from an aggregation's document (nil:
// none matched): vI, or for an average vI / nI; NaN for no value, but a
// count is 0.
func seriesValues(d bson.M, q datamodel.GroupQuery) []float64 {
	out := make([]float64, len(q.Series))
	for i, s := range q.Series {
		v, ok := toFloat(d["v"+strconv.Itoa(i)])
		switch {
		case s.Agg == datamodel.AggCount:
			out[i] = v
		case !ok:
			out[i] = math.NaN()
		case s.Agg == datamodel.AggAvg:
			n, _ := toFloat(d["n"+strconv.Itoa(i)])
			out[i] = math.NaN()
			if n > 0 {
				out[i] = v / n
			}
		default:
			out[i] = v
		}
	}
	return out
}

// toFloat reads a number the server returned.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case bson.Decimal128:
		f, err := strconv.ParseFloat(x.String(), 64)
		return f, err == nil
	}
	return 0, false
}
