package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"musicadmin/internal/access"
	"musicadmin/internal/apptest"
	"musicadmin/internal/auth"
)

// roleUser creates a user holding role (created empty when it does not
// exist) and returns a client logged in as them, and their grants as the
// database states them.
func roleUser(t *testing.T, app *apptest.App, username, role string) (*apptest.Client, *access.Grants) {
	t.Helper()
	ctx := context.Background()
	hash, err := bcrypt.GenerateFromPassword([]byte("pw-"+username), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u, err := app.Data.Accounts().CreateUser(ctx, auth.User{Username: username, FirstName: "F", LastName: "L",
		Email: username + "@example.com", PasswordHash: string(hash), Active: true}, role)
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	roles, perms, err := app.Data.Accounts().UserGrants(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := app.Client()
	c.Login(username, "pw-"+username)
	return c, access.NewGrants(roles, perms)
}

// TestEveryRouteChecksItsPermission walks the route table the server
// serves (so a new route cannot be forgotten) for each kind of user: an
// Admin, a ReadOnly user and a user whose role holds nothing. A route the
// user's roles allow is served (a record id that names nothing answers
// 404, an empty form 422: the handler ran); one they do not allow is 403
// and changes nothing. GET routes are asked with HEAD too.
func TestEveryRouteChecksItsPermission(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		admin := app.LoggedIn()
		adminGrants := access.NewGrants([]string{access.AdminRole}, nil)
		reader, readerGrants := roleUser(t, app, "reader", access.ReadOnlyRole)
		nobody, nobodyGrants := roleUser(t, app, "nobody", "Nobody")
		// A role that may add songs and nothing else: the song form's
		// album lookup must serve it (the contract's rule), no list must.
		adderRole, err := app.Data.Accounts().ImportRole(context.Background(), "SongAdder")
		if err != nil {
			t.Fatal(err)
		}
		if err := app.Data.Accounts().ImportPermissions(context.Background(), adderRole,
			[]access.Permission{access.On("songsview", access.CanAdd)}, []string{"songsview"}); err != nil {
			t.Fatal(err)
		}
		adder, adderGrants := roleUser(t, app, "adder", "SongAdder")
		users := []struct {
			name   string
			c      *apptest.Client
			grants *access.Grants
		}{{"admin", admin, adminGrants}, {"reader", reader, readerGrants}, {"nobody", nobody, nobodyGrants},
			{"adder", adder, adderGrants}}

		// The built-in roles are what the contract says.
		for _, view := range []string{"albumview", "songsview"} {
			for _, p := range []string{access.CanList, access.CanShow, access.MenuAccess} {
				if !readerGrants.Can(access.On(view, p)) {
					t.Errorf("ReadOnly lacks %s on %s", p, view)
				}
			}
			for _, p := range []string{access.CanAdd, access.CanEdit, access.CanDelete, access.CanExport} {
				if readerGrants.Can(access.On(view, p)) {
					t.Errorf("ReadOnly holds %s on %s", p, view)
				}
			}
		}
		if readerGrants.Can(access.On("auditlog", access.CanList)) {
			t.Error("ReadOnly may list the audit log")
		}

		routes := app.Web.Routes
		if len(routes) < 20 {
			t.Fatalf("the route table has %d routes", len(routes))
		}
		// The charts are in the table, behind can_list on their view.
		for _, chart := range []string{"/charts/songs-by-rating/", "/charts/albums-by-rating/"} {
			for _, path := range []string{chart, chart + "data.csv"} {
				i := slices.IndexFunc(routes, func(rt access.Route) bool { return rt.Pattern == path })
				if i < 0 || routes[i].Permission != access.On("songsview", access.CanList) || len(routes[i].Or) > 0 {
					t.Errorf("route %s: missing, or not behind can_list on songsview", path)
				}
			}
		}
		unknown := app.UnknownID()
		albumsBefore, songsBefore := app.Count("albums"), app.Count("songs")
		for _, rt := range routes {
			path := strings.NewReplacer("{id}", url.PathEscape(unknown), "{field}", "album").Replace(rt.Pattern)
			if strings.Contains(path, "{") {
				t.Errorf("route %s %s: a parameter this test cannot fill", rt.Method, rt.Pattern)
				continue
			}
			for _, u := range users {
				allowed := rt.Allows(u.grants)
				methods := []string{rt.Method}
				if rt.Method == http.MethodGet {
					methods = append(methods, http.MethodHead)
				}
				for _, method := range methods {
					var r *apptest.Response
					if method == http.MethodPost {
						r = u.c.Post(path, url.Values{"csrf_token": {u.c.CSRF("/")}})
					} else {
						r = u.c.Request(method, path, nil)
					}
					switch {
					case allowed && (r.Status == http.StatusForbidden || r.Status == http.StatusMethodNotAllowed || r.Status >= 500 ||
						r.Status == http.StatusFound && strings.HasPrefix(r.Location(), "/login")):
						t.Errorf("%s %s as %s (allowed by %v): status %d", method, path, u.name, rt.Permission, r.Status)
					case !allowed && r.Status != http.StatusForbidden:
						t.Errorf("%s %s as %s (lacks %v): status %d, want 403", method, path, u.name, rt.Permission, r.Status)
					}
				}
			}
		}
		if a, s := app.Count("albums"), app.Count("songs"); a != albumsBefore || s != songsBefore {
			t.Errorf("records changed: albums %d→%d, songs %d→%d", albumsBefore, a, songsBefore, s)
		}
		// The 403 is a page for a browser and JSON for the lookup.
		r := reader.Get("/auditlog/list/")
		if r.Status != http.StatusForbidden || !strings.Contains(r.Text("main"), "permission") {
			t.Errorf("403 page: status %d, main %q", r.Status, r.Text("main"))
		}
		r = nobody.Get("/songsview/lookup/album?q=ab")
		if r.Status != http.StatusForbidden || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("lookup 403: status %d, type %q", r.Status, r.Header.Get("Content-Type"))
		}
	})
}

