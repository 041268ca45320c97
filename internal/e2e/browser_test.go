package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"musicadmin/internal/apptest"
	"musicadmin/internal/apptest/slow"
)

// The bounds of a browser's work, scaled for a slow machine (slow.Scaled):
// four browsers and their apps share as few as two cores under the race
// detector, so that what misses them is a hang or a missing element, not
// a busy machine.
var (
	// flowTimeout bounds the whole flow on one backend, browser start included.
	flowTimeout = slow.Scaled(60 * time.Second)
	// stepTimeout bounds one browser action, so that a missing element fails
	// the step quickly with its selector instead of eating the whole budget.
	stepTimeout = slow.Scaled(10 * time.Second)
)

// TestBrowserFlow drives the app in a real headless Chromium the way a user
// does: log in, open the menu, add albums and a song, edit and delete the
// song, log out. It runs on every backend (ids in the links are digits on
// SQL, ObjectId hex on MongoDB: the flow follows links and never builds
// one), saves a screenshot of every page under
// test-artifacts/screenshots/<backend>/ and fails on any console error,
// uncaught exception or Content-Security-Policy violation.
func TestBrowserFlow(t *testing.T) {
	chrome := chromiumPath(t)
	shots := filepath.Join(repoRoot(t), "test-artifacts", "screenshots")
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		// One browser per backend, at the same time: each has its own app,
		// database and screenshot folder.
		t.Parallel()
		app := apptest.NewApp(t, b)
		br := newBrowser(t, chrome, app.URL, filepath.Join(shots, b.Name))
		userFlow(br)
		// What the clicks left in the database itself: both albums, and
		// the song gone.
		if albums := app.Albums(); len(albums) != 2 || app.Count("songs") != 0 {
			t.Errorf("after the flow the database holds albums %v and %d songs, want 2 albums and no song",
				albums, app.Count("songs"))
		}
		br.assertCleanConsole()
		br.assertConsoleCatchesCSP()
	})
}

