package server_test

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/apptest"
)

// catalogue is a seeded set of albums and songs, the songs in the order
// they were stored (their ids' order on every backend).
type catalogue struct {
	albums map[string]string // name -> id
	songs  []apptest.SongRow
}

// seedCatalogue stores three albums (Revolver with no songs) and songs
// chosen to tell the sort orders, the filters and the search apart: equal
// ratings, upper and lower case, non-ASCII, and LIKE wildcards in titles.
func seedCatalogue(t *testing.T, app *apptest.App) catalogue {
	t.Helper()
	c := catalogue{albums: map[string]string{}}
	for _, name := range []string{"Abbey Road", "Let It Be", "Revolver"} {
		c.albums[name] = app.InsertAlbum(name)
	}
	abbey, letItBe := c.albums["Abbey Road"], c.albums["Let It Be"]
	c.songs = []apptest.SongRow{
		{Title: "Something", Rating: 9, Album: abbey},
		{Title: "Come Together", Rating: 8, Album: abbey},
		{Title: "Let It Be", Rating: 7, Album: letItBe},
		{Title: "Get Back", Rating: 5, Album: letItBe},
		{Title: "Yesterday", Rating: 9},
		{Title: "100% Love", Rating: 3},
		{Title: "love_me_do", Rating: 0},
		{Title: "lovexme", Rating: 1},
		{Title: "Été Indien", Rating: 4},
		{Title: "Lovely Rita", Rating: 5, Album: abbey},
	}
	for i, id := range app.InsertSongs(c.songs) {
		c.songs[i].ID = id
	}
	return c
}

// titles returns the titles of the songs that satisfy keep, in the list's
// default order (by title, the byte order both backends use).
func (c catalogue) titles(keep func(s apptest.SongRow) bool) []string {
	out := []string{}
	for _, s := range c.songs {
		if keep(s) {
			out = append(out, s.Title)
		}
	}
	slices.Sort(out)
	return out
}

// firstColumn returns the first cell of every row of the list page at path
// and fails unless it answers 200.
func firstColumn(t *testing.T, c *apptest.Client, path string) []string {
	t.Helper()
	r := c.Get(path)
	r.ExpectStatus(t, "GET "+path, http.StatusOK)
	return r.FirstColumn()
}

// TestIndexMenu: the index shows the "Model Views" category with both views.
func TestIndexMenu(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		r := app.LoggedIn().Get("/")
		r.ExpectStatus(t, "index", http.StatusOK)
		var found bool
		r.Doc.Find("main section.card").Each(func(_ int, s *goquery.Selection) {
			if strings.TrimSpace(s.Find("h2").Text()) != "Model Views" {
				return
			}
			found = true
			var links []string
			s.Find("a").Each(func(_ int, a *goquery.Selection) {
				href, _ := a.Attr("href")
				links = append(links, strings.TrimSpace(a.Text())+" "+href)
			})
			if want := []string{"Album View /albumview/list/", "Song View /songsview/list/"}; !slices.Equal(links, want) {
				t.Errorf("Model Views links = %q, want %q", links, want)
			}
		})
		if !found {
			t.Fatalf("no Model Views category on the index:\n%s", r.Body)
		}
		// The same entries are in the menu of every page.
		menu := r.Doc.Find("nav .menu details").First()
		if got := strings.TrimSpace(menu.Find("summary").Text()); got != "Model Views" {
			t.Errorf("menu category = %q", got)
		}
		if got := r.Texts("nav .menu > li:first-child a"); !slices.Equal(got, []string{"Album View", "Song View"}) {
			t.Errorf("Model Views menu items = %q", got)
		}
		// An Admin also has the Security category, after it.
		if got := r.Texts("nav .menu > li:nth-child(2) summary"); !slices.Equal(got, []string{"Security"}) {
			t.Errorf("second menu category = %q, want Security", got)
		}
	})
}

