package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
)

// checkboxes returns the list page's row checkboxes: the id each posts, by
// the label a screen reader reads for it ("Select TITLE" → TITLE).
func checkboxes(t *testing.T, r *apptest.Response) map[string]string {
	t.Helper()
	out := map[string]string{}
	r.Doc.Find(`main form#bulk[method=post] tbody input[type=checkbox][name=ids]`).Each(func(_ int, in *goquery.Selection) {
		id, _ := in.Attr("value")
		label, ok := strings.CutPrefix(strings.TrimSpace(in.Closest("label").Text()), "Select ")
		if !ok || id == "" {
			t.Fatalf("checkbox %q labelled %q", id, in.Closest("label").Text())
		}
		out[label] = id
	})
	return out
}

// formOf returns what the page's main POST form submits.
func formOf(r *apptest.Response) (action string, v url.Values) {
	form := r.Doc.Find(`main form[method=post]`).First()
	action, _ = form.Attr("action")
	v = url.Values{}
	form.Find("input[name]").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		val, _ := in.Attr("value")
		v.Add(name, val)
	})
	return action, v
}

func titles(songs []apptest.SongRow) []string {
	out := make([]string, len(songs))
	for i, s := range songs {
		out[i] = s.Title
	}
	slices.Sort(out)
	return out
}

// TestBulkDeleteSongs: two of three songs ticked on the list, the
// confirmation counts them, and its form deletes exactly those.
func TestBulkDeleteSongs(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		app.InsertSongs([]apptest.SongRow{{Title: "One", Rating: 1}, {Title: "Two", Rating: 2}, {Title: "Three", Rating: 3}})
		c := app.LoggedIn()

		list := c.Get("/songsview/list/")
		boxes := checkboxes(t, list)
		if len(boxes) != 3 {
			t.Fatalf("checkboxes = %v, want one per song", boxes)
		}
		action, form := formOf(list)
		if action != "/songsview/action/delete" || form.Get("csrf_token") == "" {
			t.Fatalf("list form: action %q, values %v", action, form)
		}
		form["ids"] = []string{boxes["One"], boxes["Three"]}
		confirm := c.Post(action, form)
		confirm.ExpectStatus(t, "confirmation", http.StatusOK)
		if got := confirm.Text("main h1"); got != "Delete Songs" {
			t.Errorf("heading = %q", got)
		}
		if got := confirm.Text("main .card p"); got != "Delete 2 songs? This cannot be undone." {
			t.Errorf("question = %q", got)
		}
		if got := confirm.Texts("ul.selected li"); !slices.Equal(got, []string{"One", "Three"}) {
			t.Errorf("listed = %q", got)
		}
		if n := app.Count("songs"); n != 3 {
			t.Fatalf("the confirmation deleted: %d songs left", n)
		}

		action, form = formOf(confirm)
		c.Post(action, form).ExpectRedirect(t, "confirmed", "/songsview/list/")
		if got := c.Get("/songsview/list/").Flashes(); !slices.Equal(got, []string{"Deleted 2 songs."}) {
			t.Errorf("flash = %q", got)
		}
		if got := titles(app.Songs()); !slices.Equal(got, []string{"Two"}) {
			t.Errorf("songs left = %q, want Two", got)
		}
	})
}

// TestBulkDeleteAlbums: the confirmation counts the songs of the albums,
// and deleting them keeps the songs, with no album.
func TestBulkDeleteAlbums(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		ids := app.InsertAlbums([]string{"A", "B", "C"})
		app.InsertSongs([]apptest.SongRow{{Title: "a1", Album: ids[0]}, {Title: "a2", Album: ids[0]},
			{Title: "b1", Album: ids[1]}, {Title: "c1", Album: ids[2]}})
		c := app.LoggedIn()

		token := c.CSRF("/albumview/list/")
		confirm := c.Post("/albumview/action/delete", url.Values{"csrf_token": {token}, "ids": {ids[0], ids[1]}})
		confirm.ExpectStatus(t, "confirmation", http.StatusOK)
		if got := confirm.Texts(".notice"); !slices.Equal(got, []string{"3 songs refer to them. They will be kept, with no album."}) {
			t.Errorf("notices = %q", got)
		}
		action, form := formOf(confirm)
		c.Post(action, form).ExpectRedirect(t, "confirmed", "/albumview/list/")
		if got := c.Get("/albumview/list/").Flashes(); !slices.Equal(got, []string{"Deleted 2 albums."}) {
			t.Errorf("flash = %q", got)
		}
		if got := app.Albums(); len(got) != 1 || got[0].Name != "C" {
			t.Errorf("albums left = %v, want C", got)
		}
		for _, s := range app.Songs() {
			want := ""
			if s.Title == "c1" {
				want = ids[2]
			}
			if s.Album != want {
				t.Errorf("%v: album %q, want %q", s, s.Album, want)
			}
		}
		if n := app.Count("songs"); n != 4 {
			t.Errorf("songs = %d, want all 4 kept", n)
		}
		if n := app.DanglingSongs(); n != 0 {
			t.Errorf("%d songs refer to a deleted album", n)
		}
	})
}

