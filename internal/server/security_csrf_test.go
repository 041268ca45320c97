package server_test

// Section C of shared/SECURITY-TESTS.md: CSRF tokens, safe methods,
// cross-origin requests, content types and methods.

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
)

// stateRoute is a state-changing route and the form a user would post to it.
type stateRoute struct {
	path string
	form url.Values
}

func stateRoutes(album, song string) []stateRoute {
	return []stateRoute{
		{"/albumview/add", url.Values{"name": {"csrf-new-album"}}},
		{"/albumview/edit/" + album, url.Values{"name": {"csrf-renamed"}}},
		{"/albumview/delete/" + album, url.Values{}},
		{"/songsview/add", url.Values{"title": {"csrf-new-song"}, "rating": {"1"}}},
		{"/songsview/edit/" + song, url.Values{"title": {"csrf-renamed"}, "rating": {"2"}}},
		{"/songsview/delete/" + song, url.Values{}},
	}
}

// Test 17: every state change checks the token, in all five ways of
// getting it wrong, on every route that writes, on logout and on login.
func TestCSRFEveryRoute(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		album := a.InsertAlbum("CSRF Album")
		song := a.InsertSong("CSRF Song", 5, album)
		attacker := a.LoggedIn()
		attackerToken := attacker.CSRF("/albumview/add")

		// ways returns, for a logged-in victim, the token and the path
		// suffix of each bad way to send it.
		type way struct {
			name string
			// prepare returns the csrf_token to put in the body ("" for
			// none) and a query string to append to the path.
			prepare func(t *testing.T, c *apptest.Client) (body, query string)
		}
		ways := []way{
			{"missing", func(*testing.T, *apptest.Client) (string, string) { return "", "" }},
			{"not a token", func(*testing.T, *apptest.Client) (string, string) { return "not-a-token", "" }},
			{"other session's token", func(*testing.T, *apptest.Client) (string, string) { return attackerToken, "" }},
			{"token only in query", func(t *testing.T, c *apptest.Client) (string, string) {
				return "", "?csrf_token=" + url.QueryEscape(c.CSRF("/albumview/add"))
			}},
			{"token from before logout and login", func(t *testing.T, c *apptest.Client) (string, string) {
				old := c.CSRF("/albumview/add")
				if r := c.Get("/logout/"); r.Status != http.StatusFound {
					t.Fatalf("logout: %d", r.Status)
				}
				c.Login(apptest.AdminUser, apptest.AdminPassword)
				return old, ""
			}},
		}
		post := func(c *apptest.Client, path string, form url.Values, token, query string) *apptest.Response {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if token != "" {
				f.Set("csrf_token", token)
			}
			return c.Post(path+query, f)
		}
		for _, rt := range stateRoutes(album, song) {
			for _, w := range ways {
				t.Run(rt.path+"/"+w.name, func(t *testing.T) {
					c := a.LoggedIn()
					token, query := w.prepare(t, c)
					before := a.Snapshot()
					r := post(c, rt.path, rt.form, token, query)
					if r.Status != http.StatusForbidden {
						t.Errorf("status %d, want 403", r.Status)
					}
					if after := a.Snapshot(); !before.Same(after) {
						t.Errorf("data changed:\n%v\n%v", before, after)
					}
				})
			}
		}
		for _, w := range ways {
			t.Run("/logout/"+w.name, func(t *testing.T) {
				c := a.LoggedIn()
				token, query := w.prepare(t, c)
				r := post(c, "/logout/", url.Values{}, token, query)
				if r.Status != http.StatusForbidden {
					t.Errorf("status %d, want 403", r.Status)
				}
				if !c.IsLoggedIn() {
					t.Error("the session ended")
				}
			})
		}
		loginWays := []way{
			ways[0], ways[1],
			{"other session's token", func(*testing.T, *apptest.Client) (string, string) { return a.Client().CSRF("/login/"), "" }},
			{"token only in query", func(t *testing.T, c *apptest.Client) (string, string) {
				return "", "?csrf_token=" + url.QueryEscape(c.CSRF("/login/"))
			}},
			{"token from before logout and login", func(t *testing.T, c *apptest.Client) (string, string) {
				c.Login(apptest.AdminUser, apptest.AdminPassword)
				old := c.CSRF("/albumview/add")
				if r := c.Get("/logout/"); r.Status != http.StatusFound {
					t.Fatalf("logout: %d", r.Status)
				}
				c.Get("/login/") // the new anonymous session has its own token
				return old, ""
			}},
		}
		for _, w := range loginWays {
			t.Run("/login/"+w.name, func(t *testing.T) {
				c := a.Client()
				token, query := w.prepare(t, c)
				sessions := a.Count("user_sessions")
				r := post(c, "/login/", url.Values{"username": {apptest.AdminUser}, "password": {apptest.AdminPassword}}, token, query)
				if r.Status != http.StatusForbidden {
					t.Errorf("status %d, want 403", r.Status)
				}
				if c.IsLoggedIn() || a.Count("user_sessions") != sessions {
					t.Error("logged in")
				}
			})
		}
	})
}

