package e2e_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"musicadmin/internal/apptest"
)

// TestChartPages opens the catalogue's charts in Chromium, light and dark:
// the SVG is drawn in the colours of chart.css (no inline style, which the
// Content-Security-Policy refuses: the console stays empty), a filter from
// the filter menu narrows it, and axe finds no serious or critical
// violation on any of them. Charts do not depend on the backend here
// (TestCharts compares their numbers on every backend), so SQLite only.
func TestChartPages(t *testing.T) {
	chrome := chromiumPath(t)
	axe := axeScript(t)
	apptest.RequireBackend(t, apptest.SQLite)
	app := apptest.NewApp(t, apptest.SQLite)
	var songs []apptest.SongRow
	for i := range 25 {
		album := app.InsertAlbum(fmt.Sprintf("Album %02d <b>&", i))
		for j := range i%4 + 1 {
			songs = append(songs, apptest.SongRow{Title: fmt.Sprintf("Song %d-%d", i, j), Rating: (i + j) % 10, Album: album})
		}
	}
	songs = append(songs, apptest.SongRow{Title: "No album", Rating: 3})
	app.InsertSongs(songs)

	br := newBrowser(t, chrome, app.URL, filepath.Join(repoRoot(t), "test-artifacts", "screenshots", "charts"))
	br.open("/login/")
	br.fill("#username", apptest.AdminUser)
	br.fill("#password", apptest.AdminPassword)
	br.clickNav(`//main//button[normalize-space()="Sign in"]`)
	br.wantPath("/")
	for _, scheme := range []string{"light", "dark"} {
		br.emulate(1280, scheme)
		for _, p := range []struct{ name, shot, path string }{
			{"songs by rating", "songs-by-rating", "/charts/songs-by-rating/"},
			{"albums by rating", "albums-by-rating", "/charts/albums-by-rating/"},
			{"albums by rating, filtered", "albums-by-rating-filtered", "/charts/albums-by-rating/?rating__gte=5&q=song"},
		} {
			br.open(p.path)
			br.wantScheme(p.name, scheme)
			br.wantStyled()
			// The marks take their colour from chart.css, not black.
			var fill string
			br.evalInto(`getComputedStyle(document.querySelector("svg .mark")).fill`, &fill)
			if fill == "" || fill == "rgb(0, 0, 0)" {
				t.Errorf("%s %s: a mark is filled %q: chart.css did not apply", scheme, p.name, fill)
			}
			br.axeCheck(axe, scheme+" chart "+p.name)
			br.shot(scheme + "-" + p.shot)
		}
		// The filter menu open, then a filter added from it.
		br.open("/charts/songs-by-rating/")
		br.click(`//header//details/summary[normalize-space()="Charts"]`)
		br.click(`//main//details[contains(@class,"filter-menu")]/summary`)
		br.axeCheck(axe, scheme+" chart, menus open")
		br.fill("#filter-rating-value", "5")
		br.selectLabel("#filter-rating-op", "≥")
		br.clickNav(`//main//form[@aria-label="Filter by Rating"]//button[normalize-space()="Add"]`)
		br.wantPath("/charts/songs-by-rating/")
		if got := br.query().Get("rating__gte"); got != "5" {
			t.Errorf("%s: the filter menu led to %s", scheme, br.location())
		}
		if n := br.count("main .chip"); n != 1 {
			t.Errorf("%s: %d chips after a filter", scheme, n)
		}
	}
	br.assertCleanConsole()
	br.assertConsoleCatchesCSP()
}
