package e2e_test

import (
	"path/filepath"
	"testing"

	"musicadmin/internal/apptest"
)

// TestBrowserBulkDelete ticks two of three songs on the list and deletes
// them through the confirmation page, as a user does; on the way, "Select
// all on this page" (shown by /static/bulk.js) ticks and unticks every row.
// Screenshots go under test-artifacts/screenshots/bulk-<backend>/.
func TestBrowserBulkDelete(t *testing.T) {
	chrome := chromiumPath(t)
	shots := filepath.Join(repoRoot(t), "test-artifacts", "screenshots")
	// SQLite only: the form and its script are the same on every backend,
	// and the action itself is tested on all four through HTTP.
	b := apptest.SQLite
	apptest.RequireBackend(t, b)
	app := apptest.NewApp(t, b)
	app.InsertSongs([]apptest.SongRow{{Title: "Blue in Green", Rating: 5}, {Title: "Freddie Freeloader", Rating: 4},
		{Title: "So What", Rating: 9}})
	br := newBrowser(t, chrome, app.URL, filepath.Join(shots, "bulk-"+b.Name))

	br.open("/login/")
	br.fill("#username", apptest.AdminUser)
	br.fill("#password", apptest.AdminPassword)
	br.clickNav(`//main//button[normalize-space()="Sign in"]`)
	br.wantPath("/")

	br.open("/songsview/list/")
	const selectAll = `//main//label[contains(@class,"select-all")]/input`
	checked := `Array.from(document.querySelectorAll("main input[name=ids]"), b => b.checked)`
	br.click(selectAll)
	if got := br.eval(checked); got != "[true,true,true]" {
		t.Errorf("after select all: %s", got)
	}
	br.wantText("main .bulk-status", "3 selected")
	br.click(selectAll)
	if got := br.eval(checked); got != "[false,false,false]" {
		t.Errorf("after unselect all: %s", got)
	}

	box := func(title string) string {
		return `//main//tr[td[not(contains(@class,"select"))][1][normalize-space()=` + jsString(title) + `]]//input[@name="ids"]`
	}
	br.click(box("Blue in Green"))
	br.click(box("So What"))
	br.wantText("main .bulk-status", "2 selected")
	if got := br.eval(`document.querySelector("main .select-all input").indeterminate`); got != "true" {
		t.Errorf("select all with 2 of 3 ticked: indeterminate = %s", got)
	}
	br.shot("two-selected")
	br.clickNav(`//main//div[contains(@class,"bulk-bar")]/button[normalize-space()="Delete selected"]`)
	br.wantPath("/songsview/action/delete")
	br.wantText("main h1", "Delete Songs")
	br.wantText("main .card p", "Delete 2 songs? This cannot be undone.")
	br.wantTexts("main ul.selected li", "Blue in Green", "So What")
	br.shot("confirm")
	br.clickNav(`//main//button[normalize-space()="Delete selected"]`)
	br.wantPath("/songsview/list/")
	br.wantTexts("main .flash", "Deleted 2 songs.")
	br.wantRows([]string{"Freddie Freeloader", "4", ""})
	br.shot("deleted")
	if songs := app.Songs(); len(songs) != 1 || songs[0].Title != "Freddie Freeloader" {
		t.Errorf("songs left = %v, want Freddie Freeloader", songs)
	}
	br.assertCleanConsole()
	br.assertConsoleCatchesCSP()
}