// TestListSort: the column headers sort, both ways.
func TestListSort(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		cat := seedCatalogue(t, app)
		c := app.LoggedIn()

		byTitle := cat.titles(func(apptest.SongRow) bool { return true })
		desc := slices.Clone(byTitle)
		slices.Reverse(desc)
		// Equal ratings are in id order, reversed with the direction: the
		// order the songs were stored in, on every backend (a stable sort
		// of cat.songs, which is in that order).
		songs := slices.Clone(cat.songs)
		slices.SortStableFunc(songs, func(a, b apptest.SongRow) int { return cmp.Compare(a.Rating, b.Rating) })
		var byRating []string
		for _, s := range songs {
			byRating = append(byRating, s.Title)
		}
		byRatingDesc := slices.Clone(byRating)
		slices.Reverse(byRatingDesc)

		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", byTitle},
			{"?sort=title", byTitle},
			{"?sort=-title", desc},
			{"?sort=rating", byRating},
			{"?sort=-rating", byRatingDesc},
			{"?sort=album", byTitle}, // not an order column: ignored
		} {
			if got := firstColumn(t, c, "/songsview/list/"+tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("songs%s = %q, want %q", tc.query, got, tc.want)
			}
		}
		// The ratings column is really in order (not just the titles).
		var ratings []int
		for _, row := range c.Get("/songsview/list/?sort=-rating").Rows() {
			n, _ := strconv.Atoi(row[1])
			ratings = append(ratings, n)
		}
		if !slices.IsSortedFunc(ratings, func(a, b int) int { return b - a }) || len(ratings) != len(cat.songs) {
			t.Errorf("ratings under sort=-rating = %v", ratings)
		}

		// Following the header links: Title toggles, Rating starts ascending.
		header := func(r *apptest.Response, label string) string {
			href, ok := r.Doc.Find("thead th a").FilterFunction(func(_ int, a *goquery.Selection) bool {
				return strings.TrimSpace(a.Text()) == label
			}).Attr("href")
			if !ok {
				t.Fatalf("no sort link on header %q", label)
			}
			return href
		}
		list := c.Get("/songsview/list/")
		if got := list.Doc.Find("thead th").FilterFunction(func(_ int, s *goquery.Selection) bool {
			return strings.TrimSpace(s.Text()) == "Album"
		}).Find("a").Length(); got != 0 {
			t.Errorf("Album header has a sort link")
		}
		toDesc := header(list, "Title")
		if got := firstColumn(t, c, toDesc); !slices.Equal(got, desc) {
			t.Errorf("Title header (%s) = %q, want %q", toDesc, got, desc)
		}
		if got := firstColumn(t, c, header(c.Get(toDesc), "Title")); !slices.Equal(got, byTitle) {
			t.Errorf("Title header twice = %q, want %q", got, byTitle)
		}
		toRating := header(list, "Rating")
		if got := firstColumn(t, c, toRating); !slices.Equal(got, byRating) {
			t.Errorf("Rating header (%s) = %q, want %q", toRating, got, byRating)
		}
		if got := firstColumn(t, c, header(c.Get(toRating), "Rating")); !slices.Equal(got, byRatingDesc) {
			t.Errorf("Rating header twice = %q, want %q", got, byRatingDesc)
		}

		names := []string{"Abbey Road", "Let It Be", "Revolver"}
		if got := firstColumn(t, c, "/albumview/list/?sort=name"); !slices.Equal(got, names) {
			t.Errorf("albums by name = %q", got)
		}
		slices.Reverse(names)
		if got := firstColumn(t, c, "/albumview/list/?sort=-name"); !slices.Equal(got, names) {
			t.Errorf("albums by -name = %q", got)
		}
	})
}

