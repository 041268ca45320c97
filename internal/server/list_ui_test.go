package server_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/apptest"
)

// queryOf returns the query of a link of the page, failing on one that is
// not a path of the list.
func queryOf(t *testing.T, href string) url.Values {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil || !strings.HasPrefix(u.Path, "/songsview/list/") {
		t.Fatalf("link %q is not a song list link (%v)", href, err)
	}
	return u.Query()
}

// without returns a copy of q without the keys.
func without(q url.Values, keys ...string) url.Values {
	out := maps.Clone(q)
	for _, k := range keys {
		out.Del(k)
	}
	return out
}

func sameQuery(a, b url.Values) bool {
	return maps.EqualFunc(a, b, slices.Equal[[]string])
}

// formValues returns what a browser submits for the form as it is
// rendered: its inputs' values and each select's first option.
func formValues(form *goquery.Selection) url.Values {
	v := url.Values{}
	form.Find("input[name], select[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if goquery.NodeName(s) == "select" {
			first, _ := s.Find("option").First().Attr("value")
			v.Add(name, first)
			return
		}
		val, _ := s.Attr("value")
		v.Add(name, val)
	})
	return v
}

// TestListNumberedPages: the numbered pages show the first, a window around
// the current page and the last, and every link keeps the search, the sort,
// the page size and the filters; the page-size links offer 25, 50 and 100
// and start again at page 1.
func TestListNumberedPages(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		songs := make([]apptest.SongRow, 13)
		for i := range songs {
			songs[i] = apptest.SongRow{Title: fmt.Sprintf("Song %02d", i+1), Rating: 5}
		}
		songs = append(songs, apptest.SongRow{Title: "Song 99 (unrated)", Rating: 0})
		app.InsertSongs(songs)
		c := app.LoggedIn()

		base := url.Values{"q": {"song"}, "sort": {"-title"}, "page_size": {"1"}, "rating__gte": {"5"}}
		r := c.Get("/songsview/list/?" + base.Encode() + "&page=7")
		r.ExpectStatus(t, "page 7", http.StatusOK)
		if got := r.FirstColumn(); !slices.Equal(got, []string{"Song 07"}) {
			t.Fatalf("page 7 of the descending list = %q, want Song 07", got)
		}
		if got := r.Text(".pager .status"); got != "Page 7 of 13" {
			t.Errorf("status = %q", got)
		}
		if got := r.Texts(".pager .pages li"); !slices.Equal(got, []string{"‹ Previous", "1", "…", "5", "6", "7", "8", "9", "…", "13", "Next ›"}) {
			t.Errorf("pager = %q", got)
		}
		if got := r.Texts(`.pager [aria-current="page"]`); !slices.Equal(got, []string{"7"}) {
			t.Errorf("current page = %q", got)
		}
		if n := r.Doc.Find(`.pager [aria-current="page"][href]`).Length(); n != 0 {
			t.Errorf("the current page links to itself")
		}
		links := 0
		r.Doc.Find(".pager .pages a").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			q := queryOf(t, href)
			want := strings.TrimSpace(a.Text())
			switch want {
			case "‹ Previous":
				want = "6"
			case "Next ›":
				want = "8"
			}
			page := q.Get("page")
			if page == "" {
				page = "1" // page 1 is the list without a page
			}
			if page != want || !sameQuery(without(q, "page"), base) {
				t.Errorf("link %q (%s) = %v, want page %s and %v", a.Text(), href, q, want, base)
			}
			links++
			// The link leads where it says.
			if want == "13" {
				if got := c.Get(href).FirstColumn(); !slices.Equal(got, []string{"Song 01"}) {
					t.Errorf("the last page link shows %q", got)
				}
			}
		})
		if links != 8 { // previous, 1, 5, 6, 8, 9, 13, next
			t.Errorf("%d page links, want 8", links)
		}

		// Page sizes: each a link that keeps the rest and drops the page.
		sizes := map[string]string{}
		r.Doc.Find(".sizes a").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			q := queryOf(t, href)
			sizes[strings.TrimSpace(a.Text())] = q.Get("page_size")
			if q.Has("page") || !sameQuery(without(q, "page_size"), without(base, "page_size")) {
				t.Errorf("page size link %s keeps %v, want %v without page", href, q, without(base, "page_size"))
			}
		})
		// 25 is the default size: its link carries none.
		if want := map[string]string{"25": "", "50": "50", "100": "100"}; !maps.Equal(sizes, want) {
			t.Errorf("page size links = %v, want %v", sizes, want)
		}
		for _, tc := range []struct{ query, current string }{
			{"page_size=50", "50"},
			{"page_size=1000", "100"}, // still clamped
			{"page_size=99999999999999999999", "100"},
			{"page_size=7", ""}, // allowed, not offered
		} {
			r := c.Get("/songsview/list/?" + tc.query)
			r.ExpectStatus(t, tc.query, http.StatusOK)
			if got := r.Text(".sizes .current"); got != tc.current {
				t.Errorf("%s: current page size %q, want %q", tc.query, got, tc.current)
			}
			if got := r.Texts(".sizes a, .sizes .current"); !slices.Equal(got, []string{"25", "50", "100"}) {
				t.Errorf("%s: page sizes offered %q", tc.query, got)
			}
		}
		if got := len(c.Get("/songsview/list/?page_size=7").Rows()); got != 7 {
			t.Errorf("page_size=7 shows %d rows", got)
		}
		// A list shorter than the smallest size, at the default size, has
		// nothing to choose; a page_size that is no size is the default.
		for _, query := range []string{"", "page_size=-4", "page_size=abc"} {
			short := c.Get("/songsview/list/?" + query)
			if n := short.Doc.Find(".sizes, .pager").Length(); n != 0 || len(short.Rows()) != len(songs) {
				t.Errorf("%q: %d rows and %d pager or size elements, want %d rows and none", query,
					len(short.Rows()), n, len(songs))
			}
		}
	})
}

