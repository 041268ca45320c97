package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"musicadmin/internal/datamodel"
	"musicadmin/internal/textindex"
)

// RareCandidates is the most candidates a text's search index may hold for
// an uncounted page (the lookup's) to be read from the index at once,
// without first walking WalkRows rows of the sort order: reading and
// sorting that many costs less than the walk (at 100,000 album names on
// SQLite, "Vol. 4242" walked 4,000 rows in vain, 0.5 ms, before its index
// read 30 candidates in 0.1 ms).
const RareCandidates = 1_000

// probeTTL is how long a token's probed number of candidates is trusted.
// It only chooses a plan (which tokens to read, whether to walk first): a
// stale one costs time, never a wrong answer.
const probeTTL = time.Minute

// maxProbed bounds the probes a model remembers; maxQueryProbes the tokens
// a search probes.
const (
	maxProbed      = 4096
	maxQueryProbes = 8
)

// probeCache remembers, per column and token of a search index (on MySQL,
// per suffix prefix), whether the index lists more rows for it than the
// model's rareCandidates.
type probeCache struct {
	mu      sync.Mutex
	entries map[string]probed
}

type probed struct {
	many bool
	at   time.Time
}

func (c *probeCache) get(key string) (many, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Since(e.at) >= probeTTL {
		return false, false
	}
	return e.many, true
}

func (c *probeCache) put(key string, many bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxProbed {
		c.entries = make(map[string]probed)
	}
	c.entries[key] = probed{many: many, at: time.Now()}
}

// probe reports whether the search index of column lists more than
// rareCandidates (RareCandidates, changed by tests) rows for key (a token;
// on MySQL a suffix prefix): whether the row after them exists, a read of
// at most that many entries of the token's list, and no count. The answer
// is remembered for probeTTL, so a user typing probes each new token once.
// On PostgreSQL it reads the planner's statistics instead (pgCommon).
func (m *Model[T]) probe(ctx context.Context, column, key string) (bool, error) {
	cacheKey := column + "\x00" + key
	if many, ok := m.probes.get(cacheKey); ok {
		return many, nil
	}
	if m.st.dialect == "postgres" {
		many, err := m.pgCommon(ctx, column, key)
		if err != nil {
			return false, err
		}
		m.probes.put(cacheKey, many)
		return many, nil
	}
	table := m.textIndex[column]
	var q string
	var arg any
	switch m.st.dialect {
	case "mysql":
		q, arg = "SELECT 1 FROM "+table+" WHERE prefix LIKE ? ESCAPE '"+likeEscape+"'", escapeLike(key)+"%"
	default:
		q, arg = "SELECT 1 FROM "+table+" WHERE grams MATCH ?", key
	}
	var one int
	err := queryRow(ctx, m.db, q+fmt.Sprintf(" LIMIT 1 OFFSET %d", max(m.rareCandidates, 0)), arg).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return false, m.translate("list", err)
	}
	many := err == nil || m.rareCandidates < 0
	m.probes.put(cacheKey, many)
	return many, nil
}

// probeKeys returns what probe is asked for a search of text on an indexed
// column: up to maxQueryProbes of its tokens spread over it, or on MySQL
// the start of its folded text that the suffix index keeps. None when text
// is too short for the index.
func (m *Model[T]) probeKeys(text string) []string {
	all := textindex.Tokens(text)
	if len(all) == 0 {
		return nil
	}
	if m.st.dialect == "mysql" {
		folded := []rune(textindex.Fold(text))
		return []string{string(folded[:min(len(folded), SuffixRunes)])}
	}
	if len(all) <= maxQueryProbes {
		return all
	}
	picked := make([]string, 0, maxQueryProbes)
	for i := range maxQueryProbes {
		picked = append(picked, all[i*(len(all)-1)/(maxQueryProbes-1)])
	}
	return picked
}

// fewCandidates reports whether a search of text on column reads at most
// rareCandidates candidates from the index: one of its keys lists no
// more. ok is false when column has no index or text is too short for it.
func (m *Model[T]) fewCandidates(ctx context.Context, column, text string) (few, ok bool, err error) {
	if _, indexed := m.textIndex[column]; !indexed {
		return false, false, nil
	}
	keys := m.probeKeys(text)
	if len(keys) == 0 {
		return false, false, nil
	}
	for _, k := range keys {
		many, err := m.probe(ctx, column, k)
		if err != nil {
			return false, false, err
		}
		few = few || !many
	}
	return few, true, nil
}

// rareText reports whether the text matches of q read few candidates from
// their search index (at most rareCandidates): one of its text filters,
// which all hold, or its search when it searches one field (with more, any
// of them may hold it, and each may list up to the bound). It probes the
// tokens of each (remembered: queryTokens then reads the rare ones).
func (m *Model[T]) rareText(ctx context.Context, q datamodel.Query) (bool, error) {
	rare := false
	for _, f := range q.Filters {
		if (f.Op != datamodel.OpContains && f.Op != datamodel.OpStartsWith) || f.Field.SetOf() != "" {
			continue
		}
		val, err := m.arg(f.Field, f.Value)
		if err != nil {
			return false, nil // where reports it
		}
		few, _, err := m.fewCandidates(ctx, m.columns[f.Field.Name], fmt.Sprint(val))
		if err != nil {
			return false, err
		}
		rare = rare || few
	}
	if q.Search != "" && len(q.SearchFields) == 1 {
		few, _, err := m.fewCandidates(ctx, m.columns[q.SearchFields[0].Name], q.Search)
		if err != nil {
			return false, err
		}
		rare = rare || few
	}
	return rare, nil
}

// queryTokens returns the tokens a search of text on column looks up in
// its index: when its tokens were probed (rareText), those that list at
// most rareCandidates rows, in their order in text, at most
// textindex.MaxQueryTokens (or, when none does, the first); else
// textindex.QueryTokens, spread over the text. A token that lists many
// rows costs a read of all of them: the one every album name holds ("vol")
// cost 2 ms at 100,000 albums, where a rare one costs 0.05.
func (m *Model[T]) queryTokens(column, text string) ([]string, bool) {
	keys := m.probeKeys(text)
	if len(keys) == 0 || m.st.dialect == "mysql" {
		return textindex.QueryTokens(text)
	}
	var rare []string
	for _, k := range keys {
		many, ok := m.probes.get(column + "\x00" + k)
		if !ok {
			return textindex.QueryTokens(text)
		}
		if !many && len(rare) < textindex.MaxQueryTokens {
			rare = append(rare, k)
		}
	}
	if len(rare) == 0 {
		return textindex.QueryTokens(text)
	}
	return rare, true
}
