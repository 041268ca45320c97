package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
	"musicadmin/internal/oidctest"
	"musicadmin/internal/security"
)

// TestAccessibility runs axe-core on the login page (also with single
// sign-on's button, with and without the password form), the index, list (plain,
// filtered, with a flash, rows ticked, menus open), form (add; edit refused
// with 422), show and delete pages, and the album combobox, in the light
// and the dark colour scheme, and fails on any violation of impact serious
// or critical (lesser ones are logged). axe comes from the npm registry,
// fetched by .ci/axe.sh into the user's cache, never from the repository:
// the test reads APP_TEST_AXE_JS, else the path .ci/axe.sh prints (its
// cache), and skips when neither names a file (fails under CI=true). The script is
// injected through DevTools' Runtime.evaluate, which the page's
// Content-Security-Policy (no inline script) does not govern. Accessibility
// does not depend on the backend, so it runs on SQLite only.
func TestAccessibility(t *testing.T) {
	chrome := chromiumPath(t)
	axe := axeScript(t)
	app, _, ids := smallCatalogue(t)

	sec, err := security.NewService(app.Data.AccountModels(), app.Data.Accounts(), app.Data.Audit(), nil)
	if err != nil {
		t.Fatal(err)
	}
	me, err := sec.UserByName(context.Background(), apptest.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	adminRole, err := sec.RoleByName(context.Background(), "Admin")
	if err != nil {
		t.Fatal(err)
	}

	br := newBrowser(t, chrome, app.URL, filepath.Join(repoRoot(t), "test-artifacts", "screenshots", "a11y"))
	for _, scheme := range []string{"light", "dark"} {
		br.emulate(1280, scheme)
		// Logged out: the login page, with its scheme checked, so that a
		// broken emulation cannot pass as a clean dark run.
		br.open("/login/")
		br.wantScheme("login "+scheme, scheme)
		br.axeCheck(axe, scheme+" login")

		br.fill("#username", apptest.AdminUser)
		br.fill("#password", apptest.AdminPassword)
		br.clickNav(`//main//button[normalize-space()="Sign in"]`)
		br.wantPath("/")

		for _, p := range []struct{ name, path string }{
			{"index", "/"},
			{"song list", "/songsview/list/"},
			{"song list filtered (chips)", "/songsview/list/?title__contains=e&rating__gte=7&sort=-rating"},
			{"song delete confirmation", "/songsview/delete/" + ids[2]},
			{"song add form", "/songsview/add"},
			{"song show", "/songsview/show/" + ids[0]},
			{"song edit form (save buttons, delete link)", "/songsview/edit/" + ids[0]},
			{"album list", "/albumview/list/"},
			{"user list", "/users/list/"},
			{"user add form (roles, active, password twice)", "/users/add"},
			{"user show", "/users/show/" + me.ID},
			{"role add form (permissions)", "/roles/add"},
			{"Admin role edit form (fixed)", "/roles/edit/" + adminRole.ID},
			{"own password form", "/users/password"},
			{"audit log", "/auditlog/list/"},
			{"audit log filtered", "/auditlog/list/?action=login"},
			{"song history", "/songsview/history/" + ids[0]},
		} {
			br.open(p.path)
			br.axeCheck(axe, scheme+" "+p.name)
		}

		// An unknown address: the 404 page in the layout, with the menu.
		br.navigateStatus(chromedp.Navigate(br.base+"/no-such-page"), "open /no-such-page", 404)
		br.axeCheck(axe, scheme+" unknown page (404)")

		// What a click opens: the Model Views menu and the list's filter
		// menu, both open at once.
		br.open("/songsview/list/")
		br.click(`//header//details/summary[normalize-space()="Model Views"]`)
		br.click(`//main//details[contains(@class,"filter-menu")]/summary`)
		br.axeCheck(axe, scheme+" song list, menus open")

		// Rows ticked for a bulk action, then its confirmation page.
		br.open("/songsview/list/")
		br.click(`//main//label[contains(@class,"select-all")]/input`)
		br.axeCheck(axe, scheme+" song list, all rows ticked")
		br.clickNav(`//main//div[contains(@class,"bulk-bar")]/button[normalize-space()="Delete selected"]`)
		br.wantPath("/songsview/action/delete")
		br.axeCheck(axe, scheme+" bulk delete confirmation")

		// The edit form as a failed save leaves it: 422, a message beside
		// the field.
		br.open("/songsview/edit/" + ids[0])
		br.eval(`document.querySelector("#f-title").value = ""`)
		br.submitExpect(`//main//button[normalize-space()="Save"]`, 422)
		if br.count("main .field.has-error") == 0 {
			t.Errorf("%s: the edit form saved with an empty title shows no field error", scheme)
		}
		br.axeCheck(axe, scheme+" song edit form (422)")
		// Corrected and saved: the list with its flash message.
		br.fill("#f-title", "Come Together")
		br.clickNav(`//main//button[normalize-space()="Save"]`)
		br.wantPath("/songsview/list/")
		if br.count("main .flash") == 0 {
			t.Errorf("%s: no flash after saving the corrected song", scheme)
		}
		br.axeCheck(axe, scheme+" song list with a flash")

		br.clickNav(`//header//button[normalize-space()="Log out"]`)
		br.wantPath("/login/")
	}

	// The album field above the dropdown threshold: a combobox, its list
	// of matches open.
	lookupA11y(t, chrome, axe)

	// The login page with single sign-on: the button beside the form, and
	// the button alone (auth.password_login false).
	signOnA11y(t, chrome, axe)

	// The check can fail: an image without a text alternative (axe's
	// image-alt, critical) must be reported.
	br.eval(`(() => { const i = document.createElement("img"); i.src = "/static/favicon.svg"; document.querySelector("main").appendChild(i); return true })()`)
	if ids := br.axeSerious(axe); !slices.Contains(ids, "image-alt") {
		t.Errorf("axe missed an image without alt on the login page: serious or critical rules %q", ids)
	}

	// The console holds only the network log of the 422s and 404s asked
	// for above.
	var lines []string
	for _, l := range br.consoleLines() {
		if !strings.Contains(l, "status of 422") && !strings.Contains(l, "status of 404") {
			lines = append(lines, l)
		}
	}
	if len(lines) > 0 {
		t.Errorf("the browser console is not empty (%d messages):\n  %s", len(lines), strings.Join(lines, "\n  "))
	}
}

// axeScript returns axe.min.js's source: from APP_TEST_AXE_JS, else from
// the cache .ci/axe.sh fetches into. It skips when there is none, and fails
// under CI=true.
func axeScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv("APP_TEST_AXE_JS")
	how := "APP_TEST_AXE_JS"
	if path == "" {
		out, err := exec.Command("bash", filepath.Join(repoRoot(t), ".ci", "axe.sh"), "path").Output()
		if err != nil {
			t.Fatalf(".ci/axe.sh path: %v", err)
		}
		path, how = strings.TrimSpace(string(out)), ".ci/axe.sh path"
	}
	src, err := os.ReadFile(path)
	if err == nil && len(src) > 0 {
		return string(src)
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("axe-core is required under CI=true: %s gives %q: %v", how, path, err)
	}
	fmt.Fprintf(os.Stderr, "\n*** Accessibility test SKIPPED: no axe-core at %q (from %s: %v). Run .ci/axe.sh fetch (npm) to run it. ***\n\n", path, how, err)
	t.Skipf("axe-core not found at %q: %v", path, err)
	return ""
}

