package datamodel

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Agg is an aggregate of a group's records: a chart's series.
type Agg string

// The aggregates. AggCount counts records (its Series names no field); the
// others read a number field, and ignore records where it is empty.
const (
	AggCount Agg = "count"
	AggSum   Agg = "sum"
	AggAvg   Agg = "avg"
	AggMin   Agg = "min"
	AggMax   Agg = "max"
)

// Series is one aggregate computed per group: Agg of Field (nil for
// AggCount).
type Series struct {
	Agg   Agg
	Field *Field
}

// ByKey, as GroupQuery.Rank, orders groups by their key instead of a
// series.
const ByKey = -1

// GroupQuery asks for the records matching Filters and Search (as a
// Query's) grouped by the value of By, with Series computed per group.
// Like a Query's, every field in it has been checked against the model's
// declaration: By is a number or a reference, each Series' field a
// number.
type GroupQuery struct {
	Filters      []Filter
	Search       string
	SearchFields []*Field
	By           *Field
	Series       []Series
	// Rank orders the groups: by the series of that index, largest first,
	// ties by key; or, ByKey, by key ascending. In either, the group of
	// records whose By is empty (a reference to nothing) comes first
	// among equals, and a series of no value (the average of nothing) last.
	Rank int
	// Limit keeps the first Limit groups in that order (0: every group);
	// the records of the others are aggregated together as Other.
	Limit int
}

// Group is one group: its key, a value of By's kind (for a reference a
// *Ref with its record's label, nil for the records that refer to none),
// and one value per series, NaN where the series has no value (the
// average of no number).
type Group struct {
	Key    any
	Values []float64
}

// Grouping is the answer to a GroupQuery: the groups in rank order, up to
// its Limit, and the records of every group past it aggregated together
// (Key nil), or nil when there are none.
type Grouping struct {
	Groups []Group
	Other  *Group
}

// Check reports a group query that cannot be asked of s: a By that is not
// a readable number or reference field, a series of a field that is not a
// number, a rank that names no series.
func (q *GroupQuery) Check(s *Schema) error {
	if q.By == nil || s.Field(q.By.Name) != q.By || q.By.WriteOnly || q.By.Hidden {
		return fmt.Errorf("datamodel: %s: group by a field of the model", s.Name)
	}
	if !Groupable(q.By) {
		return fmt.Errorf("datamodel: %s: cannot group by %s, neither a number nor a reference", s.Name, q.By.Name)
	}
	if len(q.Series) == 0 {
		return fmt.Errorf("datamodel: %s: a grouping needs a series", s.Name)
	}
	for _, sr := range q.Series {
		switch {
		case sr.Agg == AggCount && sr.Field == nil:
		case sr.Agg == AggCount:
			return fmt.Errorf("datamodel: %s: count counts records, it names no field", s.Name)
		case sr.Agg != AggSum && sr.Agg != AggAvg && sr.Agg != AggMin && sr.Agg != AggMax:
			return fmt.Errorf("datamodel: %s: unknown aggregate %q", s.Name, sr.Agg)
		case sr.Field == nil || s.Field(sr.Field.Name) != sr.Field || !isNumber(sr.Field) || sr.Field.WriteOnly || sr.Field.Hidden:
			return fmt.Errorf("datamodel: %s: %s of a field that is not a number of the model", s.Name, sr.Agg)
		}
	}
	if q.Rank != ByKey && (q.Rank < 0 || q.Rank >= len(q.Series)) {
		return fmt.Errorf("datamodel: %s: rank %d names no series", s.Name, q.Rank)
	}
	if q.Limit < 0 {
		return fmt.Errorf("datamodel: %s: a negative limit", s.Name)
	}
	return nil
}

// Groupable reports whether records may be grouped by f: a number or a
// reference.
func Groupable(f *Field) bool { return isNumber(f) || f.Target() != "" }

func isNumber(f *Field) bool {
	_, ok := f.Kind.(Int)
	return ok
}

// Key is a text naming q for a cache of its answers, given the text of its
// filters and search as the store spells them.
func (q *GroupQuery) Key(where string) string {
	var b strings.Builder
	b.WriteString("group\x00")
	b.WriteString(q.By.Name)
	for _, s := range q.Series {
		b.WriteString("\x00" + string(s.Agg))
		if s.Field != nil {
			b.WriteString(":" + s.Field.Name)
		}
	}
	b.WriteString("\x00" + strconv.Itoa(q.Rank) + "\x00" + strconv.Itoa(q.Limit) + "\x00" + where)
	return b.String()
}

// Less reports whether group a comes before b in q's rank order; a and b
// hold the group's key as a store reads it (nil for none) and its values.
// It is the order a store's query sorts by, for a store that ranks in
// memory (memstore) and for tests.
func (q *GroupQuery) Less(a, b Group, keyLess func(x, y any) bool) bool {
	if q.Rank != ByKey {
		x, y := a.Values[q.Rank], b.Values[q.Rank]
		switch {
		case math.IsNaN(x) != math.IsNaN(y):
			return math.IsNaN(y)
		case !math.IsNaN(x) && x != y:
			return x > y
		}
	}
	switch {
	case a.Key == nil || b.Key == nil:
		return a.Key == nil && b.Key != nil
	}
	return keyLess(a.Key, b.Key)
}
