package server_test

// Section D of shared/SECURITY-TESTS.md: access control, path
// normalisation, exposed files, malformed ids and mass assignment.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
)

// Test 22: every page but the public ones needs a login.
func TestLoginRequired(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		album := a.InsertAlbum("Private Album")
		song := a.InsertSong("Private Song", 1, album)
		var gets []string
		gets = append(gets, "/", "/?x=1")
		for _, v := range []struct {
			view string
			id   string
		}{{"albumview", album}, {"songsview", song}} {
			gets = append(gets, "/"+v.view+"/list/?page=2&q=a%20b", "/"+v.view+"/show/"+v.id,
				"/"+v.view+"/add", "/"+v.view+"/edit/"+v.id, "/"+v.view+"/delete/"+v.id)
		}
		for _, p := range gets {
			r := a.Client().Get(p)
			want := "/login/?next=" + url.QueryEscape(p)
			if r.Status != http.StatusFound || r.Location() != want {
				t.Errorf("anonymous GET %s: %d %q, want 302 to %s", p, r.Status, r.Location(), want)
			}
			if strings.Contains(r.Body, "Private") {
				t.Errorf("anonymous GET %s shows data", p)
			}
		}
		posts := []stateRoute{
			{"/albumview/add", url.Values{"name": {"anon album"}}},
			{"/albumview/edit/" + album, url.Values{"name": {"anon"}}},
			{"/albumview/delete/" + album, url.Values{}},
			{"/songsview/add", url.Values{"title": {"anon song"}}},
			{"/songsview/edit/" + song, url.Values{"title": {"anon"}}},
			{"/songsview/delete/" + song, url.Values{}},
		}
		before := a.Snapshot()
		for _, p := range posts {
			for _, withToken := range []bool{false, true} {
				c := a.Client()
				f := url.Values{}
				for k, v := range p.form {
					f[k] = v
				}
				if withToken {
					f.Set("csrf_token", c.CSRF("/login/"))
				}
				r := c.Post(p.path, f)
				loginRedirect := r.Status == http.StatusFound && strings.HasPrefix(r.Location(), "/login/")
				if !loginRedirect && r.Status != http.StatusForbidden {
					t.Errorf("anonymous POST %s (token %v): %d %q, want 302 to login or 403", p.path, withToken, r.Status, r.Location())
				}
			}
		}
		if after := a.Snapshot(); !before.Same(after) {
			t.Errorf("anonymous POSTs wrote:\n%v\n%v", before, after)
		}
		for _, p := range []string{"/login/", "/healthz", "/static/app.css", "/static/favicon.svg"} {
			if r := a.Client().Get(p); r.Status != http.StatusOK {
				t.Errorf("public %s: %d", p, r.Status)
			}
		}
	})
}