// userFlow is the scenario itself.
func userFlow(br *browser) {
	t := br.t
	const (
		album1 = "Ágætis byrjun"
		album2 = "Kind of Blue"
		song   = "So What"
	)

	// Anonymous: / sends the user to the login page, remembering where to go.
	br.open("/")
	br.wantPath("/login/")
	if next := br.query().Get("next"); next != "/" {
		t.Errorf("login next = %q, want /", next)
	}
	br.wantText("main h1", "Sign in")
	br.wantStyled()
	br.shot("login")

	br.fill("#username", apptest.AdminUser)
	br.fill("#password", apptest.AdminPassword)
	br.clickNav(`//main//button[normalize-space()="Sign in"]`)
	br.wantPath("/")
	br.wantText("main h1", "Welcome, "+apptest.AdminUser)
	br.wantText("header .user", apptest.AdminUser)
	br.shot("index")

	// The "Model Views" menu is a <details> dropdown: closed until clicked.
	const albumLink = `//header//details//a[normalize-space()="Album View"]`
	if br.eval(`document.querySelector("header details.dropdown").open`) != "false" {
		t.Errorf("the Model Views menu is open before it is clicked")
	}
	br.click(`//header//details/summary[normalize-space()="Model Views"]`)
	br.do(chromedp.WaitVisible(albumLink))
	br.shot("menu-open")
	br.clickNav(albumLink)
	br.wantPath("/albumview/list/")
	br.wantText("main h1", "Album View")
	br.wantText("main td.empty", "No records found.")
	br.shot("album-list-empty")

	for i, name := range []string{album1, album2} {
		br.clickNav(`//main//a[contains(@class,"btn")][contains(normalize-space(),"Add Album")]`)
		br.wantPath("/albumview/add")
		br.wantText("main h1", "Add Album")
		br.fill("#f-name", name)
		if i == 0 {
			br.shot("album-add")
		}
		br.clickNav(`//main//button[normalize-space()="Save"]`)
		br.wantPath("/albumview/list/")
		br.wantTexts("main .flash", "Added Album “"+name+"”.")
		br.shot(fmt.Sprintf("album-added-%d", i+1))
	}
	// The order of the list is not this test's business.
	if got, want := sorted(br.column(0)), sorted([]string{album1, album2}); !slices.Equal(got, want) {
		t.Errorf("album names in the list = %q, want %q", got, want)
	}
	br.wantText("main .count", "2 records")

	// Reload: the flash was shown once and is gone.
	br.open("/albumview/list/")
	br.wantTexts("main .flash")

	// Song View, from the menu of the list page.
	br.click(`//header//details/summary[normalize-space()="Model Views"]`)
	br.clickNav(`//header//details//a[normalize-space()="Song View"]`)
	br.wantPath("/songsview/list/")
	br.wantText("main h1", "Song View")
	br.wantText("main td.empty", "No records found.")

	br.clickNav(`//main//a[contains(@class,"btn")][contains(normalize-space(),"Add Song")]`)
	br.wantPath("/songsview/add")
	br.wantText("main h1", "Add Song")
	if got := br.optionLabels(`select[name="album"]`); len(got) != 3 || got[0] != "(none)" ||
		!slices.Equal(sorted(got[1:]), sorted([]string{album1, album2})) {
		t.Errorf("album choices = %q, want (none) then both albums", got)
	}
	br.fill("#f-title", song)
	br.fill("#f-rating", "7")
	br.selectLabel(`select[name="album"]`, album2)
	br.shot("song-add")
	br.clickNav(`//main//button[normalize-space()="Save"]`)
	br.wantPath("/songsview/list/")
	br.wantTexts("main .flash", "Added Song “"+song+"”.")
	br.wantRows([]string{song, "7", album2})
	br.shot("song-added")

	// Edit: a new rating and no album.
	br.clickNav(`//main//td[contains(@class,"actions")]/a[normalize-space()="Edit"]`)
	br.wantPathPrefix("/songsview/edit/")
	br.wantText("main h1", "Edit Song")
	if got := br.value("#f-title"); got != song {
		t.Errorf("edit form title = %q, want %q", got, song)
	}
	if got := br.selectedLabel(`select[name="album"]`); got != album2 {
		t.Errorf("edit form album = %q, want %q", got, album2)
	}
	br.fill("#f-rating", "3")
	br.selectLabel(`select[name="album"]`, "(none)")
	br.shot("song-edit")
	br.clickNav(`//main//button[normalize-space()="Save"]`)
	br.wantPath("/songsview/list/")
	br.wantTexts("main .flash", "Saved Song “"+song+"”.")
	br.wantRows([]string{song, "3", ""})
	br.shot("song-edited")

	// Delete, through the confirmation page.
	br.clickNav(`//main//td[contains(@class,"actions")]/a[normalize-space()="Delete"]`)
	br.wantPathPrefix("/songsview/delete/")
	br.wantText("main h1", "Delete Song")
	br.wantText("main section p", "Delete "+song+"? This cannot be undone.")
	br.shot("song-delete-confirm")
	br.clickNav(`//main//button[normalize-space()="Delete"]`)
	br.wantPath("/songsview/list/")
	br.wantTexts("main .flash", "Deleted Song “"+song+"”.")
	br.wantText("main td.empty", "No records found.")
	br.shot("song-deleted")

	// Log out with the button of the top bar; the list is then out of reach.
	br.clickNav(`//header//button[normalize-space()="Log out"]`)
	br.wantPath("/login/")
	br.shot("logged-out")
	br.open("/albumview/list/")
	br.wantPath("/login/")
	if next := br.query().Get("next"); next != "/albumview/list/" {
		t.Errorf("after logout, next = %q, want /albumview/list/", next)
	}
	br.wantText("main h1", "Sign in")
	if n := br.count("header .user"); n != 0 {
		t.Errorf("after logout the top bar still shows a user")
	}
	br.shot("list-after-logout")
}

// chromiumPath finds the browser, or skips (fails under CI=true).
func chromiumPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("Chromium is required under CI=true and is not on PATH: %v", err)
	}
	fmt.Fprintf(os.Stderr, "\n*** Browser tests SKIPPED: no `chromium` on PATH (%v). Install Debian's chromium package to run them. ***\n\n", err)
	t.Skipf("chromium not found: %v", err)
	return ""
}

