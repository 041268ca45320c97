package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/access"
	"musicadmin/internal/apptest"
	"musicadmin/internal/server"
)

// TestEveryAPIRouteChecksItsPermission walks the API's route table for an
// Admin, a ReadOnly user and a user whose role holds nothing, each with a
// token: a route their roles allow is served (an unknown id answers 404, an
// empty body 422: the handler ran), one they lack is 403 and writes
// nothing, as the pages' twins are (TestEveryRouteChecksItsPermission).
func TestEveryAPIRouteChecksItsPermission(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		_, readerGrants := roleUser(t, app, "reader", access.ReadOnlyRole)
		_, nobodyGrants := roleUser(t, app, "nobody", "Nobody")
		users := []struct {
			name   string
			c      *apptest.APIClient
			grants *access.Grants
		}{
			{"admin", app.API(app.APIToken(t, apptest.AdminUser)), access.NewGrants([]string{access.AdminRole}, nil)},
			{"reader", app.API(app.APIToken(t, "reader")), readerGrants},
			{"nobody", app.API(app.APIToken(t, "nobody")), nobodyGrants},
		}
		routes := app.Web.APIRoutes
		var views []string
		for _, rt := range routes {
			if v := strings.Split(rt.Pattern, "/")[3]; !slices.Contains(views, v) {
				views = append(views, v)
			}
		}
		for _, want := range []string{"albumview", "songsview", "users", "roles", "auditlog"} {
			if !slices.Contains(views, want) {
				t.Errorf("no API routes for %s: %v", want, views)
			}
		}
		// The HTML twin of each API route checks the same permission.
		for _, rt := range routes {
			if rt.Permission == access.LoggedIn {
				t.Errorf("%s %s: no permission", rt.Method, rt.Pattern)
			}
		}
		unknown := url.PathEscape(app.UnknownID())
		albums, songs, users0 := app.Count("albums"), app.Count("songs"), app.Count("users")
		for _, rt := range routes {
			path := strings.ReplaceAll(rt.Pattern, "{id}", unknown)
			for _, u := range users {
				allowed := rt.Allows(u.grants)
				methods := []string{rt.Method}
				if rt.Method == http.MethodGet {
					methods = append(methods, http.MethodHead)
				}
				for _, method := range methods {
					var body any
					if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
						body = map[string]any{}
					}
					r := u.c.Do(t, method, path, body, "Content-Type", map[bool]string{true: "application/merge-patch+json",
						false: "application/json"}[method == http.MethodPatch])
					switch {
					case allowed && (r.Status == 403 || r.Status == 401 || r.Status == 405 || r.Status >= 500):
						t.Errorf("%s %s as %s (allowed by %v): status %d %s", method, path, u.name, rt.Permission, r.Status, r.Body)
					case !allowed && r.Status != 403:
						t.Errorf("%s %s as %s (lacks %v): status %d, want 403", method, path, u.name, rt.Permission, r.Status)
					}
				}
			}
		}
		if a, s, us := app.Count("albums"), app.Count("songs"), app.Count("users"); a != albums || s != songs || us != users0 {
			t.Errorf("records changed: albums %d→%d, songs %d→%d, users %d→%d", albums, a, songs, s, users0, us)
		}
	})
}

