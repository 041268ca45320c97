package e2e_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"musicadmin/internal/apptest"
)

// TestScreens looks at the pages at a phone's width (390 px) and a
// desktop's (1280 px), in the light and the dark colour scheme, saving a
// screenshot of each under test-artifacts/screenshots/screens/. It checks
// what a person would see at once: no page wider than the screen, no word of
// the list broken across lines ("Co/me/Tog/eth/er"), the scheme followed,
// a visible focus ring along the keyboard's path, and the filter menu and
// its chips working in a real browser. Layout does not depend on the
// backend, so it runs on SQLite only.
func TestScreens(t *testing.T) {
	chrome := chromiumPath(t)
	apptest.RequireBackend(t, apptest.SQLite)
	app := apptest.NewApp(t, apptest.SQLite)
	abbey, letItBe := app.InsertAlbum("Abbey Road"), app.InsertAlbum("Let It Be")
	songs := []apptest.SongRow{
		{Title: "Come Together", Rating: 8, Album: abbey},
		{Title: "Here Comes the Sun", Rating: 9, Album: abbey},
		{Title: "While My Guitar Gently Weeps", Rating: 7},
		{Title: "Lucy in the Sky with Diamonds", Rating: 6},
		{Title: "Let It Be", Rating: 7, Album: letItBe},
		{Title: "Supercalifragilisticexpialidocious Medley", Rating: 2},
	}
	for i := range 54 {
		songs = append(songs, apptest.SongRow{Title: fmt.Sprintf("Everyday Song %02d", i+1), Rating: i % 10})
	}
	app.InsertSongs(songs)

	br := newBrowser(t, chrome, app.URL, filepath.Join(repoRoot(t), "test-artifacts", "screenshots", "screens"))
	br.open("/login/")
	br.fill("#username", apptest.AdminUser)
	br.fill("#password", apptest.AdminPassword)
	br.clickNav(`//main//button[normalize-space()="Sign in"]`)
	br.wantPath("/")

	const list = "/songsview/list/?title__contains=e&album__empty=false&sort=-rating"
	for _, width := range []int64{390, 1280} {
		for _, scheme := range []string{"light", "dark"} {
			name := fmt.Sprintf("%d-%s", width, scheme)
			br.emulate(width, scheme)

			br.open("/")
			br.wantScheme(name, scheme)
			br.wantFits(name)
			br.shot(name + "-index")

			br.open("/songsview/list/")
			br.wantFits(name)
			br.wantWholeWords(name)
			br.shot(name + "-list")

			br.open(list)
			br.wantFits(name)
			br.wantWholeWords(name)
			br.click(`//main//details[contains(@class,"filter-menu")]/summary`)
			br.shot(name + "-list-filter-menu")

			// A word longer than a phone is wide wraps inside its cell
			// rather than widening the page.
			br.open("/songsview/list/?q=Supercali")
			br.wantFits(name)
			if width < 640 {
				br.shot(name + "-long-word")
			}

			br.open(list)
			br.clickNav(`//main//a[normalize-space()="Abbey Road"]`)
			br.wantPathPrefix("/albumview/show/")
			br.wantFits(name)
			br.wantWholeWords(name)
			br.shot(name + "-album")

			br.open("/songsview/add")
			br.wantFits(name)
			br.shot(name + "-song-form")
		}
	}

	// The filter menu and the chips, at a phone's width: the menu's form
	// becomes a FIELD__OP URL that keeps the other filters, and a chip's ×
	// drops exactly its filter.
	br.emulate(390, "dark")
	br.open(list)
	br.click(`//main//details[contains(@class,"filter-menu")]/summary`)
	br.selectLabel("#filter-rating-op", "≥")
	br.fill("#filter-rating-value", "7")
	br.clickNav(`//main//form[.//select[@id="filter-rating-op"]]//button[normalize-space()="Add"]`)
	q := br.query()
	if q.Get("rating__gte") != "7" || q.Get("title__contains") != "e" || q.Get("album__empty") != "false" || q.Get("sort") != "-rating" {
		t.Errorf("after adding a filter from the menu: query %v", q)
	}
	br.wantTexts("main .chips .chip > span", "Album is empty: false", "Rating ≥ 7", "Title contains e")
	br.shot("390-dark-filtered")
	br.clickNav(`//main//a[@aria-label="Remove filter Rating ≥ 7"]`)
	q = br.query()
	if q.Has("rating__gte") || q.Get("title__contains") != "e" || q.Get("album__empty") != "false" {
		t.Errorf("after removing the rating chip: query %v", q)
	}

	// The keyboard: Tab first reaches the skip link, then every control of
	// the page in turn, each with a focus ring, down to the numbered pages;
	// Enter on page 2 opens it.
	br.emulate(1280, "light")
	br.open("/songsview/list/")
	br.key(kb.Tab)
	if got := br.focused(); !strings.Contains(got, "Skip to content") {
		t.Errorf("the first Tab focuses %s, want the skip link", got)
	}
	for i := 0; ; i++ {
		if i == 150 {
			t.Fatalf("150 Tabs never reached the link to page 2 (at %s)", br.focused())
		}
		br.wantFocusRing()
		if br.eval(`document.activeElement.matches(".pages a.num") && document.activeElement.textContent.trim() === "2"`) == "true" {
			break
		}
		br.key(kb.Tab)
	}
	br.shot("1280-light-keyboard-focus")
	br.navigate(chromedp.KeyEvent(kb.Enter), "Enter on page 2")
	if got := br.query().Get("page"); got != "2" {
		t.Errorf("Enter on the page 2 link opened page %q", got)
	}
	br.assertCleanConsole()
}