// TestBulkRefused: a bulk action without the form's token, with an unknown
// name, by GET or with too many ids changes nothing and says why; ids that
// name nothing are ignored.
func TestBulkRefused(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		ids := app.InsertSongs([]apptest.SongRow{{Title: "Keep Me", Rating: 1}, {Title: "Me Too", Rating: 2}})
		c := app.LoggedIn()
		token := c.CSRF("/songsview/list/")

		c.Post("/songsview/action/delete", url.Values{"ids": ids, "confirm": {"1"}}).
			ExpectStatus(t, "no token", http.StatusForbidden)
		c.Post("/songsview/action/delete", url.Values{"ids": ids, "confirm": {"1"}, "csrf_token": {token + "x"}}).
			ExpectStatus(t, "wrong token", http.StatusForbidden)
		c.Post("/songsview/action/purge", url.Values{"ids": ids, "confirm": {"1"}, "csrf_token": {token}}).
			ExpectStatus(t, "unknown action", http.StatusNotFound)
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			c.Request(method, "/songsview/action/delete?confirm=1&ids="+ids[0], nil).
				ExpectStatus(t, method, http.StatusMethodNotAllowed)
		}
		many := make([]string, admin.MaxBulkIDs+1)
		for i := range many {
			many[i] = ids[i%2]
		}
		c.Post("/songsview/action/delete", url.Values{"ids": many, "confirm": {"1"}, "csrf_token": {token}}).
			ExpectStatus(t, "too many ids", http.StatusUnprocessableEntity)
		if n := app.Count("songs"); n != 2 {
			t.Fatalf("a refused request deleted: %d songs left", n)
		}

		// Nothing ticked: back to the list, with a word.
		c.Post("/songsview/action/delete", url.Values{"csrf_token": {token}}).
			ExpectRedirect(t, "nothing selected", "/songsview/list/")
		if got := c.Get("/songsview/list/").Flashes(); !slices.Equal(got, []string{"No records selected."}) {
			t.Errorf("flash = %q", got)
		}
		// Malformed and unknown ids beside a real one: only the real one
		// is offered, and the others are counted as ignored.
		confirm := c.Post("/songsview/action/delete", url.Values{"csrf_token": {token},
			"ids": {ids[0], app.UnknownID(), "'; DROP TABLE songs; --", "{\"$ne\": null}", ""}})
		confirm.ExpectStatus(t, "odd ids", http.StatusOK)
		if got := confirm.Texts("ul.selected li"); !slices.Equal(got, []string{"Keep Me"}) {
			t.Errorf("listed = %q", got)
		}
		if got := confirm.Texts(".notice"); !slices.Equal(got, []string{"4 selected ids name no record and were ignored."}) {
			t.Errorf("notices = %q", got)
		}
		if n := app.Count("songs"); n != 2 {
			t.Fatalf("the confirmation deleted: %d songs left", n)
		}
	})
}

