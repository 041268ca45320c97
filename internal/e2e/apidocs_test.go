package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"musicadmin/internal/apidocs"
	"musicadmin/internal/apptest"
)

// TestAPIDocsPage opens the API docs in a real Chromium, under the app's
// Content-Security-Policy unchanged, twice:
//
//   - on the app as it is: from the menu, with the document the server
//     serves at /api/v1/_openapi;
//   - on the app behind a stand-in of the JSON API (a small OpenAPI 3.1
//     document and one operation that wants a Bearer token), to drive the
//     whole of Swagger UI today: the info title, Authorize with a token,
//     an operation expanded, Execute (try-it-out is on) and the 200 shown.
//
// Each time the console must hold no error, no CSP violation and no
// exception. Swagger UI and its stylesheet come from the binary
// (web/static/swagger-ui). The page does not depend on the backend, so it
// runs on SQLite only.
//
// On the app, the served document's title shows, and a real call goes
// through: Authorize with a token of the user's, the album list expanded,
// Execute, and the 200 with the album made before shown. The document
// needs no token: Swagger UI fetches it before anyone presses Authorize.
func TestAPIDocsPage(t *testing.T) {
	chrome := chromiumPath(t)
	apptest.RequireBackend(t, apptest.SQLite)
	app := apptest.NewApp(t, apptest.SQLite)
	shots := filepath.Join(repoRoot(t), "test-artifacts", "screenshots", "apidocs")

	t.Run("served", func(t *testing.T) {
		br := newBrowser(t, chrome, app.URL, filepath.Join(shots, "served"))
		login(br, apptest.AdminUser, apptest.AdminPassword)
		br.click(`//header//details/summary[normalize-space()="API"]`)
		br.do(chromedp.WaitVisible(`//header//details//a[normalize-space()="API Tokens"]`))
		br.clickNav(`//header//details//a[normalize-space()="API Docs"]`)
		br.wantPath(apidocs.PageURL)
		br.wantText("main h1", "API Docs")
		br.wantStyled()
		br.do(chromedp.WaitVisible(`#swagger-ui .swagger-ui`))

		if status := statusOf(t, app.URL+apidocs.SpecURL); status != http.StatusOK {
			t.Fatalf("%s answers %d without a token, want 200", apidocs.SpecURL, status)
		}
		br.do(chromedp.WaitVisible(`#swagger-ui .info .title`))
		if title := br.texts("#swagger-ui .info .title"); len(title) == 0 || !strings.Contains(title[0], "API") {
			t.Errorf("Swagger UI's title reads %q, want the served document's", title)
		}
		br.wantSwaggerStyled()
		br.shot("apidocs")

		// A token made as a new user makes one: on the API Tokens page.
		app.InsertAlbum("Abbey Road")
		br.open("/users/tokens")
		br.fill("#f-name", "swagger")
		br.clickNav(`//main//button[normalize-space()="Create token"]`)
		var token string
		br.evalInto(`document.querySelector("#f-new-token").value`, &token)
		if !strings.HasPrefix(token, "mat_") {
			t.Fatalf("the tokens page shows no new token: %q", token)
		}
		br.open(apidocs.PageURL)
		br.do(chromedp.WaitVisible(`#swagger-ui .info .title`))
		br.click(`#swagger-ui .auth-wrapper button.authorize`)
		br.do(chromedp.WaitVisible(`#auth-bearer-value`))
		br.fill("#auth-bearer-value", token)
		br.click(`#swagger-ui .auth-btn-wrapper button.authorize`)
		br.click(`#swagger-ui .auth-btn-wrapper button.btn-done`)
		br.do(chromedp.WaitVisible(`#swagger-ui .auth-wrapper button.authorize.locked`))

		const op = `#swagger-ui #operations-albumview-listAlbums`
		br.click(op + ` button.opblock-summary-control`)
		br.do(chromedp.WaitVisible(op + ` button.execute`))
		br.waitOperationResolved("/api/v1/albumview/", "get")
		br.click(op + ` button.execute`)
		br.do(chromedp.WaitVisible(op + ` .live-responses-table .response .response-col_status`))
		if got := br.texts(op + ` .live-responses-table .response .response-col_status`); len(got) == 0 || got[0] != "200" {
			t.Errorf("the album list's live status reads %q, want 200", got)
		}
		var body string
		br.evalInto(`(() => { const c = document.querySelector("#operations-albumview-listAlbums .live-responses-table .response-col_description pre"); return c ? c.innerText : "" })()`, &body)
		if !strings.Contains(body, "Abbey Road") {
			t.Errorf("the album list's live body does not show the album: %q", body)
		}
		br.shot("executed")
		br.assertCleanConsole()
		br.assertConsoleCatchesCSP()
	})

	t.Run("stand-in API", func(t *testing.T) {
		site := apptest.Serve(t, standInAPI(app.Web.Handler))
		br := newBrowser(t, chrome, site.URL, filepath.Join(shots, "stand-in"))
		login(br, apptest.AdminUser, apptest.AdminPassword)
		br.open(apidocs.PageURL)
		br.do(chromedp.WaitVisible(`#swagger-ui .info .title`))
		if title := br.texts("#swagger-ui .info .title"); len(title) == 0 || !strings.HasPrefix(title[0], "Stand-in API") {
			t.Errorf("Swagger UI's title reads %q, want the stand-in document's", title)
		}
		br.wantSwaggerStyled()

		// Authorize: the Bearer token, typed into Swagger UI's dialog.
		br.click(`#swagger-ui .auth-wrapper button.authorize`)
		br.do(chromedp.WaitVisible(`#auth-bearer-value`))
		br.fill("#auth-bearer-value", standInToken)
		br.shot("authorize")
		br.click(`#swagger-ui .auth-btn-wrapper button.authorize`)
		br.click(`#swagger-ui .auth-btn-wrapper button.btn-done`)
		br.do(chromedp.WaitVisible(`#swagger-ui .auth-wrapper button.authorize.locked`))

		// The operation, expanded; try-it-out is on, so Execute is there.
		const op = `#swagger-ui #operations-default-standIn`
		br.click(op + ` button.opblock-summary-control`)
		br.do(chromedp.WaitVisible(op + ` button.execute`))
		br.waitOperationResolved("/api/v1/stand-in", "get")
		br.click(op + ` button.execute`)
		br.do(chromedp.WaitVisible(op + ` .live-responses-table .response .response-col_status`))
		if got := br.texts(op + ` .live-responses-table .response .response-col_status`); len(got) == 0 || got[0] != "200" {
			t.Errorf("the live response's status reads %q, want 200 (the token reached the API)", got)
		}
		br.shot("executed")

		if calls := standInCalls(br); calls != "Bearer "+standInToken {
			t.Errorf("the stand-in operation was called with Authorization %q", calls)
		}

		// Swagger UI follows the app's colour scheme (its html.dark-mode
		// theme), switching as the scheme does.
		br.emulate(1280, "dark")
		br.wantDarkMode(true)
		br.wantScheme("API docs, dark", "dark")
		br.shot("dark")
		br.emulate(1280, "light")
		br.wantDarkMode(false)

		br.assertCleanConsole()
		br.assertConsoleCatchesCSP()
	})
}

