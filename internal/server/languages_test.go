package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
	"musicadmin/internal/server"
)

// TestLanguages: ?lang= switches the page's language and is remembered;
// Accept-Language chooses one otherwise, else app_language; Arabic is
// right to left; messages made in Go are shown translated; anything
// but a shipped language is ignored and never reflected (SECURITY-TESTS
// 73).
func TestLanguages(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.Client()
		html := func(r *apptest.Response) (lang, dir string) {
			lang, _ = r.Doc.Find("html").Attr("lang")
			dir, _ = r.Doc.Find("html").Attr("dir")
			return lang, dir
		}
		r := c.Get("/login/")
		if l, d := html(r); l != "en" || d != "ltr" || r.Text("h1") != "Sign in" {
			t.Errorf("default: lang %q dir %q, h1 %q", l, d, r.Text("h1"))
		}
		r = c.Get("/login/?lang=de")
		if l, _ := html(r); l != "de" || r.Text("h1") != "Anmelden" || r.Text("label[for=password]") != "Passwort" {
			t.Errorf("?lang=de: lang %q, h1 %q", l, r.Text("h1"))
		}
		// Remembered: the next page without ?lang= is German too, and a
		// failed login's message, made in Go, is shown in German.
		r = c.Submit("/login/", url.Values{"username": {"nobody"}, "password": {"wrong-password"}})
		if l, _ := html(r); l != "de" || r.Text(".alert") != "Anmeldung fehlgeschlagen. Bitte versuchen Sie es erneut." {
			t.Errorf("remembered German: lang %q, alert %q", l, r.Text(".alert"))
		}
		r = c.Get("/login/?lang=ar")
		if l, d := html(r); l != "ar" || d != "rtl" || r.Text("h1") != "تسجيل الدخول" {
			t.Errorf("?lang=ar: lang %q dir %q h1 %q", l, d, r.Text("h1"))
		}
		// The switcher offers the four, the current one marked.
		if got := r.Doc.Find("footer .languages a").Length(); got != 4 || r.Text(`footer .languages a[aria-current]`) != "العربية" {
			t.Errorf("switcher: %d links, current %q", got, r.Text(`footer .languages a[aria-current]`))
		}
		// A page behind the login, and the menu, in the chosen language.
		admin := a.LoggedIn()
		r = admin.Get("/?lang=es")
		if !strings.Contains(r.Text("nav.nav"), "Vistas de modelos") || r.Text("button.link") != "Cerrar sesión" {
			t.Errorf("Spanish menu: %q, logout %q", r.Text("nav.nav"), r.Text("button.link"))
		}
		// The switcher links to this page, its query kept, in each language.
		r = admin.Get("/songsview/list/?q=love&lang=de")
		if href, _ := r.Doc.Find(`footer .languages a[lang=es]`).Attr("href"); href != "/songsview/list/?lang=es&q=love" {
			t.Errorf("switcher link to Spanish: %q", href)
		}
		// Accept-Language, without a remembered choice.
		fresh := a.Client()
		req, _ := http.NewRequest(http.MethodGet, fresh.URL("/login/"), nil)
		req.Header.Set("Accept-Language", "fr-FR,es;q=0.8,en;q=0.5")
		if r := fresh.Do(req); r.Text("h1") != "Iniciar sesión" {
			t.Errorf("Accept-Language es: h1 %q", r.Text("h1"))
		}
		// Hostile values: the default, never reflected, never remembered.
		for _, v := range []string{`"><script>alert(1)</script>`, "xx", "../de", "de\r\nSet-Cookie: x=1", strings.Repeat("d", 5000)} {
			hostile := a.Client()
			r := hostile.Get("/login/?lang=" + url.QueryEscape(v))
			if l, _ := html(r); l != "en" || strings.Contains(r.Body, "<script>alert(1)") || len(hostile.Cookies()) > 1 {
				t.Errorf("?lang=%.20q: lang %q, %d cookies", v, l, len(hostile.Cookies()))
			}
			if r.Header.Get("Set-Cookie") != "" && strings.Contains(r.Header.Get("Set-Cookie"), "lang=") {
				t.Errorf("?lang=%.20q remembered: %q", v, r.Header.Get("Set-Cookie"))
			}
		}
		// An unknown page's 404, in German.
		r = c.Get("/no/such/page?lang=de")
		if r.Status != http.StatusNotFound || !strings.Contains(r.Text("h1"), "Nicht gefunden") {
			t.Errorf("German 404: %d %q", r.Status, r.Text("h1"))
		}
		// app_language is the default of a browser that asks for nothing.
		german := a.Instance(t, server.Options{}, func(cfg *config.Config) { cfg.AppLanguage = "de" })
		if r := german.Client().Get("/login/"); r.Text("h1") != "Anmelden" {
			t.Errorf("app_language de: h1 %q", r.Text("h1"))
		}
	})
}
