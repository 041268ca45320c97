package server_test

// Section E of shared/SECURITY-TESTS.md: stored and reflected XSS, header
// injection, and Unicode shown back exactly.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/apptest"
	"musicadmin/internal/textutil"
)

// checkNoActiveURLs fails when a link or source of the page uses a script,
// data or file scheme, or points off site. A fragment of the page itself
// (the "Skip to content" link's #main) is neither.
func checkNoActiveURLs(t *testing.T, what string, r *apptest.Response) {
	t.Helper()
	r.Doc.Find("[href], [src], [action], [formaction]").Each(func(_ int, s *goquery.Selection) {
		for _, attr := range []string{"href", "src", "action", "formaction"} {
			v, ok := s.Attr(attr)
			if !ok {
				continue
			}
			l := strings.ToLower(strings.TrimSpace(v))
			if attr == "href" && strings.HasPrefix(l, "#") {
				continue
			}
			if !strings.HasPrefix(l, "/") || strings.HasPrefix(l, "//") || strings.Contains(l, `\`) {
				t.Errorf("%s: %s=%q is not a local path", what, attr, v)
			}
		}
	})
	r.Doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, at := range s.Nodes[0].Attr {
			if strings.HasPrefix(strings.ToLower(at.Key), "on") {
				t.Errorf("%s: <%s %s=%q>", what, goquery.NodeName(s), at.Key, at.Val)
			}
		}
	})
	// The app's own scripts are files under /static/ (the layout loads
	// lookup.js), with no inline code: any other is a payload.
	own := r.Doc.Find(`script[src^="/static/"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.TrimSpace(s.Text()) == ""
	})
	if n := r.Doc.Find("script, svg, img, iframe, object, embed").Length() - own.Length(); n > 0 {
		t.Errorf("%s: %d active elements in the page", what, n)
	}
}

// Test 27: stored payloads are escaped on every page that shows them.
func TestStoredXSS(t *testing.T) {
	payloads := []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`'><svg onload=alert(1)>`,
		`</title><script>alert(1)</script>`,
		`javascript:alert(1)`,
		`{{.}}`,
		`<!--`,
		`<a href="javascript:alert(1)">x</a>`,
		`</textarea><iframe src=//evil.example>`,
	}
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		for i, p := range payloads {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				check := func(what string, r *apptest.Response) {
					t.Helper()
					if r.Status != http.StatusOK {
						t.Errorf("%s: %d", what, r.Status)
					}
					if strings.ContainsAny(p, `<>"'`) && strings.Contains(r.Body, p) {
						t.Errorf("%s: payload %q appears raw", what, p)
					}
					checkNoActiveURLs(t, what, r)
				}
				if r := c.Submit("/albumview/add", url.Values{"name": {p}}); r.Status != http.StatusFound {
					t.Fatalf("add album: %d", r.Status)
				}
				flash := c.Get("/albumview/list/")
				check("album list with flash", flash)
				if got := flash.Texts(".flash"); len(got) != 1 || got[0] != "Added Album “"+p+"”." {
					t.Errorf("flash = %q", got)
				}
				albumID := a.AlbumID(p)
				check("song add form", c.Get("/songsview/add"))
				if r := c.Submit("/songsview/add", url.Values{"title": {p}, "rating": {"4"}, "album": {albumID}}); r.Status != http.StatusFound {
					t.Fatalf("add song: %d", r.Status)
				}
				check("song list with flash", c.Get("/songsview/list/"))
				s, _ := a.Song(p)
				for _, path := range []string{
					"/albumview/list/", "/albumview/show/" + albumID, "/albumview/edit/" + albumID,
					"/albumview/delete/" + albumID, "/songsview/list/", "/songsview/show/" + s.ID,
					"/songsview/edit/" + s.ID, "/songsview/delete/" + s.ID, "/songsview/add",
					"/albumview/list/?q=" + url.QueryEscape(p), "/songsview/list/?title__contains=" + url.QueryEscape(p),
				} {
					r := c.Get(path)
					check(path, r)
					if strings.Contains(path, "/show/") && r.Text("h1") != strings.SplitN(r.Text("h1"), ":", 2)[0]+": "+p {
						t.Errorf("%s: heading %q does not show the payload as text", path, r.Text("h1"))
					}
				}
				// The dropdown option carries the payload as text only.
				opt := c.Get("/songsview/add").Doc.Find(fmt.Sprintf(`select[name=album] option[value="%s"]`, albumID))
				if opt.Length() != 1 || opt.Text() != p {
					t.Errorf("album option = %q", opt.Text())
				}
				if r := c.Submit("/songsview/delete/"+s.ID, nil); r.Status != http.StatusFound {
					t.Fatalf("delete song: %d", r.Status)
				}
				check("flash after delete", c.Get("/songsview/list/"))
			})
		}
	})
}

