package store

import (
	"fmt"
	"strings"

	"musicadmin/internal/datamodel"
	"musicadmin/internal/textindex"
)

// likeEscape escapes LIKE patterns. '!' is used rather than '\' because a
// backslash is itself an escape character in MySQL string literals.
const likeEscape = "!"

// where builds the WHERE clause of filters and search. Columns come from
// the declaration; every value is a bound parameter. With useIndex, text
// matches on an indexed column first take candidates from its search
// index; indexed says whether any did.
func (m *Model[T]) where(filters []datamodel.Filter, search string, searchFields []*datamodel.Field,
	useIndex bool) (clause string, args []any, indexed bool, err error) {
	var conds []string
	for _, f := range filters {
		cond, vals, usedIndex, err := m.filterCond(f, useIndex)
		if err != nil {
			return "", nil, false, err
		}
		conds = append(conds, cond)
		args = append(args, vals...)
		indexed = indexed || usedIndex
	}
	if search != "" && len(searchFields) > 0 {
		cond, vals, usedIndex := m.searchCond(search, searchFields, useIndex)
		conds = append(conds, cond)
		args = append(args, vals...)
		indexed = indexed || usedIndex
	}
	if len(conds) == 0 {
		return "", nil, false, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, indexed, nil
}

// filterCond is the condition of one filter and its arguments; indexed
// says whether a text match took candidates from a search index.
func (m *Model[T]) filterCond(f datamodel.Filter, useIndex bool) (cond string, args []any, indexed bool, err error) {
	if set, ok := m.sets[f.Field.Name]; ok {
		return set.holds(m.col("id")), []any{setArg(f.Value)}, false, nil
	}
	column := m.columns[f.Field.Name]
	c := m.col(column)
	if f.Op == datamodel.OpEmpty {
		if empty, _ := f.Value.(bool); empty {
			return c + " IS NULL", nil, false, nil
		}
		return c + " IS NOT NULL", nil, false, nil
	}
	val, err := m.arg(f.Field, f.Value)
	if err != nil {
		return "", nil, false, err
	}
	switch f.Op {
	case datamodel.OpContains:
		cond, args, indexed = m.match(column, fmt.Sprint(val), false, useIndex)
		return cond, args, indexed, nil
	case datamodel.OpStartsWith:
		cond, args, indexed = m.match(column, fmt.Sprint(val), true, useIndex)
		return cond, args, indexed, nil
	}
	_, isRef := m.refs[f.Field.Name]
	cond, ok := comparison(c, f.Op, isRef)
	if !ok {
		return "", nil, false, fmt.Errorf("store: operator %q on %s.%s", f.Op, m.table, f.Field.Name)
	}
	return cond, []any{val}, false, nil
}

// comparison is the condition comparing column c with one argument by op,
// or false for an operator that is no comparison. A reference is unequal
// to a value also when it is empty (NULL <> ? is never true in SQL).
func comparison(c string, op datamodel.Op, isRef bool) (string, bool) {
	switch op {
	case datamodel.OpEq:
		return c + " = ?", true
	case datamodel.OpNe:
		if isRef {
			return "(" + c + " <> ? OR " + c + " IS NULL)", true
		}
		return c + " <> ?", true
	case datamodel.OpGt:
		return c + " > ?", true
	case datamodel.OpGte:
		return c + " >= ?", true
	case datamodel.OpLt:
		return c + " < ?", true
	case datamodel.OpLte:
		return c + " <= ?", true
	}
	return "", false
}

// searchCond is the condition of a search: any of fields contains text.
func (m *Model[T]) searchCond(text string, fields []*datamodel.Field, useIndex bool) (cond string, args []any, indexed bool) {
	var ors []string
	for _, f := range fields {
		cond, vals, usedIndex := m.match(m.columns[f.Name], text, false, useIndex)
		ors = append(ors, cond)
		args = append(args, vals...)
		indexed = indexed || usedIndex
	}
	return "(" + strings.Join(ors, " OR ") + ")", args, indexed
}

// match tests that column holds text (starts with it, with prefix),
// ignoring case on every backend alike: SQLite's LIKE ignores ASCII case,
// PostgreSQL's and MySQL's (under the binary collations) none, so the
// column is folded as the text is. With useIndex, an indexed column first
// takes candidates from its search index; indexed says whether it did.
func (m *Model[T]) match(column, text string, prefix, useIndex bool) (cond string, args []any, indexed bool) {
	c := m.col(column)
	test, arg := m.textTest(textindex.Fold(text), prefix)
	cond, args = test(m.st.fold+"("+c+")"), []any{arg}
	if m.st.fold == FoldFunc && isASCII(text) {
		cond = m.asciiFirst(c, test, cond)
		args = append(args, arg)
	}
	if useIndex {
		if in, arg, ok := m.candidates(column, text); ok {
			cond = "(" + in + " AND " + cond + ")"
			args = append([]any{arg}, args...)
			indexed = true
		}
	}
	return cond, args, indexed
}

// textTest returns the test that a text expression holds folded (starts
// with it, with prefix), written around the expression, and its one
// argument. A prefix is a LIKE pattern, as is any text on SQLite, whose
// LIKE the ASCII-only match relies on (asciiFirst). Elsewhere a substring
// is found by position: the same test, but one the planner cannot weigh by
// its value, as it weighs a LIKE pattern's by the column's statistics. So
// a search's plan is the same for every text, and PostgreSQL keeps the
// generic plan of the page it prepares for many matches (readPage), where
// a LIKE made it plan every run anew (0.5 ms of the API's 1.6 ms for
// "love" at 100k songs, the walk itself 1 ms). MySQL's INSTR also tests a
// row in less time than its LIKE (0.70 against 0.80 ms for that page).
func (m *Model[T]) textTest(folded string, prefix bool) (test func(expr string) string, arg string) {
	like := func(expr string) string { return expr + " LIKE ? ESCAPE '" + likeEscape + "'" }
	switch {
	case prefix:
		return like, escapeLike(folded) + "%"
	case m.st.dialect == "postgres":
		return func(expr string) string { return "strpos(" + expr + ", ?) > 0" }, folded
	case m.st.dialect == "mysql":
		return func(expr string) string { return "INSTR(" + expr + ", ?) > 0" }, folded
	}
	return like, "%" + escapeLike(folded) + "%"
}

// asciiFirst wraps cond, the folded match of column c by test, for an
// ASCII-only text; the result takes test's argument twice. An ASCII-only
// case-insensitive match (SQLite's own LIKE, PostgreSQL's lower() under
// the "C" collation) matches what folding would for an ASCII query,
// without folding all of Unicode for every row (several times faster on a
// scan), except in texts holding a character that folds into ASCII; only
// those are folded.
func (m *Model[T]) asciiFirst(c string, test func(string) string, cond string) string {
	caseless, holds := test(c), "instr(%s, '%s') > 0"
	if m.st.dialect == "postgres" {
		// "C" said here too, in case a column is ever declared
		// without it: lower() under a libc or ICU locale folds more.
		caseless, holds = test("lower("+c+` COLLATE "C")`), "strpos(%s, '%s') > 0"
	}
	var special []string
	for _, r := range textindex.FoldsIntoASCII {
		special = append(special, fmt.Sprintf(holds, c, string(r)))
	}
	return "(" + caseless + " OR ((" + strings.Join(special, " OR ") + ") AND " + cond + "))"
}

// candidates returns a condition that keeps the rows whose column may
// contain text, read from the column's search index (trigrams; suffixes on
// MySQL), and its argument; ok is false when the column has no index or
// text is too short for one (under three characters).
func (m *Model[T]) candidates(column, text string) (cond string, arg any, ok bool) {
	table, indexed := m.textIndex[column]
	if !indexed {
		return "", nil, false
	}
	tokens, ok := m.queryTokens(column, text)
	if !ok {
		return "", nil, false
	}
	switch m.st.dialect {
	case "mysql":
		// The suffix index (migrations/mysql/00003): the rows of the
		// suffixes that start with the text, one range of its key. Its
		// prefixes are cut at SuffixRunes characters, so a longer text
		// looks up its first SuffixRunes and the LIKE checks the rest.
		folded := []rune(textindex.Fold(text))
		return m.col("id") + " IN (SELECT row_id FROM " + table + " WHERE prefix LIKE ? ESCAPE '" + likeEscape + "')",
			escapeLike(string(folded[:min(len(folded), SuffixRunes)])) + "%", true
	case "postgres":
		// The index is a GIN index on the expression app_grams(column)
		// (the table's own rows, no side table): written as that
		// expression, the condition is answered from it. The tokens are
		// hex digits, so the array literal needs no quoting.
		return GramsFunc + "(" + m.col(column) + ") @> ?::text[]", "{" + strings.Join(tokens, ",") + "}", true
	}
	// FTS4's query syntax: tokens side by side are all required.
	return m.col("id") + " IN (SELECT docid FROM " + table + " WHERE grams MATCH ?)", strings.Join(tokens, " "), true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func escapeLike(s string) string {
	r := strings.NewReplacer(likeEscape, likeEscape+likeEscape, "%", likeEscape+"%", "_", likeEscape+"_")
	return r.Replace(s)
}

// SuffixRunes is how many characters of each suffix MySQL's suffix index
// keeps (migrations/mysql/00003): enough that a search's range holds about
// its matches, few enough to keep a row per character of every title small.
const SuffixRunes = 8
