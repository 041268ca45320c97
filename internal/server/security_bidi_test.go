package server_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
)

// TestBidiControlsShownNotObeyed (SECURITY-TESTS 73): a song titled with
// a right-to-left override ("invoice\u202Efdp.exe" reads "invoiceexe.pdf"
// where it is obeyed) is shown with the control written out on every page
// that shows it as text (list, show, edit heading, breadcrumbs, flash,
// delete confirmation, an album's lookup), in every language; the edit
// form's value keeps the character, so saving the form changes nothing.
func TestBidiControlsShownNotObeyed(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		const title = "invoice\u202Efdp.exe"
		const shown = "invoice[U+202E]fdp.exe"
		album := "Bidi\u2067 album"
		a.InsertAlbum(album)
		r := c.Submit("/songsview/add", url.Values{"title": {title}, "rating": {"3"}, "album": {a.AlbumID(album)}})
		if r.Status >= 400 {
			t.Fatalf("add: %d %s", r.Status, r.Text("main"))
		}
		id := a.SongID(title)
		if id == "" {
			t.Fatal("the song was not stored with its title as typed")
		}
		pages := map[string]string{
			"list": "/songsview/list/?q=invoice", "list in Arabic": "/songsview/list/?q=invoice&lang=ar",
			"show": "/songsview/show/" + id, "edit": "/songsview/edit/" + id, "delete": "/songsview/delete/" + id,
		}
		for name, path := range pages {
			r := c.Get(path)
			text := r.Text("main") + r.Text("nav.breadcrumbs")
			if strings.Contains(text, "\u202E") || !strings.Contains(text, shown) {
				t.Errorf("%s: the override is obeyed, or the title is not shown: %q", name, text)
			}
		}
		edit := c.Get("/songsview/edit/" + id)
		if got := edit.InputValue("title"); got != title {
			t.Fatalf("edit form value %q, want the stored title %q", got, title)
		}
		// Saving the form as it is keeps the title as it was typed.
		form := url.Values{"title": {edit.InputValue("title")}, "rating": {"4"}, "album": {a.AlbumID(album)},
			"version": {edit.InputValue("version")}}
		r = c.Submit("/songsview/edit/"+id, form)
		if s, ok := a.SongByID(id); !ok || s.Title != title || s.Rating != 4 {
			t.Errorf("after saving the edit form: %+v", s)
		}
		for _, f := range r.Flashes() {
			if strings.Contains(f, "\u202E") {
				t.Errorf("a flash obeys the override: %q", f)
			}
		}
		// The album lookup's labels, which the browser shows as text.
		r = c.Get("/songsview/lookup/album?q=Bidi")
		var answer struct {
			Results []struct{ ID, Label string }
		}
		if err := json.Unmarshal([]byte(r.Body), &answer); err != nil || len(answer.Results) != 1 ||
			answer.Results[0].Label != "Bidi[U+2067] album" {
			t.Errorf("lookup: %v %+v", err, answer)
		}
	})
}
