package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/accounts"
	"musicadmin/internal/apptest"
	"musicadmin/internal/i18n"
)

// settingsOf reads the own settings of the user named username, as the
// accounts layer stores them.
func settingsOf(t *testing.T, a *apptest.App, username string) accounts.Settings {
	t.Helper()
	acc, err := accounts.New(a.Data.AccountModels(), a.Data.Accounts(), a.Data.Audit(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, err := acc.UserByName(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	s, err := acc.Users.Settings(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pageLang is the language a page says it is in.
func pageLang(r *apptest.Response) string {
	lang, _ := r.Doc.Find("html").Attr("lang")
	return lang
}

// TestSettingsPage: every user's own settings page, reached from the user
// menu, shows their language and time zone, saves a valid choice (the
// page then in the new language, with a flash in it) and refuses with 422
// a language not shipped or a zone that does not load, changing nothing;
// a post without the CSRF token is refused.
func TestSettingsPage(t *testing.T) {
	a := apptest.NewApp(t, apptest.SQLite, apptest.Strict())
	c := a.LoggedIn()
	r := c.Get("/")
	if href, _ := r.Doc.Find(".account a.settings-link").Attr("href"); href != "/users/settings" || r.Text(".account a.settings-link") != "Settings" {
		t.Errorf("user menu: settings link %q %q", href, r.Text(".account a.settings-link"))
	}
	r = c.Get("/users/settings")
	if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Cache-Control"), "no-store") || r.Text("h1") != "Your settings" {
		t.Fatalf("GET: %d, Cache-Control %q, h1 %q", r.Status, r.Header.Get("Cache-Control"), r.Text("h1"))
	}
	if got := r.Texts("select[name=language] option"); strings.Join(got, "|") != "Automatic (your browser's language)|English|Deutsch|Español|العربية" {
		t.Errorf("languages offered: %q", got)
	}
	if lang, _ := r.Doc.Find(`select[name=language] option[value=ar]`).Attr("lang"); lang != "ar" {
		t.Errorf("Arabic's name is not marked as Arabic: lang %q", lang)
	}
	if r.Selected("language") != "" || r.Selected("time_zone") != "" {
		t.Errorf("a new user's settings: %q, %q; want none", r.Selected("language"), r.Selected("time_zone"))
	}
	if r.Doc.Find(`select[name=time_zone] option[value="Europe/Berlin"]`).Length() != 1 {
		t.Error("Europe/Berlin is not offered")
	}

	// Saved: the next page is German, and so is the flash.
	r = c.Submit("/users/settings", url.Values{"language": {"de"}, "time_zone": {"Europe/Berlin"}})
	if r.Status != http.StatusFound || r.Location() != "/users/settings" {
		t.Fatalf("save: %d to %q", r.Status, r.Location())
	}
	if s := settingsOf(t, a, apptest.AdminUser); s != (accounts.Settings{Language: "de", TimeZone: "Europe/Berlin"}) {
		t.Errorf("stored: %+v", s)
	}
	r = c.Get("/users/settings")
	if pageLang(r) != "de" || r.Text("h1") != "Ihre Einstellungen" || strings.Join(r.Flashes(), "") != "Ihre Einstellungen wurden gespeichert." {
		t.Errorf("after saving: lang %q, h1 %q, flashes %q", pageLang(r), r.Text("h1"), r.Flashes())
	}
	if r.Selected("language") != "de" || r.Selected("time_zone") != "Europe/Berlin" {
		t.Errorf("shown as chosen: %q, %q", r.Selected("language"), r.Selected("time_zone"))
	}
	if r.Text(".account a.settings-link") != "Einstellungen" {
		t.Errorf("the menu's link in German: %q", r.Text(".account a.settings-link"))
	}

	// Refused: 422 with the field's message, in the page's language;
	// nothing changes.
	for _, bad := range []struct{ field, value, msg string }{
		{"language", "fr", "Wählen Sie eine der angebotenen Sprachen."},
		{"language", `"><script>alert(1)</script>`, "Wählen Sie eine der angebotenen Sprachen."},
		{"time_zone", "Mars/Olympus_Mons", "Wählen Sie eine Zeitzone aus der Liste, etwa Europe/Berlin."},
		{"time_zone", "Local", "Wählen Sie eine Zeitzone aus der Liste, etwa Europe/Berlin."},
		{"time_zone", "../../../etc/passwd", "Wählen Sie eine Zeitzone aus der Liste, etwa Europe/Berlin."},
	} {
		form := url.Values{"language": {"es"}, "time_zone": {"Asia/Tokyo"}}
		form.Set(bad.field, bad.value)
		r = c.Submit("/users/settings", form)
		if r.Status != http.StatusUnprocessableEntity || r.Text("#e-"+bad.field) != bad.msg {
			t.Errorf("%s=%q: %d, message %q", bad.field, bad.value, r.Status, r.Text("#e-"+bad.field))
		}
		if strings.Contains(r.Body, "<script>alert(1)") {
			t.Errorf("%s=%q is reflected", bad.field, bad.value)
		}
		if s := settingsOf(t, a, apptest.AdminUser); s != (accounts.Settings{Language: "de", TimeZone: "Europe/Berlin"}) {
			t.Errorf("%s=%q changed the settings: %+v", bad.field, bad.value, s)
		}
	}

	// Without the CSRF token: refused, nothing changes.
	r = c.Post("/users/settings", url.Values{"language": {"es"}, "time_zone": {""}})
	if r.Status != http.StatusForbidden {
		t.Errorf("without a token: %d, want 403", r.Status)
	}
	if s := settingsOf(t, a, apptest.AdminUser); s.Language != "de" {
		t.Errorf("a post without a token changed the settings: %+v", s)
	}

	// None chosen: the browser's language again (the flash in it too),
	// times in UTC.
	req := c.PostRequest("/users/settings", url.Values{"language": {""}, "time_zone": {""},
		"csrf_token": {c.CSRF("/users/settings")}})
	req.Header.Set("Accept-Language", "es")
	r = c.Do(req)
	if r.Status != http.StatusFound {
		t.Fatalf("clear: %d", r.Status)
	}
	if s := settingsOf(t, a, apptest.AdminUser); s != (accounts.Settings{}) {
		t.Errorf("cleared: %+v", s)
	}
	req, _ = http.NewRequest(http.MethodGet, c.URL("/users/settings"), nil)
	req.Header.Set("Accept-Language", "es")
	if r := c.Do(req); pageLang(r) != "es" || strings.Join(r.Flashes(), "") != "Se guardó la configuración." {
		t.Errorf("none chosen, the browser asks for Spanish: lang %q, flashes %q", pageLang(r), r.Flashes())
	}
}

// TestSettingsNegotiation: the language of a page is ?lang=, then the
// logged-in user's own setting, then the remembered ?lang= (the cookie),
// then Accept-Language, then app_language; a logged-in user's ?lang=
// that differs from their setting becomes it; an anonymous user's is
// remembered by the cookie; anything not shipped is ignored and never
// saved. Through the session's read of the user on every backend.
func TestSettingsNegotiation(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		get := func(path, accept string) *apptest.Response {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, c.URL(path), nil)
			if accept != "" {
				req.Header.Set("Accept-Language", accept)
			}
			return c.Do(req)
		}
		// No setting yet: Accept-Language.
		if r := get("/", "de"); pageLang(r) != "de" {
			t.Errorf("no setting, Accept-Language de: %q", pageLang(r))
		}
		// ?lang= switches, and for a logged-in user becomes their setting.
		if r := get("/?lang=ar", "de"); pageLang(r) != "ar" {
			t.Errorf("?lang=ar: %q", pageLang(r))
		}
		if s := settingsOf(t, a, apptest.AdminUser); s.Language != "ar" {
			t.Errorf("?lang=ar is not saved as the user's setting: %+v", s)
		}
		// The setting beats the cookie and Accept-Language.
		c.SetCookies([]*http.Cookie{{Name: i18n.Cookie, Value: "es", Path: "/"}})
		if r := get("/songsview/list/", "de"); pageLang(r) != "ar" {
			t.Errorf("setting ar, cookie es, Accept-Language de: %q", pageLang(r))
		}
		// In another browser (no cookie), the setting follows the user.
		other := a.LoggedIn()
		if r := other.Get("/"); pageLang(r) != "ar" {
			t.Errorf("the setting in another browser: %q", pageLang(r))
		}
		// ?lang= beats the setting; the same choice again writes nothing.
		if r := get("/?lang=es", "de"); pageLang(r) != "es" {
			t.Errorf("?lang=es over the setting ar: %q", pageLang(r))
		}
		if s := settingsOf(t, a, apptest.AdminUser); s.Language != "es" {
			t.Errorf("?lang=es is not saved: %+v", s)
		}
		// Hostile and unknown values: ignored, not saved, not reflected.
		for _, v := range []string{"fr", `"><script>alert(1)</script>`, "../de"} {
			r := get("/?lang="+url.QueryEscape(v), "de")
			if pageLang(r) != "es" || strings.Contains(r.Body, "<script>alert(1)") {
				t.Errorf("?lang=%q: %q", v, pageLang(r))
			}
		}
		if s := settingsOf(t, a, apptest.AdminUser); s.Language != "es" {
			t.Errorf("an unknown ?lang= changed the setting: %+v", s)
		}
		// An anonymous user: the cookie remembers ?lang=, which beats
		// Accept-Language; nothing of a user's changes.
		anon := a.Client()
		anon.Get("/login/?lang=de")
		req, _ := http.NewRequest(http.MethodGet, anon.URL("/login/"), nil)
		req.Header.Set("Accept-Language", "ar")
		if r := anon.Do(req); pageLang(r) != "de" || r.Text("h1") != "Anmelden" {
			t.Errorf("anonymous, remembered de over Accept-Language ar: %q %q", pageLang(r), r.Text("h1"))
		}
		if s := settingsOf(t, a, apptest.AdminUser); s.Language != "es" {
			t.Errorf("an anonymous ?lang= changed a user's setting: %+v", s)
		}
		// The setting also holds on an error page of a logged-in user.
		if r := get("/no/such/page", "de"); r.Status != http.StatusNotFound || pageLang(r) != "es" {
			t.Errorf("404 of a user with setting es: %d %q", r.Status, pageLang(r))
		}
	})
}

// TestSettingsTimes: a user with a time zone reads the audit log's,
// history's and tokens page's times in it, in their language, each time
// labelled with its zone; the datetime attribute keeps the exact UTC
// value. Without one, UTC, as before.
func TestSettingsTimes(t *testing.T) {
	a := apptest.NewApp(t, apptest.SQLite, apptest.Strict())
	c := a.LoggedIn()
	albumID := a.InsertAlbum("Blue")
	c.Submit("/albumview/edit/"+albumID, url.Values{"name": {"Blue Train"}})
	c.Submit("/users/tokens", url.Values{"name": {"ci"}})

	check := func(r *apptest.Response, where string, zone *time.Location, lang string) {
		t.Helper()
		times := r.Doc.Find("main time")
		if times.Length() == 0 {
			t.Fatalf("%s: no <time>", where)
		}
		for i := range times.Length() {
			s := times.Eq(i)
			dt, _ := s.Attr("datetime")
			at, err := time.Parse(time.RFC3339Nano, dt)
			if err != nil || !strings.HasSuffix(dt, "Z") {
				t.Errorf("%s: datetime %q is not an exact UTC time", where, dt)
				continue
			}
			want := i18n.Std().Time(lang, at.In(zone))
			if where == "tokens" {
				want = at.In(zone).Format("2006-01-02 15:04 MST")
			}
			if got := strings.TrimSpace(s.Text()); got != want {
				t.Errorf("%s: %q shown as %q, want %q", where, dt, got, want)
			}
		}
	}
	r := c.Get("/auditlog/list/")
	check(r, "audit log", time.UTC, "en")
	if !strings.Contains(r.Text("thead"), "Time (UTC)") {
		t.Errorf("audit log heading without a zone: %q", r.Text("thead"))
	}

	c.Submit("/users/settings", url.Values{"language": {"de"}, "time_zone": {"America/Argentina/Buenos_Aires"}})
	zone, _ := time.LoadLocation("America/Argentina/Buenos_Aires")
	r = c.Get("/auditlog/list/")
	check(r, "audit log", zone, "de")
	if head := r.Text("thead"); !strings.Contains(head, "Zeit (America/Argentina/Buenos_Aires)") {
		t.Errorf("audit log heading with a zone: %q", head)
	}
	if got := r.Doc.Find("main time").First().Text(); !strings.HasSuffix(got, " -03") || !strings.Contains(got, ". ") {
		t.Errorf("a German time in Buenos Aires: %q", got)
	}
	r = c.Get("/albumview/history/" + albumID)
	check(r, "history", zone, "de")
	if head := r.Text("thead"); !strings.Contains(head, "Zeit (America/Argentina/Buenos_Aires)") {
		t.Errorf("history heading with a zone: %q", head)
	}
	check(c.Get("/users/tokens"), "tokens", zone, "de")
}

// TestSettingsNumbers: a count on the list page follows the language:
// 1,005 in English, 1.005 in German, 1,005 in Arabic (Latin digits).
func TestSettingsNumbers(t *testing.T) {
	a := apptest.NewApp(t, apptest.SQLite, apptest.Strict())
	songs := make([]apptest.SongRow, 1005)
	for i := range songs {
		songs[i] = apptest.SongRow{Title: fmt.Sprintf("Song %04d", i)}
	}
	a.InsertSongs(songs)
	c := a.LoggedIn()
	for _, tc := range []struct{ lang, want string }{{"en", "1,005"}, {"de", "1.005"}, {"ar", "1,005"}, {"es", "1.005"}} {
		r := c.Get("/songsview/list/?lang=" + tc.lang)
		if got := r.Text("p.count"); !strings.Contains(got, tc.want) {
			t.Errorf("%s: count %q, want %s in it", tc.lang, got, tc.want)
		}
	}
}
