package main

import (
	"bytes"
	"database/sql"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestPageNumbers checks the pager against cases of the app's
// admin.TestPageNumbers, the bounded count among them: the bench compares
// pages only at sizes where no count is bounded.
func TestPageNumbers(t *testing.T) {
	for _, c := range []struct {
		name string
		g    pager
		rows int
		want []int // 0 is a gap
	}{
		{"first of twenty", pager{page: 1, size: 10, total: 200}, 10, []int{1, 2, 3, 0, 20}},
		{"a gap of one page is that page", pager{page: 4, size: 10, total: 70}, 10, []int{1, 2, 3, 4, 5, 6, 7}},
		{"bounded count, first page", pager{page: 1, size: 25, total: 10000, atLeast: true}, 25, []int{1, 2, 3, 0}},
		{"bounded count, its real end", pager{page: 403, size: 25, total: 10000, atLeast: true}, 7, []int{1, 0, 401, 402, 403}},
	} {
		if got := c.g.numbers(c.rows); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestListRenders checks that the app's list template runs on the floor's
// data, which breaks whenever the app's list page gains a field the floor
// does not fill.
func TestListRenders(t *testing.T) {
	tmpl, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.ParseQuery("album=42&rating__gte=5&q=love&page_size=50")
	songs := []song{{id: 7, title: "Love Song", rating: 6,
		albumID: sql.NullInt64{Int64: 42, Valid: true}, albumName: sql.NullString{String: "Blue", Valid: true}}}
	data := buildList(parse(q), songs, 1, false, "Blue")
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, page{User: user, CSRF: csrf, Title: "Song View", Menu: menu, Data: data}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<span>Album = Blue</span> <a href="/songsview/list/?page_size=50&amp;q=love&amp;rating__gte=5&amp;sort=title"`,
		`<div class="lookup" data-lookup-url="/songsview/lookup/album" data-lookup-target="album"`,
		`data-msg-none="No album matches."`,
		`<input id="filter-album-value" name="filter_value" type="text" value=""`,
		`title="Search Title"`, // the floor fills in the ids its t reads
		`<span class="current" aria-current="true">50</span>`,
		`href="/songsview/export.csv?album=42&amp;q=love&amp;rating__gte=5&amp;sort=title"`,
		`<input type="hidden" name="list_query" value="album=42&amp;page_size=50&amp;q=love&amp;rating__gte=5">`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("page lacks %s", want)
		}
	}
}
