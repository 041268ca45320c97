package e2e_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
)

// TestBrowserLookup picks an album in the song form by typing in the
// searchable album field, as a user does once there are more albums than a
// dropdown lists: three letters, the matches best first, arrow down, Enter,
// Save. Screenshots go under test-artifacts/screenshots/lookup-<backend>/.
func TestBrowserLookup(t *testing.T) {
	chrome := chromiumPath(t)
	shots := filepath.Join(repoRoot(t), "test-artifacts", "screenshots")
	// SQLite only: the widget and its script are the same on every
	// backend, and the lookup's answers are tested on all four through HTTP.
	b := apptest.SQLite
	apptest.RequireBackend(t, b)
	app := apptest.NewApp(t, b)
	names := []string{"Kind of Blue", "Blue Train"}
	for i := 1; i <= admin.ChoicesThreshold; i++ {
		names = append(names, fmt.Sprintf("Album %03d", i))
	}
	ids := app.InsertAlbums(names)
	br := newBrowser(t, chrome, app.URL, filepath.Join(shots, "lookup-"+b.Name))

	br.open("/login/")
	br.fill("#username", apptest.AdminUser)
	br.fill("#password", apptest.AdminPassword)
	br.clickNav(`//main//button[normalize-space()="Sign in"]`)
	br.wantPath("/")

	br.open("/songsview/add")
	if n := br.count(`select[name="album"]`); n != 0 {
		t.Fatalf("the song form at %d albums still has a dropdown", len(names))
	}
	// The script made the plain id input a combobox the label names.
	if got := br.eval(`document.querySelector("label[for=f-album]") !== null && document.getElementById("f-album").getAttribute("role")`); got != `"combobox"` {
		t.Fatalf("#f-album role = %s, want combobox", got)
	}
	br.fill("#f-title", "Blue in Green")
	br.do(chromedp.SendKeys(chromedp.CSS("#f-album"), "blu"))
	br.do(chromedp.WaitVisible(chromedp.CSS(`#f-album-listbox [role=option]`)))
	if got := br.eval(`document.getElementById("f-album").getAttribute("aria-expanded")`); got != `"true"` {
		t.Errorf("aria-expanded = %s with the matches shown", got)
	}
	// Best first: the label that starts with the text, then the other.
	if got := br.texts(`#f-album-listbox [role=option]`); !slices.Equal(got, []string{"Blue Train", "Kind of Blue"}) {
		t.Errorf("matches of blu = %q, want Blue Train then Kind of Blue", got)
	}
	br.shot("album-matches")
	br.do(chromedp.SendKeys(chromedp.CSS("#f-album"), kb.ArrowDown+kb.ArrowDown))
	if got := br.eval(`document.getElementById("f-album").getAttribute("aria-activedescendant")`); got != `"f-album-option-1"` {
		t.Errorf("aria-activedescendant after two arrows = %s", got)
	}
	br.do(chromedp.SendKeys(chromedp.CSS("#f-album"), kb.Enter))
	if got := br.value("#f-album"); got != "Kind of Blue" {
		t.Errorf("the album field shows %q after Enter, want Kind of Blue", got)
	}
	if got := br.eval(`document.getElementById("f-album-value").value`); got != jsString(ids[0]) {
		t.Errorf("the posted album id is %s, want %s", got, ids[0])
	}
	br.wantPath("/songsview/add") // Enter chose; it did not submit
	br.shot("album-chosen")
	br.clickNav(`//main//button[normalize-space()="Save"]`)
	br.wantPath("/songsview/list/")
	br.wantRows([]string{"Blue in Green", "0", "Kind of Blue"})
	if s, ok := app.Song("Blue in Green"); !ok || s.Album != ids[0] {
		t.Errorf("stored %v, want album %s", s, ids[0])
	}

	// The list's album filter searches the same way.
	app.InsertSong("Moment's Notice", 8, ids[1])
	br.open("/songsview/list/")
	br.do(chromedp.SendKeys(chromedp.CSS("#flt-album"), "kin"))
	br.do(chromedp.WaitVisible(chromedp.CSS(`#flt-album-listbox [role=option]`)))
	br.do(chromedp.SendKeys(chromedp.CSS("#flt-album"), kb.ArrowDown+kb.Enter))
	br.shot("list-filter-chosen")
	br.clickNav(`//main//form[contains(@class,"ref-filter")]//button[normalize-space()="Filter"]`)
	if got := br.query().Get("album"); got != ids[0] {
		t.Errorf("the filter asked for album %q, want %s", got, ids[0])
	}
	br.wantRows([]string{"Blue in Green", "0", "Kind of Blue"})
	if got := br.value("#flt-album"); got != "Kind of Blue" {
		t.Errorf("the filtered list's album filter shows %q, want Kind of Blue", got)
	}
	br.shot("list-filtered")

	// The edit form starts from the album's label; emptying the field and
	// leaving it saves no album.
	br.clickNav(`//main//td[contains(@class,"actions")]/a[normalize-space()="Edit"]`)
	if got := br.value("#f-album"); got != "Kind of Blue" {
		t.Errorf("edit form album = %q, want Kind of Blue", got)
	}
	br.fill("#f-album", "")
	br.do(chromedp.Click(chromedp.CSS("#f-title")))
	br.shot("album-emptied")
	br.clickNav(`//main//button[normalize-space()="Save"]`)
	br.wantRows([]string{"Blue in Green", "0", ""}, []string{"Moment's Notice", "8", "Blue Train"})
	br.assertCleanConsole()
	br.assertConsoleCatchesCSP()
}