// TestListSearchAndFilters: q and FIELD__OP filters give exactly the
// expected rows on both backends.
func TestListSearchAndFilters(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		cat := seedCatalogue(t, app)
		c := app.LoggedIn()
		abbey, letItBe, revolver := cat.albums["Abbey Road"], cat.albums["Let It Be"], cat.albums["Revolver"]
		unknown := app.UnknownID()
		on := func(album string) func(apptest.SongRow) bool {
			return func(s apptest.SongRow) bool { return s.Album == album }
		}
		folded := func(sub string) func(apptest.SongRow) bool {
			return func(s apptest.SongRow) bool { return strings.Contains(strings.ToLower(s.Title), strings.ToLower(sub)) }
		}
		rating := func(keep func(int) bool) func(apptest.SongRow) bool {
			return func(s apptest.SongRow) bool { return keep(s.Rating) }
		}
		cases := []struct {
			query string
			keep  func(apptest.SongRow) bool
		}{
			// Search: case-insensitive, Unicode too, wildcards are literal.
			{"q=LOVE", folded("love")},
			{"q=love", folded("love")},
			{"q=%C3%A9t%C3%A9", folded("été")}, // été matches Été
			{"q=%25", folded("%")},
			{"q=_", folded("_")},
			{"q=e_m", folded("e_m")},
			{"q=0%25+L", folded("0% L")},
			{"q=++together++", folded("together")},
			{"q=nothing-like-this", func(apptest.SongRow) bool { return false }},
			// Text filters.
			{"title__contains=Love", folded("love")},
			{"title__contains=_", folded("_")},
			{"title__contains=%25", folded("%")},
			{"title__startswith=love", func(s apptest.SongRow) bool { return strings.HasPrefix(strings.ToLower(s.Title), "love") }},
			{"title__startswith=L", func(s apptest.SongRow) bool { return strings.HasPrefix(strings.ToLower(s.Title), "l") }},
			{"title__startswith=love_", func(s apptest.SongRow) bool { return strings.HasPrefix(strings.ToLower(s.Title), "love_") }},
			{"title__eq=Let+It+Be", func(s apptest.SongRow) bool { return s.Title == "Let It Be" }},
			{"title=Let+It+Be", func(s apptest.SongRow) bool { return s.Title == "Let It Be" }},
			{"title__ne=Let+It+Be", func(s apptest.SongRow) bool { return s.Title != "Let It Be" }},
			// Integer filters.
			{"rating__eq=9", rating(func(r int) bool { return r == 9 })},
			{"rating=5", rating(func(r int) bool { return r == 5 })},
			{"rating__ne=9", rating(func(r int) bool { return r != 9 })},
			{"rating__gt=5", rating(func(r int) bool { return r > 5 })},
			{"rating__gte=5", rating(func(r int) bool { return r >= 5 })},
			{"rating__lt=5", rating(func(r int) bool { return r < 5 })},
			{"rating__lte=5", rating(func(r int) bool { return r <= 5 })},
			{"rating__gte=4&rating__lte=7", rating(func(r int) bool { return r >= 4 && r <= 7 })},
			// Reference filters.
			{"album=" + abbey, on(abbey)},
			{"album__eq=" + letItBe, on(letItBe)},
			{"album=" + revolver, on(revolver)},
			{"album=" + unknown, on(unknown)}, // a well-formed id of no album
			{"album__empty=true", func(s apptest.SongRow) bool { return s.Album == "" }},
			{"album__empty=false", func(s apptest.SongRow) bool { return s.Album != "" }},
			// Combined with search.
			{"album=" + abbey + "&q=LOVE", func(s apptest.SongRow) bool { return on(abbey)(s) && folded("love")(s) }},
			{"album__empty=true&rating__gte=3&sort=title", func(s apptest.SongRow) bool { return s.Album == "" && s.Rating >= 3 }},
		}
		for _, tc := range cases {
			want := cat.titles(tc.keep)
			r := c.Get("/songsview/list/?" + tc.query)
			if r.Status != http.StatusOK {
				t.Errorf("%s: status %d", tc.query, r.Status)
				continue
			}
			got := r.FirstColumn()
			if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("%s: %q, want %q", tc.query, got, want)
			}
			wantCount := fmt.Sprintf("%d records", len(want))
			if len(want) == 1 {
				wantCount = "1 record"
			}
			if got := r.Text(".count"); got != wantCount {
				t.Errorf("%s: count %q, want %q", tc.query, got, wantCount)
			}
			if notices := r.Texts(".notice"); len(notices) != 0 {
				t.Errorf("%s: notices %q", tc.query, notices)
			}
		}
		if got := firstColumn(t, c, "/albumview/list/?q=ROAD"); !slices.Equal(got, []string{"Abbey Road"}) {
			t.Errorf("album search = %q", got)
		}

		// Unknown or malformed filters are ignored, with a notice.
		all := cat.titles(func(apptest.SongRow) bool { return true })
		for _, tc := range []struct{ query, notice string }{
			{"colour=red", `Ignored unknown filter "colour".`},
			{"title__gt=M", `Ignored unknown filter "title__gt".`},
			{"rating__contains=5", `Ignored unknown filter "rating__contains".`},
			{"album__startswith=A", `Ignored unknown filter "album__startswith".`},
			{"id=1", `Ignored unknown filter "id".`},
			{"rating__gte=high", `Ignored filter "rating__gte": "high" is not a valid value.`},
			{"album=abc", `Ignored filter "album": "abc" is not a valid value.`},
			{"album__empty=maybe", `Ignored filter "album__empty": "maybe" is not a valid value.`},
		} {
			r := c.Get("/songsview/list/?" + tc.query)
			if r.Status != http.StatusOK {
				t.Errorf("%s: status %d", tc.query, r.Status)
				continue
			}
			if got := r.Texts(".notice"); !slices.Equal(got, []string{tc.notice}) {
				t.Errorf("%s: notices %q, want %q", tc.query, got, tc.notice)
			}
			got := r.FirstColumn()
			if !slices.Equal(got, all) {
				t.Errorf("%s: rows %q, want all %q", tc.query, got, all)
			}
		}
		// An ignored filter does not drop a valid one beside it.
		r := c.Get("/songsview/list/?colour=red&rating__gte=9")
		if got := r.Texts(".notice"); len(got) != 1 {
			t.Errorf("notices = %q", got)
		}
		got := r.FirstColumn()
		if want := cat.titles(rating(func(r int) bool { return r >= 9 })); !slices.Equal(got, want) {
			t.Errorf("valid filter beside an unknown one: %q, want %q", got, want)
		}
	})
}