// Test 18: GET and HEAD never change anything; delete asks first.
func TestGetIsSafe(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		album := a.InsertAlbum("Safe Album")
		song := a.InsertSong("Safe Song", 3, album)
		c := a.LoggedIn()
		before := a.Snapshot()
		paths := []string{
			"/albumview/delete/" + album,
			"/albumview/add?name=x",
			"/albumview/edit/" + album + "?name=y",
			"/songsview/delete/" + song,
			"/songsview/add?title=x&rating=1",
			"/songsview/edit/" + song + "?title=y&rating=9",
		}
		for _, p := range paths {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				r := c.Request(method, p, nil)
				if r.Status != http.StatusOK {
					t.Errorf("%s %s: %d", method, p, r.Status)
				}
				if method == http.MethodGet && strings.Contains(p, "/delete/") {
					if r.Doc.Find("main form[method=post] input[name=csrf_token]").Length() != 1 {
						t.Errorf("%s: the confirmation has no form with a token", p)
					}
				}
			}
		}
		if after := a.Snapshot(); !before.Same(after) {
			t.Errorf("a GET changed data:\n%v\n%v", before, after)
		}
	})
}

// Test 19: cross-origin browser POSTs are refused; same-origin POSTs over
// plain HTTP and non-browser POSTs with a token work.
func TestCrossOrigin(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		token := c.CSRF("/albumview/add")
		port := a.Server.Listener.Addr().String()[strings.LastIndex(a.Server.Listener.Addr().String(), ":"):]
		cases := []struct {
			name    string
			headers []string
			want    int
		}{
			{"evil origin", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
			{"null origin", []string{"Origin", "null"}, http.StatusForbidden},
			{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
			{"same-site subdomain", []string{"Sec-Fetch-Site", "same-site", "Origin", "http://sub.localhost" + port}, http.StatusForbidden},
			{"evil origin, no fetch metadata, http scheme", []string{"Origin", "http://evil.example" + port}, http.StatusForbidden},
			{"same origin", []string{"Origin", a.URL, "Sec-Fetch-Site", "same-origin"}, http.StatusFound},
			{"no browser headers", nil, http.StatusFound},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				name := fmt.Sprintf("origin-%d", i)
				body := url.Values{"name": {name}, "csrf_token": {token}}.Encode()
				headers := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, tc.headers...)
				before := a.Count("albums")
				r := c.Request(http.MethodPost, "/albumview/add", strings.NewReader(body), headers...)
				if r.Status != tc.want {
					t.Errorf("status %d, want %d", r.Status, tc.want)
				}
				wantRows := before
				if tc.want == http.StatusFound {
					wantRows++
				}
				if got := a.Count("albums"); got != wantRows {
					t.Errorf("albums %d -> %d, want %d", before, got, wantRows)
				}
			})
		}
	})
}

// Test 20: "simple" content types a cross-site form can send are not forms.
func TestContentTypes(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		token := c.CSRF("/albumview/add")
		same := []string{"Origin", a.URL, "Sec-Fetch-Site", "same-origin"}
		t.Run("text/plain", func(t *testing.T) {
			before := a.Snapshot()
			r := c.Request(http.MethodPost, "/albumview/add", strings.NewReader("name=plain&csrf_token="+token),
				append([]string{"Content-Type", "text/plain"}, same...)...)
			if r.Status != http.StatusForbidden && r.Status != http.StatusUnsupportedMediaType && r.Status != http.StatusUnprocessableEntity {
				t.Errorf("status %d, want 403, 415 or 422", r.Status)
			}
			if !before.Same(a.Snapshot()) {
				t.Error("written")
			}
		})
		t.Run("json", func(t *testing.T) {
			before := a.Snapshot()
			r := c.Request(http.MethodPost, "/albumview/add", strings.NewReader(`{"name":"json","csrf_token":"`+token+`"}`),
				append([]string{"Content-Type", "application/json"}, same...)...)
			if r.Status != http.StatusForbidden && r.Status != http.StatusUnsupportedMediaType && r.Status != http.StatusUnprocessableEntity {
				t.Errorf("status %d, want 403, 415 or 422", r.Status)
			}
			if !before.Same(a.Snapshot()) {
				t.Error("written")
			}
		})
		t.Run("multipart", func(t *testing.T) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			_ = mw.WriteField("name", "multipart album")
			_ = mw.WriteField("csrf_token", token)
			_ = mw.Close()
			before := a.Count("albums")
			r := c.Request(http.MethodPost, "/albumview/add", &buf, append([]string{"Content-Type", mw.FormDataContentType()}, same...)...)
			switch r.Status {
			case http.StatusFound:
				if _, ok := a.Album("multipart album"); !ok || a.Count("albums") != before+1 {
					t.Errorf("multipart accepted but not stored as sent: %v", a.Albums())
				}
			case http.StatusUnsupportedMediaType:
				if a.Count("albums") != before {
					t.Error("refused but written")
				}
			default:
				t.Errorf("status %d, want 302 or 415", r.Status)
			}
			// Without the token a multipart form is refused like any other.
			buf.Reset()
			mw = multipart.NewWriter(&buf)
			_ = mw.WriteField("name", "multipart no token")
			_ = mw.Close()
			before = a.Count("albums")
			r = c.Request(http.MethodPost, "/albumview/add", &buf, append([]string{"Content-Type", mw.FormDataContentType()}, same...)...)
			if (r.Status != http.StatusForbidden && r.Status != http.StatusUnsupportedMediaType) || a.Count("albums") != before {
				t.Errorf("multipart without token: %d", r.Status)
			}
		})
	})
}

