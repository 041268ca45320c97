package e2e_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
)

// TestListsAndFormsFlow is issue 10's flow in a real browser, on SQLite and
// MongoDB: with more albums than a dropdown lists, add a song picking its
// album by typing three letters; filter the song list from the filter
// menu; go to page 2; export the filtered list as CSV; bulk-delete two
// songs; and hit the lost-update page (409) by saving one song from two
// tabs. Screenshots go under test-artifacts/screenshots/flow-<backend>/.
func TestListsAndFormsFlow(t *testing.T) {
	chrome := chromiumPath(t)
	shots := filepath.Join(repoRoot(t), "test-artifacts", "screenshots")
	t.Parallel()
	for _, b := range []apptest.Backend{apptest.SQLite, apptest.MongoDB} {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			apptest.RequireBackend(t, b)
			listsAndFormsFlow(t, b, chrome, filepath.Join(shots, "flow-"+b.Name))
		})
	}
}

// minRating is the rating the flow filters on: "Rating ≥ 5".
const minRating = 5

func listsAndFormsFlow(t *testing.T, b apptest.Backend, chrome, shotDir string) {
	app := apptest.NewApp(t, b)

	// 1. Behind the app's back: more albums than a dropdown lists, and 60
	// songs, rated 1..9 and 0 in turn, the first 20 on an album.
	names := []string{"Gianni Schicchi", "Giant Steps", "Kind of Blue"}
	for i := 1; i <= admin.ChoicesThreshold; i++ {
		names = append(names, fmt.Sprintf("Album %03d", i))
	}
	albums := app.InsertAlbums(names)
	var songs []apptest.SongRow
	for i := 1; i <= 60; i++ {
		s := apptest.SongRow{Title: fmt.Sprintf("Song %02d", i), Rating: i % 10}
		if i <= 20 {
			s.Album = albums[2+i]
		}
		songs = append(songs, s)
	}
	app.InsertSongs(songs)

	br := newBrowser(t, chrome, app.URL, shotDir)
	br.open("/login/")
	br.fill("#username", apptest.AdminUser)
	br.fill("#password", apptest.AdminPassword)
	br.clickNav(`//main//button[normalize-space()="Sign in"]`)
	br.wantPath("/")

	// 2. Add a song, its album picked by typing "gia" and the keyboard.
	br.open("/songsview/list/")
	br.clickNav(`//main//a[contains(@class,"btn")][contains(normalize-space(),"Add Song")]`)
	br.wantPath("/songsview/add")
	if n := br.count(`select[name="album"]`); n != 0 {
		t.Fatalf("the song form at %d albums still has a dropdown", len(names))
	}
	br.fill("#f-title", "Naima")
	br.fill("#f-rating", "9")
	br.do(chromedp.SendKeys(chromedp.CSS("#f-album"), "gia"))
	br.do(chromedp.WaitVisible(chromedp.CSS(`#f-album-listbox [role=option]`)))
	matches := br.texts(`#f-album-listbox [role=option]`)
	if !slices.Equal(sorted(matches), []string{"Gianni Schicchi", "Giant Steps"}) {
		t.Fatalf("matches of gia = %q, want Gianni Schicchi and Giant Steps", matches)
	}
	br.shot("album-matches")
	br.do(chromedp.SendKeys(chromedp.CSS("#f-album"),
		strings.Repeat(kb.ArrowDown, slices.Index(matches, "Giant Steps")+1)+kb.Enter))
	if got := br.value("#f-album"); got != "Giant Steps" {
		t.Errorf("the album field shows %q after the keys, want Giant Steps", got)
	}
	br.wantPath("/songsview/add") // Enter chose; it did not submit
	br.shot("album-chosen")
	br.clickNav(`//main//button[normalize-space()="Save"]`)
	br.wantPath("/songsview/list/")
	br.wantTexts("main .flash", "Added Song “Naima”.")
	br.wantText("main .count", "61 records")
	// By title, "Naima" comes before every "Song NN".
	if rows := br.rows(); len(rows) == 0 || !slices.Equal(rows[0], []string{"Naima", "9", "Giant Steps"}) {
		t.Errorf("first row after adding = %q, want Naima, 9, Giant Steps", rows)
	}
	if s, ok := app.Song("Naima"); !ok || s.Album != albums[1] || s.Rating != 9 {
		t.Errorf("stored %v, want rating 9 on Giant Steps (%s)", s, albums[1])
	}
	br.shot("song-added")
	// The head's buttons sit together at the right, not one adrift in the
	// middle of the line.
	var gap float64
	br.evalInto(`(() => { const [add, exp] = document.querySelectorAll("main .page-head .btn");
		return exp.getBoundingClientRect().left - add.getBoundingClientRect().right })()`, &gap)
	if gap > 32 {
		t.Errorf("%.0f px between Add Song and Export CSV, want them side by side", gap)
	}

	// 3. Filter from the menu: Rating ≥ 5. 30 seeded songs and Naima match.
	const wantMatches = 31
	br.click(`//main//details[contains(@class,"filter-menu")]/summary[normalize-space()="Add filter"]`)
	const ratingForm = `//main//form[@aria-label="Filter by Rating"]`
	br.do(chromedp.WaitVisible(ratingForm))
	br.selectLabel("#filter-rating-op", "≥")
	br.fill("#filter-rating-value", strconv.Itoa(minRating))
	br.shot("filter-menu")
	br.clickNav(ratingForm + `//button[normalize-space()="Add"]`)
	if got := br.query().Get("rating__gte"); got != strconv.Itoa(minRating) {
		t.Errorf("after Add the list asks rating__gte=%q, want %d (%s)", got, minRating, br.location())
	}
	chip := fmt.Sprintf("Rating ≥ %d", minRating)
	br.wantTexts("main ul.chips li.chip span", chip)
	br.wantText("main .count", fmt.Sprintf("%d records", wantMatches))
	page1 := br.rows()
	if len(page1) != admin.DefaultPageSize {
		t.Errorf("page 1 of the filtered list has %d rows, want %d", len(page1), admin.DefaultPageSize)
	}
	br.wantRatingsAtLeast(page1, minRating)
	br.wantText("main .pager .status", "Page 1 of 2")
	br.shot("filtered-page-1")

	// 4. Page 2, by its number: the filter stays.
	br.clickNav(`//main//nav[contains(@class,"pager")]//a[normalize-space()="2"]`)
	if got := br.query().Get("page"); got != "2" {
		t.Errorf("page = %q after clicking 2", got)
	}
	br.wantTexts("main ul.chips li.chip span", chip)
	br.wantText("main .pager .status", "Page 2 of 2")
	page2 := br.rows()
	if len(page2) != wantMatches-admin.DefaultPageSize {
		t.Errorf("page 2 has %d rows, want %d", len(page2), wantMatches-admin.DefaultPageSize)
	}
	br.wantRatingsAtLeast(page2, minRating)
	for _, r := range page2 {
		if slices.ContainsFunc(page1, func(p []string) bool { return p[0] == r[0] }) {
			t.Errorf("%q is on page 1 and page 2", r[0])
		}
	}
	br.shot("filtered-page-2")

	// 5. Export: the link carries the filter, not the page; the file holds
	// every matching row, with the session's cookie as a click would.
	var href string
	br.evalInto(`document.querySelector("main a[download]").getAttribute("href")`, &href)
	u, err := url.Parse(href)
	if err != nil || u.Path != "/songsview/export.csv" || u.Query().Get("rating__gte") != strconv.Itoa(minRating) || u.Query().Has("page") {
		t.Errorf("Export CSV href = %q, want /songsview/export.csv with rating__gte=%d and no page", href, minRating)
	}
	status, ctype, body := br.fetch(href)
	if status != 200 || !strings.HasPrefix(ctype, "text/csv") {
		t.Errorf("export: HTTP %d, Content-Type %q", status, ctype)
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(records) == 0 {
		t.Fatalf("export is not CSV (%v):\n%s", err, body)
	}
	if !slices.Equal(records[0], []string{"Title", "Rating", "Album"}) {
		t.Errorf("export header = %q", records[0])
	}
	if len(records)-1 != wantMatches {
		t.Errorf("export has %d rows, want %d", len(records)-1, wantMatches)
	}
	br.wantRatingsAtLeast(records[1:], minRating)
	if !slices.ContainsFunc(records[1:], func(r []string) bool { return slices.Equal(r, []string{"Naima", "9", "Giant Steps"}) }) {
		t.Errorf("export lacks Naima, 9, Giant Steps")
	}

	// 6. Bulk-delete two songs of page 2, through the confirmation page.
	if len(page2) < 2 {
		t.Fatalf("page 2 has %d rows: nothing to bulk-delete", len(page2))
	}
	gone := []string{page2[0][0], page2[1][0]}
	for _, title := range gone {
		br.click(`//main//tr[td[not(contains(@class,"select"))][1][normalize-space()=` + jsString(title) + `]]//input[@name="ids"]`)
	}
	br.wantText("main .bulk-status", "2 selected")
	br.shot("two-selected")
	br.clickNav(`//main//div[contains(@class,"bulk-bar")]/button[normalize-space()="Delete selected"]`)
	br.wantPath("/songsview/action/delete")
	br.wantText("main .card p", "Delete 2 songs? This cannot be undone.")
	br.wantTexts("main ul.selected li", gone...)
	br.shot("bulk-confirm")
	br.clickNav(`//main//button[normalize-space()="Delete selected"]`)
	// Back on the list the delete was asked from: filtered, at page 2.
	br.wantPath("/songsview/list/")
	if q := br.query(); q.Get("rating__gte") != strconv.Itoa(minRating) || q.Get("page") != "2" {
		t.Errorf("after the bulk delete: %s, want the filtered list at page 2", br.location())
	}
	br.wantTexts("main .flash", "Deleted 2 songs.")
	br.wantTexts("main ul.chips li.chip span", chip)
	br.wantText("main .count", fmt.Sprintf("%d records", wantMatches-2))
	br.wantText("main .pager .status", "Page 2 of 2")
	br.shot("bulk-deleted")
	for _, title := range gone {
		if _, ok := app.Song(title); ok {
			t.Errorf("%q is still stored after the bulk delete", title)
		}
		br.open("/songsview/list/?q=" + url.QueryEscape(title))
		br.wantText("main td.empty", "No records found.")
	}

	// 7. One song's edit form in two tabs of the same session: tab A
	// saves, then tab B's save answers 409 with B's input kept and A's
	// values shown as stored.
	id := app.SongID("Song 07")
	edit := "/songsview/edit/" + id
	br.open(edit)
	tabB := br.newTab()
	tabB.open(edit)
	tabB.wantText("main h1", "Edit Song")

	br.fill("#f-rating", "8")
	br.clickNav(`//main//button[normalize-space()="Save"]`)
	br.wantTexts("main .flash", "Saved Song “Song 07”.")
	br.shot("tab-a-saved")

	tabB.fill("#f-title", "Song 07 (tab B)")
	tabB.fill("#f-rating", "2")
	tabB.clickNavStatus(`//main//button[normalize-space()="Save"]`, 409)
	if got := tabB.texts("main .alert"); len(got) != 1 || !strings.Contains(got[0], "changed by someone else") {
		t.Errorf("tab B's 409 page alert = %q, want one saying the song was changed by someone else", got)
	}
	if got := tabB.value("#f-title"); got != "Song 07 (tab B)" {
		t.Errorf("tab B's title after 409 = %q, want its input kept", got)
	}
	if got := tabB.value("#f-rating"); got != "2" {
		t.Errorf("tab B's rating after 409 = %q, want its input kept", got)
	}
	tabB.wantText("#s-rating .value", "8")
	tabB.wantText("#s-title .value", "Song 07")
	tabB.shot("tab-b-409")
	if s, _ := app.SongByID(id); s.Title != "Song 07" || s.Rating != 8 {
		t.Errorf("after tab B's refused save: %v, want tab A's", s)
	}

	br.assertCleanConsole()
	// Chromium logs any page answered 4xx as a resource that failed to
	// load: that line for the 409 is the one message tab B may hold.
	if lines := tabB.consoleLines(); len(lines) != 1 || !strings.Contains(lines[0], "status of 409 (Conflict)") {
		t.Errorf("tab B's console holds %q, want only the 409 of its save", lines)
	}
	br.assertConsoleCatchesCSP()
}

// newTab opens a second tab in br's browser: same cookies, so same
// session. Its screenshots share br's folder and numbering.
func (br *browser) newTab() *browser {
	br.t.Helper()
	tab := &browser{t: br.t, base: br.base, shotDir: br.shotDir}
	ctx, cancel := chromedp.NewContext(br.ctx, chromedp.WithListener(tab.record))
	br.t.Cleanup(cancel)
	tab.ctx = ctx
	tab.shots = 50 // after br's, which number from 01
	if err := chromedp.Do(ctx); err != nil {
		br.t.Fatalf("open a second tab: %v", err)
	}
	return tab
}

// fetch gets path with the page's fetch (the page's cookies, its origin)
// and returns the status, the Content-Type and the body.
func (br *browser) fetch(path string) (status int, contentType, body string) {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`fetch(`+jsString(path)+`).then(async r =>
		({status: r.status, type: r.headers.get("Content-Type"), body: await r.text()}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		br.fatal("fetch %s: %v", path, err)
	}
	var res struct {
		Status int
		Type   string
		Body   string
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		br.fatal("fetch %s: %v", path, err)
	}
	return res.Status, res.Type, res.Body
}

// wantRatingsAtLeast checks the rating (the second cell) of every row.
func (br *browser) wantRatingsAtLeast(rows [][]string, least int) {
	br.t.Helper()
	for _, r := range rows {
		if len(r) < 2 {
			br.t.Errorf("row %q has no rating", r)
			continue
		}
		if n, err := strconv.Atoi(r[1]); err != nil || n < least {
			br.t.Errorf("row %q breaks the filter Rating ≥ %d", r, least)
		}
	}
}
