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
	ratingGte      *int64
	ratingRaw      string
	album          *int64
	albumRaw       string
}

// parse reads a list request: a page or page size that is not a positive
// number is the default, a larger one is capped; an unknown sort and a
// filter value that is not a number (for album, a positive one) are ignored,
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
	if raw := q.Get("rating__gte"); raw != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64); err == nil {
			p.ratingGte, p.ratingRaw = &n, raw
		}
	}
	if raw := q.Get("album"); raw != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64); err == nil && n > 0 {
			p.album, p.albumRaw = &n, raw
		}
	}
	return p
}

// cleanSearch drops invalid UTF-8 and NUL bytes, trims the search and cuts
// it at maxSearchRunes, as the app does.
func cleanSearch(q string) string {
	q = strings.ToValidUTF8(q, "")
	q = strings.ReplaceAll(q, "\x00", "")
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > maxSearchRunes {
		q = string([]rune(q)[:maxSearchRunes])
	}
	return q
}

// url is the list URL for p at page, sorted by sortKey, as the app builds it.
func (p params) url(page int, sortKey string) string {
	q := url.Values{}
	if p.album != nil {
		q.Set("album", p.albumRaw)
	}
	if p.ratingGte != nil {
		q.Set("rating__gte", p.ratingRaw)
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

// exportURL is the list's CSV export, sorted by sortKey, as the app builds
// it: the filters, search and sort, not the page or page size.
func (p params) exportURL(sortKey string) string {
	q := url.Values{}
	if p.album != nil {
		q.Set("album", p.albumRaw)
	}
	if p.ratingGte != nil {
		q.Set("rating__gte", p.ratingRaw)
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