// TestListFilterMenu: the filter menu offers each field's own operators, a
// submitted menu form comes back as a redirect to the FIELD__OP=VALUE list
// URL keeping the search, sort, page size and other filters, and what it
// names is checked as a typed filter is.
func TestListFilterMenu(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		cat := seedCatalogue(t, app)
		c := app.LoggedIn()
		abbey := cat.albums["Abbey Road"]

		start := url.Values{"q": {"e"}, "sort": {"-rating"}, "page_size": {"50"}, "title__contains": {"o"}}
		r := c.Get("/songsview/list/?" + start.Encode() + "&page=2")
		r.ExpectStatus(t, "list", http.StatusOK)
		forms := map[string]*goquery.Selection{}
		r.Doc.Find(".filter-menu form").Each(func(_ int, f *goquery.Selection) {
			field, _ := f.Find(`input[name="filter_field"]`).Attr("value")
			forms[field] = f
			if method, _ := f.Attr("method"); method != "get" {
				t.Errorf("%s filter form method %q", field, method)
			}
			if action, _ := f.Attr("action"); action != "/songsview/list/" {
				t.Errorf("%s filter form action %q", field, action)
			}
		})
		for field, want := range map[string][]string{
			"title":  {"contains", "startswith", "eq", "ne"},
			"rating": {"eq", "ne", "gt", "gte", "lt", "lte"},
			"album":  {"eq", "empty", "notempty"},
		} {
			f := forms[field]
			if f == nil {
				t.Fatalf("no filter form for %s", field)
			}
			var ops []string
			f.Find(`select[name="filter_op"] option`).Each(func(_ int, o *goquery.Selection) {
				v, _ := o.Attr("value")
				ops = append(ops, v)
			})
			if !slices.Equal(ops, want) {
				t.Errorf("%s operators = %q, want %q", field, ops, want)
			}
		}
		if typ, _ := forms["rating"].Find(`[name="filter_value"]`).Attr("type"); typ != "number" {
			t.Errorf("rating value input type %q", typ)
		}
		// The reference is the forms' searchable input, an id typed in a
		// plain input without script: no select lists every album.
		if n := forms["album"].Find(`.lookup[data-lookup-url="/songsview/lookup/album"] input[name="filter_value"][type="text"]`).Length(); n != 1 ||
			forms["album"].Find(`[name="filter_value"]`).Length() != 1 {
			t.Errorf("album filter value is not one searchable text input")
		}

		submit := func(field, op, value string) *apptest.Response {
			t.Helper()
			v := formValues(forms[field])
			v.Set("filter_op", op)
			v.Set("filter_value", value)
			return c.Get("/songsview/list/?" + v.Encode())
		}
		for _, tc := range []struct {
			field, op, value string
			key, want        string
			keep             func(apptest.SongRow) bool
		}{
			{"rating", "gte", "8", "rating__gte", "8", func(s apptest.SongRow) bool { return s.Rating >= 8 }},
			{"title", "startswith", "come", "title__startswith", "come", func(s apptest.SongRow) bool {
				return strings.HasPrefix(strings.ToLower(s.Title), "come")
			}},
			{"album", "eq", abbey, "album__eq", abbey, func(s apptest.SongRow) bool { return s.Album == abbey }},
			{"album", "empty", "", "album__empty", "true", func(s apptest.SongRow) bool { return s.Album == "" }},
			{"album", "notempty", "ignored", "album__empty", "false", func(s apptest.SongRow) bool { return s.Album != "" }},
		} {
			what := tc.field + " " + tc.op
			red := submit(tc.field, tc.op, tc.value)
			if red.Status != http.StatusFound {
				t.Fatalf("%s: status %d, want 302", what, red.Status)
			}
			got := queryOf(t, red.Location())
			want := maps.Clone(start)
			want.Set(tc.key, tc.want)
			if !sameQuery(got, want) {
				t.Errorf("%s: redirected to %v, want %v", what, got, want)
			}
			list := c.Get(red.Location())
			list.ExpectStatus(t, what, http.StatusOK)
			wantRows := cat.titles(func(s apptest.SongRow) bool {
				low := strings.ToLower(s.Title)
				return tc.keep(s) && strings.Contains(low, "o") && strings.Contains(low, "e")
			})
			rows := list.FirstColumn()
			slices.Sort(rows)
			if !slices.Equal(rows, wantRows) {
				t.Errorf("%s: rows %q, want %q", what, rows, wantRows)
			}
			if n := len(list.Texts(".notice")); n != 0 {
				t.Errorf("%s: notices %q", what, list.Texts(".notice"))
			}
		}

		// What the menu names is checked as a typed URL is: an unknown
		// field, an operator its kind has not, a value that is not one.
		for _, tc := range []struct{ field, op, value, notice string }{
			{"colour", "eq", "red", `Ignored unknown filter "colour__eq".`},
			{"rating", "contains", "5", `Ignored unknown filter "rating__contains".`},
			{"rating", "gte", "high", `Ignored filter "rating__gte": "high" is not a valid value.`},
			{"album", "eq", "abc", `Ignored filter "album__eq": "abc" is not a valid value.`},
		} {
			v := without(start)
			v.Set("filter_field", tc.field)
			v.Set("filter_op", tc.op)
			v.Set("filter_value", tc.value)
			red := c.Get("/songsview/list/?" + v.Encode())
			if red.Status != http.StatusFound {
				t.Errorf("%s %s: status %d", tc.field, tc.op, red.Status)
				continue
			}
			list := c.Get(red.Location())
			list.ExpectStatus(t, tc.field+" "+tc.op, http.StatusOK)
			if got := list.Texts(".notice"); !slices.Equal(got, []string{tc.notice}) {
				t.Errorf("%s %s %q: notices %q, want %q", tc.field, tc.op, tc.value, got, tc.notice)
			}
			if got := list.Texts(".chip > span"); !slices.Equal(got, []string{"Title contains o"}) {
				t.Errorf("%s %s: chips %q, want the filter already there only", tc.field, tc.op, got)
			}
		}
		// A value left empty adds no filter, as an empty album filter does.
		v := without(start)
		v.Set("filter_field", "rating")
		v.Set("filter_op", "gte")
		v.Set("filter_value", "")
		if red := c.Get("/songsview/list/?" + v.Encode()); red.Status != http.StatusFound {
			t.Errorf("empty value: status %d", red.Status)
		} else if list := c.Get(red.Location()); len(list.Texts(".notice")) != 0 ||
			!slices.Equal(list.Texts(".chip > span"), []string{"Title contains o"}) {
			t.Errorf("empty value: notices %q, chips %q; want none and the filter already there", list.Texts(".notice"), list.Texts(".chip > span"))
		}
		// A menu parameter alone is a menu form too: never a 500, never a
		// filter named filter_op.
		red := c.Get("/songsview/list/?filter_op=gte&q=x")
		if red.Status != http.StatusFound || !sameQuery(queryOf(t, red.Location()), url.Values{"q": {"x"}}) {
			t.Errorf("filter_op alone: %d to %q", red.Status, red.Location())
		}
	})
}