// Test 21: no method but GET, HEAD and POST, and no method override.
func TestMethods(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		album := a.InsertAlbum("Method Album")
		c := a.LoggedIn()
		edit := "/albumview/edit/" + album
		for _, path := range []string{edit, "/albumview/list/", "/login/"} {
			for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodTrace, "PROPFIND"} {
				before := a.Snapshot()
				r := c.Request(method, path, strings.NewReader("name=x"), "Content-Type", "application/x-www-form-urlencoded",
					"X-Probe", "trace-echo-marker")
				switch {
				case r.Status == http.StatusMethodNotAllowed:
					if !strings.Contains(r.Header.Get("Allow"), "GET") {
						t.Errorf("%s %s: 405 with Allow %q", method, path, r.Header.Get("Allow"))
					}
				case r.Status == http.StatusNotFound:
				default:
					t.Errorf("%s %s: %d, want 405 or 404", method, path, r.Status)
				}
				if strings.Contains(r.Body, "trace-echo-marker") {
					t.Errorf("%s %s echoes the request", method, path)
				}
				if !before.Same(a.Snapshot()) {
					t.Errorf("%s %s changed data", method, path)
				}
			}
		}
		token := c.CSRF(edit)
		req := c.PostRequest(edit, url.Values{"name": {"Overridden"}, "_method": {"DELETE"}, "csrf_token": {token}})
		req.Header.Set("X-HTTP-Method-Override", "DELETE")
		r := c.Do(req)
		if r.Status != http.StatusFound {
			t.Errorf("override POST: %d, want 302 (an edit)", r.Status)
		}
		if al, ok := a.AlbumByID(album); !ok || al.Name != "Overridden" {
			t.Errorf("after the override POST: exists %v, name %q; want the edit applied", ok, al.Name)
		}
	})
}

// TestCSRFMaskedPerPage (BREACH): a compressed page must not repeat the
// same token bytes, so every render of a form in one session carries the
// token masked afresh; each of them is accepted, and a token changed by
// one character or another session's is refused, with nothing written.
func TestCSRFMaskedPerPage(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		first, second := c.CSRF("/albumview/add"), c.CSRF("/albumview/add")
		if first == second {
			t.Fatalf("two renders of the add form carry the same token %q", first)
		}
		for i, token := range []string{first, second} {
			r := c.Post("/albumview/add", url.Values{"name": {fmt.Sprint("Masked ", i)}, "csrf_token": {token}})
			if r.Status != http.StatusFound {
				t.Errorf("render %d's token: status %d, want 302", i+1, r.Status)
			}
		}
		tampered := []byte(c.CSRF("/albumview/add"))
		if i := len(tampered) * 3 / 4; tampered[i] == 'A' {
			tampered[i] = 'B'
		} else {
			tampered[i] = 'A'
		}
		for name, token := range map[string]string{
			"one character changed": string(tampered),
			"other session's":       a.LoggedIn().CSRF("/albumview/add"),
		} {
			before := a.Snapshot()
			r := c.Post("/albumview/add", url.Values{"name": {"Masked " + name}, "csrf_token": {token}})
			if r.Status != http.StatusForbidden {
				t.Errorf("%s token: status %d, want 403", name, r.Status)
			}
			if !before.Same(a.Snapshot()) {
				t.Errorf("%s token: data changed", name)
			}
		}
	})
}