// Test 23: no way round the login through odd spellings of a path.
func TestPathNormalisation(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		a.InsertAlbum("Hidden Marker Album")
		targets := []string{
			"/albumview/list", "/ALBUMVIEW/LIST/", "/albumview//list/", "//albumview/list/",
			"/albumview/./list/", "/albumview/list/.", "/%61lbumview/list/", "/albumview%2flist/", "/albumview%2Flist/",
			"/albumview/list/;x=1", "/static/../albumview/list/", "/static/%2e%2e/albumview/list/",
			"/static/..%2falbumview/list/", "//evil.example/", `/\evil.example/`, "/%5Cevil.example/", "/%5cevil.example/",
			"/albumview/list/..;/", "/./albumview/list/", "/albumview/list/%2e", "/static//evil.example",
			"/albumview", "/albumview/", "/login", "/logout",
		}
		for _, target := range targets {
			resp, body := a.Raw(http.MethodGet, target)
			switch resp.StatusCode {
			case http.StatusFound, http.StatusMovedPermanently, http.StatusNotFound, http.StatusBadRequest:
			default:
				t.Errorf("GET %q: %d, want 302, 301, 404 or 400", target, resp.StatusCode)
			}
			if strings.Contains(body, "Hidden Marker Album") {
				t.Errorf("GET %q shows data without a login", target)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.Contains(loc, `\`) {
					t.Errorf("GET %q: Location %q is not a single-slash local path", target, loc)
				}
				if resp.StatusCode == http.StatusFound && !strings.HasPrefix(loc, "/login/") {
					t.Errorf("GET %q: 302 to %q, want the login page", target, loc)
				}
			}
		}
	})
}

// Test 24: no configuration, database, VCS or debug endpoint is exposed.
func TestNoExposedFiles(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		targets := []string{
			"/static/", "/static", "/static/../config.yaml", "/static/%2e%2e/config.yaml", "/static/..%2fconfig.yaml",
			"/static/%2e%2e%2fconfig.yaml", "/config.yaml", "/app.db", "/app.db-wal", "/test.db", "/.git/HEAD",
			"/static/.git/HEAD", "/static/.hidden", "/debug/pprof/", "/debug/vars", "/metrics", "/go.mod",
			"/static/../../go.mod", "/web/embed.go", "/static/./",
		}
		secret := a.Config.SecretKey
		for _, anonymous := range []bool{true, false} {
			c := a.LoggedIn()
			if anonymous {
				c = a.Client()
			}
			for _, target := range targets {
				resp, body := a.Raw(http.MethodGet, target, "Cookie", cookieHeader(c))
				loc := resp.Header.Get("Location")
				switch {
				case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusForbidden,
					resp.StatusCode == http.StatusBadRequest:
				case resp.StatusCode == http.StatusFound && strings.HasPrefix(loc, "/login/"):
				case resp.StatusCode == http.StatusMovedPermanently && (loc == "/login/" || loc == "/logout/"):
				default:
					t.Errorf("GET %q (anonymous %v): %d %q", target, anonymous, resp.StatusCode, loc)
				}
				for _, leak := range []string{secret, "secret_key", "SQLite format 3", "ref: refs/", "[core]",
					"module musicadmin", "Index of", "<pre>", "memstats", "go_goroutines"} {
					if strings.Contains(body, leak) {
						t.Errorf("GET %q (anonymous %v) exposes %q", target, anonymous, leak)
					}
				}
			}
		}
	})
}

func cookieHeader(c *apptest.Client) string {
	var parts []string
	for _, ck := range c.Cookies() {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// Test 25: unknown and malformed ids are a 404, never a 500.
func TestMalformedIDs(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		album := a.InsertAlbum("Id Album")
		a.InsertSong("Id Song", 2, album)
		victim := a.InsertAlbum("Delete Me")
		c := a.LoggedIn()
		token := c.CSRF("/albumview/add")
		// A well-formed id of no record (on MongoDB an ObjectId), then
		// malformed ones: SQL digits are malformed ids on MongoDB.
		ids := []string{a.UnknownID(), "999999", "0", "-1", "abc", "1.5", "1e3", "0x10", "+1", "01x", "99999999999999999999",
			"9223372036854775807", "9223372036854775808", "%00", "1%20OR%201=1", "'%20OR%20'1'='1", "1;", "%31", "１"}
		before := a.Snapshot()
		for _, view := range []string{"albumview", "songsview"} {
			for _, page := range []string{"show", "edit", "delete"} {
				for _, id := range ids {
					path := "/" + view + "/" + page + "/" + id
					if id == "%31" {
						continue // "%31" is "1" spelled with an escape: a real record
					}
					r := c.Get(path)
					if r.Status != http.StatusNotFound && r.Status != http.StatusBadRequest {
						t.Errorf("GET %s: %d, want 404 or 400", path, r.Status)
					}
					body := url.Values{"name": {"x"}, "title": {"x"}, "csrf_token": {token}}
					r = c.Post(path, body)
					want404 := r.Status == http.StatusNotFound || r.Status == http.StatusBadRequest
					if page == "show" {
						want404 = want404 || r.Status == http.StatusMethodNotAllowed
					}
					if !want404 {
						t.Errorf("POST %s: %d, want 404 or 400", path, r.Status)
					}
				}
			}
		}
		if after := a.Snapshot(); !before.Same(after) {
			t.Errorf("malformed ids changed data:\n%v\n%v", before, after)
		}
		del := "/albumview/delete/" + victim
		if r := c.Post(del, url.Values{"csrf_token": {token}}); r.Status != http.StatusFound {
			t.Errorf("first delete: %d", r.Status)
		}
		if r := c.Post(del, url.Values{"csrf_token": {token}}); r.Status != http.StatusNotFound {
			t.Errorf("second delete: %d, want 404", r.Status)
		}
		if al, ok := a.AlbumByID(album); !ok || al.Name != "Id Album" {
			t.Error("another record was touched")
		}
	})
}

// Test 26: only the declared fields are written.
func TestMassAssignment(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		pk1 := a.InsertAlbum("First")
		pk2 := a.InsertAlbum("Second")
		c := a.LoggedIn()
		r := c.Submit("/songsview/add", url.Values{"title": {"Mass"}, "rating": {"3"}, "id": {"777"}, "_id": {pk2},
			"created_at": {"1999-01-01"}, "album_id": {pk1}, "ID": {"778"}, "Rating": {"9"}})
		if r.Status != http.StatusFound {
			t.Fatalf("add: %d", r.Status)
		}
		s, ok := a.Song("Mass")
		if !ok || s.ID == "777" || s.ID == "778" || s.ID == pk2 || s.Rating != 3 || s.Album != "" {
			t.Errorf("%v: undeclared fields were written", s)
		}
		r = c.Submit("/albumview/edit/"+pk1, url.Values{"name": {"New"}, "id": {pk2}, "_id": {pk2}})
		if r.Status != http.StatusFound {
			t.Fatalf("edit: %d", r.Status)
		}
		a1, _ := a.AlbumByID(pk1)
		a2, _ := a.AlbumByID(pk2)
		if a1.Name != "New" || a2.Name != "Second" {
			t.Errorf("after edit: %s=%q, %s=%q", pk1, a1.Name, pk2, a2.Name)
		}
	})
}
