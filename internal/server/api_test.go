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

// TestAPISeedSession runs the seed's shell session through the JSON API on
// every backend: create Album1 and Album2, Song1 rated 9 on Album1, count
// the songs titled Song1, move it to Album2, delete it.
func TestAPISeedSession(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.API(app.APIToken(t, apptest.AdminUser))

		r := c.Do(t, "POST", "/api/v1/albumview/", map[string]any{"name": "Album1"}).Expect(t, "create Album1", 201)
		album1 := r.Str("id")
		if loc := r.Header.Get("Location"); loc != "/api/v1/albumview/"+url.PathEscape(album1) {
			t.Errorf("Location %q", loc)
		}
		if r.Header.Get("ETag") != `"`+r.Str("version")+`"` || r.Str("version") == "" {
			t.Errorf("ETag %q, version %q", r.Header.Get("ETag"), r.Str("version"))
		}
		album2 := c.Do(t, "POST", "/api/v1/albumview/", map[string]any{"name": "Album2"}).Expect(t, "create Album2", 201).Str("id")

		r = c.Do(t, "POST", "/api/v1/songsview/", map[string]any{"title": "Song1", "rating": 9, "album": album1}).
			Expect(t, "create Song1", 201)
		song := r.Str("id")
		if got := r.Result(); got["title"] != "Song1" || got["rating"] != float64(9) || got["album"] != album1 {
			t.Errorf("created song: %v", got)
		}

		r = c.Do(t, "GET", "/api/v1/songsview/?title=Song1", nil).Expect(t, "count", 200)
		if r.JSON["count"] != float64(1) || fmt.Sprint(r.JSON["ids"]) != "["+song+"]" {
			t.Errorf("songs titled Song1: %s", r.Body)
		}

		c.Do(t, "PATCH", "/api/v1/songsview/"+song, map[string]any{"album": album2}, "Content-Type", "application/merge-patch+json").
			Expect(t, "move", 200)
		r = c.Do(t, "GET", "/api/v1/songsview/"+song+"?include=album", nil).Expect(t, "get", 200)
		if got := r.Result(); got["album"] != album2 || got["rating"] != float64(9) || got["title"] != "Song1" {
			t.Errorf("moved song: %v", got)
		}
		if inc, _ := r.JSON["included"].(map[string]any); fmt.Sprint(inc["album"]) != fmt.Sprintf("map[%s:Album2]", album2) {
			t.Errorf("included: %v", r.JSON["included"])
		}

		c.Do(t, "DELETE", "/api/v1/songsview/"+song, nil).Expect(t, "delete", 200)
		c.Do(t, "GET", "/api/v1/songsview/"+song, nil).Expect(t, "get deleted", 404)
		if r := c.Do(t, "GET", "/api/v1/songsview/?title=Song1", nil); r.JSON["count"] != float64(0) {
			t.Errorf("after delete: %s", r.Body)
		}
	})
}

