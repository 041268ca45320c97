package server_test

import (
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/apptest"
	"musicadmin/web"
)

// TestStaticHashedNames: pages link the static files by content-hashed
// name, served for good (immutable); a hash of other content is a 404;
// the plain name still serves, revalidated by its ETag.
func TestStaticHashedNames(t *testing.T) {
	a := apptest.NewApp(t, apptest.SQLite)
	anon, c := a.Client(), a.LoggedIn()
	hashed := regexp.MustCompile(`^/static/app\.[0-9a-f]{8}\.css$`)
	css, err := web.StaticURL("app.css")
	if err != nil || !hashed.MatchString(css) {
		t.Fatalf("StaticURL(app.css) = %q, %v", css, err)
	}
	for _, page := range []*apptest.Response{anon.Get("/login/"), c.Get("/songsview/list/"), c.Get("/api/docs/")} {
		var plain []string
		page.Doc.Find("link[href^='/static/'], script[src^='/static/']").Each(func(_ int, s *goquery.Selection) {
			u := s.AttrOr("href", s.AttrOr("src", ""))
			if _, immutable, ok := web.LookupStatic(strings.TrimPrefix(u, "/static/")); !ok || !immutable {
				plain = append(plain, u)
			}
		})
		if len(plain) > 0 {
			t.Errorf("links to static files by other than a hashed name: %q", plain)
		}
	}
	if page := anon.Get("/login/"); page.Doc.Find(`link[rel=stylesheet][href="`+css+`"]`).Length() != 1 {
		t.Errorf("the login page does not link %s:\n%s", css, page.Body)
	}
	want, _ := fs.ReadFile(web.FS, "static/app.css")
	for _, name := range []string{"app.css", "swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css", "favicon.svg"} {
		u, err := web.StaticURL(name)
		if err != nil {
			t.Fatal(err)
		}
		r := anon.Get(u)
		if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: status %d, Cache-Control %q; want 200, immutable for a year", u, r.Status, r.Header.Get("Cache-Control"))
		}
	}
	r := anon.Get(css)
	if r.Body != string(want) || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Errorf("GET %s: Content-Type %q, %d bytes; want app.css", css, r.Header.Get("Content-Type"), len(r.Body))
	}

	for _, u := range []string{"/static/app.00000000.css", "/static/app.0123456789abcdef.css", "/static/app..css",
		strings.Replace(css, "/app.", "/lookup.", 1)} {
		if u == css {
			continue
		}
		if r := anon.Get(u); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", u, r.Status)
		}
	}

	r = anon.Get("/static/app.css")
	etag := r.Header.Get("ETag")
	if r.Status != http.StatusOK || r.Body != string(want) || r.Header.Get("Cache-Control") != "public, no-cache" || etag == "" {
		t.Errorf("GET /static/app.css: status %d, Cache-Control %q, ETag %q; want 200, revalidated, with an ETag",
			r.Status, r.Header.Get("Cache-Control"), etag)
	}
	if r := anon.Request(http.MethodGet, "/static/app.css", nil, "If-None-Match", etag); r.Status != http.StatusNotModified {
		t.Errorf("GET /static/app.css with its ETag: status %d, want 304", r.Status)
	}
}
