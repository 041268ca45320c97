package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/access"
	"musicadmin/internal/apptest"
)

// roleWith creates the role name holding perms on songsview and returns a
// client logged in as a new user holding it.
func roleWith(t *testing.T, app *apptest.App, username, name string, perms ...string) *apptest.Client {
	t.Helper()
	ctx := context.Background()
	id, err := app.Data.Accounts().ImportRole(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var ps []access.Permission
	for _, p := range perms {
		ps = append(ps, access.On("songsview", p))
	}
	if err := app.Data.Accounts().ImportPermissions(ctx, id, ps, []string{"songsview"}); err != nil {
		t.Fatal(err)
	}
	c, _ := roleUser(t, app, username, name)
	return c
}

// buttonNames returns the names of the main form's submit buttons, and
// whether it links to href with the text "Delete".
func buttonNames(r *apptest.Response) []string {
	var out []string
	r.Doc.Find("main form button[type=submit]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		out = append(out, name+"="+strings.TrimSpace(s.Text()))
	})
	return out
}

// TestSaveButtons: the add and edit forms offer Django admin's "Save and
// add another" (_addanother) and "Save and continue editing" (_continue)
// beside Save; each leads where its name says, with its flash, and Save
// alone still leads to the list. The edit form links to the delete
// confirmation for a user who may delete, and only for them; a button the
// user may not follow is not offered, and posting it leads to the list.
func TestSaveButtons(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.LoggedIn()
		want := []string{"=Save", "_addanother=Save and add another", "_continue=Save and continue editing"}
		if got := buttonNames(c.Get("/songsview/add")); !slices.Equal(got, want) {
			t.Errorf("add form buttons = %q, want %q", got, want)
		}

		c.Submit("/songsview/add", url.Values{"title": {"One"}, "rating": {"1"}, "_addanother": {"1"}}).
			ExpectRedirect(t, "save and add another", "/songsview/add")
		if got := c.Get("/songsview/add").Flashes(); !slices.Equal(got, []string{"Added Song “One”. You may add another song below."}) {
			t.Errorf("flash after save and add another = %q", got)
		}
		c.Submit("/songsview/add", url.Values{"title": {"Two"}, "rating": {"2"}, "_continue": {"1"}}).
			ExpectRedirect(t, "save and continue", "/songsview/edit/"+url.PathEscape(app.SongID("Two")))
		two := app.SongID("Two")
		edit := c.Get("/songsview/edit/" + two)
		if got := edit.Flashes(); !slices.Equal(got, []string{"Added Song “Two”. You may edit it again below."}) {
			t.Errorf("flash after save and continue = %q", got)
		}
		if got := buttonNames(edit); !slices.Equal(got, want) {
			t.Errorf("edit form buttons = %q, want %q", got, want)
		}
		if href, _ := edit.Doc.Find(`main form a.danger`).Attr("href"); href != "/songsview/delete/"+two {
			t.Errorf("edit form's Delete link = %q", href)
		}

		c.Submit("/songsview/edit/"+two, url.Values{"title": {"Two"}, "rating": {"3"}, "_continue": {"1"}}).
			ExpectRedirect(t, "edit, continue", "/songsview/edit/"+two)
		c.Submit("/songsview/edit/"+two, url.Values{"title": {"Two"}, "rating": {"4"}, "_addanother": {"1"}}).
			ExpectRedirect(t, "edit, add another", "/songsview/add")
		c.Submit("/songsview/edit/"+two, url.Values{"title": {"Two"}, "rating": {"5"}}).
			ExpectRedirect(t, "edit, save", "/songsview/list/")
		if s, _ := app.Song("Two"); s.Rating != 5 {
			t.Errorf("rating after three saves = %d, want 5", s.Rating)
		}
		// A refused save stays on the form whatever the button.
		c.Submit("/songsview/add", url.Values{"title": {"One"}, "rating": {"1"}, "_addanother": {"1"}}).
			ExpectStatus(t, "duplicate, add another", http.StatusUnprocessableEntity)

		// An editor who may neither add nor delete: no such button or link,
		// and the button posted anyway leads to the list.
		editor := roleWith(t, app, "editor", "Editor", access.CanList, access.CanShow, access.CanEdit)
		edit = editor.Get("/songsview/edit/" + two)
		edit.ExpectStatus(t, "editor's edit form", http.StatusOK)
		if got, want := buttonNames(edit), []string{"=Save", "_continue=Save and continue editing"}; !slices.Equal(got, want) {
			t.Errorf("editor's buttons = %q, want %q", got, want)
		}
		if n := edit.Doc.Find(`a[href*="/delete/"]`).Length(); n != 0 {
			t.Errorf("editor without can_delete sees %d delete links", n)
		}
		editor.Submit("/songsview/edit/"+two, url.Values{"title": {"Two"}, "rating": {"6"}, "_addanother": {"1"}}).
			ExpectRedirect(t, "editor, add another", "/songsview/list/")
	})
}