// TestAPIListParameters: the list takes the list page's parameters through
// the same allow-lists; what a page would ignore is a 400 here.
func TestAPIListParameters(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		cat := seedCatalogue(t, app)
		c := app.API(app.APIToken(t, apptest.AdminUser))
		titles := func(r *apptest.APIResponse) []string {
			var out []string
			for _, it := range r.JSON["result"].([]any) {
				out = append(out, it.(map[string]any)["title"].(string))
			}
			return out
		}
		r := c.Do(t, "GET", "/api/v1/songsview/?rating__gte=8&sort=-title", nil).Expect(t, "filter", 200)
		if got := titles(r); fmt.Sprint(got) != "[Yesterday Something Come Together]" || r.JSON["count"] != float64(3) {
			t.Errorf("rating>=8 by -title: %v (%s)", got, r.Body)
		}
		r = c.Do(t, "GET", "/api/v1/songsview/?q=LOVE&page_size=2&page=2&sort=title", nil).Expect(t, "search", 200)
		if got := titles(r); r.JSON["count"] != float64(4) || len(got) != 2 || r.JSON["page"] != float64(2) {
			t.Errorf("search love page 2: %v (%s)", got, r.Body)
		}
		r = c.Do(t, "GET", "/api/v1/songsview/?album="+cat.albums["Let It Be"]+"&include=album&sort=title", nil).Expect(t, "by album", 200)
		if got := titles(r); fmt.Sprint(got) != "[Get Back Let It Be]" {
			t.Errorf("album filter: %v", got)
		}
		if inc := fmt.Sprint(r.JSON["included"]); inc != fmt.Sprintf("map[album:map[%s:Let It Be]]", cat.albums["Let It Be"]) {
			t.Errorf("included %s", inc)
		}
		for _, bad := range []string{"?nosuch=1", "?rating__gte=high", "?sort=nosuch", "?rating__contains=1", "?include=title",
			"?page=0", "?title__regex=x", `?title__eq[$ne]=x`} {
			r := c.Do(t, "GET", "/api/v1/songsview/"+bad, nil)
			if r.Status != 400 || r.Str("message") == "" {
				t.Errorf("GET %s: status %d, body %s", bad, r.Status, r.Body)
			}
		}
		// A MongoDB operator sent as a value is a literal.
		r = c.Do(t, "GET", "/api/v1/songsview/?title="+url.QueryEscape(`{"$ne": ""}`), nil).Expect(t, "operator as text", 200)
		if r.JSON["count"] != float64(0) {
			t.Errorf("operator object matched: %s", r.Body)
		}
	})
}