// TestAPIDocsPageAccessibility runs axe-core on the API docs page's own
// parts (top bar, introduction), in both colour schemes, as
// TestAccessibility does for the other pages (and skips, or fails under
// CI=true, as it does without axe). Swagger UI's markup is third-party and
// left out: it fails axe (colour contrast of its version stamps and
// buttons, heading order, a main landmark inside ours), which is why the
// page is not in TestAccessibility.
func TestAPIDocsPageAccessibility(t *testing.T) {
	chrome := chromiumPath(t)
	axe := axeScript(t)
	apptest.RequireBackend(t, apptest.SQLite)
	app := apptest.NewApp(t, apptest.SQLite)
	site := apptest.Serve(t, standInAPI(app.Web.Handler))
	br := newBrowser(t, chrome, site.URL, filepath.Join(repoRoot(t), "test-artifacts", "screenshots", "apidocs", "a11y"))
	login(br, apptest.AdminUser, apptest.AdminPassword)
	for _, scheme := range []string{"light", "dark"} {
		br.emulate(1280, scheme)
		br.open(apidocs.PageURL)
		br.do(chromedp.WaitVisible(`#swagger-ui .info .title`))
		br.wantScheme("API docs "+scheme, scheme)
		br.do(chromedp.Evaluate[chromedp.Void](axe))
		var violations []axeViolation
		br.evalAwait(`axe.run({exclude: [["#swagger-ui"]]}, {resultTypes: ["violations"]}).then(r => r.violations)`, &violations)
		for _, v := range violations {
			if v.serious() {
				t.Errorf("%s API docs: axe %s (%s): %s: %d elements", scheme, v.ID, v.Impact, v.Help, len(v.Nodes))
			}
		}
	}
}