// TestListComforts: the row checkboxes are the first column; the column
// the list is sorted by says so (aria-sort), the others do not; counts
// have thousands separators; a user without bulk actions has no checkbox
// column.
func TestListComforts(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		songs := make([]apptest.SongRow, 1001)
		for i := range songs {
			songs[i] = apptest.SongRow{Title: fmt.Sprintf("Song %04d", i), Rating: i % 10}
		}
		app.InsertSongs(songs)
		c := app.LoggedIn()

		r := c.Get("/songsview/list/?sort=-rating")
		r.ExpectStatus(t, "list", http.StatusOK)
		if got := r.Text(".count"); got != "1,001 records" {
			t.Errorf("count = %q, want 1,001 records", got)
		}
		if got := r.Text(".pager .status"); got != "Page 1 of 41" {
			t.Errorf("pager = %q", got)
		}
		first := r.Doc.Find("thead tr th").First()
		if !first.HasClass("select") {
			t.Errorf("first header is %q, want the checkbox column", first.Text())
		}
		r.Doc.Find("tbody tr").Each(func(i int, tr *goquery.Selection) {
			if tr.Find("td").First().Find(`input[type=checkbox][name=ids]`).Length() != 1 {
				t.Errorf("row %d: first cell holds no checkbox", i)
			}
		})
		sorts := map[string]string{}
		r.Doc.Find("thead th").Each(func(_ int, th *goquery.Selection) {
			if v, ok := th.Attr("aria-sort"); ok {
				sorts[strings.TrimSpace(th.Text())] = v
			}
		})
		if len(sorts) != 1 || sorts["Rating"] != "descending" {
			t.Errorf("aria-sort = %v, want Rating descending only", sorts)
		}
		if got := c.Get("/songsview/list/?sort=title").Doc.Find(`thead th[aria-sort="ascending"]`).Text(); strings.TrimSpace(got) != "Title" {
			t.Errorf("ascending column = %q", got)
		}

		reader, _ := roleUser(t, app, "reader", access.ReadOnlyRole)
		rr := reader.Get("/songsview/list/")
		if rr.Doc.Find("th.select, td.select, input[name=ids]").Length() != 0 {
			t.Error("a reader without bulk actions has a checkbox column")
		}
		if got := strings.TrimSpace(rr.Doc.Find("tbody tr td").First().Text()); got != "Song 0000" {
			t.Errorf("reader's first cell = %q, want the title", got)
		}
	})
}

// crumbs returns the breadcrumbs of a page as "title>href" ("title" alone
// for a step that does not link).
func crumbs(r *apptest.Response) []string {
	var out []string
	r.Doc.Find(`nav[aria-label=Breadcrumb] li`).Each(func(_ int, li *goquery.Selection) {
		s := strings.TrimSpace(li.Text())
		if href, ok := li.Find("a").Attr("href"); ok {
			s += ">" + href
		}
		out = append(out, s)
	})
	return out
}

// TestBreadcrumbs: every page of a logged-in user says where it is, each
// step above it a link; the login page has none.
func TestBreadcrumbs(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		id := app.InsertSong("Yesterday", 9, "")
		c := app.LoggedIn()
		for _, tc := range []struct {
			path string
			want []string
		}{
			{"/", []string{"Home"}},
			{"/songsview/list/", []string{"Home>/", "Song View"}},
			{"/songsview/add", []string{"Home>/", "Song View>/songsview/list/", "Add Song"}},
			{"/songsview/show/" + id, []string{"Home>/", "Song View>/songsview/list/", "Yesterday"}},
			{"/songsview/edit/" + id, []string{"Home>/", "Song View>/songsview/list/", "Yesterday>/songsview/show/" + id, "Edit"}},
			{"/songsview/delete/" + id, []string{"Home>/", "Song View>/songsview/list/", "Yesterday>/songsview/show/" + id, "Delete"}},
			{"/songsview/history/" + id, []string{"Home>/", "Song View>/songsview/list/", "Yesterday>/songsview/show/" + id, "History"}},
			{"/users/password", []string{"Home>/", "Change your password"}},
		} {
			r := c.Get(tc.path)
			r.ExpectStatus(t, tc.path, http.StatusOK)
			if got := crumbs(r); !slices.Equal(got, tc.want) {
				t.Errorf("%s: breadcrumbs %q, want %q", tc.path, got, tc.want)
			}
			if got := r.Text(`nav[aria-label=Breadcrumb] [aria-current=page]`); got != tc.want[len(tc.want)-1] {
				t.Errorf("%s: current step %q", tc.path, got)
			}
		}
		if got := crumbs(app.Client().Get("/login/")); len(got) != 0 {
			t.Errorf("login page breadcrumbs = %q", got)
		}
	})
}