// TestListPagination: page, page_size (capped at 100), the total, and a page
// past the end.
func TestListPagination(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		const total = 105
		songs := make([]apptest.SongRow, total)
		var titles []string
		for i := range songs {
			songs[i] = apptest.SongRow{Title: fmt.Sprintf("Song %03d", i+1), Rating: i % 10}
			titles = append(titles, songs[i].Title)
		}
		app.InsertSongs(songs)
		c := app.LoggedIn()
		pageOf := func(r *apptest.Response) string { return r.Text(".pager span") }

		for _, tc := range []struct {
			query      string
			from, to   int // the expected rows, titles[from:to]
			page, next string
		}{
			{"", 0, 25, "Page 1 of 5", "page=2"},
			{"?page=2", 25, 50, "Page 2 of 5", "page=3"},
			{"?page=5", 100, 105, "Page 5 of 5", ""},
			{"?page_size=10&page=3", 20, 30, "Page 3 of 11", "page=4"},
			{"?page_size=100", 0, 100, "Page 1 of 2", "page=2"},
			{"?page_size=1000", 0, 100, "Page 1 of 2", "page=2"},
			{"?page_size=99999999999999999999999", 0, 100, "Page 1 of 2", "page=2"},
			{"?page_size=1000&page=2", 100, 105, "Page 2 of 2", ""},
			{"?page=6", 100, 105, "Page 5 of 5", ""},
			{"?page=99999999999", 100, 105, "Page 5 of 5", ""},
			{"?page=99999999999999999999999", 100, 105, "Page 5 of 5", ""},
			{"?page=+2&page_size=+10", 10, 20, "Page 2 of 11", "page=3"},
			{"?page_size=10&page=99", 100, 105, "Page 11 of 11", ""},
			{"?page=0", 0, 25, "Page 1 of 5", "page=2"},
			{"?page=-3&page_size=-1", 0, 25, "Page 1 of 5", "page=2"},
			{"?page=abc&page_size=xyz", 0, 25, "Page 1 of 5", "page=2"},
		} {
			r := c.Get("/songsview/list/" + tc.query)
			if r.Status != http.StatusOK {
				t.Errorf("%s: status %d", tc.query, r.Status)
				continue
			}
			got := r.FirstColumn()
			if want := titles[tc.from:tc.to]; !slices.Equal(got, want) {
				t.Errorf("%s: %d rows %q..., want %q..%q", tc.query, len(got), got[:min(len(got), 2)], want[0], want[len(want)-1])
			}
			if got := r.Text(".count"); got != fmt.Sprintf("%d records", total) {
				t.Errorf("%s: count %q", tc.query, got)
			}
			if got := pageOf(r); got != tc.page {
				t.Errorf("%s: pager %q, want %q", tc.query, got, tc.page)
			}
			next, hasNext := r.Doc.Find(".pager a[rel=next]").Attr("href")
			if tc.next == "" && hasNext {
				t.Errorf("%s: a next link on the last page: %q", tc.query, next)
			}
			if tc.next != "" {
				u, err := url.Parse(next)
				if !hasNext || err != nil || u.Query().Get("page") != strings.TrimPrefix(tc.next, "page=") {
					t.Errorf("%s: next link %q, want %s", tc.query, next, tc.next)
				}
			}
		}

		// The next link keeps the page size, the sort, the search and the filters.
		r := c.Get("/songsview/list/?page_size=5&sort=-title&q=song&rating__gte=5")
		want := 0
		for i := range songs {
			if songs[i].Rating >= 5 {
				want++
			}
		}
		if got := r.Text(".count"); got != fmt.Sprintf("%d records", want) {
			t.Errorf("filtered count %q, want %d records", got, want)
		}
		next, _ := r.Doc.Find(".pager a[rel=next]").Attr("href")
		u, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if q.Get("page") != "2" || q.Get("page_size") != "5" || q.Get("sort") != "-title" || q.Get("q") != "song" || q.Get("rating__gte") != "5" {
			t.Errorf("next link %q loses the query", next)
		}
		first := r.Rows()
		second := c.Get(next).Rows()
		if len(first) != 5 || len(second) != 5 || first[4][0] <= second[0][0] {
			t.Errorf("page 2 does not continue page 1 in descending order: %q then %q", first, second)
		}
		for _, row := range second {
			if n, _ := strconv.Atoi(row[1]); n < 5 {
				t.Errorf("page 2 lost the filter: %q", row)
			}
		}
	})
}

