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

	// The list's album filter, the filter menu's album row, is the same
	// combobox, and the page's only album control.
	app.InsertSong("Moment's Notice", 8, ids[1])
	br.open("/songsview/list/")
	if n := br.count("main .lookup"); n != 1 {
		t.Errorf("the song list has %d searchable inputs, want the filter menu's album row only", n)
	}
	br.click(`//main//details[contains(@class,"filter-menu")]/summary`)
	const albumRow = `//main//form[@aria-label="Filter by Album"]`
	br.do(chromedp.WaitVisible(albumRow))
	if got := br.eval(`document.getElementById("filter-album-value").getAttribute("role")`); got != `"combobox"` {
		t.Fatalf("#filter-album-value role = %s, want combobox", got)
	}
	br.do(chromedp.SendKeys(chromedp.CSS("#filter-album-value"), "kin"))
	br.do(chromedp.WaitVisible(chromedp.CSS(`#filter-album-value-listbox [role=option]`)))
	br.do(chromedp.SendKeys(chromedp.CSS("#filter-album-value"), kb.ArrowDown+kb.Enter))
	if got := br.value("#filter-album-value"); got != "Kind of Blue" {
		t.Errorf("the album filter shows %q after Enter, want Kind of Blue", got)
	}
	br.wantPath("/songsview/list/") // Enter chose; it did not submit
	br.shot("list-filter-chosen")
	br.clickNav(albumRow + `//button[normalize-space()="Add"]`)
	if got := br.query().Get("album__eq"); got != ids[0] {
		t.Errorf("the filter asked for album %q, want %s (%s)", got, ids[0], br.location())
	}
	br.wantRows([]string{"Blue in Green", "0", "Kind of Blue"})
	br.wantTexts("main ul.chips li.chip span", "Album = Kind of Blue")
	br.shot("list-filtered")
	// Another album from the same row replaces it.
	br.click(`//main//details[contains(@class,"filter-menu")]/summary`)
	br.do(chromedp.WaitVisible(albumRow))
	br.do(chromedp.SendKeys(chromedp.CSS("#filter-album-value"), "train"))
	br.do(chromedp.WaitVisible(chromedp.CSS(`#filter-album-value-listbox [role=option]`)))
	br.do(chromedp.SendKeys(chromedp.CSS("#filter-album-value"), kb.ArrowDown+kb.Enter))
	br.clickNav(albumRow + `//button[normalize-space()="Add"]`)
	br.wantRows([]string{"Moment's Notice", "8", "Blue Train"})
	br.wantTexts("main ul.chips li.chip span", "Album = Blue Train")
	br.clickNav(`//main//ul[contains(@class,"chips")]//a[contains(@class,"chip-remove")]`)

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