// TestAPIRefusals: every refusal is JSON with its status, and writes
// nothing.
func TestAPIRefusals(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.API(app.APIToken(t, apptest.AdminUser))
		taken := c.Do(t, "POST", "/api/v1/songsview/", map[string]any{"title": "Taken", "rating": 1}).Expect(t, "seed", 201).Str("id")
		before := app.Count("songs")
		cases := []struct {
			name, method, path string
			body               any
			headers            []string
			status             int
			field, message     string
		}{
			{"form body", "POST", "/api/v1/songsview/", "title=x", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "", ""},
			{"no type", "POST", "/api/v1/songsview/", `{"title":"x"}`, []string{"Content-Type", ""}, 415, "", ""},
			{"malformed", "POST", "/api/v1/songsview/", `{"title": "x"`, nil, 400, "", ""},
			{"not an object", "POST", "/api/v1/songsview/", `["title"]`, nil, 400, "", ""},
			{"trailing data", "POST", "/api/v1/songsview/", `{"title":"x"} {}`, nil, 400, "", ""},
			{"duplicate key", "POST", "/api/v1/songsview/", `{"title":"x","title":"y"}`, nil, 400, "", ""},
			{"unknown field", "POST", "/api/v1/songsview/", map[string]any{"title": "x", "id": "7"}, nil, 400, "id", ""},
			{"not UTF-8", "POST", "/api/v1/songsview/", "{\"title\":\"\xff\xfe\"}", nil, 400, "", ""},
			{"deep", "POST", "/api/v1/songsview/", `{"title":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`, nil, 422, "title", ""},
			{"very deep", "POST", "/api/v1/songsview/", `{"title":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, nil, 400, "", ""},
			{"too large", "POST", "/api/v1/songsview/", `{"title":"` + strings.Repeat("a", 2<<20) + `"}`, nil, 413, "", ""},
			{"wrong type", "POST", "/api/v1/songsview/", map[string]any{"title": "x", "rating": "9"}, nil, 422, "rating", "Must be a number."},
			{"out of range", "POST", "/api/v1/songsview/", map[string]any{"title": "x", "rating": 10}, nil, 422, "rating", "Must be a whole number from 0 to 9."},
			{"fraction", "POST", "/api/v1/songsview/", map[string]any{"title": "x", "rating": 1.5}, nil, 422, "rating", "Must be a whole number from 0 to 9."},
			{"required", "POST", "/api/v1/songsview/", map[string]any{"rating": 1}, nil, 422, "title", "This field is required."},
			{"null required", "POST", "/api/v1/songsview/", map[string]any{"title": nil}, nil, 422, "title", "This field is required."},
			{"blank", "POST", "/api/v1/songsview/", map[string]any{"title": "   "}, nil, 422, "title", "This field is required."},
			{"NUL", "POST", "/api/v1/songsview/", map[string]any{"title": "a\x00b"}, nil, 422, "title", ""},
			{"taken", "POST", "/api/v1/songsview/", map[string]any{"title": "Taken"}, nil, 422, "title", "A record with this title already exists."},
			{"no album", "POST", "/api/v1/songsview/", map[string]any{"title": "x", "album": app.UnknownID()}, nil, 422, "album", "Not a valid choice."},
			{"album object", "POST", "/api/v1/songsview/", map[string]any{"title": "x", "album": map[string]any{"$ne": ""}}, nil, 422, "album", ""},
			{"unknown id", "GET", "/api/v1/songsview/" + url.PathEscape(app.UnknownID()), nil, nil, 404, "", ""},
			{"malformed id", "PUT", "/api/v1/songsview/x%27y", map[string]any{"title": "x"}, nil, 404, "", ""},
			{"unknown view", "GET", "/api/v1/nosuchview/", nil, nil, 404, "", ""},
			{"method", "POST", "/api/v1/songsview/" + taken, map[string]any{"title": "x"}, nil, 405, "", ""},
			{"audit log is read-only", "POST", "/api/v1/auditlog/", map[string]any{"username": "x"}, nil, 405, "", ""},
			{"audit log no delete", "DELETE", "/api/v1/auditlog/1", nil, nil, 405, "", ""},
			{"PUT password", "PUT", "/api/v1/songsview/" + taken, map[string]any{"title": "Taken", "password": "x"}, nil, 400, "password", ""},
		}
		for _, tc := range cases {
			r := c.Do(t, tc.method, tc.path, tc.body, tc.headers...)
			if r.Status != tc.status {
				t.Errorf("%s: status %d, want %d: %s", tc.name, r.Status, tc.status, apptest.Clip(r.Body))
				continue
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || r.Str("message") == "" {
				t.Errorf("%s: not a JSON problem: %q %s", tc.name, r.Header.Get("Content-Type"), apptest.Clip(r.Body))
			}
			errs, _ := r.JSON["errors"].(map[string]any)
			if tc.field != "" && errs[tc.field] == nil {
				t.Errorf("%s: no error for %s: %s", tc.name, tc.field, r.Body)
			}
			if tc.message != "" && errs[tc.field] != tc.message {
				t.Errorf("%s: %s says %v, want %q", tc.name, tc.field, errs[tc.field], tc.message)
			}
		}
		if after := app.Count("songs"); after != before {
			t.Errorf("songs %d → %d after refused writes", before, after)
		}
		if got := c.Do(t, "GET", "/api/v1/songsview/"+taken, nil).Result(); got["title"] != "Taken" || got["rating"] != float64(1) {
			t.Errorf("Taken changed: %v", got)
		}
	})
}

// TestAPISignIn: only a token signs in to the API, never a session
// cookie; a token never signs in to a page; CORS stays closed.
func TestAPISignIn(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		token := app.APIToken(t, apptest.AdminUser)
		for _, tc := range []struct {
			name, auth string
		}{{"none", ""}, {"bad", "Bearer nope"}, {"basic", "Basic YWRtaW46eA=="}, {"empty", "Bearer "}} {
			r := app.API("").Do(t, "GET", "/api/v1/songsview/", nil, "Authorization", tc.auth)
			if r.Status != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") || r.Str("message") == "" {
				t.Errorf("%s: status %d, WWW-Authenticate %q, %s", tc.name, r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
			}
		}
		// A logged-in browser's cookie, even on a cross-site request.
		browser := app.LoggedIn()
		for _, method := range []string{"GET", "POST"} {
			req, _ := http.NewRequest(method, browser.URL("/api/v1/albumview/"), strings.NewReader(`{"name":"CSRF"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", "https://evil.example")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			res, err := browser.Send(req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != 401 || res.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("cookie %s: status %d, ACAO %q", method, res.Status, res.Header.Get("Access-Control-Allow-Origin"))
			}
		}
		if app.Count("albums") != 0 {
			t.Error("a cookie wrote through the API")
		}
		// A token on a page: the login.
		r := app.API(token).Do(t, "GET", "/albumview/list/", nil)
		if r.Status != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/login/") {
			t.Errorf("token on a page: status %d, Location %q", r.Status, r.Header.Get("Location"))
		}
		r = app.API(token).Do(t, "OPTIONS", "/api/v1/albumview/", nil, "Origin", "https://evil.example",
			"Access-Control-Request-Method", "POST")
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight opened CORS: %v", r.Header)
		}
		r = app.API(token).Do(t, "GET", "/api/v1/albumview/", nil).Expect(t, "token", 200)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("an answer may be cached: Cache-Control %q", r.Header.Get("Cache-Control"))
		}
	})
}

