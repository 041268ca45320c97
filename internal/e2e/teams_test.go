package e2e_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"musicadmin/internal/apptest"
)

// TestTeamsFlow walks issue 9's path in two real browsers, an Admin's and a
// new user's, with screenshots under test-artifacts/screenshots/teams-<backend>/:
// the Admin creates a ReadOnly user in the browser; that user logs in, sees
// the lists and show pages, no Add, Edit or Delete and no Security menu, and
// gets 403 on write routes and on /users/list/ even when typed; the Admin
// gives the role can_add on songsview and the user can then add a song and
// nothing else; every change and login shows in the Audit Log with the
// right user and old and new values, and on the song's History page.
func TestTeamsFlow(t *testing.T) {
	chrome := chromiumPath(t)
	shots := filepath.Join(repoRoot(t), "test-artifacts", "screenshots")
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		t.Parallel()
		app := apptest.NewApp(t, b)
		album := app.InsertAlbum("Abbey Road")
		app.InsertSong("Something", 5, album)
		admin := newBrowser(t, chrome, app.URL, filepath.Join(shots, "teams-"+b.Name, "admin"))
		reader := newBrowser(t, chrome, app.URL, filepath.Join(shots, "teams-"+b.Name, "reader"))
		teamsFlow(t, admin, reader)
		admin.assertCleanConsole()
		// The reader's console holds the 403s of the URLs they typed, as a
		// browser reports any 4xx page, and nothing else.
		var other []string
		forbidden := 0
		for _, l := range reader.consoleLines() {
			if strings.Contains(l, "status of 403 (Forbidden)") {
				forbidden++
				continue
			}
			other = append(other, l)
		}
		if forbidden != 7 || len(other) > 0 {
			t.Errorf("the reader's console: %d 403s (want the 7 typed) and %q", forbidden, other)
		}
	})
}

const (
	readerName = "rita"
	readerPass = "Correct horse 9!"
	readerSong = "Here Comes the Sun"
)

func login(br *browser, username, password string) {
	br.t.Helper()
	br.open("/login/")
	br.fill("#username", username)
	br.fill("#password", password)
	br.clickNav(`//main//button[normalize-space()="Sign in"]`)
	br.wantPath("/")
}