// TestAlbumRelations: the show page of an album lists its songs, the delete
// confirmation counts them, and the songs outlive the album.
func TestAlbumRelations(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		cat := seedCatalogue(t, app)
		c := app.LoggedIn()
		abbey, revolver := cat.albums["Abbey Road"], cat.albums["Revolver"]
		onAbbey := cat.titles(func(s apptest.SongRow) bool { return s.Album == abbey })
		if len(onAbbey) < 2 {
			t.Fatalf("seed: %q on Abbey Road", onAbbey)
		}

		show := c.Get("/albumview/show/" + abbey)
		show.ExpectStatus(t, "show album", http.StatusOK)
		if got := show.Text("h1"); got != "Album: Abbey Road" {
			t.Errorf("show heading = %q", got)
		}
		songs := show.Doc.Find("section.card").FilterFunction(func(_ int, s *goquery.Selection) bool {
			return strings.HasPrefix(strings.TrimSpace(s.Find("h2").Text()), "Songs")
		})
		if got := strings.Join(strings.Fields(songs.Find("h2").Text()), " "); got != fmt.Sprintf("Songs (%d)", len(onAbbey)) {
			t.Errorf("related heading = %q", got)
		}
		var listed []string
		songs.Find("tbody tr").Each(func(_ int, tr *goquery.Selection) {
			listed = append(listed, strings.TrimSpace(tr.Find("td").First().Text()))
		})
		if !slices.Equal(listed, onAbbey) {
			t.Errorf("songs on the album page = %q, want %q", listed, onAbbey)
		}
		empty := c.Get("/albumview/show/" + revolver)
		if got := strings.Join(strings.Fields(empty.Text("section.card h2")), " "); got != "Songs (0)" {
			t.Errorf("Revolver related heading = %q", got)
		}

		confirm := c.Get("/albumview/delete/" + abbey)
		confirm.ExpectStatus(t, "delete confirmation", http.StatusOK)
		want := fmt.Sprintf("%d songs refer to this album. They will be kept, with no album.", len(onAbbey))
		if got := confirm.Text(".notice"); got != want {
			t.Errorf("delete notice = %q, want %q", got, want)
		}
		if got := c.Get("/albumview/delete/" + revolver).Text(".notice"); got != "0 songs refer to this album. They will be kept, with no album." {
			t.Errorf("delete notice for an album without songs = %q", got)
		}
		if n := app.Count("albums"); n != 3 {
			t.Fatalf("GET delete changed data: %d albums", n)
		}

		before := app.Count("songs")
		c.Submit("/albumview/delete/"+abbey, nil).ExpectRedirect(t, "delete album", "/albumview/list/")
		if n := app.Count("songs"); n != before {
			t.Fatalf("songs after album delete = %d, want %d", n, before)
		}
		if n := app.Count("albums"); n != 2 {
			t.Fatalf("albums after delete = %d", n)
		}
		for _, title := range onAbbey {
			if s, ok := app.Song(title); !ok || s.Album != "" {
				t.Errorf("song %q: found %v, album %q; want kept with no album", title, ok, s.Album)
			}
		}
		// The list shows them with no album, and they count as having none.
		rows := c.Get("/songsview/list/?title__eq=" + url.QueryEscape(onAbbey[0])).Rows()
		if len(rows) != 1 || rows[0][2] != "" {
			t.Errorf("orphaned song row = %q", rows)
		}
		got := firstColumn(t, c, "/songsview/list/?album__empty=true")
		for _, title := range onAbbey {
			if !slices.Contains(got, title) {
				t.Errorf("%q not in album__empty=true: %q", title, got)
			}
		}
		c.Get("/albumview/show/"+abbey).ExpectStatus(t, "deleted album", http.StatusNotFound)
	})
}

