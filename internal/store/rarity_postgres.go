package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
)

// On PostgreSQL a token's rarity is read from the planner's own statistics
// of the search index, not probed: its GIN index cannot stop a token's
// read at a bound, and a probe query of a common token was planned as a
// walk of the name index computing every row's grams (54 ms for "vol" at
// 100,000 albums). ANALYZE (autovacuum's, or app seed's) keeps, for the
// expression index app_grams(column), the most common elements of the
// arrays with their frequencies (pg_stats.most_common_elems): a token in
// that list is as common as its frequency says, one not in it is rarer
// than the least common listed. One read of the list a minute per column,
// then every token is classed in memory. Without statistics (a table never
// analyzed) every token counts as common: the walk first, as before.

// elemStats are one index's most common elements.
type elemStats struct {
	freq    map[string]float64 // token -> fraction of rows holding it
	minFreq float64            // the least listed fraction: a bound for the unlisted
	rows    float64            // the table's estimated rows (pg_class.reltuples)
	known   bool               // false: no statistics
	at      time.Time
}

// elemStatsCache holds each indexed column's elemStats for probeTTL.
type elemStatsCache struct {
	mu    sync.Mutex
	stats map[string]elemStats
}

// pgElemStatsSQL reads an index's most common elements and their
// frequencies (the list's last three are the least and most frequency and
// the null fraction) and its table's estimated rows. pg_stats shows only
// what the user may read: the app's own tables.
const pgElemStatsSQL = `SELECT s.most_common_elems::text, s.most_common_elem_freqs::text, c.reltuples
FROM pg_stats s JOIN pg_class c ON c.oid = to_regclass(?)
WHERE s.schemaname = current_schema() AND s.tablename = ?`

// pgCommon reports whether the index of column lists more than
// rareCandidates rows for token, by the statistics (elemStats).
func (m *Model[T]) pgCommon(ctx context.Context, column, token string) (bool, error) {
	st, err := m.pgElemStats(ctx, column)
	if err != nil {
		return false, err
	}
	if !st.known || m.rareCandidates < 0 {
		return true, nil
	}
	f, listed := st.freq[token]
	if !listed {
		f = st.minFreq
	}
	return f*st.rows > float64(m.rareCandidates), nil
}

func (m *Model[T]) pgElemStats(ctx context.Context, column string) (elemStats, error) {
	c := m.elemStats
	c.mu.Lock()
	st, ok := c.stats[column]
	c.mu.Unlock()
	if ok && time.Since(st.at) < probeTTL {
		return st, nil
	}
	st = elemStats{at: time.Now()}
	var elems, freqs sql.NullString
	var rows float64
	err := queryRow(ctx, m.db, pgElemStatsSQL, m.table, m.textIndex[column]).Scan(&elems, &freqs, &rows)
	switch {
	case errors.Is(err, sql.ErrNoRows): // never analyzed
	case err != nil:
		return st, m.translate("list", err)
	default:
		st.freq, st.minFreq, st.known = parseElemStats(elems.String, freqs.String)
		st.rows = rows
	}
	c.mu.Lock()
	if c.stats == nil {
		c.stats = map[string]elemStats{}
	}
	c.stats[column] = st
	c.mu.Unlock()
	return st, nil
}

// parseElemStats reads pg_stats' most_common_elems and
// most_common_elem_freqs as text ("{A,B}", "{0.5,0.2,0.2,0.5,0}"): the
// tokens are hex digits, the frequencies numbers, so neither needs
// unquoting. ok is false when they do not pair up.
func parseElemStats(elems, freqs string) (freq map[string]float64, minFreq float64, ok bool) {
	es := strings.Split(strings.Trim(elems, "{}"), ",")
	fs := strings.Split(strings.Trim(freqs, "{}"), ",")
	if elems == "" || len(fs) != len(es)+3 {
		return nil, 0, false
	}
	freq = make(map[string]float64, len(es))
	for i, e := range es {
		f, err := strconv.ParseFloat(fs[i], 64)
		if err != nil {
			return nil, 0, false
		}
		freq[e] = f
	}
	minFreq, err := strconv.ParseFloat(fs[len(es)], 64)
	if err != nil {
		return nil, 0, false
	}
	return freq, minFreq, true
}
