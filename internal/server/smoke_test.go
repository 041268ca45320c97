package server_test

import (
	"net/http"
	"net/url"
	"testing"

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
		if got := list.Texts("tbody td:first-child"); len(got) != 1 || got[0] != "Abbey Road" {
			t.Fatalf("album rows = %q", got)
		}
		c.Submit("/albumview/add", url.Values{"name": {"Let It Be"}}).ExpectRedirect(t, "add a second album", "/albumview/list/")

		r = c.Submit("/songsview/add", url.Values{"title": {"Something"}, "rating": {"8"}, "album": {"1"}})
		if r.Status != http.StatusFound {
			t.Fatalf("add song: %d\n%s", r.Status, r.Body)
		}
		songs := c.Get("/songsview/list/")
		if got := songs.Texts("tbody tr:first-child td"); len(got) < 3 || got[0] != "Something" || got[1] != "8" || got[2] != "Abbey Road" {
			t.Fatalf("song row = %q", got)
		}

		r = c.Submit("/songsview/edit/1", url.Values{"title": {"Something"}, "rating": {"9"}, "album": {"2"}})
		if r.Status != http.StatusFound {
			t.Fatalf("move song: %d\n%s", r.Status, r.Body)
		}
		show := c.Get("/albumview/show/2")
		if got := show.Texts("section.card table tbody td:first-child"); len(got) != 1 || got[0] != "Something" {
			t.Errorf("songs of Let It Be = %q", got)
		}

		confirm := c.Get("/albumview/delete/2")
		if confirm.Status != http.StatusOK || confirm.Text(".notice") != "1 song refers to this album. It will be kept, with no album." {
			t.Errorf("delete confirmation: %d %q", confirm.Status, confirm.Text(".notice"))
		}
		r = c.Submit("/albumview/delete/2", nil)
		if r.Status != http.StatusFound {
			t.Fatalf("delete album: %d", r.Status)
		}
		if n := app.Count("songs"); n != 1 {
			t.Fatalf("songs after album delete = %d, want 1", n)
		}
		if n := app.Scalar(t, "SELECT COUNT(*) FROM songs WHERE id = 1 AND album_id IS NULL"); n != 1 {
			t.Error("the song still points at the deleted album")
		}
	})
}
