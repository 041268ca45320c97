package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
	"musicadmin/web"
)

// lookupAnswer is the JSON of GET /{view}/lookup/{field}.
type lookupAnswer struct {
	Results []struct {
		ID    string `json:"id"`
		Label string `json:"label"`
	} `json:"results"`
	More bool `json:"more"`
}

// lookup asks the album lookup of the song view for q and decodes the
// answer, failing the test unless it is a 200 of JSON that no cache keeps.
func lookup(t *testing.T, c *apptest.Client, q string) lookupAnswer {
	t.Helper()
	r := c.Get("/songsview/lookup/album?q=" + url.QueryEscape(q))
	r.ExpectStatus(t, "lookup "+q, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("lookup %q: Content-Type %q", q, ct)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("lookup %q: Cache-Control %q, want no-store", q, cc)
	}
	// The shape exactly: a results array (never null) and more.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.Body), &raw); err != nil {
		t.Fatalf("lookup %q: not JSON: %v\n%s", q, err, r.Body)
	}
	if len(raw) != 2 || raw["results"] == nil || raw["more"] == nil || string(raw["results"]) == "null" {
		t.Fatalf("lookup %q: keys of %s, want results (an array) and more", q, r.Body)
	}
	var ans lookupAnswer
	if err := json.Unmarshal([]byte(r.Body), &ans); err != nil {
		t.Fatalf("lookup %q: %v", q, err)
	}
	return ans
}

func labels(ans lookupAnswer) []string {
	out := []string{}
	for _, r := range ans.Results {
		out = append(out, r.Label)
	}
	return out
}

// numbered returns n album names "Album 001".. that sort as they count.
func numbered(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("Album %03d", i+1)
	}
	return names
}

// TestLookup checks the lookup of the contract on every backend: the best
// 20 matches of a label, ignoring case, those starting with the text first,
// whether there are more, and the errors of a field that is no reference.
func TestLookup(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b)
		// Each group sorts the same by bytes and ignoring case, so the
		// order asked for holds under any collation.
		prefixed := []string{"Blue Moon", "Blue Train", "bluegrass Days"}
		containing := []string{"Deep BLUE Sea", "Kind of Blue", "True Blue"}
		ids := a.InsertAlbums([]string{"True Blue", "Green Onions", "bluegrass Days", "Kind of Blue", "Blue Train",
			"Deep BLUE Sea", "Blue Moon"})
		c := a.LoggedIn()

		want := append(slices.Clone(prefixed), containing...)
		for _, q := range []string{"blue", "BLUE", "  bLuE "} {
			ans := lookup(t, c, q)
			if got := labels(ans); !slices.Equal(got, want) || ans.More {
				t.Errorf("lookup %q = %q more %v, want %q, no more", q, got, ans.More, want)
			}
		}
		// Ids are the records' own, as the form posts them.
		ans := lookup(t, c, "green")
		if len(ans.Results) != 1 || ans.Results[0].ID != ids[1] || ans.Results[0].Label != "Green Onions" {
			t.Errorf("lookup green = %+v, want Green Onions with id %s", ans.Results, ids[1])
		}
		if ans := lookup(t, c, "no such album"); len(ans.Results) != 0 || ans.More {
			t.Errorf("lookup of nothing = %+v", ans)
		}
		// Wildcards of LIKE and regular expressions are plain text.
		for _, q := range []string{"%", "_", ".*", "\\"} {
			if ans := lookup(t, c, q); len(ans.Results) != 0 {
				t.Errorf("lookup %q = %q, want nothing", q, labels(ans))
			}
		}

		// At most 20, with more; the prefix matches first even when the
		// others sort before them.
		a.InsertAlbums(numbered(130))
		ans = lookup(t, c, "album")
		if got := labels(ans); !slices.Equal(got, numbered(20)) || !ans.More {
			t.Errorf("lookup album = %q more %v, want Album 001..020 and more", got, ans.More)
		}
		if ans := lookup(t, c, ""); len(ans.Results) != admin.LookupLimit || !ans.More {
			t.Errorf("lookup of no text: %d results more %v, want %d and more", len(ans.Results), ans.More, admin.LookupLimit)
		}
		ans = lookup(t, c, "Album 12")
		if got, want := labels(ans), numbered(129)[119:]; !slices.Equal(got, want) || ans.More {
			t.Errorf("lookup Album 12 = %q more %v, want %q", got, ans.More, want)
		}
		a.InsertAlbums([]string{"m 05 first", "zm 05 last"})
		ans = lookup(t, c, "m 05")
		want = append([]string{"m 05 first"}, numbered(59)[49:]...)
		want = append(want, "zm 05 last")
		if got := labels(ans); !slices.Equal(got, want) || ans.More {
			t.Errorf("lookup m 05 = %q more %v, want %q", got, ans.More, want)
		}
		// Exactly 20 matches: no more.
		a.InsertAlbums([]string{"Album 131", "Album 132", "Album 133", "Album 134", "Album 135", "Album 136",
			"Album 137", "Album 138", "Album 139", "Album 140"})
		if ans := lookup(t, c, "album 1"); len(ans.Results) != 20 || !ans.More {
			t.Errorf("lookup album 1: %d results more %v, want 20 and more", len(ans.Results), ans.More)
		}
		if ans := lookup(t, c, "album 13"); len(ans.Results) != 10 || ans.More {
			t.Errorf("lookup album 13: %q more %v, want Album 130..139", labels(ans), ans.More)
		}
		// A text over the search cap is cut, not refused.
		if ans := lookup(t, c, "Blue Moon"+strings.Repeat(" x", admin.MaxSearchRunes)); len(ans.Results) != 0 {
			t.Errorf("lookup of a long text = %q", labels(ans))
		}
		if ans := lookup(t, c, "Blue "+strings.Repeat("M", admin.MaxSearchRunes)); len(ans.Results) != 0 {
			t.Errorf("lookup of a long text = %q", labels(ans))
		}

		// Not a reference field, no such field, no such view: 404 in JSON
		// (the last from the router, as any unknown page).
		for _, path := range []string{"/songsview/lookup/title", "/songsview/lookup/rating", "/songsview/lookup/nope",
			"/albumview/lookup/name", "/songsview/lookup/"} {
			r := c.Get(path + "?q=a")
			if r.Status != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", path, r.Status)
				continue
			}
			if path != "/songsview/lookup/" && (r.Header.Get("Content-Type") != "application/json; charset=utf-8" ||
				!strings.Contains(r.Body, `"message"`)) {
				t.Errorf("%s: %s %q, want a JSON message", path, r.Header.Get("Content-Type"), r.Body)
			}
		}
		if r := c.Get("/nosuchview/lookup/album?q=a"); r.Status != http.StatusNotFound {
			t.Errorf("lookup of an unknown view: %d", r.Status)
		}
		// Anonymous: to the login page, as every other page.
		r := a.Client().Get("/songsview/lookup/album?q=blue")
		if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/login/") {
			t.Errorf("anonymous lookup: %d to %q, want 302 to the login page", r.Status, r.Location())
		}
	})
}