// TestSongForm: the album dropdown, the pre-filled edit form, moving a song.
func TestSongForm(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.LoggedIn()
		// Added out of order: the dropdown sorts by name.
		for _, name := range []string{"Revolver", "Abbey Road", "Let It Be"} {
			c.Submit("/albumview/add", url.Values{"name": {name}}).ExpectRedirect(t, "add "+name, "/albumview/list/")
		}
		abbey, letItBe := app.AlbumID("Abbey Road"), app.AlbumID("Let It Be")

		form := c.Get("/songsview/add")
		form.ExpectStatus(t, "song form", http.StatusOK)
		var options []string
		form.Doc.Find("select#f-album option").Each(func(_ int, o *goquery.Selection) {
			v, _ := o.Attr("value")
			options = append(options, v+"="+strings.TrimSpace(o.Text()))
		})
		want := []string{"=(none)", abbey + "=Abbey Road", letItBe + "=Let It Be", app.AlbumID("Revolver") + "=Revolver"}
		if !slices.Equal(options, want) {
			t.Errorf("album options = %q, want %q", options, want)
		}
		if got := form.Selected("album"); got != "" {
			t.Errorf("add form preselects album %q", got)
		}
		if got := form.InputValue("rating"); got != "0" {
			t.Errorf("rating default = %q", got)
		}

		c.Submit("/songsview/add", url.Values{"title": {"Get Back"}, "rating": {"6"},
			"album": {letItBe}}).ExpectRedirect(t, "add song", "/songsview/list/")
		song, _ := app.Song("Get Back")
		edit := c.Get("/songsview/edit/" + app.SongID("Get Back"))
		edit.ExpectStatus(t, "edit form", http.StatusOK)
		if edit.InputValue("title") != "Get Back" || edit.InputValue("rating") != "6" || edit.Selected("album") != letItBe {
			t.Errorf("edit form: title %q rating %q album %q", edit.InputValue("title"), edit.InputValue("rating"),
				edit.Selected("album"))
		}
		if action, _ := edit.Doc.Find("main form").Attr("action"); action != "/songsview/edit/"+song.ID {
			t.Errorf("edit form action = %q", action)
		}

		// Move it to Abbey Road.
		c.Submit("/songsview/edit/"+song.ID, url.Values{"title": {"Get Back"},
			"rating": {"6"}, "album": {abbey}}).ExpectRedirect(t, "move song", "/songsview/list/")
		if moved, ok := app.SongByID(song.ID); !ok || moved.Album != abbey || moved.Rating != 6 {
			t.Errorf("after the move: %v (found %v)", moved, ok)
		}
		songsOn := func(album string) []string {
			var out []string
			c.Get("/albumview/show/" + album).Doc.Find("section.card table tbody tr").Each(func(_ int, tr *goquery.Selection) {
				out = append(out, strings.TrimSpace(tr.Find("td").First().Text()))
			})
			return out
		}
		if got := songsOn(abbey); !slices.Equal(got, []string{"Get Back"}) {
			t.Errorf("songs on Abbey Road = %q", got)
		}
		if got := songsOn(letItBe); len(got) != 0 {
			t.Errorf("songs left on Let It Be = %q", got)
		}
		if got := c.Get("/songsview/edit/" + song.ID); got.Selected("album") != abbey {
			t.Errorf("edit form after the move selects %q", got.Selected("album"))
		}
		// And off any album.
		c.Submit("/songsview/edit/"+song.ID, url.Values{"title": {"Get Back"},
			"rating": {"6"}, "album": {""}}).ExpectRedirect(t, "clear album", "/songsview/list/")
		if moved, ok := app.SongByID(song.ID); !ok || moved.Album != "" {
			t.Errorf("album not cleared: %v (found %v)", moved, ok)
		}
		// The show page of the song.
		show := c.Get("/songsview/show/" + song.ID)
		show.ExpectStatus(t, "show song", http.StatusOK)
		if got := show.Texts("dl.details dd"); !slices.Equal(got, []string{"Get Back", "6", ""}) {
			t.Errorf("song details = %q", got)
		}

		// Unknown ids (well formed for the backend), and malformed ones.
		unknown := app.UnknownID()
		for _, p := range []string{"/songsview/show/" + unknown, "/songsview/edit/" + unknown, "/songsview/delete/" + unknown,
			"/albumview/show/" + unknown, "/albumview/edit/" + unknown, "/albumview/delete/" + unknown,
			"/songsview/show/987654", "/albumview/edit/987654", "/songsview/show/x1"} {
			c.Get(p).ExpectStatus(t, p, http.StatusNotFound)
		}
	})
}