var isoUTC = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)

// TestAuditInHumanTerms: the audit log and a record's history show views
// by title and fields by label, and times as a person reads them, each in
// a <time> holding the exact UTC value; nothing shows a view's or a
// field's internal name.
func TestAuditInHumanTerms(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.LoggedIn()
		c.Submit("/songsview/add", url.Values{"title": {"Blackbird"}, "rating": {"3"}}).
			ExpectRedirect(t, "add", "/songsview/list/")
		id := app.SongID("Blackbird")
		c.Submit("/songsview/edit/"+id, url.Values{"title": {"Blackbird (take 2)"}, "rating": {"4"}}).
			ExpectRedirect(t, "edit", "/songsview/list/")

		wantTime := func(where string, s *goquery.Selection) {
			t.Helper()
			dt, ok := s.Attr("datetime")
			if !ok || !isoUTC.MatchString(dt) {
				t.Errorf("%s: <time datetime=%q>", where, dt)
				return
			}
			at, _ := time.Parse(time.RFC3339Nano, dt)
			if got, want := strings.TrimSpace(s.Text()), at.Format("2 Jan 2006, 15:04:05")+" UTC"; got != want {
				t.Errorf("%s: time reads %q, want %q", where, got, want)
			}
		}

		h := c.Get("/songsview/history/" + id)
		h.ExpectStatus(t, "history", http.StatusOK)
		times := h.Doc.Find("table.history tbody td time")
		if times.Length() != 2 {
			t.Fatalf("history has %d times, want 2", times.Length())
		}
		times.Each(func(_ int, s *goquery.Selection) { wantTime("history", s) })
		if got := h.Texts("table.history tbody tr:first-child dl.changes dt"); !slices.Equal(got, []string{"Title", "Rating"}) {
			t.Errorf("history's changed fields = %q, want labels", got)
		}
		if got := h.Text("table.history tbody tr:first-child dl.changes dd ins"); got != "Blackbird (take 2)" {
			t.Errorf("history's new title = %q", got)
		}

		l := c.Get("/auditlog/list/?view_name=songsview")
		l.ExpectStatus(t, "audit log", http.StatusOK)
		views := l.Texts(`tbody td[data-label="View"]`)
		if len(views) != 2 || views[0] != "Song View" || views[1] != "Song View" {
			t.Errorf("audit log views = %q, want Song View", views)
		}
		l.Doc.Find(`tbody td[data-label="Time (UTC)"]`).Each(func(i int, td *goquery.Selection) {
			wantTime(fmt.Sprintf("audit log row %d", i), td.Find("time"))
		})
		if strings.Contains(l.Doc.Find("main table").Text(), "songsview") {
			t.Error("the audit log shows the view's internal name")
		}
		if got := l.Texts(".chips .chip > span"); len(got) != 1 || !strings.HasSuffix(got[0], "Song View") {
			t.Errorf("the view filter's chip = %q, want the view's title", got)
		}

		// An entry's own page: the same, its changes by label.
		href, _ := l.Doc.Find(`tbody tr:first-child a[href^="/auditlog/show/"]`).First().Attr("href")
		s := c.Get(href)
		s.ExpectStatus(t, "audit entry "+href, http.StatusOK)
		wantTime("entry page", s.Doc.Find("dl.details time"))
		if got := s.Texts("dl.details dl.changes dt"); !slices.Equal(got, []string{"Title", "Rating"}) {
			t.Errorf("entry page's changed fields = %q", got)
		}
		if text := s.Doc.Find("dl.details").Text(); strings.Contains(text, "songsview") || !strings.Contains(text, "Song View") {
			t.Errorf("entry page's view: %q", text)
		}
	})
}