// TestAPIAndFormsWriteTheSameAuditLog: one scenario through the forms and
// then through the API writes the same audit entries (the same user,
// actions, views, labels and changes): one write path.
func TestAPIAndFormsWriteTheSameAuditLog(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		run := func(viaAPI bool) []entry {
			app := apptest.NewApp(t, b)
			web, api := app.LoggedIn(), app.API(app.APIToken(t, apptest.AdminUser))
			var album1, album2, song string
			if viaAPI {
				album1 = api.Do(t, "POST", "/api/v1/albumview/", map[string]any{"name": "Album1"}).Expect(t, "a1", 201).Str("id")
				album2 = api.Do(t, "POST", "/api/v1/albumview/", map[string]any{"name": "Album2"}).Expect(t, "a2", 201).Str("id")
				song = api.Do(t, "POST", "/api/v1/songsview/", map[string]any{"title": "Song1", "rating": 9, "album": album1}).
					Expect(t, "s1", 201).Str("id")
				api.Do(t, "PUT", "/api/v1/songsview/"+song, map[string]any{"title": "Song 1", "rating": 8, "album": album2}).Expect(t, "edit", 200)
				api.Do(t, "DELETE", "/api/v1/albumview/"+album1, nil).Expect(t, "delete album", 200)
				api.Do(t, "DELETE", "/api/v1/songsview/"+song, nil).Expect(t, "delete song", 200)
			} else {
				web.Submit("/albumview/add", url.Values{"name": {"Album1"}}).ExpectStatus(t, "a1", 302)
				web.Submit("/albumview/add", url.Values{"name": {"Album2"}}).ExpectStatus(t, "a2", 302)
				album1, album2 = app.AlbumID("Album1"), app.AlbumID("Album2")
				web.Submit("/songsview/add", url.Values{"title": {"Song1"}, "rating": {"9"}, "album": {album1}}).ExpectStatus(t, "s1", 302)
				song = app.SongID("Song1")
				web.Submit("/songsview/edit/"+song, url.Values{"title": {"Song 1"}, "rating": {"8"}, "album": {album2}}).ExpectStatus(t, "edit", 302)
				web.Submit("/albumview/delete/"+album1, nil).ExpectStatus(t, "delete album", 302)
				web.Submit("/songsview/delete/"+song, nil).ExpectStatus(t, "delete song", 302)
			}
			// Ids differ between the two runs (a fresh database each, but
			// MongoDB's are random): compare them by what they name.
			ids := strings.NewReplacer(album1, "<album1>", album2, "<album2>", song, "<song>")
			var out []entry
			// The database is fresh: its catalogue's entries are the
			// scenario's (the login's may sort anywhere among them).
			for _, e := range entries(t, app) {
				if e.View != "albumview" && e.View != "songsview" {
					continue
				}
				e.RecordID = ids.Replace(e.RecordID)
				for i := range e.Changes {
					e.Changes[i].Old, e.Changes[i].New = ids.Replace(e.Changes[i].Old), ids.Replace(e.Changes[i].New)
				}
				out = append(out, e)
			}
			return out
		}
		forms, api := run(false), run(true)
		if len(forms) != 6 {
			t.Errorf("the forms wrote %d entries, want 6: %+v", len(forms), forms)
		}
		if len(forms) != len(api) {
			t.Fatalf("forms wrote %d entries, the API %d:\n%+v\n%+v", len(forms), len(api), forms, api)
		}
		for i := range forms {
			if f, a := forms[i], api[i]; f.Username != a.Username || f.Action != a.Action || f.View != a.View ||
				f.RecordID != a.RecordID || f.RecordLabel != a.RecordLabel || !slices.Equal(f.Changes, a.Changes) {
				t.Errorf("entry %d:\nforms %+v\napi   %+v", i, f, a)
			}
		}
	})
}

