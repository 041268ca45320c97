package i18n

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestCatalogues: every shipped language has every id of the English
// catalogue, with text; a plural id has the forms the language's plural
// rules use; nothing is there that English lacks.
func TestCatalogues(t *testing.T) {
	// read returns lang's catalogue, area by area: locales/<area>.<lang>.yaml.
	read := func(lang string) map[string]map[string]any {
		files, err := Files(lang)
		if err != nil {
			t.Fatal(err)
		}
		areas := map[string]map[string]any{}
		for _, name := range files {
			data, err := locales.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]any{}
			if err := yaml.Unmarshal(data, &m); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			areas[strings.TrimSuffix(path.Base(name), "."+lang+".yaml")] = m
		}
		return areas
	}
	enAreas := read(Default)
	en := map[string]any{}
	for area, m := range enAreas {
		for id, v := range m {
			if _, twice := en[id]; twice {
				t.Errorf("en: %q is in two areas (one is %s)", id, area)
			}
			en[id] = v
		}
	}
	if len(en) < 40 {
		t.Fatalf("the English catalogue has %d ids", len(en))
	}
	for _, lang := range Shipped[1:] {
		areas := read(lang)
		for area := range enAreas {
			if _, ok := areas[area]; !ok {
				t.Errorf("%s lacks the area %s (locales/%s.%s.yaml)", lang, area, area, lang)
			}
		}
		for area, m := range areas {
			enm, ok := enAreas[area]
			if !ok {
				t.Errorf("%s has the area %s, which English lacks", lang, area)
				continue
			}
			for id, v := range enm {
				got, ok := m[id]
				if !ok {
					t.Errorf("%s lacks %q (%s)", lang, id, area)
					continue
				}
				if _, plural := v.(map[string]any); plural {
					forms, ok := got.(map[string]any)
					if !ok || forms["other"] == nil {
						t.Errorf("%s: %q is not a plural message with an other form: %v", lang, id, got)
					}
				} else if s, _ := got.(string); strings.TrimSpace(s) == "" {
					t.Errorf("%s: %q is empty", lang, id)
				}
			}
			for id := range m {
				if _, ok := enm[id]; !ok {
					t.Errorf("%s has %q in %s, which English lacks there", lang, id, area)
				}
			}
		}
	}
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("de", "Sign in", nil); got != "Anmelden" {
		t.Errorf("de Sign in = %q", got)
	}
	if got := c.T("de", "no such id", nil); got != "no such id" {
		t.Errorf("a missing id = %q, want it shown as it is", got)
	}
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{{"en", 1, "1 record"}, {"en", 20010, "20,010 records"}, {"de", 20010, "20.010 Einträge"}, {"de", 1, "1 Eintrag"}, {"es", 2, "2 registros"},
		{"ar", 0, "لا سجلات"}, {"ar", 2, "سجلان"}, {"ar", 3, "3 سجلات"}, {"ar", 11, "11 سجلًا"}, {"ar", 100, "100 سجل"}} {
		if got := c.N(tc.lang, "{{.Count}} records", tc.n, nil); got != tc.want {
			t.Errorf("%s %d records = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}

// TestNegotiate: ?lang= first, then the user's setting, then the
// remembered one, then Accept-Language, then the default; only shipped
// languages.
func TestNegotiate(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ query, setting, remembered, accept, def, want string }{
		{"de", "ar", "es", "ar", "en", "de"},
		{"", "ar", "es", "de", "en", "ar"},
		{"", "", "es", "ar", "en", "es"},
		{"xx", "", "", "es-MX,es;q=0.9,en;q=0.5", "en", "es"},
		{"xx", "<b>", "", "es-MX,es;q=0.9,en;q=0.5", "en", "es"},
		{"", "", "", "fr-FR, de;q=0.7", "en", "de"},
		{"", "", "", "ar-EG", "en", "ar"},
		{"", "", "", "ja", "de", "de"},
		{"<script>", "fr", "../../etc", "", "nope", "en"},
		{"", "", "", strings.Repeat("de,", 300), "es", "es"},
	} {
		if got := c.Negotiate(tc.query, tc.setting, tc.remembered, tc.accept, tc.def); got != tc.want {
			t.Errorf("Negotiate(%q, %q, %q, %q, %q) = %q, want %q", tc.query, tc.setting, tc.remembered, tc.accept, tc.def, got, tc.want)
		}
	}
	if Dir("ar") != "rtl" || Dir("de") != "ltr" {
		t.Error("directions")
	}
}

// TestForUser: once the user is known, their setting beats the cookie and
// Accept-Language, ?lang= beats the setting and is to be saved when it
// differs from it; nothing not shipped is ever chosen or saved.
func TestForUser(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		target, cookie, accept, setting string
		want, save                      string
	}{
		{"/", "es", "de", "ar", "ar", ""},
		{"/", "es", "de", "", "es", ""},
		{"/", "", "de", "", "de", ""},
		{"/?lang=de", "es", "", "ar", "de", "de"},
		{"/?lang=ar", "", "", "ar", "ar", ""},
		{"/?lang=fr", "es", "", "ar", "ar", ""},
		{"/?lang=%3Cscript%3E", "", "", "x<y", "en", ""},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.target, nil)
		req.Header.Set("Accept-Language", tc.accept)
		if tc.cookie != "" {
			req.AddCookie(&http.Cookie{Name: Cookie, Value: tc.cookie})
		}
		var got, save string
		c.Middleware("en", false)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var ctx context.Context
			ctx, save = c.ForUser(r.Context(), tc.setting)
			got = Of(ctx)
		})).ServeHTTP(httptest.NewRecorder(), req)
		if got != tc.want || save != tc.save {
			t.Errorf("%s (cookie %q, Accept-Language %q, setting %q): %q, save %q; want %q, save %q",
				tc.target, tc.cookie, tc.accept, tc.setting, got, save, tc.want, tc.save)
		}
	}
	if ctx, save := c.ForUser(context.Background(), "de"); Of(ctx) != Default || save != "" {
		t.Errorf("without the middleware: %q, %q", Of(ctx), save)
	}
}

