package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/apptest"
)

// TestAlbumSongFlow walks the seed's whole flow through HTTP on both
// backends: add an album and a song on it, list, move the song, delete.
func TestAlbumSongFlow(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.LoggedIn()

		r := c.Submit("/albumview/add", url.Values{"name": {"  Abbey Road  "}})
		if r.Status != http.StatusFound || r.Location() != "/albumview/list/" {
			t.Fatalf("add album: %d %q", r.Status, r.Location())
		}
		list := c.Get("/albumview/list/")
		if got := list.Texts(".flash"); len(got) != 1 || got[0] != "Added Album “Abbey Road”." {
			t.Errorf("flash = %q", got)
		}
		if got := list.Texts(`tbody td[data-label="Name"]`); len(got) != 1 || got[0] != "Abbey Road" {
			t.Fatalf("album rows = %q", got)
		}
		c.Submit("/albumview/add", url.Values{"name": {"Let It Be"}}).ExpectRedirect(t, "add a second album", "/albumview/list/")

		// Ids as the user finds them: in the links of the list.
		abbey, letItBe := listedID(t, c, "/albumview/list/", "Abbey Road"), listedID(t, c, "/albumview/list/", "Let It Be")
		r = c.Submit("/songsview/add", url.Values{"title": {"Something"}, "rating": {"8"}, "album": {abbey}})
		if r.Status != http.StatusFound {
			t.Fatalf("add song: %d\n%s", r.Status, r.Body)
		}
		songs := c.Get("/songsview/list/")
		if got := songs.Texts("tbody tr:first-child td:not(.select)"); len(got) < 3 || got[0] != "Something" || got[1] != "8" || got[2] != "Abbey Road" {
			t.Fatalf("song row = %q", got)
		}

		song := listedID(t, c, "/songsview/list/", "Something")
		r = c.Submit("/songsview/edit/"+song, url.Values{"title": {"Something"}, "rating": {"9"}, "album": {letItBe}})
		if r.Status != http.StatusFound {
			t.Fatalf("move song: %d\n%s", r.Status, r.Body)
		}
		show := c.Get("/albumview/show/" + letItBe)
		if got := show.Texts("section.card table tbody td:first-child"); len(got) != 1 || got[0] != "Something" {
			t.Errorf("songs of Let It Be = %q", got)
		}

		confirm := c.Get("/albumview/delete/" + letItBe)
		if confirm.Status != http.StatusOK || confirm.Text(".notice") != "1 song refers to this album. It will be kept, with no album." {
			t.Errorf("delete confirmation: %d %q", confirm.Status, confirm.Text(".notice"))
		}
		r = c.Submit("/albumview/delete/"+letItBe, nil)
		if r.Status != http.StatusFound {
			t.Fatalf("delete album: %d", r.Status)
		}
		if n := app.Count("songs"); n != 1 {
			t.Fatalf("songs after album delete = %d, want 1", n)
		}
		if s, ok := app.SongByID(song); !ok || s.Album != "" {
			t.Errorf("the song after its album's delete: %v (found %v), want it with no album", s, ok)
		}
	})
}

// listedID returns the id of the record labelled label on the list page at
// path (/VIEW/list/), read from its show link, as a user would follow it;
// the test fails when the row is not there.
func listedID(t *testing.T, c *apptest.Client, path, label string) string {
	t.Helper()
	show := strings.TrimSuffix(path, "list/") + "show/"
	r := c.Get(path)
	var id string
	r.Doc.Find("table.table tbody tr").Each(func(_ int, tr *goquery.Selection) {
		if strings.TrimSpace(tr.Find("td:not(.select)").First().Text()) != label {
			return
		}
		tr.Find("a[href]").EachWithBreak(func(_ int, a *goquery.Selection) bool {
			href, _ := a.Attr("href")
			if rest, ok := strings.CutPrefix(href, show); ok {
				id = rest
				return false
			}
			return true
		})
	})
	if id == "" {
		t.Fatalf("no show link for %q on %s:\n%s", label, path, r.Body)
	}
	return id
}