// evalAwait evaluates expr, awaits the promise it returns and decodes the
// result into v.
func (br *browser) evalAwait(expr string, v any) {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		br.fatal("evaluate %s: %v", expr, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		br.fatal("decode result of %s: %v", expr, err)
	}
}

// standInToken is the token the stand-in API takes.
const standInToken = "stand-in-token"

// standInDocument is a small OpenAPI 3.1 document: one GET operation that
// wants a Bearer token.
const standInDocument = `{
  "openapi": "3.1.0",
  "info": {"title": "Stand-in API", "version": "test", "description": "What the JSON API will serve, in small."},
  "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
  "security": [{"bearerAuth": []}],
  "paths": {"/api/v1/stand-in": {"get": {
    "operationId": "standIn", "summary": "Answer with the token's verdict",
    "responses": {
      "200": {"description": "The token is good.", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"ok": {"type": "boolean"}, "authorization": {"type": "string"}}}}}},
      "401": {"description": "No token, or a bad one."}
    }
  }}}
}`

// standInAPI serves the stand-in document and its operation, and app for
// everything else: the docs page, the login, the static files.
func standInAPI(app http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apidocs.SpecURL, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, standInDocument)
	})
	mux.HandleFunc("GET /api/v1/stand-in", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		auth := r.Header.Get("Authorization")
		if auth != "Bearer "+standInToken {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": "a Bearer token is required"}`)
			return
		}
		fmt.Fprintf(w, `{"ok": true, "authorization": %q}`, auth)
	})
	mux.Handle("/", app)
	return mux
}

// standInCalls returns the Authorization the stand-in operation echoed in
// the response Swagger UI shows.
func standInCalls(br *browser) string {
	br.t.Helper()
	var body string
	br.evalInto(`(() => { const c = document.querySelector("#operations-default-standIn .live-responses-table .response-col_description pre, #operations-default-standIn .live-responses-table .response-col_description code"); return c ? c.innerText : "" })()`, &body)
	_, after, ok := strings.Cut(body, `"authorization":`)
	if !ok {
		return ""
	}
	return strings.Trim(strings.TrimSpace(strings.SplitN(after, "\n", 2)[0]), `",`)
}

// waitOperationResolved waits until Swagger UI has resolved the operation
// at path and method, which it starts when the operation is expanded: an
// Execute pressed before that fails inside Swagger UI with "Operation …
// not found" (its request is built from the operation without its
// operationId), and on a quiet machine the test presses it that early.
func (br *browser) waitOperationResolved(path, method string) {
	br.t.Helper()
	br.do(chromedp.Poll[chromedp.Void](fmt.Sprintf(`!!(window.ui && window.ui.specSelectors.specResolvedSubtree(["paths", %q, %q]))`, path, method),
		chromedp.WithPollingInterval(50*time.Millisecond)))
}

// wantSwaggerStyled checks swagger-ui.css is in the page and readable: a
// stylesheet the CSP refused would have no rules.
func (br *browser) wantSwaggerStyled() {
	br.t.Helper()
	var rules int
	// The page links it by its content-hashed name.
	br.evalInto(`Array.from(document.styleSheets).filter(s => /\/static\/swagger-ui\/swagger-ui\.[0-9a-f]+\.css$/.test(s.href || "")).reduce((n, s) => n + s.cssRules.length, 0)`, &rules)
	if rules < 100 {
		br.t.Errorf("/static/swagger-ui/swagger-ui.css holds %d rules in the page: it did not load", rules)
	}
}

// wantDarkMode waits for html.dark-mode to be set or not, as apidocs.js
// sets it when the colour scheme changes (a media query's change event
// comes at the page's next rendering, after the emulation returns).
func (br *browser) wantDarkMode(want bool) {
	br.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		got := br.eval(`document.documentElement.classList.contains("dark-mode")`) == "true"
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			br.t.Errorf("html.dark-mode is %v, want %v", got, want)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statusOf returns the status of an anonymous GET of url, as Swagger UI's
// fetch of the document sends it (no token).
func statusOf(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