// TestBulkBackToTheList: a bulk action asked from a filtered, searched,
// sorted list at page 2 of a page size lands on that list again, through
// the confirmation (whose Cancel goes there too); and the list query the
// form posts is rebuilt from the view's own list path and its known
// parameters, so a forged one leads nowhere else (no open redirect).
func TestBulkBackToTheList(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		var songs []apptest.SongRow
		for i, title := range []string{"Go", "Gone", "Hold On", "Look", "Moon", "Noon", "Room", "Soon", "Tone", "Zoo"} {
			songs = append(songs, apptest.SongRow{Title: title, Rating: i})
		}
		app.InsertSongs(songs)
		c := app.LoggedIn()

		const from = "/songsview/list/?page=2&page_size=3&q=o&rating__gte=2&sort=-rating"
		list := c.Get(from + "&colour=red")
		list.ExpectStatus(t, "list", http.StatusOK)
		action, form := formOf(list)
		if got := form.Get("list_query"); got != strings.TrimPrefix(from, "/songsview/list/?") {
			t.Fatalf("the bulk form carries list_query %q, want the list's own", got)
		}
		boxes := checkboxes(t, list)
		// Page 2 of rating ≥ 2 by rating, highest first, 3 a page.
		if len(boxes) != 3 || boxes["Room"] == "" || boxes["Noon"] == "" || boxes["Moon"] == "" {
			t.Fatalf("page 2 boxes = %v, want Room, Noon and Moon", boxes)
		}
		form["ids"] = []string{boxes["Room"], boxes["Moon"]}
		confirm := c.Post(action, form)
		confirm.ExpectStatus(t, "confirmation", http.StatusOK)
		if href, _ := confirm.Doc.Find("main .buttons a").Attr("href"); href != from {
			t.Errorf("Cancel goes to %q, want %q", href, from)
		}
		action, form = formOf(confirm)
		c.Post(action, form).ExpectRedirect(t, "confirmed", from)
		back := c.Get(from)
		if got := back.Flashes(); !slices.Equal(got, []string{"Deleted 2 songs."}) {
			t.Errorf("flash = %q", got)
		}
		if got := back.Texts(".chip > span"); !slices.Equal(got, []string{"Rating ≥ 2"}) {
			t.Errorf("chips after the delete = %q", got)
		}
		if got := back.FirstColumn(); !slices.Equal(got, []string{"Noon", "Look", "Hold On"}) {
			t.Errorf("page 2 after the delete = %q, want Noon, Look, Hold On", got)
		}
		if got := titles(app.Songs()); len(got) != 8 || slices.Contains(got, "Room") || slices.Contains(got, "Moon") {
			t.Errorf("songs left = %q", got)
		}

		// The plain list posts no list query and comes back to itself.
		if _, form := formOf(c.Get("/songsview/list/")); form.Has("list_query") {
			t.Errorf("the plain list's form carries list_query %q", form.Get("list_query"))
		}
		token := c.CSRF("/songsview/list/")
		for _, tc := range []struct{ posted, want string }{
			{"", "/songsview/list/"},
			{"page=1&sort=title", "/songsview/list/"},
			{"page=2&sort=title", "/songsview/list/?page=2"},
			{"//evil.example/x", "/songsview/list/"},
			{"https://evil.example/?q=x", "/songsview/list/"},
			{"%zz&q=x", "/songsview/list/"},
			{"q=%0d%0aLocation:%20https://evil.example", "/songsview/list/?q=Location%3A+https%3A%2F%2Fevil.example"},
			{"sort=-nope&page=-3&page_size=9999&colour=red&rating__gte=abc&title__contains=a%26b",
				"/songsview/list/?page_size=100&title__contains=a%26b"},
			{"filter_field=title&filter_op=eq&filter_value=x&sort=-title", "/songsview/list/?sort=-title"},
			{"q=" + strings.Repeat("x", 9000), "/songsview/list/"},
		} {
			r := c.Post("/songsview/action/delete", url.Values{"csrf_token": {token}, "list_query": {tc.posted}})
			r.ExpectRedirect(t, "list_query "+tc.posted, tc.want)
			c.Get(tc.want) // the flash
		}
		// Through the confirmation too: what it carries on is the rebuilt
		// query, never the posted text.
		ids := app.InsertSongs([]apptest.SongRow{{Title: "Kept", Rating: 1}})
		confirm = c.Post("/songsview/action/delete", url.Values{"csrf_token": {token}, "ids": ids,
			"list_query": {"https://evil.example/?x=1&rating__gte=1"}})
		confirm.ExpectStatus(t, "confirmation", http.StatusOK)
		if _, form := formOf(confirm); form.Get("list_query") != "rating__gte=1" {
			t.Errorf("the confirmation carries list_query %q, want rating__gte=1", form.Get("list_query"))
		}
		if href, _ := confirm.Doc.Find("main .buttons a").Attr("href"); href != "/songsview/list/?rating__gte=1" {
			t.Errorf("Cancel goes to %q", href)
		}
	})
}
