package apidocs_test

import (
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/access"
	"musicadmin/internal/apidocs"
	"musicadmin/internal/view"
	"musicadmin/web"
)

// TestAPIDocsPage: the page holds what Swagger UI needs, all of it served
// from this site and none of it inline (the CSP refuses inline script and
// style): its stylesheet, its bundle before the initializer, the element it
// mounts into with the document's address, and a word on tokens.
func TestAPIDocsPage(t *testing.T) {
	ui, err := view.New("Test Admin", slog.New(slog.DiscardHandler), nil, func(http.ResponseWriter, *http.Request) view.Common {
		return view.Common{User: "tester", CSRF: "token", Grants: access.NewGrants(nil, nil)}
	})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	apidocs.Page(ui)(w, httptest.NewRequest("GET", "/api/docs/", nil))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	doc, err := goquery.NewDocumentFromReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Find("title").Text(); !strings.HasPrefix(got, "API Docs") {
		t.Errorf("title %q, want API Docs first", got)
	}

	// Every script has a src, on this site; the initializer comes after the
	// bundle it calls; every file named is in the binary.
	var scripts []string
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		src, ok := s.Attr("src")
		if !ok || strings.TrimSpace(s.Text()) != "" {
			t.Errorf("inline script: %q", s.Text())
		}
		scripts = append(scripts, src)
	})
	// Each by its content-hashed name, which browsers keep for good.
	staticURL := func(name string) string {
		u, err := web.StaticURL(name)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	bundle := slices.Index(scripts, staticURL("swagger-ui/swagger-ui-bundle.js"))
	initializer := slices.Index(scripts, staticURL("apidocs.js"))
	if bundle < 0 || initializer < bundle {
		t.Errorf("scripts %q: want the bundle, then apidocs.js", scripts)
	}
	if css := staticURL("swagger-ui/swagger-ui.css"); doc.Find(`head link[rel="stylesheet"][href="`+css+`"]`).Length() != 1 {
		t.Errorf("no stylesheet %s in the head", css)
	}
	if n := doc.Find("style, [style]").Length(); n != 0 {
		t.Errorf("%d inline styles", n)
	}
	var files []string
	doc.Find("script[src], link[href]").Each(func(_ int, s *goquery.Selection) {
		u := s.AttrOr("src", s.AttrOr("href", ""))
		if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
			t.Errorf("%s from another site: %q", goquery.NodeName(s), u)
		}
		if name, ok := strings.CutPrefix(u, "/static/"); ok {
			f, immutable, ok := web.LookupStatic(name)
			if !ok || !immutable {
				t.Errorf("%s links %q, not a content-hashed name", goquery.NodeName(s), u)
			}
			files = append(files, f.Name)
		}
	})
	for _, name := range append(files, "swagger-ui/LICENSE", "swagger-ui/NOTICE", "swagger-ui/VERSION") {
		if info, err := fs.Stat(web.FS, "static/"+name); err != nil || info.Size() == 0 {
			t.Errorf("static/%s is not in web.FS: %v", name, err)
		}
	}

	root := doc.Find("main #swagger-ui")
	if got := root.AttrOr("data-spec-url", ""); got != apidocs.SpecURL {
		t.Errorf("#swagger-ui data-spec-url = %q, want %q", got, apidocs.SpecURL)
	}
	intro := doc.Find("main .apidocs-intro")
	for _, s := range []string{"API token", "Authorize", "Bearer"} {
		if !strings.Contains(intro.Text(), s) {
			t.Errorf("the introduction does not mention %q: %q", s, intro.Text())
		}
	}
	if intro.Find(`a[href="`+apidocs.TokensURL+`"]`).Length() != 1 {
		t.Errorf("no link to %s", apidocs.TokensURL)
	}
}
