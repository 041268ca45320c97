package memstore

import (
	"context"
	"math"
	"slices"

	"musicadmin/internal/datamodel"
)

// acc accumulates one series over a group's records.
type acc struct {
	n             int64 // values seen (records, for a count)
	sum, min, max float64
}

func (a *acc) add(v float64) {
	if a.n == 0 || v < a.min {
		a.min = v
	}
	if a.n == 0 || v > a.max {
		a.max = v
	}
	a.n++
	a.sum += v
}

func (a *acc) merge(b acc) {
	if b.n == 0 {
		return
	}
	if a.n == 0 || b.min < a.min {
		a.min = b.min
	}
	if a.n == 0 || b.max > a.max {
		a.max = b.max
	}
	a.n += b.n
	a.sum += b.sum
}

func (a acc) value(agg datamodel.Agg) float64 {
	if agg == datamodel.AggCount {
		return float64(a.n)
	}
	if a.n == 0 {
		return math.NaN()
	}
	switch agg {
	case datamodel.AggSum:
		return a.sum
	case datamodel.AggAvg:
		return a.sum / float64(a.n)
	case datamodel.AggMin:
		return a.min
	}
	return a.max
}

// Group groups the matching records in memory: this store's database is
// its map.
func (m *Model) Group(_ context.Context, q datamodel.GroupQuery) (datamodel.Grouping, error) {
	if err := q.Check(&m.decl); err != nil {
		return datamodel.Grouping{}, err
	}
	m.st.mu.RLock()
	defer m.st.mu.RUnlock()
	type group struct {
		key  any // as stored: an id, a number, nil
		accs []acc
	}
	groups := map[any]*group{}
	for _, stored := range m.records {
		if !m.matches(stored, q.Filters, q.Search, q.SearchFields) {
			continue
		}
		k := stored[q.By.Name]
		if id, _ := k.(string); q.By.Target() != "" && id == "" {
			k = nil
		}
		g := groups[k]
		if g == nil {
			g = &group{key: k, accs: make([]acc, len(q.Series))}
			groups[k] = g
		}
		for i, s := range q.Series {
			if s.Agg == datamodel.AggCount {
				g.accs[i].n++
			} else if n, ok := stored[s.Field.Name].(int64); ok {
				g.accs[i].add(float64(n))
			}
		}
	}
	values := func(accs []acc) []float64 {
		out := make([]float64, len(accs))
		for i, a := range accs {
			out[i] = a.value(q.Series[i].Agg)
		}
		return out
	}
	type ranked struct {
		datamodel.Group
		accs []acc
	}
	var all []ranked
	for _, g := range groups {
		all = append(all, ranked{Group: datamodel.Group{Key: g.key, Values: values(g.accs)}, accs: g.accs})
	}
	keyLess := func(x, y any) bool {
		if a, ok := x.(int64); ok {
			return a < y.(int64)
		}
		return x.(string) < y.(string)
	}
	slices.SortFunc(all, func(a, b ranked) int {
		switch {
		case q.Less(a.Group, b.Group, keyLess):
			return -1
		case q.Less(b.Group, a.Group, keyLess):
			return 1
		}
		return 0
	})
	var out datamodel.Grouping
	for i, g := range all {
		if q.Limit > 0 && i == q.Limit {
			rest := make([]acc, len(q.Series))
			for _, o := range all[i:] {
				for j := range rest {
					rest[j].merge(o.accs[j])
				}
			}
			out.Other = &datamodel.Group{Values: values(rest)}
			break
		}
		if t := q.By.Target(); t != "" && g.Key != nil {
			id := g.Key.(string)
			to := m.st.models[t]
			g.Key = &datamodel.Ref{ID: id, Label: to.decl.LabelField().Kind.Text(to.records[id][to.decl.Label])}
		}
		out.Groups = append(out.Groups, g.Group)
	}
	return out, nil
}
