package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"musicadmin/internal/textindex"
)

// cachedCount is one of total's counts, with when it was taken.
type cachedCount struct {
	n       int64
	atLeast bool
	at      time.Time
}

var likeReplacer = strings.NewReplacer(likeEscape, likeEscape+likeEscape, "%", likeEscape+"%", "_", likeEscape+"_")

// where returns the WHERE clause and its arguments, in the app's order:
// filters by sorted key (album, the rating), then the search. With
// useIndex a search of three characters or more takes its candidates from
// the trigram index (indexed says so). The app leaves an ASCII search to
// SQLite's LIKE, which ignores ASCII case, folding only texts that hold a
// character folding into ASCII, and folds case in SQL for other text (with
// a Go function; lower() here).
func (s *server) where(p params, useIndex bool) (clause string, args []any, indexed bool) {
	var conds []string
	if p.album != nil {
		conds = append(conds, "songs.album_id = ?")
		args = append(args, *p.album)
	}
	if p.rating != nil {
		conds = append(conds, p.ratingSQL())
		args = append(args, *p.rating)
	}
	if p.q != "" {
		pattern := "%" + likeReplacer.Replace(textindex.Fold(p.q)) + "%"
		like := " LIKE ? ESCAPE '" + likeEscape + "'"
		cond := "lower(songs.title)" + like
		vals := []any{pattern}
		if !s.plain && isASCII(p.q) {
			var special []string
			for _, r := range textindex.FoldsIntoASCII {
				special = append(special, "instr(songs.title, '"+string(r)+"') > 0")
			}
			cond = "(songs.title" + like + " OR ((" + strings.Join(special, " OR ") + ") AND " + cond + "))"
			vals = append(vals, pattern)
		}
		if tokens, ok := textindex.QueryTokens(p.q); ok && useIndex {
			cond = "(songs.id IN (SELECT docid FROM songs_title_grams WHERE grams MATCH ?) AND " + cond + ")"
			vals = append([]any{strings.Join(tokens, " ")}, vals...)
			indexed = true
		}
		conds = append(conds, "("+cond+")")
		args = append(args, vals...)
	}
	if len(conds) == 0 {
		return "", nil, false
	}
	return " WHERE " + strings.Join(conds, " AND "), args, indexed
}

// isASCII reports whether s is all ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// total counts the matches as the app does: the whole table exactly, a
// filtered list up to countLimit, past which atLeast is true, each count
// cached for countTTL under its WHERE clause and arguments (the floor never
// writes, so nothing else makes a count stale). In plain mode it is a
// COUNT(*) every time.
func (s *server) total(ctx context.Context, where string, args []any) (n int64, atLeast bool, err error) {
	if s.plain {
		err = s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM songs"+where, args...).Scan(&n)
		return n, false, err
	}
	key := where + "\x00" + fmt.Sprintf("%#v", args)
	s.mu.Lock()
	c, ok := s.counts[key]
	s.mu.Unlock()
	if ok && time.Since(c.at) < countTTL {
		return c.n, c.atLeast, nil
	}
	at := time.Now()
	q := "SELECT COUNT(*) FROM songs"
	if where != "" {
		q = fmt.Sprintf("SELECT COUNT(*) FROM (SELECT 1 FROM songs%s LIMIT %d) bounded", where, countLimit+1)
	}
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, false, err
	}
	if where != "" && n > countLimit {
		n, atLeast = countLimit, true
	}
	s.mu.Lock()
	if s.counts == nil || len(s.counts) >= maxCachedCounts {
		s.counts = make(map[string]cachedCount)
	}
	s.counts[key] = cachedCount{n: n, atLeast: atLeast, at: at}
	s.mu.Unlock()
	return n, atLeast, nil
}

// song is one row of a page, with its album's id and name where it has one.
type song struct {
	id, rating int64
	title      string
	albumID    sql.NullInt64
	albumName  sql.NullString
}

// columns and join read a song and its album's name.
const columns = "songs.id, songs.title, songs.rating, songs.album_id, ref_album.name"
const join = " LEFT JOIN albums ref_album ON ref_album.id = songs.album_id"

// orderBy is the ORDER BY clause of p's sort column in direction desc.
func orderBy(p params, desc bool) string {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	if p.sort == "title" {
		// Unique: no ties, as the app's store.Model.orderBy knows.
		return " ORDER BY songs.title" + dir
	}
	return " ORDER BY songs." + p.sort + dir + ", songs.id" + dir
}

// page reads one page of songs. The app's way is a deferred join: the inner
// query walks the sort index to skip offset rows and keeps the page's ids;
// past the middle of an exactly counted list it walks from the other end.
// In plain mode it is one SELECT with LIMIT and OFFSET.
func (s *server) page(ctx context.Context, p params, where string, args []any, total int64, atLeast bool) ([]song, error) {
	offset, limit, desc, reversed := int64((p.page-1)*p.pageSize), int64(p.pageSize), p.desc, false
	var q string
	if s.plain {
		q = "SELECT " + columns + " FROM songs" + join + where + orderBy(p, desc) + " LIMIT ? OFFSET ?"
	} else {
		if !atLeast && offset > 0 && offset+limit/2 > total/2 {
			reversed, desc = true, !desc
			offset = total - offset - limit
			if offset < 0 {
				limit += offset
				offset = 0
			}
			if limit <= 0 {
				return nil, nil
			}
		}
		q = "SELECT " + columns + " FROM (SELECT songs.id FROM songs" + where + orderBy(p, desc) +
			" LIMIT ? OFFSET ?) page_ids JOIN songs ON songs.id = page_ids.id" + join + orderBy(p, desc)
	}
	rows, err := s.db.QueryContext(ctx, q, append(args[:len(args):len(args)], limit, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]song, 0, limit)
	for rows.Next() {
		var r song
		if err := rows.Scan(&r.id, &r.title, &r.rating, &r.albumID, &r.albumName); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if reversed {
		slices.Reverse(out)
	}
	return out, rows.Err()
}

// albumName reads the name of the album with id, "" when there is none: the
// album filter's current label. It is the app's read of a record by id
// (store.Model.Get), the one query its album filter adds to a list page.
func (s *server) albumName(ctx context.Context, id int64) (string, error) {
	var gotID int64
	var name string
	err := s.db.QueryRowContext(ctx, "SELECT albums.id, albums.name FROM albums WHERE albums.id = ?", id).Scan(&gotID, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return name, err
}
