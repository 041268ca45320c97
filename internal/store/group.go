package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"

	"musicadmin/internal/datamodel"
)

// Group groups the rows matching q by q.By's column in one statement: a
// GROUP BY of the rows the list's WHERE keeps, ranked and cut to q.Limit
// (one more, to know whether any are left), joined to the referenced
// table for the groups' labels. When groups are left over, a second
// statement aggregates the rows of none of the kept groups: Other. The
// answer is cached with the list's counts (same key space, same epoch,
// same countTTL), so a chart costs its statements once per ten seconds
// and per write, and requests that miss together share one computation.
// The Grouping returned may be shared: callers must not change it.
func (m *Model[T]) Group(ctx context.Context, q datamodel.GroupQuery) (datamodel.Grouping, error) {
	if err := q.Check(&m.decl); err != nil {
		return datamodel.Grouping{}, err
	}
	return m.group(ctx, q)
}

// group is Group for a query already checked, its fields named as this
// model's (a SetModel's fields are its own declaration's).
func (m *Model[T]) group(ctx context.Context, q datamodel.GroupQuery) (datamodel.Grouping, error) {
	where, args, _, err := m.where(q.Filters, q.Search, q.SearchFields, true)
	if err != nil {
		return datamodel.Grouping{}, err
	}
	key := q.Key(where + "\x00" + fmt.Sprintf("%#v", args))
	c, err := m.cached(ctx, key, func() (cachedCount, error) {
		g, err := m.groupNow(ctx, q, where, args)
		return cachedCount{groups: &g}, err
	})
	if err != nil {
		return datamodel.Grouping{}, err
	}
	return *c.groups, nil
}

// aggregates are the select list of q's series, v0, v1, ...
func (m *Model[T]) aggregates(q datamodel.GroupQuery, alias bool) string {
	cols := make([]string, len(q.Series))
	for i, s := range q.Series {
		expr := "COUNT(*)"
		if s.Agg != datamodel.AggCount {
			col := m.col(m.columns[s.Field.Name])
			if s.Agg == datamodel.AggAvg && m.st.dialect == "mysql" {
				// MySQL's AVG of integers is a DECIMAL of 4 places
				// (div_precision_increment); of a DOUBLE, a DOUBLE.
				col += " + 0e0"
			}
			expr = strings.ToUpper(string(s.Agg)) + "(" + col + ")"
		}
		if alias {
			expr += " AS v" + strconv.Itoa(i)
		}
		cols[i] = expr
	}
	return strings.Join(cols, ", ")
}

// groupOrder is the ORDER BY of ranked groups, over the columns k, v0, ...
// of the derived table a: the empty key first, then by key, or by the rank
// series, largest first, no value last, ties by key.
func groupOrder(q datamodel.GroupQuery, a string) string {
	byKey := "(" + a + ".k IS NULL) DESC, " + a + ".k ASC"
	if q.Rank == datamodel.ByKey {
		return " ORDER BY " + byKey
	}
	v := a + ".v" + strconv.Itoa(q.Rank)
	return " ORDER BY (" + v + " IS NULL) ASC, " + v + " DESC, " + byKey
}