// TestMiddleware: the language reaches the handler; ?lang= of a shipped
// language is remembered in a cookie, any other value is neither
// remembered nor reflected.
func TestMiddleware(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	h := c.Middleware("en", true)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = Of(r.Context()) }))
	do := func(target string, cookie string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: Cookie, Value: cookie})
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Result()
	}
	r := do("/?lang=ar", "")
	cookies := r.Cookies()
	if seen != "ar" || len(cookies) != 1 || cookies[0].Value != "ar" || !cookies[0].Secure || !cookies[0].HttpOnly {
		t.Errorf("?lang=ar: language %q, cookies %v", seen, cookies)
	}
	if r := do("/", "ar"); seen != "ar" || len(r.Cookies()) != 0 {
		t.Errorf("remembered ar: language %q, cookies %v", seen, r.Cookies())
	}
	r = do("/?lang=%3Cscript%3E", "es")
	if seen != "es" || len(r.Cookies()) != 0 {
		t.Errorf("?lang=<script>: language %q, cookies %v", seen, r.Cookies())
	}
	if !slices.Contains(r.Header.Values("Vary"), "Accept-Language") {
		t.Errorf("Vary %v", r.Header.Values("Vary"))
	}
}

// TestMessages: a message made in Go keeps its id and values until it is
// shown, reads in English as an error, and in the reader's language
// where it is shown, wrapped or not; any other error's text is looked up
// as an id.
func TestMessages(t *testing.T) {
	err := Errorf("Your new token “{{.Name}}”", "Name", "ci")
	if err.Error() != "Your new token “ci”" {
		t.Errorf("English: %q", err.Error())
	}
	if got := ErrorIn("de", err); got != "Ihr neues Token „ci“" {
		t.Errorf("German: %q", got)
	}
	if got := ErrorIn("es", fmt.Errorf("saving: %w", Errorf("Sign in"))); got != Std().T("es", "Sign in", nil) || got == "Sign in" {
		t.Errorf("a wrapped message in Spanish = %q", got)
	}
	if got := ErrorIn("de", errors.New("Sign in")); got != "Anmelden" {
		t.Errorf("a plain error's text as an id = %q", got)
	}
	if got := ErrorIn("de", errors.New("no such id here")); got != "no such id here" {
		t.Errorf("an unknown text = %q", got)
	}
	ctx := With(context.Background(), "de")
	if got := Text(ctx, "Sign in"); got != "Anmelden" {
		t.Errorf("Text de = %q", got)
	}
	if got := Plural(ctx, "{{.Count}} records", 1); got != "1 Eintrag" {
		t.Errorf("Plural de = %q", got)
	}
}

// TestUnknownIDShownAsItIs: an id no catalogue has is shown as it is, with
// or without values, as go-i18n's lookup would leave it; a known one is
// still translated.
func TestUnknownIDShownAsItIs(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Shipped {
		for _, id := range []string{"≥", "no such message {{.Name}}"} {
			if got := c.T(lang, id, map[string]any{"Name": "x"}); got != id {
				t.Errorf("T(%s, %q) = %q, want it as it is", lang, id, got)
			}
			if got := c.N(lang, id, 3, nil); got != id {
				t.Errorf("N(%s, %q) = %q, want it as it is", lang, id, got)
			}
		}
	}
	if got := c.T("de", "Sign in", nil); got != "Anmelden" {
		t.Errorf(`T(de, "Sign in") = %q, want "Anmelden"`, got)
	}
}