// emulate sets the viewport (a phone's below 640 px: mobile, touch-free)
// and the prefers-color-scheme the pages see.
func (br *browser) emulate(width int64, scheme string) {
	br.t.Helper()
	br.width = width
	br.do(br.viewportAction(width, screenHeight),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		}))
}

// screenHeight is the emulated screen's height.
const screenHeight = 900

// viewportAction sets the viewport to width × height, a phone's below
// 640 px wide (mobile, portrait).
func (br *browser) viewportAction(width, height int64) chromedp.Action[chromedp.Void] {
	var opts []chromedp.EmulateViewportOption
	if width < 640 {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	return chromedp.EmulateViewport(width, height, opts...)
}

// viewport returns the emulated viewport's width and screen height.
func (br *browser) viewport() (width, height int64) {
	if br.width == 0 {
		return 1280, screenHeight
	}
	return br.width, screenHeight
}

// setViewport changes the viewport's size, the colour scheme kept.
func (br *browser) setViewport(width, height int64) {
	br.t.Helper()
	br.do(br.viewportAction(width, height))
}

// wantScheme checks the page background follows the emulated scheme.
func (br *browser) wantScheme(what, scheme string) {
	br.t.Helper()
	var rgb []int
	br.evalInto(`getComputedStyle(document.documentElement).backgroundColor.match(/\d+/g).slice(0, 3).map(Number)`, &rgb)
	if len(rgb) != 3 {
		br.t.Fatalf("%s: background %v", what, rgb)
	}
	sum := rgb[0] + rgb[1] + rgb[2]
	if (scheme == "dark") != (sum < 3*80) {
		br.t.Errorf("%s: page background rgb%v does not look %s", what, rgb, scheme)
	}
}

// wantFits checks the page is no wider than the viewport: nothing but a
// table's own scroller may scroll sideways.
func (br *browser) wantFits(what string) {
	br.t.Helper()
	var sizes []int
	br.evalInto(`[document.documentElement.scrollWidth, window.innerWidth]`, &sizes)
	if sizes[0] > sizes[1] {
		br.t.Errorf("%s at %s: the page is %d px wide in a %d px window", what, br.location(), sizes[0], sizes[1])
	}
}

// wantWholeWords checks no table cell takes more lines than it has words:
// a column squeezed to a letter's width breaks words, as "Co/me/Tog/eth/er".
func (br *browser) wantWholeWords(what string) {
	br.t.Helper()
	var broken []string
	br.evalInto(`Array.from(document.querySelectorAll("main table.table td:not(.actions):not(.empty)")).filter(td => {
		const r = document.createRange();
		r.selectNodeContents(td);
		const lines = new Set(Array.from(r.getClientRects(), x => Math.round(x.top))).size;
		const words = td.textContent.trim().split(/\s+/).filter(Boolean).length;
		return words > 0 && lines > words;
	}).map(td => td.textContent.trim())`, &broken)
	if len(broken) > 0 {
		br.t.Errorf("%s at %s: cells broken within words: %q", what, br.location(), broken)
	}
}

// key presses a key on whatever has the focus.
func (br *browser) key(k string) {
	br.t.Helper()
	br.do(chromedp.KeyEvent(k))
}

// focused describes the element that has the focus.
func (br *browser) focused() string {
	br.t.Helper()
	var s string
	br.evalInto(`(e => e.tagName + " " + JSON.stringify((e.innerText || e.value || e.name || "").trim().slice(0, 40)))(document.activeElement)`, &s)
	return s
}

// wantFocusRing checks the focused element draws an outline of at least
// 2 px: the browser's own ring can be too faint on a coloured button.
func (br *browser) wantFocusRing() {
	br.t.Helper()
	var ring struct {
		Style string
		Width float64
		Tag   string
	}
	br.evalInto(`(e => { const s = getComputedStyle(e); return {Style: s.outlineStyle, Width: parseFloat(s.outlineWidth), Tag: e.tagName} })(document.activeElement)`, &ring)
	if ring.Tag == "BODY" {
		br.t.Errorf("the focus fell back to the page body")
		return
	}
	if ring.Style == "none" || ring.Width < 2 {
		br.t.Errorf("%s has focus with outline %s %vpx: no visible ring", br.focused(), ring.Style, ring.Width)
	}
}