func (m *Model[T]) groupNow(ctx context.Context, q datamodel.GroupQuery, where string, args []any) (datamodel.Grouping, error) {
	column := m.col(m.columns[q.By.Name])
	grouped := "SELECT " + column + " AS k, " + m.aggregates(q, true) + " FROM " + m.table + where + " GROUP BY " + column
	ranked := "SELECT a.* FROM (" + grouped + ") a" + groupOrder(q, "a")
	if q.Limit > 0 {
		ranked += " LIMIT " + strconv.Itoa(q.Limit+1)
	}
	sel, join := "r.k", ""
	to, isRef := m.refs[q.By.Name]
	if isRef {
		sel += ", ref.label"
		join = " LEFT JOIN (SELECT id, " + to.labelColumn + " AS label FROM " + to.table + ") ref ON ref.id = r.k"
	}
	for i := range q.Series {
		sel += ", r.v" + strconv.Itoa(i)
	}
	stmt := "SELECT " + sel + " FROM (" + ranked + ") r" + join + groupOrder(q, "r")
	rows, err := query(ctx, m.db, stmt, args...)
	if err != nil {
		return datamodel.Grouping{}, m.translate("group", err)
	}
	defer rows.Close()
	var out datamodel.Grouping
	var keys []any // the kept groups' keys as stored, nil for none
	for rows.Next() {
		var rawKey any
		var label sql.NullString
		vals := make([]sql.NullFloat64, len(q.Series))
		dest := []any{&rawKey}
		if isRef {
			dest = append(dest, &label)
		}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return datamodel.Grouping{}, m.translate("group", err)
		}
		if q.Limit > 0 && len(out.Groups) == q.Limit {
			out.Other = &datamodel.Group{} // one past the limit: there are others
			break
		}
		g := datamodel.Group{Values: floats(vals)}
		stored, err := m.groupKey(q.By, rawKey, label, &g)
		if err != nil {
			return datamodel.Grouping{}, err
		}
		keys = append(keys, stored)
		out.Groups = append(out.Groups, g)
	}
	if err := rows.Err(); err != nil {
		return datamodel.Grouping{}, m.translate("group", err)
	}
	rows.Close()
	if out.Other != nil {
		other, err := m.otherGroup(ctx, q, where, args, column, keys)
		if err != nil {
			return datamodel.Grouping{}, err
		}
		out.Other = other
	}
	return out, nil
}

// groupKey reads a group's key as the database returned it into g.Key
// and returns it as stored (an id or a number; nil for none).
func (m *Model[T]) groupKey(by *datamodel.Field, raw any, label sql.NullString, g *datamodel.Group) (any, error) {
	if raw == nil {
		return nil, nil
	}
	if _, isRef := m.refs[by.Name]; isRef {
		id, err := datamodel.Int{}.Load(raw)
		if err != nil {
			return nil, fmt.Errorf("store: %s.%s: %w", m.table, by.Name, err)
		}
		g.Key = &datamodel.Ref{ID: formatID(id.(int64)), Label: label.String}
		return id, nil
	}
	v, err := by.Kind.Load(raw)
	if err != nil {
		return nil, fmt.Errorf("store: %s.%s: %w", m.table, by.Name, err)
	}
	g.Key = v
	return by.Kind.Store(v), nil
}

// otherGroup aggregates the rows of where whose key is none of keys (nil
// among them: the empty key).
func (m *Model[T]) otherGroup(ctx context.Context, q datamodel.GroupQuery, where string, args []any, column string,
	keys []any) (*datamodel.Group, error) {
	var set []any
	hasNull := false
	for _, k := range keys {
		if k == nil {
			hasNull = true
		} else {
			set = append(set, k)
		}
	}
	var cond string
	switch {
	case len(set) == 0: // only the empty key was kept
		cond = column + " IS NOT NULL"
	case hasNull:
		cond = column + " IS NOT NULL AND " + column + " NOT IN (" + placeholders(len(set)) + ")"
	default:
		cond = "(" + column + " IS NULL OR " + column + " NOT IN (" + placeholders(len(set)) + "))"
	}
	if where == "" {
		where = " WHERE " + cond
	} else {
		where += " AND " + cond
	}
	all := append(append([]any(nil), args...), set...)
	vals := make([]sql.NullFloat64, len(q.Series))
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := queryRow(ctx, m.db, "SELECT "+m.aggregates(q, false)+" FROM "+m.table+where, all...).Scan(dest...); err != nil {
		return nil, m.translate("group", err)
	}
	return &datamodel.Group{Values: floats(vals)}, nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// floats are the series' values, NaN for none.
func floats(vals []sql.NullFloat64) []float64 {
	out := make([]float64, len(vals))
	for i, v := range vals {
		out[i] = math.NaN()
		if v.Valid {
			out[i] = v.Float64
		}
	}
	return out
}