// TestListChips: every active filter is a chip whose link removes exactly
// that filter and keeps the search, the sort, the page size and the others.
// TestListChipNamesTheAlbum: a filter by album shows the album's name in
// its chip, not its id, and removing it keeps the rest.
func TestListChipNamesTheAlbum(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		cat := seedCatalogue(t, app)
		c := app.LoggedIn()
		r := c.Get("/songsview/list/?album=" + url.QueryEscape(cat.albums["Abbey Road"]) + "&rating__gte=1")
		r.ExpectStatus(t, "list", http.StatusOK)
		if got := r.Texts(".chip > span"); !slices.Equal(got, []string{"Album = Abbey Road", "Rating ≥ 1"}) {
			t.Errorf("chips %q, want the album by name", got)
		}
		// Spelled with its operator, as the filter menu adds it: the same.
		r = c.Get("/songsview/list/?album__eq=" + url.QueryEscape(cat.albums["Abbey Road"]))
		if got := r.Texts(".chip > span"); !slices.Equal(got, []string{"Album = Abbey Road"}) {
			t.Errorf("chips of album__eq %q, want the album by name", got)
		}
		// An id that names no album still shows as typed.
		r = c.Get("/songsview/list/?album=" + url.QueryEscape(app.UnknownID()))
		if got := r.Texts(".chip > span"); len(got) != 1 || !strings.HasPrefix(got[0], "Album = ") || strings.Contains(got[0], "Abbey") {
			t.Errorf("chips for an unknown album %q", got)
		}
	})
}