// TestValidation: every rule of the data, its message beside the field, the
// input kept and nothing written.
func TestValidation(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.LoggedIn()
		c.Submit("/albumview/add", url.Values{"name": {"Abbey Road"}}).ExpectRedirect(t, "add album", "/albumview/list/")
		c.Submit("/songsview/add", url.Values{"title": {"Something"}, "rating": {"9"}}).ExpectRedirect(t, "add song", "/songsview/list/")

		invalid := func(path string, values url.Values, field, message string) *apptest.Response {
			t.Helper()
			albums, songs := app.Count("albums"), app.Count("songs")
			r := c.Submit(path, values)
			if r.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s %v: status %d, want 422", path, values, r.Status)
				return r
			}
			if got := r.FieldError(field); got != message {
				t.Errorf("%s %v: %s error %q, want %q", path, values, field, got, message)
			}
			for name, v := range values {
				switch {
				case r.Doc.Find("select#f-"+name).Length() > 0:
					if got := r.Selected(name); got != strings.TrimSpace(v[0]) && strings.TrimSpace(v[0]) != "" {
						// An unknown choice has no option to select.
						if r.Doc.Find("select#f-"+name+" option[value='"+v[0]+"']").Length() > 0 {
							t.Errorf("%s: %s selects %q, want %q", path, name, got, v[0])
						}
					}
				default:
					if got := r.InputValue(name); got != v[0] {
						t.Errorf("%s: %s kept as %q, want %q", path, name, got, v[0])
					}
				}
			}
			if app.Count("albums") != albums || app.Count("songs") != songs {
				t.Errorf("%s %v: a refused form wrote a row", path, values)
			}
			return r
		}
		const required = "This field is required."
		const rating = "Must be a whole number from 0 to 9."

		// Album name.
		invalid("/albumview/add", url.Values{"name": {""}}, "name", required)
		invalid("/albumview/add", url.Values{"name": {"  \t "}}, "name", required)
		invalid("/albumview/add", url.Values{"name": {strings.Repeat("é", 101)}}, "name", "Must be at most 100 characters.")
		invalid("/albumview/add", url.Values{"name": {"Abbey Road"}}, "name", "A record with this name already exists.")
		invalid("/albumview/add", url.Values{"name": {"  Abbey Road "}}, "name", "A record with this name already exists.")
		hundred := strings.Repeat("é", 100)
		c.Submit("/albumview/add", url.Values{"name": {hundred}}).ExpectRedirect(t, "100 characters", "/albumview/list/")
		stored, ok := app.Album(hundred)
		if !ok {
			t.Fatalf("100×é not stored exactly: %v", app.Albums())
		}
		if got := c.Get("/albumview/show/" + stored.ID).Text("dl.details dd"); got != hundred {
			t.Errorf("100×é shown back as %q", got)
		}
		// Editing keeps the same rules.
		abbeyID := app.AlbumID("Abbey Road")
		invalid("/albumview/edit/"+stored.ID, url.Values{"name": {"Abbey Road"}}, "name", "A record with this name already exists.")
		invalid("/albumview/edit/"+stored.ID, url.Values{"name": {""}}, "name", required)
		invalid("/albumview/edit/"+stored.ID, url.Values{"name": {hundred + "x"}}, "name", "Must be at most 100 characters.")

		// Song title, rating and album.
		invalid("/songsview/add", url.Values{"title": {""}, "rating": {"3"}}, "title", required)
		invalid("/songsview/add", url.Values{"title": {strings.Repeat("ñ", 201)}, "rating": {"3"}}, "title",
			"Must be at most 200 characters.")
		invalid("/songsview/add", url.Values{"title": {"Something"}, "rating": {"3"}}, "title", "A record with this title already exists.")
		for _, bad := range []string{"10", "-1", "5.5", "abc", "1e1", "99999999999999999999"} {
			invalid("/songsview/add", url.Values{"title": {"Here Comes the Sun"}, "rating": {bad}}, "rating", rating)
		}
		for _, bad := range []string{app.UnknownID(), "987654", "abc", "0", "-1", abbeyID + "x"} {
			invalid("/songsview/add", url.Values{"title": {"Here Comes the Sun"}, "rating": {"5"}, "album": {bad}}, "album",
				"Not a valid choice.")
		}
		// Several problems at once: each beside its field, the input kept.
		r := invalid("/songsview/add", url.Values{"title": {""}, "rating": {"12"}, "album": {abbeyID}}, "rating", rating)
		if got := r.FieldError("title"); got != required {
			t.Errorf("title error beside a bad rating = %q", got)
		}
		if got := r.Selected("album"); got != abbeyID {
			t.Errorf("album choice not kept: %q", got)
		}
		if got := r.FieldError("album"); got != "" {
			t.Errorf("valid album flagged: %q", got)
		}

		// The limits themselves are accepted; a form without a rating
		// stores 0 (one that posts it empty is refused: comforts_test.go).
		c.Submit("/songsview/add", url.Values{"title": {strings.Repeat("ñ", 200)},
			"rating": {"0"}}).ExpectRedirect(t, "200 characters", "/songsview/list/")
		c.Submit("/songsview/add", url.Values{"title": {"Nine"}, "rating": {" 9 "},
			"album": {abbeyID}}).ExpectRedirect(t, "rating 9", "/songsview/list/")
		c.Submit("/songsview/add", url.Values{"title": {"Unrated"}}).ExpectRedirect(t, "no rating", "/songsview/list/")
		unrated, _ := app.Song("Unrated")
		nine, _ := app.Song("Nine")
		if unrated.Title != "Unrated" || unrated.Rating != 0 || nine.Rating != 9 || nine.Album != abbeyID {
			t.Errorf("stored: %v, %v", unrated, nine)
		}
		// An edit may keep its own title, not take another's.
		c.Submit("/songsview/edit/"+nine.ID, url.Values{"title": {"Nine"},
			"rating": {"8"}}).ExpectRedirect(t, "edit own title", "/songsview/list/")
		invalid("/songsview/edit/"+nine.ID, url.Values{"title": {"Something"}, "rating": {"8"}}, "title",
			"A record with this title already exists.")
		invalid("/songsview/edit/"+nine.ID, url.Values{"title": {"Nine"}, "rating": {"10"}}, "rating", rating)
		if now, ok := app.SongByID(nine.ID); !ok || now.Title != "Nine" || now.Rating != 8 {
			t.Errorf("refused edits changed the song: %v (found %v)", now, ok)
		}
	})
}

