package main

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// params is a parsed list request.
type params struct {
	page, pageSize int
	sort           string // "title" or "rating"
	desc           bool
	q              string
	rating         *int64 // a rating filter: rating__<ratingOp>=ratingRaw
	ratingOp       string // "eq" or "gte"
	ratingRaw      string
	album          *int64
	albumRaw       string
}

// parse reads a list request: a page or page size that is not a positive
// number is the default, a larger one is capped; an unknown sort and a
// filter value that is not a number (for album, an id) are ignored,
// without the notice the app shows. The bench's pages need no more.
func parse(q url.Values) params {
	p := params{page: 1, pageSize: defaultPageSize, sort: "title"}
	if n, err := strconv.Atoi(strings.TrimSpace(q.Get("page"))); err == nil && n > 0 {
		p.page = min(n, maxPage)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(q.Get("page_size"))); err == nil && n > 0 {
		p.pageSize = min(n, maxPageSize)
	}
	switch s := q.Get("sort"); s {
	case "title", "-title", "rating", "-rating":
		p.sort, p.desc = strings.TrimPrefix(s, "-"), strings.HasPrefix(s, "-")
	}
	p.q = cleanSearch(q.Get("q"))
	// One rating filter, the first by query key as the app orders them.
	for _, op := range []string{"eq", "gte"} {
		raw := q.Get("rating__" + op)
		if raw == "" {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64); err == nil {
			p.rating, p.ratingOp, p.ratingRaw = &n, op, raw
			break
		}
	}
	if raw := q.Get("album"); raw != "" {
		if n, ok := validID(strings.TrimSpace(raw)); ok {
			p.album, p.albumRaw = &n, raw
		}
	}
	return p
}

// validID reads a record id as the app's SQL store does: decimal digits
// with no leading zero, at most 19 of them.
func validID(s string) (int64, bool) {
	if s == "" || len(s) > 19 || s[0] == '0' || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// cleanSearch drops invalid UTF-8 and NUL bytes, trims the search and cuts
// it at maxSearchRunes, as the app does.
func cleanSearch(q string) string {
	q = strings.ToValidUTF8(q, "")
	q = strings.ReplaceAll(q, "\x00", "")
	return truncate(strings.TrimSpace(q), maxSearchRunes)
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// sortKey is p's sort as the sort parameter writes it.
func (p params) sortKey() string {
	if p.desc {
		return "-" + p.sort
	}
	return p.sort
}

// ratingKey is the query key of the rating filter.
func (p params) ratingKey() string { return "rating__" + p.ratingOp }

// ratingSQL is the rating filter's comparison, and ratingLabel the app's
// chip spelling of it.
func (p params) ratingSQL() string {
	if p.ratingOp == "eq" {
		return "songs.rating = ?"
	}
	return "songs.rating >= ?"
}

func (p params) ratingLabel() string {
	if p.ratingOp == "eq" {
		return "Rating = "
	}
	return "Rating ≥ "
}

// without returns p with the filter of query key key ("album" or the
// rating's) dropped: a chip's remove link.
func (p params) without(key string) params {
	switch {
	case key == "album":
		p.album, p.albumRaw = nil, ""
	case p.rating != nil && key == p.ratingKey():
		p.rating, p.ratingOp, p.ratingRaw = nil, "", ""
	}
	return p
}

// sized returns p with page size n: a page size link.
func (p params) sized(n int) params {
	p.pageSize = n
	return p
}

// url is the list URL for p at page, sorted by sortKey, as the app builds it.
func (p params) url(page int, sortKey string) string {
	q := url.Values{}
	if p.album != nil {
		q.Set("album", p.albumRaw)
	}
	if p.rating != nil {
		q.Set(p.ratingKey(), p.ratingRaw)
	}
	if p.q != "" {
		q.Set("q", p.q)
	}
	if p.pageSize != defaultPageSize {
		q.Set("page_size", strconv.Itoa(p.pageSize))
	}
	if sortKey != "" {
		q.Set("sort", sortKey)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return listPath
	}
	return listPath + "?" + q.Encode()
}

// listQuery is the query of the list p shows at its page, without the
// default sort (title, ascending) and page 1, as the app's bulk form
// carries it to come back to.
func (p params) listQuery() string {
	sortKey := p.sortKey()
	if sortKey == "title" {
		sortKey = ""
	}
	_, query, _ := strings.Cut(p.url(p.page, sortKey), "?")
	return query
}

// exportURL is the list's CSV export, sorted by sortKey, as the app builds
// it: the filters, search and sort, not the page or page size.
func (p params) exportURL(sortKey string) string {
	q := url.Values{}
	if p.album != nil {
		q.Set("album", p.albumRaw)
	}
	if p.rating != nil {
		q.Set(p.ratingKey(), p.ratingRaw)
	}
	if p.q != "" {
		q.Set("q", p.q)
	}
	if sortKey != "" {
		q.Set("sort", sortKey)
	}
	if len(q) == 0 {
		return "/songsview/export.csv"
	}
	return "/songsview/export.csv?" + q.Encode()
}