func TestListChips(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		cat := seedCatalogue(t, app)
		c := app.LoggedIn()

		start := url.Values{"title__contains": {"o"}, "rating__gte": {"3"}, "album__empty": {"true"},
			"q": {"e"}, "sort": {"-rating"}, "page_size": {"2"}}
		r := c.Get("/songsview/list/?" + start.Encode() + "&page=2&colour=red")
		r.ExpectStatus(t, "list", http.StatusOK)
		want := map[string]string{
			"Album is empty: true": "album__empty",
			"Rating ≥ 3":           "rating__gte",
			"Title contains o":     "title__contains",
		}
		chips := r.Doc.Find(".chips .chip")
		if chips.Length() != len(want) {
			t.Fatalf("chips %q, want %d (the ignored colour is a notice, not a chip)", r.Texts(".chip > span"), len(want))
		}
		chips.Each(func(_ int, chip *goquery.Selection) {
			text := strings.TrimSpace(chip.Find("span").Text())
			key, ok := want[text]
			if !ok {
				t.Errorf("unexpected chip %q", text)
				return
			}
			a := chip.Find("a.chip-remove")
			if label, _ := a.Attr("aria-label"); label != "Remove filter "+text {
				t.Errorf("chip %q remove label %q", text, label)
			}
			href, _ := a.Attr("href")
			got := queryOf(t, href)
			if !sameQuery(got, without(start, key)) {
				t.Errorf("removing %q leads to %v, want %v", text, got, without(start, key))
			}
			after := c.Get(href)
			after.ExpectStatus(t, "remove "+text, http.StatusOK)
			left := after.Texts(".chip > span")
			if len(left) != 2 || slices.Contains(left, text) {
				t.Errorf("after removing %q the chips are %q", text, left)
			}
		})
		// The last chip's link is the list with no filter (in its default
		// order, which links spell out).
		only := c.Get("/songsview/list/?rating__gte=9")
		href, _ := only.Doc.Find("a.chip-remove").Attr("href")
		if q := queryOf(t, href); !sameQuery(q, url.Values{"sort": {"title"}}) {
			t.Errorf("removing the only filter leads to %q", href)
		}
		if got := c.Get(href).FirstColumn(); len(got) != len(cat.songs) {
			t.Errorf("the list without filters has %d rows, want %d", len(got), len(cat.songs))
		}
	})
}