// TestReadOnlyUserSeesNoWayToWrite: a ReadOnly user's pages offer only what
// the role allows: the Model Views menu without Security, the Charts of
// the views it may list (and the API menu every logged-in user has),
// lists and show
// pages without Add, Edit, Delete, Export or bulk controls.
func TestReadOnlyUserSeesNoWayToWrite(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		album := app.InsertAlbum("Abbey Road")
		song := app.InsertSong("Something", 5, album)
		reader, _ := roleUser(t, app, "reader", access.ReadOnlyRole)

		r := reader.Get("/")
		r.ExpectStatus(t, "index", http.StatusOK)
		if got := r.Texts("nav .menu summary"); !slices.Equal(got, []string{"Model Views", "Charts", "API"}) {
			t.Errorf("menu categories = %q, want only Model Views, Charts and API", got)
		}
		for _, page := range []string{"/songsview/list/", "/albumview/list/", "/songsview/show/" + song, "/albumview/show/" + album} {
			r := reader.Get(page)
			r.ExpectStatus(t, page, http.StatusOK)
			for _, sel := range []string{`a[href*="/add"]`, `a[href*="/edit/"]`, `a[href*="/delete/"]`,
				`a[href*="export.csv"]`, `form#bulk`, `input[name=ids]`, `a[href^="/auditlog"]`} {
				if n := r.Doc.Find("main " + sel).Length(); n > 0 {
					t.Errorf("%s shows %d %s to a ReadOnly user", page, n, sel)
				}
			}
		}
		// The song's album still links to the album, which they may see.
		if n := reader.Get("/songsview/list/").Doc.Find(`main a[href="/albumview/show/` + album + `"]`).Length(); n != 1 {
			t.Errorf("the album link in the song list: %d, want 1", n)
		}
	})
}

// TestLookupForAddersAndEditors: the lookup of a related field serves the
// add and edit forms as well as the list's filter, so a role that may add
// (or edit) songs but not list them may search albums there; a role that
// may only show songs may not (the contract: list, add or edit the view).
func TestLookupForAddersAndEditors(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		app.InsertAlbum("Lookup Target")
		ctx := context.Background()
		acc := app.Data.Accounts()
		for role, perm := range map[string]string{"Adder": access.CanAdd, "Editor": access.CanEdit, "Shower": access.CanShow} {
			id, err := acc.ImportRole(ctx, role)
			if err != nil {
				t.Fatal(err)
			}
			if err := acc.ImportPermissions(ctx, id, []access.Permission{access.On("songsview", perm)}, []string{"songsview"}); err != nil {
				t.Fatal(err)
			}
		}
		for user, want := range map[string]int{"Adder": http.StatusOK, "Editor": http.StatusOK, "Shower": http.StatusForbidden} {
			c, _ := roleUser(t, app, strings.ToLower(user), user)
			r := c.Get("/songsview/lookup/album?q=lookup")
			if r.Status != want {
				t.Errorf("%s: lookup %d, want %d", user, r.Status, want)
			}
			if want == http.StatusOK && !strings.Contains(r.Body, "Lookup Target") {
				t.Errorf("%s: lookup found nothing: %s", user, r.Body)
			}
		}
	})
}