// repoRoot walks up from the working directory to the folder holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// browser is one headless Chromium with one tab, bound to one app.
type browser struct {
	t       *testing.T
	ctx     context.Context
	base    string
	shotDir string
	shots   int
	// width is the emulated viewport's (emulate), 0 before any: the
	// window's 1280.
	width int64

	mu      sync.Mutex
	console []string // console messages, exceptions and log entries, in order
}

func newBrowser(t *testing.T, chrome, base, shotDir string) *browser {
	t.Helper()
	if err := os.RemoveAll(shotDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	br := &browser{t: t, base: base, shotDir: shotDir}

	root, cancelRoot := context.WithTimeout(context.Background(), flowTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root,
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-default-browser-check", true),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(br.record),
	)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelRoot()
	})
	t.Cleanup(func() {
		if lines := br.consoleLines(); t.Failed() && len(lines) > 0 {
			t.Logf("browser console:\n  %s", strings.Join(lines, "\n  "))
		}
	})
	br.ctx = ctx
	// Start the browser with the whole-flow deadline only.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return br
}

// record runs in the tab's event loop: it must return fast.
func (br *browser) record(ev any) {
	var line string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			if a.Value != nil {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		line = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		line = fmt.Sprintf("exception: %s (%s:%d)", text, d.URL, d.LineNumber+1)
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		line = fmt.Sprintf("log.%s [%s]: %s (%s)", e.Level, e.Source, e.Text, e.URL)
	default:
		return
	}
	br.mu.Lock()
	br.console = append(br.console, line)
	br.mu.Unlock()
}

func (br *browser) consoleLines() []string {
	br.mu.Lock()
	defer br.mu.Unlock()
	return slices.Clone(br.console)
}

// assertCleanConsole fails on any message of the page's console: the app's
// one script (lookup.js) writes nothing there, so every message is an
// error, a warning or a CSP report.
func (br *browser) assertCleanConsole() {
	br.t.Helper()
	if lines := br.consoleLines(); len(lines) > 0 {
		br.t.Errorf("the browser console is not empty (%d messages):\n  %s", len(lines), strings.Join(lines, "\n  "))
	}
}

// assertConsoleCatchesCSP proves the console check can fail: it injects an
// inline style, which the app's Content-Security-Policy must refuse, and
// expects the refusal in the console.
func (br *browser) assertConsoleCatchesCSP() {
	br.t.Helper()
	before := len(br.consoleLines())
	br.eval(`(() => { const s = document.createElement("style"); s.textContent = "body { color: red }"; document.head.appendChild(s); return true })()`)
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		for _, l := range br.consoleLines()[before:] {
			if strings.Contains(l, "Content Security Policy") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	br.t.Errorf("an injected inline <style> left no CSP violation in the console: either the CSP allows inline style or the console check sees nothing; console: %q",
		br.consoleLines()[before:])
}

// do runs browser actions with the step timeout.
func (br *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		br.fatal("browser action: %v", err)
	}
}

// fatal stops the flow, with a screenshot of the page as it was.
func (br *browser) fatal(format string, args ...any) {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, stepTimeout)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		path := filepath.Join(br.shotDir, "failure.png")
		if os.WriteFile(path, png, 0o644) == nil {
			args = append(args, path)
			format += " (screenshot: %s)"
		}
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		args = append(args, loc)
		format += " (at %s)"
	}
	br.t.Fatalf(format, args...)
}

// open navigates to path, as typing it in the address bar does.
func (br *browser) open(path string) {
	br.t.Helper()
	br.navigate(chromedp.Navigate(br.base+path), "open "+path)
}

// click clicks the element (an XPath or CSS found by DevTools search) and
// expects no navigation.
func (br *browser) click(sel string) {
	br.t.Helper()
	br.do(chromedp.Click(sel, chromedp.NodeVisible))
}

// clickNav clicks the element and waits for the page it leads to.
func (br *browser) clickNav(sel string) {
	br.t.Helper()
	br.navigate(chromedp.Click(sel, chromedp.NodeVisible), "click "+sel)
}

func (br *browser) navigate(action chromedp.Action[chromedp.Void], what string) {
	br.t.Helper()
	br.navigateStatus(action, what, 200)
}