// TestListLinksEscape: a filter value and a search with quotes, angle
// brackets and ampersands come back exactly, in the chips, the hidden inputs
// of the GET forms and every link that keeps them, and never as markup.
func TestListLinksEscape(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		const payload = `"><script>alert(1)</script>'&page=9`
		app.InsertSongs([]apptest.SongRow{{Title: "a" + payload, Rating: 1}, {Title: "b" + payload, Rating: 2},
			{Title: "c" + payload, Rating: 3}})
		c := app.LoggedIn()
		search := `<b onmouseover="x">`
		start := url.Values{"title__contains": {payload}, "q": {search}, "page_size": {"1"}, "sort": {"title"}}
		// The search matches nothing but is kept; a search for the titles
		// themselves pages through them.
		for _, q := range []string{search, "script"} {
			start.Set("q", q)
			r := c.Get("/songsview/list/?" + start.Encode())
			r.ExpectStatus(t, "list", http.StatusOK)
			what := "q=" + q
			checkNoActiveURLs(t, what, r)
			if strings.Contains(r.Body, payload) || strings.Contains(r.Body, search) {
				t.Errorf("%s: a value appears raw in the page", what)
			}
			if got := r.Texts(".chip > span"); !slices.Equal(got, []string{"Title contains " + payload}) {
				t.Errorf("%s: chips %q", what, got)
			}
			hidden := r.Doc.Find(`form input[type="hidden"][name="title__contains"]`)
			// The search form and a menu form per field.
			if hidden.Length() != 4 {
				t.Errorf("%s: %d hidden title__contains inputs, want 4", what, hidden.Length())
			}
			hidden.Each(func(_ int, in *goquery.Selection) {
				if v, _ := in.Attr("value"); v != payload {
					t.Errorf("%s: hidden input holds %q", what, v)
				}
			})
			if v, _ := r.Doc.Find(`.filter-menu input[type="hidden"][name="q"]`).First().Attr("value"); v != q {
				t.Errorf("%s: the filter menu keeps q as %q", what, v)
			}
			n := 0
			r.Doc.Find(".pager a, .sizes a, thead a").Each(func(_ int, a *goquery.Selection) {
				href, _ := a.Attr("href")
				got := queryOf(t, href)
				if got.Get("title__contains") != payload || got.Get("q") != q {
					t.Errorf("%s: link %q keeps %v", what, href, got)
				}
				if p := got.Get("page"); p != "" {
					if _, err := strconv.Atoi(p); err != nil {
						t.Errorf("%s: link %q has page %q", what, href, p)
					}
				}
				n++
			})
			if q == "script" && n < 6 { // 2 page numbers, next, 2 sizes, the title header
				t.Errorf("%s: only %d links checked", what, n)
			}
			if q == "script" {
				if got := r.FirstColumn(); !slices.Equal(got, []string{"a" + payload}) {
					t.Errorf("%s: first page %q", what, got)
				}
			}
		}
	})
}
