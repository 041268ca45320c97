package server_test

// Section J of shared/SECURITY-TESTS.md: parallel writes.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
)

// statuses counts the answers of each status.
func statuses(ans []*apptest.Response) map[int]int {
	m := map[int]int{}
	for _, a := range ans {
		m[a.Status]++
	}
	return m
}

// Test 47: parallel creates of one unique value: one wins, the rest get a
// clean 422, and one row exists.
func TestParallelSameName(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		for _, tc := range []struct {
			path, field, table string
			extra              url.Values
		}{
			{"/albumview/add", "name", "albums", nil},
			{"/songsview/add", "title", "songs", url.Values{"rating": {"4"}}},
		} {
			t.Run(tc.table, func(t *testing.T) {
				token := c.CSRF(tc.path)
				value := "race-" + tc.table
				form := url.Values{tc.field: {value}, "csrf_token": {token}}
				for k, v := range tc.extra {
					form[k] = v
				}
				reqs := make([]*http.Request, 16)
				for i := range reqs {
					reqs[i] = c.PostRequest(tc.path, form)
				}
				ans := c.Parallel(reqs)
				got := statuses(ans)
				if got[http.StatusFound] != 1 || got[http.StatusUnprocessableEntity] != 15 {
					t.Errorf("statuses %v, want one 302 and fifteen 422", got)
				}
				for _, x := range ans {
					if x.Status == http.StatusUnprocessableEntity && !strings.Contains(x.Body, "already exists") {
						t.Errorf("a 422 without \"already exists\":\n%s", apptest.Clip(x.Body))
					}
				}
				n := 0
				if tc.table == "albums" {
					for _, al := range a.Albums() {
						if al.Name == value {
							n++
						}
					}
				} else {
					for _, s := range a.Songs() {
						if s.Title == value {
							n++
						}
					}
				}
				if n != 1 {
					t.Errorf("%d rows named %q, want 1", n, value)
				}
				// Replaying the winning POST, token and all, is a duplicate.
				r := c.Post(tc.path, form)
				if r.Status != http.StatusUnprocessableEntity {
					t.Errorf("replay: %d, want 422", r.Status)
				}
			})
		}
	})
}

// Test 48: many distinct writes while reads go on (the SQLite writer lock);
// run on MySQL too.
func TestParallelWritesAndReads(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		token := c.CSRF("/albumview/add")
		before := a.Count("albums")
		var reqs []*http.Request
		for i := range 32 {
			reqs = append(reqs, c.PostRequest("/albumview/add", url.Values{"name": {fmt.Sprintf("parallel-%02d", i)}, "csrf_token": {token}}))
			get, _ := http.NewRequest(http.MethodGet, a.URL+"/albumview/list/", nil)
			reqs = append(reqs, get)
		}
		ans := c.Parallel(reqs)
		for i, x := range ans {
			want := http.StatusOK
			if reqs[i].Method == http.MethodPost {
				want = http.StatusFound
			}
			if x.Status != want {
				t.Errorf("%s %s: %d, want %d", reqs[i].Method, reqs[i].URL.Path, x.Status, want)
			}
		}
		if got := a.Count("albums"); got != before+32 {
			t.Errorf("albums %d -> %d, want +32", before, got)
		}
	})
}

// Test 49: conflicting edits, deletes, and references to a record being
// deleted.
func TestParallelConflicts(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		token := c.CSRF("/albumview/add")
		t.Run("two edits to one name", func(t *testing.T) {
			x := a.InsertAlbum("X")
			y := a.InsertAlbum("Y")
			ans := c.Parallel([]*http.Request{
				c.PostRequest("/albumview/edit/"+x, url.Values{"name": {"Z"}, "csrf_token": {token}}),
				c.PostRequest("/albumview/edit/"+y, url.Values{"name": {"Z"}, "csrf_token": {token}}),
			})
			if got := statuses(ans); got[http.StatusFound] != 1 || got[http.StatusUnprocessableEntity] != 1 {
				t.Errorf("statuses %v, want one 302 and one 422", got)
			}
			ax, _ := a.AlbumByID(x)
			ay, _ := a.AlbumByID(y)
			if names := []string{ax.Name, ay.Name}; !slices.Equal(names, []string{"Z", "Y"}) && !slices.Equal(names, []string{"X", "Z"}) {
				t.Errorf("names after the race: %q", names)
			}
		})
		t.Run("five deletes of one record", func(t *testing.T) {
			id := a.InsertAlbum("Deleted Five Times")
			keep := a.InsertAlbum("Bystander")
			reqs := make([]*http.Request, 5)
			for i := range reqs {
				reqs[i] = c.PostRequest("/albumview/delete/"+id, url.Values{"csrf_token": {token}})
			}
			ans := c.Parallel(reqs)
			if got := statuses(ans); got[http.StatusFound] != 1 || got[http.StatusNotFound] != 4 {
				t.Errorf("statuses %v, want one 302 and four 404", got)
			}
			if _, ok := a.AlbumByID(id); ok {
				t.Error("the record still exists")
			}
			if _, ok := a.AlbumByID(keep); !ok {
				t.Error("another record was deleted")
			}
		})
		t.Run("delete while songs are added to it", func(t *testing.T) {
			id := a.InsertAlbum("Going Away")
			songToken := c.CSRF("/songsview/add")
			reqs := []*http.Request{c.PostRequest("/albumview/delete/"+id, url.Values{"csrf_token": {token}})}
			for i := range 5 {
				reqs = append(reqs, c.PostRequest("/songsview/add", url.Values{"title": {fmt.Sprintf("late-%d", i)},
					"album": {id}, "csrf_token": {songToken}}))
			}
			ans := c.Parallel(reqs)
			if ans[0].Status != http.StatusFound {
				t.Errorf("delete: %d, want 302", ans[0].Status)
			}
			for i, x := range ans[1:] {
				title := fmt.Sprintf("late-%d", i)
				s, stored := a.Song(title)
				switch x.Status {
				case http.StatusFound:
					if !stored || s.Album != "" {
						t.Errorf("%s: 302 but stored %v with album %q; want kept with no album", title, stored, s.Album)
					}
				case http.StatusUnprocessableEntity:
					if stored {
						t.Errorf("%s: 422 but stored", title)
					}
					if !strings.Contains(x.Body, "Not a valid choice.") {
						t.Errorf("%s: 422 without the choice message", title)
					}
				default:
					t.Errorf("%s: %d, want 302 or 422", title, x.Status)
				}
			}
			if dangling := a.DanglingSongs(); dangling != 0 {
				t.Errorf("%d songs point at a missing album", dangling)
			}
		})
	})
}