// axeViolation is one rule axe found broken, with the elements that break it.
type axeViolation struct {
	ID     string
	Impact string
	Help   string
	Nodes  []struct {
		Target  []any
		Summary string `json:"failureSummary"`
	}
}

// axeRun injects axe (each page anew: a navigation drops it), runs it on
// the whole document and returns its violations.
func (br *browser) axeRun(src, what string) []axeViolation {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
		br.fatal("%s: inject axe: %v", what, err)
	}
	run := chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`,
		chromedp.EvalAwaitPromise)
	all, err := chromedp.Run(ctx, run)
	if err != nil {
		br.fatal("%s: axe.run: %v", what, err)
	}
	return all
}

// serious reports whether the issue forbids the page: impact serious or
// critical (moderate and minor are logged only).
func (v axeViolation) serious() bool { return v.Impact == "serious" || v.Impact == "critical" }

// axeSerious returns the ids of the serious and critical rules axe finds
// broken on the page as it is.
func (br *browser) axeSerious(src string) []string {
	br.t.Helper()
	var ids []string
	for _, v := range br.axeRun(src, "self-check") {
		if v.serious() {
			ids = append(ids, v.ID)
		}
	}
	return ids
}

// axeCheck fails on every serious or critical violation axe finds, naming
// the rule, its impact and the elements.
func (br *browser) axeCheck(src, what string) {
	br.t.Helper()
	for _, v := range br.axeRun(src, what) {
		var targets []string
		for _, n := range v.Nodes {
			targets = append(targets, fmt.Sprint(n.Target...)+": "+strings.ReplaceAll(n.Summary, "\n", " "))
		}
		br.t.Errorf("%s at %s: axe %s (%s): %s\n    %s", what, br.location(), v.ID, v.Impact, v.Help,
			strings.Join(targets, "\n    "))
	}
}

// submitExpect clicks the element and waits for the page it leads to,
// which must come with the given status (a form refused with 422).
func (br *browser) submitExpect(sel string, status int64) {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel, chromedp.NodeVisible))
	if err != nil {
		br.fatal("click %s: %v", sel, err)
	}
	if resp == nil || resp.Status != status {
		br.fatal("click %s: response %+v, want HTTP %d", sel, resp, status)
	}
}

// lookupA11y checks the song form's searchable album field and the song
// list's album filter, with their matches shown, in both schemes: it needs
// more albums than the dropdown lists, so an app of its own.
func lookupA11y(t *testing.T, chrome, axe string) {
	t.Helper()
	app := apptest.NewApp(t, apptest.SQLite)
	names := []string{"Kind of Blue", "Blue Train"}
	for i := 1; i <= admin.ChoicesThreshold; i++ {
		names = append(names, fmt.Sprintf("Album %03d", i))
	}
	app.InsertAlbums(names)
	br := newBrowser(t, chrome, app.URL, filepath.Join(repoRoot(t), "test-artifacts", "screenshots", "a11y-lookup"))
	br.open("/login/")
	br.fill("#username", apptest.AdminUser)
	br.fill("#password", apptest.AdminPassword)
	br.clickNav(`//main//button[normalize-space()="Sign in"]`)
	br.wantPath("/")
	for _, scheme := range []string{"light", "dark"} {
		br.emulate(1280, scheme)
		br.open("/songsview/add")
		br.do(chromedp.SendKeys(chromedp.CSS("#f-album"), "blu"))
		br.do(chromedp.WaitVisible(chromedp.CSS(`#f-album-listbox [role=option]`)))
		// One match highlighted, as the arrow keys do.
		br.do(chromedp.SendKeys(chromedp.CSS("#f-album"), kb.ArrowDown))
		br.axeCheck(axe, scheme+" song add form, album matches open")
		// The song list's album filter: the filter menu's row, the same
		// combobox.
		br.open("/songsview/list/")
		br.click(`//main//details[contains(@class,"filter-menu")]/summary`)
		br.do(chromedp.SendKeys(chromedp.CSS("#filter-album-value"), "blu"))
		br.do(chromedp.WaitVisible(chromedp.CSS(`#filter-album-value-listbox [role=option]`)))
		br.do(chromedp.SendKeys(chromedp.CSS("#filter-album-value"), kb.ArrowDown))
		br.shot(scheme + "-list-album-filter")
		br.axeCheck(axe, scheme+" song list, album filter matches open")
	}
	br.assertCleanConsole()
}

