package store

import (
	"context"
	"time"

	"musicadmin/internal/datamodel"
)

// SetCountLimit lowers the bound of filtered counts of m, so that a test can
// reach "more than the bound" with a few rows.
func SetCountLimit[T any](m *Model[T], n int64) {
	m.countLimit = n
	m.counts = &countCache{}
}

// Where exposes the WHERE clause List builds, for the query-plan tests.
func Where[T any](m *Model[T], search string, fields []*datamodel.Field) (string, []any) {
	w, args, _, _ := m.where(nil, search, fields, true)
	return w, args
}

// SetWalkBudget changes when a search walks the sort order instead of
// reading its index (0: never, unless past the count bound).
func SetWalkBudget[T any](m *Model[T], n int64) { m.walkBudget = n }

// PageIDs exposes the inner query of an unfiltered page, for the query-plan
// tests.
func PageIDs[T any](m *Model[T], sort *datamodel.Field, desc bool) string {
	return m.pageIDs("", sort, desc)
}

// FirstPage exposes the statement of a first page on MySQL, unfiltered or
// filtered by filters, and its arguments before LIMIT, for the query-plan
// tests.
func FirstPage[T any](m *Model[T], filters []datamodel.Filter, sort *datamodel.Field, desc bool) (string, []any) {
	where, args, _, err := m.where(filters, "", nil, true)
	if err != nil {
		panic(err)
	}
	return m.firstPage(where, sort, desc), args
}

// SetChecked makes f run between UpdateIf's version check and its write,
// where a concurrent write would come.
func SetChecked(s *Store, f func()) { s.checked = f }

// FilteredPageIDs exposes the inner query of a page filtered by filters, and
// its arguments before LIMIT and OFFSET, for the query-plan tests.
func FilteredPageIDs[T any](m *Model[T], filters []datamodel.Filter, sort *datamodel.Field, desc bool) (string, []any) {
	where, args, _, err := m.where(filters, "", nil, true)
	if err != nil {
		panic(err)
	}
	return m.pageIDs(where, sort, desc), args
}

// The login throttle's queries, for the query-plan test.
const (
	LoginFailuresSQL      = loginFailuresSQL
	PruneLoginFailuresSQL = pruneLoginFailuresSQL
)

// PrefixPage exposes the statement of a page read by prefix ranges, and its
// arguments; ok is false when q is not such a page.
func PrefixPage[T any](m *Model[T], q datamodel.Query) (query string, args []any, ok bool) {
	plan, ok := m.prefixRanges(q)
	if !ok || plan.none {
		return "", nil, false
	}
	query, args, _, err := m.prefixSQL(q, plan)
	if err != nil {
		panic(err)
	}
	return query, args, true
}

// BatchQuery is the statement of a batch of Each after the record whose
// title is the first argument, in title order.
func BatchQuery[T any](m *Model[T], sort *datamodel.Field, desc bool) string {
	op := " > ?"
	if desc {
		op = " < ?"
	}
	return m.batchQuery([]string{m.col(m.columns[sort.Name]) + op}, sort, desc)
}

// SetWalkRows changes how far an uncounted text match walks the sort order
// before it reads the search index.
func SetWalkRows[T any](m *Model[T], n int64) {
	m.walkRows = n
	m.bounds = &walkBounds{}
}

// SetRareCandidates changes how few candidates make a text rare (read from
// its index without the walk first; -1: never), and forgets the probes.
func SetRareCandidates[T any](m *Model[T], n int64) {
	m.rareCandidates = n
	m.probes = &probeCache{}
	m.elemStats = &elemStatsCache{}
}

// RareText exposes whether List takes q's text match for rare, probing its
// tokens.
func RareText[T any](m *Model[T], q datamodel.Query) bool {
	rare, err := m.rareText(context.Background(), q)
	if err != nil {
		panic(err)
	}
	return rare
}

// QueryTokens exposes the tokens a search of text on column reads from
// its index.
func QueryTokens[T any](m *Model[T], column, text string) []string {
	toks, _ := m.queryTokens(column, text)
	return toks
}

// SetGenerationWindow changes how long a read of a's generation answers
// (GenerationWindow).
func SetGenerationWindow(a *Accounts, d time.Duration) {
	a.gen.mu.Lock()
	defer a.gen.mu.Unlock()
	a.gen.window = d
}