// TestAPITokenThrottle: bad tokens count as failed logins of the address:
// past the limit, 429 with Retry-After; a good token still passes.
func TestAPITokenThrottle(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b)
		app := a.Instance(t, server.Options{LoginLimit: 3, LoginWindow: time.Hour}, nil)
		good := app.APIToken(t, apptest.AdminUser)
		for i := range 3 {
			app.API("mat_wrong"+strconv.Itoa(i)).Do(t, "GET", "/api/v1/songsview/", nil).Expect(t, "bad token", 401)
		}
		r := app.API("mat_wrong").Do(t, "GET", "/api/v1/songsview/", nil).Expect(t, "over the limit", 429)
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 60 {
			t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		// Another instance on the same database counts the same failures.
		a.API("mat_wrong").Do(t, "GET", "/api/v1/songsview/", nil).Expect(t, "other instance", 401)
		other := a.Instance(t, server.Options{LoginLimit: 3, LoginWindow: time.Hour}, nil)
		other.API("mat_wrong").Do(t, "GET", "/api/v1/songsview/", nil).Expect(t, "other instance over the limit", 429)
		app.API(good).Do(t, "GET", "/api/v1/songsview/", nil).Expect(t, "good token", 200)
		// The login page of the address is throttled too: a guess is a guess.
		c := app.Client()
		form := url.Values{"username": {apptest.AdminUser}, "password": {"wrong"}, "csrf_token": {c.CSRF("/login/")}}
		if r := c.Do(c.PostRequest("/login/", form)); r.Status != http.StatusTooManyRequests {
			t.Errorf("login after bad tokens: %d, want 429", r.Status)
		}
	})
}

// TestAPINoPrivilegeEscalation: a user who may manage users but is no
// Admin cannot, through the API either, give anyone (themselves included)
// a role above their own, nor touch a user above them; nor can a body set
// what the form does not show (SECURITY-TESTS 58).
func TestAPINoPrivilegeEscalation(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		admin := app.API(app.APIToken(t, apptest.AdminUser))
		perms := []string{"can_list:users", "can_show:users", "can_add:users", "can_edit:users"}
		role := admin.Do(t, "POST", "/api/v1/roles/", map[string]any{"name": "UserAdmin", "permissions": perms}).
			Expect(t, "create role", 201)
		if got := role.Result()["permissions"].([]any); len(got) != len(perms) {
			t.Errorf("role's permissions: %v", got)
		}
		adminRole := admin.Do(t, "GET", "/api/v1/roles/?name=Admin", nil).Expect(t, "Admin role", 200).JSON["ids"].([]any)[0].(string)
		ua := admin.Do(t, "POST", "/api/v1/users/", map[string]any{"username": "ua", "first_name": "U", "last_name": "A",
			"email": "ua@example.com", "roles": []string{role.Str("id")}, "password": "pw for ua"}).Expect(t, "create ua", 201).Str("id")
		adminID := admin.Do(t, "GET", "/api/v1/users/?username=admin", nil).JSON["ids"].([]any)[0].(string)
		c := app.API(app.APIToken(t, "ua"))

		r := c.Do(t, "PATCH", "/api/v1/users/"+ua, map[string]any{"roles": []string{role.Str("id"), adminRole}}).Expect(t, "raise self", 422)
		if errs, _ := r.JSON["errors"].(map[string]any); errs["roles"] == nil {
			t.Errorf("raise self: %s", r.Body)
		}
		c.Do(t, "POST", "/api/v1/users/", map[string]any{"username": "mallory", "first_name": "M", "last_name": "M",
			"email": "m@example.com", "roles": []string{adminRole}, "password": "pw"}).Expect(t, "make an Admin", 422)
		c.Do(t, "PATCH", "/api/v1/users/"+adminID, map[string]any{"first_name": "Pwned"}).Expect(t, "touch the Admin", 403)
		c.Do(t, "PUT", "/api/v1/roles/"+role.Str("id"), map[string]any{"name": "UserAdmin",
			"permissions": append(perms, "can_delete:users")}).Expect(t, "edit a role", 403)
		c.Do(t, "PATCH", "/api/v1/users/"+ua, map[string]any{"password_hash": "$2a$10$x"}).Expect(t, "mass assignment", 400)
		r = admin.Do(t, "GET", "/api/v1/users/"+ua, nil).Expect(t, "ua after", 200)
		if got := r.Result()["roles"].([]any); len(got) != 1 || got[0] != role.Str("id") {
			t.Errorf("ua's roles changed: %v", got)
		}
		if n := admin.Do(t, "GET", "/api/v1/users/?username=mallory", nil).JSON["count"]; n != float64(0) {
			t.Errorf("mallory was made: %v", n)
		}
	})
}
