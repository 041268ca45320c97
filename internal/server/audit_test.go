package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// entry is an audit entry as the tests compare it.
type entry struct {
	Username, Action, View, RecordID, RecordLabel string
	Changes                                       []audit.Change
}

// entries reads the audit log through the backend, oldest first.
func entries(t *testing.T, app *apptest.App) []entry {
	t.Helper()
	m := app.Data.Audit().Entries()
	res, err := m.List(context.Background(), datamodel.Query{Sort: m.Schema().Field("at"), Limit: 1000, NoCount: true})
	if err != nil {
		t.Fatalf("list audit entries: %v", err)
	}
	out := make([]entry, 0, len(res.Records))
	for _, r := range res.Records {
		changes, err := audit.ParseChanges(r.Values["changes"])
		if err != nil {
			t.Fatalf("entry %s: changes %q: %v", r.ID, r.Values["changes"], err)
		}
		s := func(k string) string { v, _ := r.Values[k].(string); return v }
		out = append(out, entry{Username: s("username"), Action: s("action"), View: s("view_name"),
			RecordID: s("record_id"), RecordLabel: s("record_label"), Changes: changes})
	}
	return out
}

func findEntries(all []entry, action, recordID string) []entry {
	var out []entry
	for _, e := range all {
		if e.Action == action && (recordID == "" || e.RecordID == recordID) {
			out = append(out, e)
		}
	}
	return out
}

// TestAuditLogRecordsEveryChange: logins, failed logins, logouts, and
// every create, update, delete and bulk delete through the web write one
// entry each, with the server's username, the view, the record and, for
// updates, each changed field's old and new value (references by label
// and id); the password tried is never recorded.
func TestAuditLogRecordsEveryChange(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		stranger := app.Client()
		r := stranger.Submit("/login/", url.Values{"username": {"mallory"}, "password": {"hunter2-secret"}})
		r.ExpectStatus(t, "failed login", http.StatusOK)

		c := app.LoggedIn()
		abbey := app.InsertAlbum("Abbey Road")
		letItBe := app.InsertAlbum("Let It Be")
		r = c.Submit("/songsview/add", url.Values{"title": {"Something"}, "rating": {"3"}, "album": {abbey}})
		r.ExpectStatus(t, "add song", http.StatusFound)
		song := app.SongID("Something")
		// The form's username field is not the actor: the session's is.
		r = c.Submit("/songsview/edit/"+song, url.Values{"title": {"Something"}, "rating": {"5"},
			"album": {letItBe}, "username": {"someone-else"}})
		r.ExpectStatus(t, "edit song", http.StatusFound)
		// Saved unchanged: nothing to record.
		c.Submit("/songsview/edit/"+song, url.Values{"title": {"Something"}, "rating": {"5"}, "album": {letItBe}}).
			ExpectStatus(t, "save unchanged", http.StatusFound)
		c.Submit("/albumview/delete/"+abbey, nil).ExpectStatus(t, "delete album", http.StatusFound)
		ids := app.InsertSongs([]apptest.SongRow{{Title: "One"}, {Title: "Two"}})
		form := url.Values{"ids": ids, "confirm": {"1"}, "csrf_token": {c.CSRF("/songsview/list/")}}
		c.Post("/songsview/action/delete", form).ExpectStatus(t, "bulk delete", http.StatusFound)
		c.Post("/logout/", url.Values{"csrf_token": {c.CSRF("/")}}).ExpectStatus(t, "logout", http.StatusFound)

		all := entries(t, app)
		if got := findEntries(all, audit.ActionLoginFailed, ""); len(got) != 1 || got[0].Username != "mallory" {
			t.Errorf("failed logins = %+v, want one by mallory", got)
		}
		if got := findEntries(all, audit.ActionLogin, ""); len(got) != 1 || got[0].Username != apptest.AdminUser {
			t.Errorf("logins = %+v, want one by %s", got, apptest.AdminUser)
		}
		if got := findEntries(all, audit.ActionLogout, ""); len(got) != 1 || got[0].Username != apptest.AdminUser {
			t.Errorf("logouts = %+v, want one by %s", got, apptest.AdminUser)
		}
		created := findEntries(all, audit.ActionCreate, song)
		wantCreate := []audit.Change{{Field: "title", New: "Something"}, {Field: "rating", New: "3"},
			{Field: "album", New: "Abbey Road (" + abbey + ")"}}
		if len(created) != 1 || created[0].View != "songsview" || created[0].RecordLabel != "Something" ||
			created[0].Username != apptest.AdminUser || !slices.Equal(created[0].Changes, wantCreate) {
			t.Errorf("create entries = %+v, want one with %+v", created, wantCreate)
		}
		updated := findEntries(all, audit.ActionUpdate, song)
		wantUpdate := []audit.Change{{Field: "rating", Old: "3", New: "5"},
			{Field: "album", Old: "Abbey Road (" + abbey + ")", New: "Let It Be (" + letItBe + ")"}}
		if len(updated) != 1 || updated[0].Username != apptest.AdminUser || !slices.Equal(updated[0].Changes, wantUpdate) {
			t.Errorf("update entries = %+v, want one with %+v", updated, wantUpdate)
		}
		if got := findEntries(all, audit.ActionDelete, abbey); len(got) != 1 || got[0].View != "albumview" ||
			got[0].RecordLabel != "Abbey Road" || !slices.Equal(got[0].Changes, []audit.Change{{Field: "name", Old: "Abbey Road"}}) {
			t.Errorf("album delete entries = %+v", got)
		}
		for _, id := range ids {
			if got := findEntries(all, audit.ActionDelete, id); len(got) != 1 || got[0].View != "songsview" {
				t.Errorf("bulk delete entries of %s = %+v, want one", id, got)
			}
		}
		for _, e := range all {
			if strings.Contains(e.Username+e.RecordLabel+e.RecordID+e.View, "hunter2") ||
				strings.Contains(changesText(e.Changes), "hunter2") {
				t.Errorf("an entry holds the password tried: %+v", e)
			}
		}

		// The list: newest first, filtered by action, and the song's
		// history page with its old and new values.
		c = app.LoggedIn()
		r = c.Get("/auditlog/list/?action=update")
		r.ExpectStatus(t, "audit list", http.StatusOK)
		if rows := r.Rows(); len(rows) != 1 || !slices.Contains(rows[0], "Something") || !slices.Contains(rows[0], "update") {
			t.Errorf("audit list filtered to updates = %q", rows)
		}
		r = c.Get("/auditlog/list/")
		if rows := r.Rows(); len(rows) < 2 || !slices.Contains(rows[0], "login") {
			t.Errorf("audit list, newest first, starts with %q; want the last login", rows)
		}
		r = c.Get("/songsview/history/" + song)
		r.ExpectStatus(t, "history", http.StatusOK)
		if body := r.Text("table.history"); !strings.Contains(body, "Abbey Road ("+abbey+")") ||
			!strings.Contains(body, "Let It Be ("+letItBe+")") || !strings.Contains(body, "create") {
			t.Errorf("history page does not show the create and the album's old and new value:\n%s", body)
		}
		if href, _ := c.Get("/songsview/show/" + song).Doc.Find(`a[href="/songsview/history/` + song + `"]`).Attr("href"); href == "" {
			t.Error("the show page has no link to the record's history")
		}
	})
}