func teamsFlow(t *testing.T, admin, reader *browser) {
	// 1. The Admin creates a ReadOnly user through Security › List Users.
	login(admin, apptest.AdminUser, apptest.AdminPassword)
	admin.click(`//header//details/summary[normalize-space()="Security"]`)
	admin.do(chromedp.WaitVisible(`//header//details//a[normalize-space()="List Users"]`))
	admin.shot("security-menu")
	admin.clickNav(`//header//details//a[normalize-space()="List Users"]`)
	admin.wantPath("/users/list/")
	admin.clickNav(`//main//a[contains(@class,"btn")][contains(normalize-space(),"Add User")]`)
	admin.wantPath("/users/add")
	admin.fill("#f-username", readerName)
	admin.fill("#f-first_name", "Rita")
	admin.fill("#f-last_name", "Reader")
	admin.fill("#f-email", "rita@example.com")
	admin.fill("#f-password", readerPass)
	admin.fill("#f-password_confirm", readerPass)
	admin.click(`//main//fieldset[@id="f-roles"]//label[normalize-space()="ReadOnly"]/input`)
	admin.shot("user-add")
	admin.clickNav(`//main//button[normalize-space()="Save"]`)
	admin.wantPath("/users/list/")
	if !slices.Contains(admin.column(0), readerName) {
		t.Fatalf("the users list holds %q, want %s in it", admin.column(0), readerName)
	}
	admin.shot("user-added")

	// 2. The new user logs in and may only read.
	login(reader, readerName, readerPass)
	reader.shot("reader-index")
	// Charts: the songs' charts need can_list on songsview, which the
	// reader's role holds.
	if got := reader.texts("header .menu summary"); !slices.Equal(got, []string{"Model Views", "Charts", "API"}) {
		t.Errorf("the reader's menu categories = %q, want only Model Views, Charts and API", got)
	}
	reader.open("/songsview/list/")
	reader.wantRows([]string{"Something", "5", "Abbey Road"})
	noWriteControls(reader, "the reader's song list")
	reader.shot("reader-song-list")
	reader.clickNav(`//main//td[contains(@class,"actions")]/a[normalize-space()="Show"]`)
	reader.wantPathPrefix("/songsview/show/")
	noWriteControls(reader, "the reader's show page")
	reader.shot("reader-song-show")
	for _, path := range []string{"/songsview/add", "/albumview/add", "/users/list/", "/roles/list/", "/auditlog/list/"} {
		reader.navigateStatus(chromedp.Navigate(reader.base+path), "open "+path, 403)
	}
	reader.wantText("main section p", "You do not have permission to do this.")
	reader.shot("reader-403")

	// 3. The Admin gives ReadOnly can_add on songsview.
	admin.open("/roles/list/")
	admin.clickNav(`//main//tr[td[normalize-space()="ReadOnly"]]//a[normalize-space()="Edit"]`)
	admin.wantPathPrefix("/roles/edit/")
	admin.click(`//main//fieldset[@id="f-permissions"]//label[contains(normalize-space(),"Song View: can add")]/input`)
	admin.shot("role-edit")
	admin.clickNav(`//main//button[normalize-space()="Save"]`)
	admin.wantPath("/roles/list/")
	admin.shot("role-saved")

	// 4. The user may now add a song, and nothing else.
	reader.open("/songsview/list/")
	reader.clickNav(`//main//a[contains(@class,"btn")][contains(normalize-space(),"Add Song")]`)
	reader.wantPath("/songsview/add")
	reader.fill("#f-title", readerSong)
	reader.fill("#f-rating", "8")
	reader.shot("reader-song-add")
	reader.clickNav(`//main//button[normalize-space()="Save"]`)
	reader.wantPath("/songsview/list/")
	reader.wantTexts("main .flash", "Added Song “"+readerSong+"”.")
	if n := reader.count(`main a[href*="/edit/"], main a[href*="/delete/"], main input[name=ids]`); n != 0 {
		t.Errorf("after can_add the reader sees %d edit, delete or bulk controls", n)
	}
	reader.shot("reader-song-added")
	for _, path := range []string{"/albumview/add", "/users/list/"} {
		reader.navigateStatus(chromedp.Navigate(reader.base+path), "open "+path, 403)
	}

	// 5. The Audit Log: the user's creation, the login, the role's new
	// permission (old and new values) and the song added by the reader.
	admin.click(`//header//details/summary[normalize-space()="Security"]`)
	admin.clickNav(`//header//details//a[normalize-space()="Audit Log"]`)
	admin.wantPath("/auditlog/list/")
	admin.shot("audit-log")
	rows := admin.rows()
	has := func(user, action, view, label string) bool {
		return slices.ContainsFunc(rows, func(r []string) bool {
			return slices.Contains(r, user) && slices.Contains(r, action) &&
				(view == "" || slices.Contains(r, view)) && (label == "" || slices.Contains(r, label))
		})
	}
	for _, want := range [][4]string{
		{apptest.AdminUser, "login", "", ""},
		{apptest.AdminUser, "create", "List Users", readerName},
		{readerName, "login", "", ""},
		{apptest.AdminUser, "update", "List Roles", "ReadOnly"},
		{readerName, "create", "Song View", readerSong},
	} {
		if !has(want[0], want[1], want[2], want[3]) {
			t.Errorf("the audit log has no row %q:\n%q", want, rows)
		}
	}
	// The role's update, opened: the permission added, old and new.
	admin.clickNav(`//main//tr[td[normalize-space()="update"] and td[normalize-space()="List Roles"]]//a`)
	admin.wantPathPrefix("/auditlog/show/")
	if body := admin.texts("main dl.details dd"); !strings.Contains(strings.Join(body, " "), "can add on songsview") &&
		!strings.Contains(strings.Join(body, " "), "can_add:songsview") {
		t.Errorf("the role's audit entry does not name the permission added: %q", body)
	}
	admin.shot("audit-role-update")

	// The song's History page names the reader.
	admin.open("/songsview/list/?q=" + strings.ReplaceAll(readerSong, " ", "+"))
	admin.clickNav(`//main//td[contains(@class,"actions")]/a[normalize-space()="Show"]`)
	admin.clickNav(`//main//a[normalize-space()="History"]`)
	admin.wantPathPrefix("/songsview/history/")
	hist := strings.Join(admin.texts("main table.history td"), " | ")
	if !strings.Contains(hist, readerName) || !strings.Contains(hist, "create") || !strings.Contains(hist, readerSong) {
		t.Errorf("the song's history = %q, want its creation by %s", hist, readerName)
	}
	admin.shot("song-history")
}

// noWriteControls checks the page offers nothing that writes.
func noWriteControls(br *browser, what string) {
	br.t.Helper()
	if n := br.count(`main a[href$="/add"], main a[href*="/edit/"], main a[href*="/delete/"], main input[name=ids], main a[href*="export.csv"]`); n != 0 {
		br.t.Errorf("%s shows %d add, edit, delete, bulk or export controls", what, n)
	}
}
