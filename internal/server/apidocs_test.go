package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/access"
	"musicadmin/internal/apptest"
)

// TestAPIDocsPageAndMenu: /api/docs/ is a page behind the session login
// (not the API's tokens), served to any logged-in user, even one whose
// role holds nothing, under the app's unchanged CSP; the API menu shows to
// that user too, on every page, beside no category they lack.
func TestAPIDocsPageAndMenu(t *testing.T) {
	apptest.RequireBackend(t, apptest.SQLite)
	app := apptest.NewApp(t, apptest.SQLite)

	anon := app.Client()
	anon.Get("/api/docs/").ExpectRedirect(t, "anonymous GET /api/docs/", "/login/?next=%2Fapi%2Fdocs%2F")

	if i := slices.IndexFunc(app.Web.Routes, func(r access.Route) bool {
		return r.Method == http.MethodGet && r.Pattern == "/api/docs/"
	}); i < 0 || app.Web.Routes[i].Permission != access.LoggedIn {
		t.Errorf("the route table lacks GET /api/docs/ for any logged-in user: %v", app.Web.Routes)
	}

	nobody, _ := roleUser(t, app, "nobody", "Nobody")
	r := nobody.Get("/api/docs")
	if r.Status != http.StatusMovedPermanently || r.Location() != "/api/docs/" {
		t.Errorf("GET /api/docs: %d to %q, want 301 to /api/docs/", r.Status, r.Location())
	}
	r = nobody.Get("/api/docs/")
	r.ExpectStatus(t, "GET /api/docs/ as a user of no permission", http.StatusOK)
	if got := r.Text("main h1"); got != "API Docs" {
		t.Errorf("main h1 = %q, want API Docs", got)
	}
	if r.Doc.Find("main #swagger-ui[data-spec-url]").Length() != 1 {
		t.Error("no #swagger-ui with data-spec-url")
	}
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
	if got := r.Header.Get("Content-Security-Policy"); got != csp {
		t.Errorf("CSP of /api/docs/ = %q, want %q", got, csp)
	}
	for _, file := range []string{"/static/apidocs.js", "/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css"} {
		if s := anon.Get(file); s.Status != http.StatusOK || s.Body == "" {
			t.Errorf("GET %s: %d with %d bytes", file, s.Status, len(s.Body))
		}
	}

	// The menu of a user of no permission: the API category alone.
	for _, path := range []string{"/", "/api/docs/"} {
		r := nobody.Get(path)
		if got := r.Texts("header .menu summary"); !slices.Equal(got, []string{"API"}) {
			t.Errorf("%s: menu categories %q, want only API", path, got)
		}
		var links []string
		r.Doc.Find("header .menu a").Each(func(_ int, a *goquery.Selection) {
			links = append(links, a.AttrOr("href", ""))
		})
		if !slices.Equal(links, []string{"/api/docs/", "/users/tokens"}) {
			t.Errorf("%s: menu links %q, want the API docs and tokens", path, links)
		}
	}
	// An Admin sees it after the categories of the views.
	if got := app.LoggedIn().Get("/").Texts("header .menu summary"); len(got) < 2 || got[len(got)-1] != "API" ||
		!slices.Contains(got, "Model Views") {
		t.Errorf("Admin's menu categories %q, want the views' then API", got)
	}
	if strings.Contains(anon.Get("/login/").Body, "/api/docs/") {
		t.Error("the login page shows the API menu to an anonymous visitor")
	}
}