// TestErrorPagesInLayout: an unknown address and a forbidden page answer
// in the app's layout, with the menu and the user bar of a logged-in user;
// to someone not logged in the 404 shows no menu, no user and no other
// page's data.
func TestErrorPagesInLayout(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.LoggedIn()
		r := c.Get("/no-such-page")
		r.ExpectStatus(t, "unknown page", http.StatusNotFound)
		if got := r.Texts("nav .menu summary"); !slices.Contains(got, "Model Views") || !slices.Contains(got, "Security") {
			t.Errorf("404 menu = %q", got)
		}
		if got := r.Text(".account .user"); got != apptest.AdminUser {
			t.Errorf("404 user bar = %q", got)
		}
		if got := r.Text("main p"); got != "There is no page at this address." {
			t.Errorf("404 message = %q", got)
		}
		if got := crumbs(r); !slices.Equal(got, []string{"Home>/", "Not Found"}) {
			t.Errorf("404 breadcrumbs = %q", got)
		}

		reader, _ := roleUser(t, app, "reader", access.ReadOnlyRole)
		f := reader.Get("/songsview/add")
		f.ExpectStatus(t, "reader adds", http.StatusForbidden)
		if got := f.Texts("nav .menu summary"); !slices.Contains(got, "Model Views") || slices.Contains(got, "Security") {
			t.Errorf("403 menu = %q, want Model Views and no Security", got)
		}
		if got := f.Text(".account .user"); got != "reader" {
			t.Errorf("403 user bar = %q", got)
		}
		if got := reader.Get("/no-such-page").Texts("nav .menu summary"); slices.Contains(got, "Security") {
			t.Errorf("reader's 404 menu = %q", got)
		}

		anon := app.Client().Get("/no-such-page")
		anon.ExpectStatus(t, "anonymous unknown page", http.StatusNotFound)
		if anon.Doc.Find("nav .menu, .account, nav[aria-label=Breadcrumb]").Length() != 0 ||
			strings.Contains(anon.Body, apptest.AdminUser) || strings.Contains(anon.Body, "Song View") {
			t.Errorf("anonymous 404 shows what only a user may see:\n%s", anon.Body)
		}
		if got := anon.Text("main p"); got != "There is no page at this address." {
			t.Errorf("anonymous 404 message = %q", got)
		}
	})
}

// TestClearedNumberRefused: a number posted empty is refused as Django
// refuses it (422, "This field is required." beside it, the input kept,
// nothing written), while a form leaving the field out stores the
// default; the add form starts at the default, and the required fields'
// controls say they are required.
func TestClearedNumberRefused(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.LoggedIn()
		add := c.Get("/songsview/add")
		if got := add.InputValue("rating"); got != "0" {
			t.Errorf("the add form's rating starts at %q, want 0", got)
		}
		for _, name := range []string{"title", "rating"} {
			if _, ok := add.Doc.Find("#f-" + name).Attr("required"); !ok {
				t.Errorf("input %s is not marked required", name)
			}
			if got := add.Text(`label[for="f-` + name + `"] .visually-hidden`); got != "(required)" {
				t.Errorf("label of %s tells a screen reader %q", name, got)
			}
		}
		if _, ok := add.Doc.Find("#f-album").Attr("required"); ok {
			t.Error("the optional album is marked required")
		}

		r := c.Submit("/songsview/add", url.Values{"title": {"Cleared"}, "rating": {""}})
		r.ExpectStatus(t, "cleared rating", http.StatusUnprocessableEntity)
		if got := r.FieldError("rating"); got != "This field is required." {
			t.Errorf("cleared rating's message = %q", got)
		}
		if got := r.InputValue("title"); got != "Cleared" {
			t.Errorf("title not kept: %q", got)
		}
		if _, stored := app.Song("Cleared"); stored {
			t.Error("a song was stored with a cleared rating")
		}
		c.Submit("/songsview/add", url.Values{"title": {"Absent"}}).ExpectRedirect(t, "no rating field", "/songsview/list/")
		if s, ok := app.Song("Absent"); !ok || s.Rating != 0 {
			t.Errorf("song without a rating field = %v (stored %v), want rating 0", s, ok)
		}

		id := app.SongID("Absent")
		c.Submit("/songsview/edit/"+id, url.Values{"title": {"Absent"}, "rating": {"7"}}).ExpectRedirect(t, "rate", "/songsview/list/")
		r = c.Submit("/songsview/edit/"+id, url.Values{"title": {"Absent"}, "rating": {"  "}})
		r.ExpectStatus(t, "cleared rating on edit", http.StatusUnprocessableEntity)
		if got := r.FieldError("rating"); got != "This field is required." {
			t.Errorf("edit's cleared rating message = %q", got)
		}
		if s, _ := app.Song("Absent"); s.Rating != 7 {
			t.Errorf("a refused edit changed the rating to %d", s.Rating)
		}
	})
}