// clickNavStatus clicks the element and waits for the page it leads to,
// which must answer with status want (409 for a lost update, say).
func (br *browser) clickNavStatus(sel string, want int64) {
	br.t.Helper()
	br.navigateStatus(chromedp.Click(sel, chromedp.NodeVisible), "click "+sel, want)
}

func (br *browser) navigateStatus(action chromedp.Action[chromedp.Void], what string, want int64) {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, action)
	if err != nil {
		br.fatal("%s: %v", what, err)
	}
	if resp == nil {
		br.fatal("%s: no page loaded", what)
	}
	if resp.Status != want {
		br.fatal("%s: HTTP %d for %s, want %d", what, resp.Status, resp.URL, want)
	}
}

// fill types value into the field as a user does, replacing what it held.
func (br *browser) fill(sel, value string) {
	br.t.Helper()
	br.eval(`document.querySelector(` + jsString(sel) + `).value = ""`)
	br.do(chromedp.SendKeys(chromedp.CSS(sel), value))
	if got := br.value(sel); got != value {
		br.fatal("field %s holds %q after typing %q", sel, got, value)
	}
}

func (br *browser) value(sel string) string {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		br.fatal("value of %s: %v", sel, err)
	}
	return v
}

// eval evaluates a JavaScript expression through DevTools (not subject to the
// page's CSP) and returns its result as JSON.
func (br *browser) eval(expr string) string {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		br.fatal("evaluate %s: %v", expr, err)
	}
	return string(raw)
}

// evalInto evaluates expr and decodes its JSON result into v.
func (br *browser) evalInto(expr string, v any) {
	br.t.Helper()
	if err := json.Unmarshal([]byte(br.eval(expr)), v); err != nil {
		br.fatal("decode result of %s: %v", expr, err)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// options returns the (value, label) pairs of a <select>.
func (br *browser) options(sel string) [][2]string {
	br.t.Helper()
	var opts [][2]string
	br.evalInto(`Array.from(document.querySelectorAll(`+jsString(sel+" option")+`), o => [o.value, o.textContent.trim()])`, &opts)
	return opts
}

func (br *browser) optionLabels(sel string) []string {
	br.t.Helper()
	var labels []string
	for _, o := range br.options(sel) {
		labels = append(labels, o[1])
	}
	return labels
}

// selectLabel chooses the option with the visible label, as a user picking
// from the dropdown does.
func (br *browser) selectLabel(sel, label string) {
	br.t.Helper()
	for _, o := range br.options(sel) {
		if o[1] == label {
			// chromedp.SetValue cannot set "" (the value of "(none)"): it
			// drops the empty argument and sets "undefined".
			br.eval(`(() => { const s = document.querySelector(` + jsString(sel) + `); s.value = ` + jsString(o[0]) +
				`; s.dispatchEvent(new Event("change", {bubbles: true})); return s.value })()`)
			if got := br.selectedLabel(sel); got != label {
				br.fatal("%s shows %q after choosing %q", sel, got, label)
			}
			return
		}
	}
	br.fatal("%s has no option %q (options: %q)", sel, label, br.options(sel))
}

func (br *browser) selectedLabel(sel string) string {
	br.t.Helper()
	var label string
	br.evalInto(`(() => { const s = document.querySelector(`+jsString(sel)+`); return s.options[s.selectedIndex].textContent.trim() })()`, &label)
	return label
}

// texts returns the trimmed visible texts of every element matching the CSS
// selector.
func (br *browser) texts(sel string) []string {
	br.t.Helper()
	var out []string
	br.evalInto(`Array.from(document.querySelectorAll(`+jsString(sel)+`), e => e.innerText.trim())`, &out)
	return out
}

func (br *browser) count(sel string) int {
	br.t.Helper()
	return len(br.texts(sel))
}

// wantText checks the text of the first element matching sel.
func (br *browser) wantText(sel, want string) {
	br.t.Helper()
	got := br.texts(sel)
	if len(got) == 0 {
		br.t.Errorf("%s: no element %s, want one reading %q", br.location(), sel, want)
		return
	}
	if got[0] != want {
		br.t.Errorf("%s: %s reads %q, want %q", br.location(), sel, got[0], want)
	}
}

// wantTexts checks the texts of every element matching sel.
func (br *browser) wantTexts(sel string, want ...string) {
	br.t.Helper()
	if got := br.texts(sel); !slices.Equal(got, want) {
		br.t.Errorf("%s: %s = %q, want %q", br.location(), sel, got, want)
	}
}

// rows returns the cells of the list table, without the checkbox and actions columns.
func (br *browser) rows() [][]string {
	br.t.Helper()
	var rows [][]string
	br.evalInto(`Array.from(document.querySelectorAll("main table.table tbody tr"), r =>
		Array.from(r.querySelectorAll("td:not(.actions):not(.select)"), c => c.innerText.trim()))`, &rows)
	return rows
}

func (br *browser) column(i int) []string {
	br.t.Helper()
	var out []string
	for _, r := range br.rows() {
		if i < len(r) {
			out = append(out, r[i])
		}
	}
	return out
}

// wantRows checks the list table holds exactly the given rows.
func (br *browser) wantRows(want ...[]string) {
	br.t.Helper()
	got := br.rows()
	if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		br.t.Errorf("%s: table rows = %q, want %q", br.location(), got, want)
	}
}

// wantStyled checks the stylesheet applied (the CSP lets 'self' styles in).
func (br *browser) wantStyled() {
	br.t.Helper()
	var bg string
	br.evalInto(`getComputedStyle(document.querySelector("header.topbar")).backgroundColor`, &bg)
	if bg != "rgb(31, 42, 68)" {
		br.t.Errorf("the top bar background is %q: /static/app.css did not apply", bg)
	}
}

func (br *browser) location() string {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, stepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		br.fatal("location: %v", err)
	}
	return loc
}