// TestAPIStaleWrites: a write naming an old version is 409 and writes
// nothing, by If-Match or by the body's version; of 16 racing writes from
// the same version exactly one wins.
func TestAPIStaleWrites(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.API(app.APIToken(t, apptest.AdminUser))
		r := c.Do(t, "POST", "/api/v1/songsview/", map[string]any{"title": "Race", "rating": 1}).Expect(t, "create", 201)
		id, v1 := r.Str("id"), r.Header.Get("ETag")
		c.Do(t, "PUT", "/api/v1/songsview/"+id, map[string]any{"title": "Race", "rating": 2}, "If-Match", v1).Expect(t, "first", 200)
		r = c.Do(t, "PUT", "/api/v1/songsview/"+id, map[string]any{"title": "Race", "rating": 3}, "If-Match", v1).Expect(t, "stale", 409)
		if cur, _ := r.JSON["current"].(map[string]any); cur == nil || cur["result"].(map[string]any)["rating"] != float64(2) {
			t.Errorf("409 body: %s", r.Body)
		}
		c.Do(t, "PATCH", "/api/v1/songsview/"+id, map[string]any{"rating": 4, "version": strings.Trim(v1, `"`)}).Expect(t, "stale body", 409)
		c.Do(t, "DELETE", "/api/v1/songsview/"+id, nil, "If-Match", v1).Expect(t, "stale delete", 409)
		r = c.Do(t, "GET", "/api/v1/songsview/"+id, nil).Expect(t, "get", 200)
		if r.Result()["rating"] != float64(2) {
			t.Fatalf("a stale write landed: %s", r.Body)
		}
		v2 := r.Header.Get("ETag")
		var wg sync.WaitGroup
		statuses := make([]int, 16)
		for i := range statuses {
			wg.Go(func() {
				statuses[i] = c.Do(t, "PATCH", "/api/v1/songsview/"+id, map[string]any{"title": fmt.Sprintf("Race %d", i)},
					"If-Match", v2, "Content-Type", "application/merge-patch+json").Status
			})
		}
		wg.Wait()
		won := 0
		for _, s := range statuses {
			switch s {
			case 200:
				won++
			case 409:
			default:
				t.Errorf("racing write: status %d", s)
			}
		}
		if won != 1 {
			t.Errorf("%d racing writes won, want 1: %v", won, statuses)
		}
	})
}

