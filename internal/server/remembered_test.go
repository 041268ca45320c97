package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/server"
)

// TestRememberedLoginsFollowEveryChange: an instance remembers a login
// it has read (auth.Remembered), by session and by API token, and still
// answers every change made through another instance on the same
// database at its next request: the user's language, a permission taken
// from their role, their deactivation, a logout. Each login is used twice
// on the second instance before each change, so that it is remembered
// there when the change lands.
func TestRememberedLoginsFollowEveryChange(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b)
		other := a.Instance(t, server.Options{}, nil)
		admin := a.LoggedIn()
		addRole(t, admin, "Listers", "menu_access:songsview", "can_list:songsview", "can_show:songsview")
		role := roleID(t, admin, "Listers")
		admin.Submit("/users/add", newUserForm("lister", "lister-password-1", role)).
			ExpectRedirect(t, "add lister", "/users/list/")
		lister := a.Client()
		lister.Login("lister", "lister-password-1")
		// The same session on the other instance, its cookie copied
		// before any change (a language choice would travel in it).
		there := other.ClientWith(lister.Cookies())
		api := other.API(a.APIToken(t, "lister"))
		use := func(what string, page, apiStatus int) *apptest.Response {
			t.Helper()
			var r *apptest.Response
			for range 2 {
				if r = there.Get("/songsview/list/"); r.Status != page {
					t.Errorf("%s: the list on the other instance: status %d, want %d", what, r.Status, page)
				}
				if got := api.Do(t, "GET", "/api/v1/songsview/", nil).Status; got != apiStatus {
					t.Errorf("%s: the API list on the other instance: status %d, want %d", what, got, apiStatus)
				}
			}
			return r
		}
		lang := func(r *apptest.Response) string { l, _ := r.Doc.Find("html").Attr("lang"); return l }

		if r := use("before", http.StatusOK, http.StatusOK); lang(r) != "en" {
			t.Fatalf("before: lang %q", lang(r))
		}
		lister.Submit("/users/settings", url.Values{"language": {"de"}, "time_zone": {""}}).
			ExpectRedirect(t, "the lister's language", "/users/settings")
		if r := use("German", http.StatusOK, http.StatusOK); lang(r) != "de" {
			t.Errorf("after the lister chose German on the first instance: lang %q on the other", lang(r))
		}

		edit := admin.Get("/roles/edit/" + role)
		edit.ExpectStatus(t, "the role's form", http.StatusOK)
		form := apptest.FormValues(edit)
		form["permissions"] = slices.DeleteFunc(form["permissions"], func(p string) bool { return p == "can_list:songsview" })
		admin.Submit("/roles/edit/"+role, form).ExpectRedirect(t, "take can_list", "/roles/list/")
		use("can_list taken", http.StatusForbidden, http.StatusForbidden)

		me := userID(t, admin, "lister")
		deactivate := apptest.FormValues(admin.Get("/users/edit/" + me))
		deactivate.Del("active")
		admin.Submit("/users/edit/"+me, deactivate).ExpectRedirect(t, "deactivate the lister", "/users/list/")
		if there.IsLoggedIn() {
			t.Error("the deactivated lister is still logged in on the other instance")
		}
		if got := api.Do(t, "GET", "/api/v1/songsview/", nil).Status; got != http.StatusUnauthorized {
			t.Errorf("the deactivated lister's token on the other instance: status %d, want 401", got)
		}

		// A logout on one instance ends the session on the other.
		elsewhere := other.ClientWith(admin.Cookies())
		for range 2 {
			elsewhere.Get("/songsview/list/").ExpectStatus(t, "the admin on the other instance", http.StatusOK)
		}
		admin.Post("/logout/", url.Values{"csrf_token": {admin.CSRF("/")}}).ExpectRedirect(t, "logout", "/login/")
		if elsewhere.IsLoggedIn() {
			t.Error("the admin is still logged in on the other instance after the logout")
		}
	})
}

// TestRememberedLoginReadsTheGenerationAlone: on SQL, a login the
// instance has read is remembered, and the next request with it reads at
// most the accounts' generation (one read by key; none when the last read
// of it began within store.GenerationWindow) instead of its session, user
// and grants, or its token, user and grants: the page's and the API's
// fixed cost. Counted through GORM's logger, as TestAPIGetStatements does.
func TestRememberedLoginReadsTheGenerationAlone(t *testing.T) {
	apptest.ForEachSQLBackend(t, func(t *testing.T, b apptest.Backend) {
		counter, app, song := countedSong(t, b)
		page, api := app.LoggedIn(), app.API(app.APIToken(t, apptest.AdminUser))
		for range 2 {
			page.Get("/songsview/show/"+song).ExpectStatus(t, "show", http.StatusOK)
			api.Do(t, "GET", "/api/v1/songsview/"+song, nil).Expect(t, "get", http.StatusOK)
		}
		check := func(what string, request func()) {
			t.Helper()
			counter.reset()
			request()
			_, sqls := counter.snapshot()
			var generation, login int
			for _, q := range sqls {
				switch {
				case strings.Contains(q, "FROM app_locks") && !strings.Contains(q, "user_sessions"):
					generation++
				case strings.Contains(q, "user_sessions"), strings.Contains(q, "tokens"),
					strings.Contains(q, "role_permissions"):
					login++
				}
			}
			if generation > 1 || login != 0 {
				t.Errorf("%s: %d reads of the generation (want 1 at most) and %d of the login (want 0):\n%s",
					what, generation, login, strings.Join(sqls, "\n"))
			}
		}
		check("the show page", func() { page.Get("/songsview/show/"+song).ExpectStatus(t, "show", http.StatusOK) })
		check("the API get", func() {
			api.Do(t, "GET", "/api/v1/songsview/"+song, nil).Expect(t, "get", http.StatusOK)
		})
		// A write to the accounts moves the generation: the next request
		// reads its login again.
		sec, err := app.Data.Security(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := sec.Tokens.Create(context.Background(), userID(t, page, apptest.AdminUser), "another", time.Time{}); err != nil {
			t.Fatal(err)
		}
		counter.reset()
		page.Get("/songsview/show/"+song).ExpectStatus(t, "show", http.StatusOK)
		if _, sqls := counter.snapshot(); !slices.ContainsFunc(sqls, func(q string) bool { return strings.Contains(q, "user_sessions") }) {
			t.Errorf("after a token was made, the show page did not read its session again:\n%s", strings.Join(sqls, "\n"))
		}
	})
}