func (br *browser) url() *url.URL {
	br.t.Helper()
	u, err := url.Parse(br.location())
	if err != nil {
		br.fatal("location: %v", err)
	}
	return u
}

func (br *browser) query() url.Values { return br.url().Query() }

func (br *browser) wantPath(want string) {
	br.t.Helper()
	if got := br.url().Path; got != want {
		br.fatal("at path %q, want %q", got, want)
	}
}

func (br *browser) wantPathPrefix(prefix string) {
	br.t.Helper()
	if got := br.url().Path; !strings.HasPrefix(got, prefix) {
		br.fatal("at path %q, want one under %q", got, prefix)
	}
}

// shot saves a full-page PNG of the current page as NN-name.png.
func (br *browser) shot(name string) {
	br.t.Helper()
	br.shots++
	ctx, cancel := context.WithTimeout(br.ctx, stepTimeout)
	defer cancel()
	// The page's whole height: the viewport made as tall as the page,
	// then captured as a screen is. Chrome's own capture beyond the
	// viewport places a right-to-left page wrongly (shifted right, its
	// start cut off).
	var height int64
	br.evalInto(`document.documentElement.scrollHeight`, &height)
	width, screen := br.viewport()
	if height > screen {
		br.setViewport(width, height)
		defer br.setViewport(width, screen)
	}
	png, err := chromedp.Run(ctx, chromedp.Action[[]byte](func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}))
	if err != nil {
		br.fatal("screenshot %s: %v", name, err)
	}
	path := filepath.Join(br.shotDir, fmt.Sprintf("%02d-%s.png", br.shots, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		br.t.Fatal(err)
	}
}

// smallCatalogue is the app the accessibility and language walks run on:
// SQLite (layout and words do not depend on the backend), two albums and
// three songs. It returns the app, Abbey Road's id and the songs' ids.
func smallCatalogue(t *testing.T) (app *apptest.App, abbey string, songs []string) {
	t.Helper()
	apptest.RequireBackend(t, apptest.SQLite)
	app = apptest.NewApp(t, apptest.SQLite)
	abbey = app.InsertAlbum("Abbey Road")
	app.InsertAlbum("Let It Be")
	songs = app.InsertSongs([]apptest.SongRow{
		{Title: "Come Together", Rating: 8, Album: abbey},
		{Title: "Here Comes the Sun", Rating: 9, Album: abbey},
		{Title: "While My Guitar Gently Weeps", Rating: 7},
	})
	return app, abbey, songs
}