// Test 28: reflected input is escaped, and nothing reaches a header.
func TestReflectedXSS(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		a.InsertAlbum("Reflected")
		c := a.LoggedIn()
		script := `<script>alert(1)</script>`
		img := `"><img src=x onerror=alert(1)>`
		for _, path := range []string{
			"/albumview/list/?q=" + url.QueryEscape(script),
			"/albumview/list/?q=" + url.QueryEscape(img),
			"/albumview/list/?sort=" + url.QueryEscape(script),
			"/albumview/list/?page=" + url.QueryEscape(script),
			"/albumview/list/?page_size=" + url.QueryEscape(img),
			"/songsview/list/?title__contains=" + url.QueryEscape(img),
			"/songsview/list/?rating__gte=" + url.QueryEscape(img),
			"/songsview/list/?" + url.QueryEscape(script) + "=1",
			"/songsview/list/?" + url.QueryEscape(img) + "__contains=1",
			"/albumview/show/" + url.PathEscape(script),
		} {
			r := c.Get(path)
			if r.Status != http.StatusOK && r.Status != http.StatusNotFound && r.Status != http.StatusBadRequest {
				t.Errorf("%s: %d", path, r.Status)
			}
			if strings.Contains(r.Body, script) || strings.Contains(r.Body, img) || strings.Contains(r.Body, "<img") {
				t.Errorf("%s: payload reflected raw", path)
			}
			checkNoActiveURLs(t, path, r)
		}
		// The search box keeps the text, as an attribute value.
		r := c.Get("/albumview/list/?q=" + url.QueryEscape(img))
		if v, _ := r.Doc.Find("input[name=q]").Attr("value"); v != img {
			t.Errorf("search box value = %q", v)
		}
		r = a.Client().Get("/login/?next=" + url.QueryEscape(`"><script>alert(1)</script>`))
		if strings.Contains(r.Body, script) {
			t.Error("login page reflects next raw")
		}
		// Header injection through the path and through next.
		resp, _ := a.Raw(http.MethodGet, "/albumview/list/%0d%0aSet-Cookie:%20x=y")
		if len(resp.Header.Values("X-Evil")) > 0 || strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), ";"), "x=y") {
			t.Errorf("header injection through the path: %v", resp.Header)
		}
		if loc := resp.Header.Get("Location"); strings.ContainsAny(loc, "\r\n") {
			t.Errorf("Location %q", loc)
		}
		lc := a.Client()
		r = lc.Submit("/login/?next="+url.QueryEscape("/\r\nX-Evil: 1"), url.Values{"username": {apptest.AdminUser},
			"password": {apptest.AdminPassword}})
		if r.Status != http.StatusFound || r.Header.Get("X-Evil") != "" || strings.ContainsAny(r.Location(), "\r\n") {
			t.Errorf("login with CRLF next: %d Location %q X-Evil %q", r.Status, r.Location(), r.Header.Get("X-Evil"))
		}
		r = a.Client().Submit("/login/?next="+url.QueryEscape("/albumview/list/?q=%0d%0aX-Evil:%201"), url.Values{
			"username": {apptest.AdminUser}, "password": {apptest.AdminPassword}})
		if r.Header.Get("X-Evil") != "" || strings.ContainsAny(r.Location(), "\r\n") {
			t.Errorf("login with encoded CRLF in next: Location %q", r.Location())
		}
	})
}

// Test 29: any Unicode text comes back exactly: stored as typed, in the
// edit form's value as stored; a page's text shows it as stored but for
// the direction controls, written out there (test 73: "\u202etxet" is
// shown "[U+202E]txet", not reversed).
func TestUnicodeRoundTrip(t *testing.T) {
	names := []string{"Beyoncé", "Sigur Rós – Ágætis byrjun", "🎵🎶", "\u202etxet", "a\u200bb", "日本語", "e\u0301",
		"Ωmega ß ﬁ", "𝄞 clef", "  padded\u00a0nbsp  "}
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		for i, name := range names {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				want := strings.TrimSpace(name)
				shown := textutil.ShowBidiControls(want)
				if r := c.Submit("/albumview/add", url.Values{"name": {name}}); r.Status != http.StatusFound {
					t.Fatalf("add album %q: %d", name, r.Status)
				}
				if r := c.Submit("/songsview/add", url.Values{"title": {name}}); r.Status != http.StatusFound {
					t.Fatalf("add song %q: %d", name, r.Status)
				}
				// No row: the name was not stored exactly.
				id := a.AlbumID(want)
				show := c.Get("/albumview/show/" + id)
				if got := show.Text("dl.details dd"); got != shown {
					t.Errorf("album shown as %q, want %q", got, shown)
				}
				s, ok := a.Song(want)
				if !ok {
					t.Fatalf("song %q not stored exactly", want)
				}
				show = c.Get("/songsview/show/" + s.ID)
				if got := show.Text("dl.details dd"); got != shown {
					t.Errorf("song shown as %q, want %q", got, shown)
				}
				edit := c.Get("/songsview/edit/" + s.ID)
				if v, _ := edit.Doc.Find("input[name=title]").Attr("value"); v != want {
					t.Errorf("edit form value %q, want %q", v, want)
				}
			})
		}
	})
}