// signOnA11y checks the login page of an app with single sign-on, in both
// schemes: the "Sign in with SSO" button below the password form, and the
// button alone when password sign-in is off. Each needs an app of its own,
// configured for an in-process provider.
func signOnA11y(t *testing.T, chrome, axe string) {
	t.Helper()
	p := oidctest.Start(t)
	for _, v := range []struct {
		name     string
		password bool
	}{{"sso", true}, {"sso-only", false}} {
		app := signOnApp(t, apptest.SQLite, p, func(cfg *config.Config) { cfg.Auth.PasswordLogin = v.password })
		br := newBrowser(t, chrome, app.URL, filepath.Join(repoRoot(t), "test-artifacts", "screenshots", "a11y-"+v.name))
		for _, scheme := range []string{"light", "dark"} {
			br.emulate(1280, scheme)
			br.open("/login/")
			br.wantScheme(v.name+" login "+scheme, scheme)
			br.wantText("a#sign-on", "Sign in with SSO")
			if n := br.count("#password"); (n == 1) != v.password {
				t.Errorf("%s login page: %d password fields, want the form %v", v.name, n, v.password)
			}
			br.shot(scheme + "-login")
			br.axeCheck(axe, scheme+" login with single sign-on ("+v.name+")")
		}
		br.assertCleanConsole()
	}
}