// TestRelatedFieldScales checks that the song form lists the albums only up
// to the threshold, and above it is an id input that shows the current
// album's label and takes an id typed in it, on every backend.
func TestRelatedFieldScales(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b)
		c := a.LoggedIn()
		ids := a.InsertAlbums(numbered(admin.ChoicesThreshold))
		form := c.Get("/songsview/add")
		if n := form.Doc.Find("select#f-album option").Length(); n != admin.ChoicesThreshold+1 {
			t.Fatalf("song form at %d albums: %d options, want every album and (none)", admin.ChoicesThreshold, n)
		}
		if form.Doc.Find(".lookup").Length() != 0 {
			t.Errorf("song form at %d albums has a lookup input", admin.ChoicesThreshold)
		}

		// The list's album filter is the searchable input at any size.
		list := c.Get("/songsview/list/")
		if list.Doc.Find(`.filter-menu form[aria-label="Filter by Album"] .lookup input#filter-album-value[name=filter_value]`).Length() != 1 ||
			list.Doc.Find(`.filter-menu form[aria-label="Filter by Album"] input[name=filter_value]`).Length() != 1 {
			t.Errorf("song list at %d albums: the album filter is not one searchable input", admin.ChoicesThreshold)
		}

		extra := a.InsertAlbums([]string{"Zebra Crossing"})[0]
		form = c.Get("/songsview/add")
		form.ExpectStatus(t, "song form", http.StatusOK)
		if n := form.Doc.Find("select#f-album, option").Length(); n != 0 {
			t.Errorf("song form above the threshold: %d select and option elements, want none", n)
		}
		in := form.Doc.Find(`.lookup[data-lookup-url="/songsview/lookup/album"] input#f-album[name=album][type=text]`)
		if in.Length() != 1 {
			t.Fatalf("song form above the threshold: no searchable album input\n%s", form.Body)
		}
		if link, _ := form.Doc.Find(".lookup-hint a").Attr("href"); link != "/albumview/list/" {
			t.Errorf("the hint links to %q, want the album list", link)
		}
		if js, _ := web.StaticURL("lookup.js"); form.Doc.Find(`script[src="`+js+`"]`).Length() != 1 {
			t.Errorf("the form page does not load %s", js)
		}

		// The id typed in the plain input is posted as it is.
		r := c.Submit("/songsview/add", url.Values{"title": {"Typed"}, "rating": {"3"}, "album": {extra}})
		r.ExpectRedirect(t, "add with a typed album id", "/songsview/list/")
		song, ok := a.Song("Typed")
		if !ok || song.Album != extra {
			t.Fatalf("stored %v, want album %s", song, extra)
		}
		// The edit form shows the id and the album's label.
		edit := c.Get("/songsview/edit/" + song.ID)
		if edit.InputValue("album") != extra || edit.Text(".lookup-current") != "Zebra Crossing" {
			t.Errorf("edit form: album %q shown as %q, want %s “Zebra Crossing”", edit.InputValue("album"),
				edit.Text(".lookup-current"), extra)
		}
		r = c.Submit("/songsview/edit/"+song.ID, url.Values{"title": {"Typed"}, "rating": {"3"}, "album": {ids[41]}})
		r.ExpectRedirect(t, "edit with a typed album id", "/songsview/list/")
		if s, _ := a.Song("Typed"); s.Album != ids[41] {
			t.Errorf("after the edit the song's album is %q, want %s", s.Album, ids[41])
		}
		// The song list's album filter: the filter menu's album row is the
		// same searchable input, the only album filter on the page; it
		// keeps the list's other parameters, and the chip names the album
		// filtered by.
		a.InsertSong("Elsewhere", 1, ids[0])
		list = c.Get("/songsview/list/?sort=-rating&album=" + url.QueryEscape(ids[41]))
		filter := list.Doc.Find(`.filter-menu form[aria-label="Filter by Album"][action="/songsview/list/"]`)
		if filter.Find(`.lookup[data-lookup-url="/songsview/lookup/album"] input#filter-album-value[name=filter_value]`).Length() != 1 ||
			filter.Find("select[name=filter_value], option[value='"+ids[0]+"']").Length() != 0 {
			t.Fatalf("the song list's album filter is no searchable input\n%s", list.Body)
		}
		if n, typed := list.Doc.Find(`main .lookup`).Length(), list.Doc.Find(`main input[name=album]:not([type=hidden])`).Length(); n != 1 || typed != 0 {
			t.Errorf("the song list has %d searchable and %d other album inputs, want the filter menu's only", n, typed)
		}
		if got := list.Texts(".chip > span"); !slices.Equal(got, []string{"Album = Album 042"}) {
			t.Errorf("chips %q, want Album = Album 042", got)
		}
		if v, _ := filter.Find(`input[type=hidden][name=sort]`).Attr("value"); v != "-rating" {
			t.Errorf("the album filter keeps sort %q, want -rating", v)
		}
		if rows := list.FirstColumn(); !slices.Equal(rows, []string{"Typed"}) {
			t.Errorf("songs of Album 042 = %q, want Typed", rows)
		}
		// Choosing another album in it replaces the album filtered by,
		// however the filter in force is spelled.
		for _, key := range []string{"album", "album__eq"} {
			v := formValues(filter)
			v.Del("album")
			v.Set(key, ids[41])
			v.Set("filter_op", "eq")
			v.Set("filter_value", ids[0])
			red := c.Get("/songsview/list/?" + v.Encode())
			if red.Status != http.StatusFound {
				t.Fatalf("album row from %s: status %d", key, red.Status)
			}
			got := queryOf(t, red.Location())
			if want := (url.Values{"sort": {"-rating"}, "album__eq": {ids[0]}}); !sameQuery(got, want) {
				t.Errorf("album row from %s: redirected to %v, want %v", key, got, want)
			}
			if rows := c.Get(red.Location()).FirstColumn(); !slices.Equal(rows, []string{"Elsewhere"}) {
				t.Errorf("album row from %s: rows %q, want Elsewhere", key, rows)
			}
		}
		// The filter submitted empty is no filter, and no notice.
		list = c.Get("/songsview/list/?album=")
		if rows := list.FirstColumn(); len(rows) != 2 || len(list.Texts(".notice")) != 0 {
			t.Errorf("songs with the album filter empty = %q, notices %q", rows, list.Texts(".notice"))
		}

		// An id of no album: the form again, the input kept, the error beside it.
		for _, bad := range []string{a.UnknownID(), "not an id"} {
			r = c.Submit("/songsview/add", url.Values{"title": {"Bad album"}, "album": {bad}})
			r.ExpectStatus(t, "add with album "+bad, http.StatusUnprocessableEntity)
			if r.FieldError("album") != "Not a valid choice." || r.InputValue("album") != bad ||
				r.Doc.Find(".lookup-current").Length() != 0 {
				t.Errorf("album %q: error %q, value %q", bad, r.FieldError("album"), r.InputValue("album"))
			}
		}
		if _, ok := a.Song("Bad album"); ok {
			t.Error("a song with no valid album was stored")
		}

		// The size of the form no longer grows with the albums.
		a.InsertAlbums(numbered(400)[admin.ChoicesThreshold:])
		if n := len(c.Get("/songsview/add").Body); n > 30_000 || n > len(form.Body)+100 {
			t.Errorf("song form at 400 albums is %d bytes; it was %d at %d", n, len(form.Body), admin.ChoicesThreshold+1)
		}
	})
}
