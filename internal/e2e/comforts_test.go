package e2e_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"musicadmin/internal/apptest"
)

// TestComforts checks in Chromium what only a browser shows (issue 20
// item 1): Escape closes the open top menu and the filter menu, giving the
// focus back to its button; opening "Add filter" leaves its button where
// it was; and at a phone's width (390 px) the search box shows its whole
// placeholder, an audit entry's card has no line with a label and no
// value, and a role's permissions stand in one column. Screenshots go to
// test-artifacts/screenshots/comforts/. Layout does not depend on the
// backend, so it runs on SQLite only.
func TestComforts(t *testing.T) {
	chrome := chromiumPath(t)
	apptest.RequireBackend(t, apptest.SQLite)
	app := apptest.NewApp(t, apptest.SQLite)
	app.InsertSong("Something", 7, app.InsertAlbum("Abbey Road"))

	br := newBrowser(t, chrome, app.URL, filepath.Join(repoRoot(t), "test-artifacts", "screenshots", "comforts"))
	br.open("/login/")
	br.fill("#username", apptest.AdminUser)
	br.fill("#password", apptest.AdminPassword)
	br.clickNav(`//main//button[normalize-space()="Sign in"]`)
	br.wantPath("/")

	for _, width := range []int64{1280, 390} {
		br.emulate(width, "light")
		br.open("/songsview/list/")
		br.click(`//nav//details[contains(@class,"dropdown")]/summary[normalize-space()="Model Views"]`)
		if br.count("details.dropdown[open]") != 1 {
			t.Fatalf("%d px: the Model Views menu did not open", width)
		}
		br.key(kb.Escape)
		if n := br.count("details.dropdown[open]"); n != 0 {
			t.Errorf("%d px: Escape left %d menus open", width, n)
		}
		if got := br.focused(); !strings.Contains(got, "Model Views") {
			t.Errorf("%d px: after Escape the focus is on %s, want the menu's button", width, got)
		}

		// The filter menu opens under the tools; its button stays put.
		before := br.eval(`JSON.stringify(document.querySelector("details.filter-menu > summary").getBoundingClientRect().top)`)
		br.click(`//main//details[contains(@class,"filter-menu")]/summary`)
		after := br.eval(`JSON.stringify(document.querySelector("details.filter-menu > summary").getBoundingClientRect().top)`)
		if before != after {
			t.Errorf("%d px: opening Add filter moved its button from y=%s to y=%s", width, before, after)
		}
		br.shot(fmt.Sprintf("%d-filter-menu-open", width))
		br.key(kb.Escape)
		if br.count("details.filter-menu[open]") != 0 {
			t.Errorf("%d px: Escape left the filter menu open", width)
		}
	}

	// A phone: 390 px.
	br.emulate(390, "light")
	br.open("/users/list/")
	var fits bool
	br.evalInto(`(() => {
		const i = document.querySelector("#q"), s = getComputedStyle(i);
		const c = document.createElement("canvas").getContext("2d");
		c.font = s.font;
		const room = i.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
		return c.measureText(i.placeholder).width <= room;
	})()`, &fits)
	if !fits {
		t.Errorf("390 px: the users' search placeholder %q is cut", br.eval(`document.querySelector("#q").placeholder`))
	}
	br.wantFits("390 users")
	br.shot("390-users")

	br.open("/auditlog/list/")
	var empty []string
	br.evalInto(`Array.from(document.querySelectorAll("main table td[data-label]"))
		.filter(td => td.getClientRects().length > 0 && td.textContent.trim() === "")
		.map(td => td.dataset.label)`, &empty)
	if len(empty) > 0 {
		t.Errorf("390 px: audit cards show labels without values: %q", empty)
	}
	if br.count("main table td time[datetime]") == 0 {
		t.Error("390 px: the audit log's times are not <time> elements")
	}
	br.wantFits("390 audit log")
	br.shot("390-audit-log")

	br.open("/roles/add")
	var lefts []int
	br.evalInto(`Array.from(new Set(Array.from(document.querySelectorAll(".choices input[type=checkbox]"),
		i => Math.round(i.getBoundingClientRect().left))))`, &lefts)
	if len(lefts) != 1 {
		t.Errorf("390 px: the role form's permission boxes stand at %d different x positions %v, want one column", len(lefts), lefts)
	}
	br.wantFits("390 role form")
	br.shot("390-role-form")
	br.assertCleanConsole()
}
