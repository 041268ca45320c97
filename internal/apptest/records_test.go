package apptest

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"musicadmin/internal/auth"
)

// TestRecordsSeeWhatTheAppSees: what the checks insert behind the app's
// back, the app shows; what the app writes, the checks read back, field by
// field, with the ids the app uses. Otherwise a test built on them could
// pass on one backend by reading the wrong thing.
func TestRecordsSeeWhatTheAppSees(t *testing.T) {
	ForEachBackendParallel(t, func(t *testing.T, b Backend) {
		a := NewApp(t, b)
		c := a.LoggedIn()

		abbey := a.InsertAlbum("Abbey Road")
		ids := a.InsertSongs([]SongRow{{Title: "Something", Rating: 9, Album: abbey}, {Title: "Yesterday", Rating: 4}})
		if r := c.Get("/songsview/show/" + ids[0]); r.Status != http.StatusOK ||
			!slices.Equal(r.Texts("dl.details dd"), []string{"Something", "9", "Abbey Road"}) {
			t.Errorf("inserted song shown as %d %q", r.Status, r.Texts("dl.details dd"))
		}

		c.Submit("/albumview/add", url.Values{"name": {"Let It Be"}}).ExpectRedirect(t, "add album", "/albumview/list/")
		letItBe := a.AlbumID("Let It Be")
		c.Submit("/songsview/edit/"+ids[1], url.Values{"title": {"Yesterday"}, "rating": {"7"}, "album": {letItBe}}).
			ExpectRedirect(t, "edit song", "/songsview/list/")
		want := []SongRow{{ID: ids[0], Title: "Something", Rating: 9, Album: abbey}, {ID: ids[1], Title: "Yesterday", Rating: 7, Album: letItBe}}
		if got := a.Songs(); !slices.Equal(got, want) {
			t.Errorf("songs = %v, want %v", got, want)
		}
		if s, ok := a.SongByID(ids[1]); !ok || s != want[1] {
			t.Errorf("SongByID = %v %v", s, ok)
		}
		if al, ok := a.AlbumByID(abbey); !ok || al.Name != "Abbey Road" {
			t.Errorf("AlbumByID = %v %v", al, ok)
		}
		unknown := a.UnknownID()
		for _, id := range []string{unknown, "", "x", abbey + "0"} {
			if _, ok := a.AlbumByID(id); ok {
				t.Errorf("AlbumByID(%q) found an album", id)
			}
		}
		if r := c.Get("/albumview/show/" + unknown); r.Status != http.StatusNotFound {
			t.Errorf("the unknown id %s is known to the app: %d", unknown, r.Status)
		}
		if n, m := a.Count("albums"), a.Count("songs"); n != 2 || m != 2 {
			t.Errorf("counts %d albums, %d songs, want 2 and 2", n, m)
		}
		c.Submit("/albumview/delete/"+abbey, nil).ExpectRedirect(t, "delete album", "/albumview/list/")
		if s, _ := a.SongByID(ids[0]); s.Album != "" || a.DanglingSongs() != 0 {
			t.Errorf("after the album's delete: %v, %d dangling", s, a.DanglingSongs())
		}

		// Accounts: the admin with its role, its session, and changes to
		// them that the app sees.
		users := a.Users()
		if len(users) != 1 || users[0].Username != AdminUser || !users[0].Active || users[0].PasswordHash == "" {
			t.Fatalf("users = %+v", users)
		}
		if a.Count("user_sessions") != 1 {
			t.Errorf("%d sessions after one login, want 1", a.Count("user_sessions"))
		}
		a.ExpireSessions()
		if r := c.Get("/"); r.Status != http.StatusFound {
			t.Errorf("after ExpireSessions: %d, want 302 to the login", r.Status)
		}
		c.Login(AdminUser, AdminPassword)
		a.SetUserField(AdminUser, "active", false)
		if a.Users()[0].Active {
			t.Error("SetUserField did not deactivate the user")
		}
		if r := c.Get("/"); r.Status != http.StatusFound {
			t.Errorf("after deactivation: %d, want 302 to the login", r.Status)
		}
		if _, err := a.Web.Users.Create(context.Background(), auth.NewUser{Username: "other", FirstName: "O",
			LastName: "O", Email: "other@example.com", Password: "other-password"}); err != nil {
			t.Fatal(err)
		}
		a.DeleteUser("other")
		if n := len(a.Users()); n != 1 {
			t.Errorf("%d users after DeleteUser, want 1", n)
		}

		// Stored reads the same database without the app.
		st := Stored(t, a.Config.Database)
		if got := st.Songs(); !slices.Equal(got, a.Songs()) {
			t.Errorf("Stored reads songs %v, the app's checks %v", got, a.Songs())
		}
	})
}
