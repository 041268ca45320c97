package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"musicadmin/internal/apptest"
)

// TestLostUpdate is the contract's "Lost updates" through the whole app,
// sessions and CSRF included: two users open one song's edit form, A
// saves, B's save answers 409 with B's input kept and A's values shown,
// and writes nothing; B reloads and saves.
func TestLostUpdate(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		help, abbey := app.InsertAlbum("Help!"), app.InsertAlbum("Abbey Road")
		song := app.InsertSong("Yesterday", 5, help)
		path := "/songsview/edit/" + song
		userA, userB := app.LoggedIn(), app.LoggedIn()

		// save posts values with the CSRF token and version of the form page.
		save := func(c *apptest.Client, page *apptest.Response, values url.Values) *apptest.Response {
			t.Helper()
			version, _ := page.Doc.Find("main form input[name=version]").Attr("value")
			if version == "" {
				t.Fatalf("the form of %s carries no version:\n%s", path, page.Body)
			}
			values.Set("version", version)
			values.Set("csrf_token", apptest.CSRFOf(page))
			return c.Post(path, values)
		}
		formA, formB := userA.Get(path), userB.Get(path)
		formA.ExpectStatus(t, "form of A", http.StatusOK)
		formB.ExpectStatus(t, "form of B", http.StatusOK)

		save(userA, formA, url.Values{"title": {"Yesterday"}, "rating": {"8"}, "album": {abbey}}).
			ExpectRedirect(t, "save of A", "/songsview/list/")
		r := save(userB, formB, url.Values{"title": {"Yesterday (remastered)"}, "rating": {"3"}, "album": {""}})
		r.ExpectStatus(t, "save of B", http.StatusConflict)
		if got := r.Text("main .alert"); !strings.Contains(got, "changed by someone else") {
			t.Errorf("409 message = %q", got)
		}
		if r.InputValue("title") != "Yesterday (remastered)" || r.InputValue("rating") != "3" || r.Selected("album") != "" {
			t.Errorf("B's input not kept: title %q rating %q album %q", r.InputValue("title"), r.InputValue("rating"), r.Selected("album"))
		}
		for field, want := range map[string]string{"title": "Yesterday", "rating": "8", "album": "Abbey Road"} {
			if got := r.Text("#s-" + field + " .value"); got != want {
				t.Errorf("stored %s shown as %q, want %q", field, got, want)
			}
		}
		if got, _ := app.SongByID(song); got.Title != "Yesterday" || got.Rating != 8 || got.Album != abbey {
			t.Errorf("after B's refused save: %v, want A's values", got)
		}

		formB = userB.Get(path)
		if formB.InputValue("rating") != "8" || formB.Selected("album") != abbey {
			t.Errorf("reloaded form: rating %q album %q", formB.InputValue("rating"), formB.Selected("album"))
		}
		save(userB, formB, url.Values{"title": {"Yesterday (remastered)"}, "rating": {"3"}, "album": {""}}).
			ExpectRedirect(t, "save of B after reloading", "/songsview/list/")
		if got, _ := app.SongByID(song); got.Title != "Yesterday (remastered)" || got.Rating != 3 || got.Album != "" {
			t.Errorf("after B saved from the reloaded form: %v", got)
		}
	})
}

// TestLostUpdateParallel: sixteen saves of one form, sent at once with
// the same version and different values: exactly one wins, the others
// answer 409, and the stored record is the winner's (SECURITY-TESTS 66).
func TestLostUpdateParallel(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		song := app.InsertSong("Yesterday", 5, "")
		path := "/songsview/edit/" + song
		c := app.LoggedIn()
		form := c.Get(path)
		form.ExpectStatus(t, "form", http.StatusOK)
		version, _ := form.Doc.Find("main form input[name=version]").Attr("value")
		token := apptest.CSRFOf(form)
		const n = 16
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				v := url.Values{"title": {fmt.Sprintf("Yesterday %02d", i)}, "rating": {"5"}, "album": {""},
					"version": {version}, "csrf_token": {token}}
				req := c.PostRequest(path, v)
				r, err := c.Send(req)
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i] = r.Status
			})
		}
		wg.Wait()
		winners := 0
		winner := ""
		for i, s := range statuses {
			switch s {
			case http.StatusFound:
				winners++
				winner = fmt.Sprintf("Yesterday %02d", i)
			case http.StatusConflict:
			default:
				t.Errorf("save %d: status %d, want 302 or 409", i, s)
			}
		}
		if winners != 1 {
			t.Fatalf("%d saves won, want exactly 1 (statuses %v)", winners, statuses)
		}
		if got, _ := app.SongByID(song); got.Title != winner {
			t.Errorf("stored title %q, want the winner's %q", got.Title, winner)
		}
	})
}