// TestAPIUsersKeepSecrets: users through the API never show a password or
// its hash, cannot be filtered or sorted by one, and take a password on
// create only; the guard and the last-Admin rule hold as on the forms.
func TestAPIUsersKeepSecrets(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.API(app.APIToken(t, apptest.AdminUser))
		r := c.Do(t, "GET", "/api/v1/roles/?name=ReadOnly", nil).Expect(t, "roles", 200)
		readOnly := r.JSON["ids"].([]any)[0].(string)
		r = c.Do(t, "POST", "/api/v1/users/", map[string]any{"username": "bob", "first_name": "Bob", "last_name": "B",
			"email": "bob@example.com", "roles": []string{readOnly}, "password": "a secret pw"}).Expect(t, "create user", 201)
		bob := r.Str("id")
		for _, path := range []string{"/api/v1/users/", "/api/v1/users/" + bob, "/api/v1/auditlog/?page_size=100", "/api/v1/users/_info"} {
			r := c.Do(t, "GET", path, nil).Expect(t, path, 200)
			if strings.Contains(r.Body, "password_hash") || strings.Contains(r.Body, "a secret pw") || strings.Contains(r.Body, "$2a$") {
				t.Errorf("%s shows a password: %s", path, apptest.Clip(r.Body))
			}
		}
		if _, ok := c.Do(t, "GET", "/api/v1/users/"+bob, nil).Result()["password"]; ok {
			t.Error("a user's answer has a password field")
		}
		for _, q := range []string{"password=x", "password__eq=x", "password_hash=x", "sort=password"} {
			c.Do(t, "GET", "/api/v1/users/?"+q, nil).Expect(t, q, 400)
		}
		c.Do(t, "PATCH", "/api/v1/users/"+bob, map[string]any{"password": "new one"}).Expect(t, "password on update", 400)
		c.Do(t, "PATCH", "/api/v1/users/"+bob, map[string]any{"password_hash": "$2a$x"}).Expect(t, "hash on update", 400)
		r = c.Do(t, "GET", "/api/v1/users/?username="+apptest.AdminUser, nil).Expect(t, "admin", 200)
		adminID := r.JSON["ids"].([]any)[0].(string)
		r = c.Do(t, "PATCH", "/api/v1/users/"+adminID, map[string]any{"active": false}).Expect(t, "last admin", 422)
		if r.Str("message") == "" {
			t.Errorf("last admin refusal: %s", r.Body)
		}
		c.Do(t, "DELETE", "/api/v1/users/"+adminID, nil).Expect(t, "delete last admin", 422)
		// A ReadOnly user's token may read the catalogue, not the users.
		ro := app.API(app.APIToken(t, "bob"))
		ro.Do(t, "GET", "/api/v1/songsview/", nil).Expect(t, "reader lists", 200)
		ro.Do(t, "GET", "/api/v1/users/", nil).Expect(t, "reader users", 403)
		ro.Do(t, "POST", "/api/v1/albumview/", map[string]any{"name": "x"}).Expect(t, "reader writes", 403)
		r = ro.Do(t, "GET", "/api/v1/songsview/_info", nil).Expect(t, "reader info", 200)
		if fmt.Sprint(r.JSON["permissions"]) != "[can_list can_show]" {
			t.Errorf("reader's permissions: %v", r.JSON["permissions"])
		}
		// Deactivated: the token stops at once.
		c.Do(t, "PATCH", "/api/v1/users/"+bob, map[string]any{"active": false}).Expect(t, "deactivate", 200)
		ro.Do(t, "GET", "/api/v1/songsview/", nil).Expect(t, "inactive", 401)
	})
}

// TestAPIInfo: _info says the fields, their rules and filters, the sorts
// and the caller's permissions.
func TestAPIInfo(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		r := app.API(app.APIToken(t, apptest.AdminUser)).Do(t, "GET", "/api/v1/songsview/_info", nil).Expect(t, "info", 200)
		fields := map[string]map[string]any{}
		for _, f := range r.JSON["fields"].([]any) {
			m := f.(map[string]any)
			fields[m["name"].(string)] = m
		}
		title, rating, album := fields["title"], fields["rating"], fields["album"]
		if title["type"] != "string" || title["required"] != true || title["unique"] != true || title["max_length"] != float64(200) {
			t.Errorf("title: %v", title)
		}
		if rating["type"] != "integer" || rating["minimum"] != float64(0) || rating["maximum"] != float64(9) ||
			!strings.Contains(fmt.Sprint(rating["filters"]), "gte") {
			t.Errorf("rating: %v", rating)
		}
		if album["type"] != "reference" || album["target"] != "albumview" || album["nullable"] != true {
			t.Errorf("album: %v", album)
		}
		if fmt.Sprint(r.JSON["permissions"]) != "[can_list can_show can_add can_edit can_delete]" {
			t.Errorf("admin permissions: %v", r.JSON["permissions"])
		}
	})
}