// TestFlashMessages: add, edit and delete each leave a message that the
// next page shows, once.
func TestFlashMessages(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.LoggedIn()
		once := func(what, path string, values url.Values, next, flash string) {
			t.Helper()
			c.Submit(path, values).ExpectRedirect(t, what, next)
			if got := c.Get(next).Texts(".flash"); !slices.Equal(got, []string{flash}) {
				t.Errorf("%s: flashes %q, want %q", what, got, flash)
			}
			if got := c.Get(next).Texts(".flash"); len(got) != 0 {
				t.Errorf("%s: flash shown again: %q", what, got)
			}
		}
		once("add album", "/albumview/add", url.Values{"name": {" Rubber Soul "}}, "/albumview/list/", "Added Album “Rubber Soul”.")
		album := app.AlbumID("Rubber Soul")
		once("edit album", "/albumview/edit/"+album, url.Values{"name": {"Revolver"}}, "/albumview/list/",
			"Saved Album “Revolver”.")
		once("add song", "/songsview/add", url.Values{"title": {"Taxman"}, "rating": {"7"}, "album": {album}},
			"/songsview/list/", "Added Song “Taxman”.")
		song := app.SongID("Taxman")
		once("edit song", "/songsview/edit/"+song, url.Values{"title": {"Taxman (Remastered)"}, "rating": {"8"}},
			"/songsview/list/", "Saved Song “Taxman (Remastered)”.")
		once("delete song", "/songsview/delete/"+song, nil, "/songsview/list/", "Deleted Song “Taxman (Remastered)”.")
		once("delete album", "/albumview/delete/"+album, nil, "/albumview/list/", "Deleted Album “Revolver”.")

		// A refused form leaves no message behind.
		r := c.Submit("/albumview/add", url.Values{"name": {""}})
		r.ExpectStatus(t, "refused add", http.StatusUnprocessableEntity)
		if got := c.Get("/albumview/list/").Texts(".flash"); len(got) != 0 {
			t.Errorf("flash after a refused form: %q", got)
		}
		// The message shows on whatever page comes next, not only the list.
		c.Submit("/albumview/add", url.Values{"name": {"Help!"}}).ExpectRedirect(t, "add", "/albumview/list/")
		if got := c.Get("/").Texts(".flash"); !slices.Equal(got, []string{"Added Album “Help!”."}) {
			t.Errorf("flash on the index = %q", got)
		}
		if got := c.Get("/albumview/list/").Texts(".flash"); len(got) != 0 {
			t.Errorf("flash shown again: %q", got)
		}
	})
}