func changesText(cs []audit.Change) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Field + c.Old + c.New)
	}
	return b.String()
}

// TestAuditLogIsAppendOnly: no route adds, edits or deletes an entry, and
// hostile values are stored as they are and shown escaped.
func TestAuditLogIsAppendOnly(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		c := app.LoggedIn()
		hostile := "<script>alert(1)</script>\n=cmd|' /C calc'!A0"
		c.Submit("/albumview/add", url.Values{"name": {hostile}}).ExpectStatus(t, "add album", http.StatusFound)
		all := entries(t, app)
		created := findEntries(all, audit.ActionCreate, "")
		if len(created) != 1 || created[0].RecordLabel != strings.TrimSpace(hostile) {
			t.Fatalf("create entries = %+v", created)
		}
		r := c.Get("/auditlog/list/")
		if strings.Contains(r.Body, "<script>alert(1)") {
			t.Error("the audit list shows a value unescaped")
		}
		res, err := app.Data.Audit().Entries().List(context.Background(), datamodel.Query{Limit: 1, NoCount: true})
		if err != nil || len(res.Records) == 0 {
			t.Fatalf("list: %v", err)
		}
		id := res.Records[0].ID
		token := c.CSRF("/auditlog/list/")
		for _, req := range []struct{ method, path string }{
			{"GET", "/auditlog/add"}, {"POST", "/auditlog/add"},
			{"GET", "/auditlog/edit/" + id}, {"POST", "/auditlog/edit/" + id},
			{"GET", "/auditlog/delete/" + id}, {"POST", "/auditlog/delete/" + id},
			{"POST", "/auditlog/action/delete"}, {"GET", "/auditlog/export.csv"},
		} {
			var r *apptest.Response
			if req.method == "GET" {
				r = c.Get(req.path)
			} else {
				r = c.Post(req.path, url.Values{"csrf_token": {token}, "ids": {id}, "confirm": {"1"}})
			}
			if r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 404 or 405", req.method, req.path, r.Status)
			}
		}
		if after := entries(t, app); len(after) < len(all) {
			t.Errorf("entries went from %d to %d", len(all), len(after))
		}
		if app.DB != nil {
			// The database itself refuses, whatever the code does.
			if err := app.DB.Exec("UPDATE audit_log SET username = 'x'").Error; err == nil {
				t.Error("UPDATE audit_log succeeded")
			}
			if err := app.DB.Exec("DELETE FROM audit_log").Error; err == nil {
				t.Error("DELETE FROM audit_log succeeded")
			}
		}
	})
}
