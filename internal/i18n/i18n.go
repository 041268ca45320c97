// Package i18n is the app's languages: one catalogue of every string a
// user reads (github.com/nicksnyder/go-i18n, with CLDR plural rules),
// shipped in English, German, Spanish and Arabic; the choice of the
// request's language: ?lang= (remembered in a cookie, and as a logged-in
// user's setting), else the user's own setting, else the remembered one,
// else Accept-Language, else the configured default; and numbers and
// times as the language writes them, times in the user's time zone
// (format.go).
//
// A message's id is its English text, as gettext's are: a template reads
// {{t "Sign in"}}, and a message made in Go ("Invalid login. Please try
// again.") is translated where it is shown by the same lookup. English is
// the catalogue of record: TestCatalogues fails when another language
// lacks one of its ids.
//
// The catalogue is split by area, one file per area and language:
// locales/<area>.<lang>.yaml (base.de.yaml, views.de.yaml, ...). Every
// area exists in every language.
package i18n

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

//go:embed locales/*.yaml
var locales embed.FS

// Default is the language of the catalogue of record.
const Default = "en"

// Shipped are the languages the app speaks, in the switcher's order.
var Shipped = []string{"en", "de", "es", "ar"}

// Names are the languages' names in themselves, for the switcher.
var Names = map[string]string{"en": "English", "de": "Deutsch", "es": "Español", "ar": "العربية"}

// Supported reports whether lang is a shipped language.
func Supported(lang string) bool { return slices.Contains(Shipped, lang) }

// Dir is the text direction of lang: "rtl" for Arabic, else "ltr".
func Dir(lang string) string {
	if lang == "ar" {
		return "rtl"
	}
	return "ltr"
}

// Catalogue is every language's messages.
type Catalogue struct {
	bundle     *goi18n.Bundle
	localizers map[string]*goi18n.Localizer
	// compiled are each language's messages cut at their placeholders
	// (compiled.go): a page shows some seventy, and go-i18n's lookup
	// costs a language match and a template execution each time.
	compiled   map[string]map[string]*compiled
	formCaches map[string]*formCache
	// known are the ids of every language's messages: an id none has
	// (a filter's operator, "≥") is shown as it is, without asking
	// go-i18n, which took 5 µs a list page to say so.
	known   map[string]bool
	matcher language.Matcher
	// dates are each language's date pattern in pieces (patterns).
	dateOnce sync.Once
	dates    map[string][]piece
}

// Files returns the catalogue's files of lang: locales/<area>.<lang>.yaml.
func Files(lang string) ([]string, error) {
	return fs.Glob(locales, "locales/*."+lang+".yaml")
}

// Load reads the shipped catalogues.
func Load() (*Catalogue, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	c := &Catalogue{bundle: b, localizers: map[string]*goi18n.Localizer{},
		compiled: map[string]map[string]*compiled{}, formCaches: map[string]*formCache{}, known: map[string]bool{}}
	var tags []language.Tag
	for _, lang := range Shipped {
		files, err := Files(lang)
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("i18n: %s: no catalogue files (%v)", lang, err)
		}
		for _, name := range files {
			mf, err := b.LoadMessageFileFS(locales, name)
			if err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", path.Base(name), err)
			}
			c.addCompiled(lang, mf.Messages)
			for _, m := range mf.Messages {
				c.known[m.ID] = true
			}
		}
		c.localizers[lang] = goi18n.NewLocalizer(b, lang)
		tags = append(tags, language.Make(lang))
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// std is the shipped catalogue, for messages made in Go (Text, Error).
var std = sync.OnceValues(Load)

// Std returns the shipped catalogue; it panics only when the embedded
// files do not parse, which TestCatalogues rules out.
func Std() *Catalogue {
	c, err := std()
	if err != nil {
		panic(err)
	}
	return c
}

// T returns the message id in lang, with data's values in its
// placeholders ({{.Name}}); an id the catalogue lacks is shown as it is
// (English).
func (c *Catalogue) T(lang, id string, data map[string]any) string {
	if cm := c.compiled[lang][id]; cm != nil && cm.forms[otherForm] != nil && (data != nil || cm.literal) {
		return cm.fill(otherForm, values{m: data})
	}
	return c.slowT(lang, id, data)
}

// slowT is T through go-i18n, for what the compiled messages do not
// cover (an id the language lacks, a message with no values for its
// placeholders), and for TestCompiledMatchesGoI18n.
func (c *Catalogue) slowT(lang, id string, data map[string]any) string {
	return c.translate(lang, &goi18n.LocalizeConfig{MessageID: id, TemplateData: data}, id)
}

// TPairs is T with the values as name, value pairs (a template's t),
// without making a map of them.
func (c *Catalogue) TPairs(lang, id string, kv []any) string {
	if len(kv) < 2 {
		return c.T(lang, id, nil)
	}
	if cm := c.compiled[lang][id]; cm != nil && cm.forms[otherForm] != nil {
		return cm.fill(otherForm, values{kv: kv})
	}
	return c.slowT(lang, id, Pairs(kv))
}

// N returns the message id in lang for the count n (its plural form:
// one, two, few, many, other as the language has them), with n as
// {{.Count}} written as lang writes numbers ("20,010", "20.010"), and
// data's values.
func (c *Catalogue) N(lang, id string, n int, data map[string]any) string {
	return c.plural(lang, id, n, values{m: data})
}

// NPairs is N with the values as name, value pairs (a template's n).
func (c *Catalogue) NPairs(lang, id string, n int, kv []any) string {
	if len(kv) < 2 {
		kv = nil
	}
	return c.plural(lang, id, n, values{kv: kv})
}

func (c *Catalogue) plural(lang, id string, n int, v values) string {
	if cm := c.compiled[lang][id]; cm != nil {
		if form := c.pluralForm(lang, n); cm.forms[form] != nil {
			v.count, v.counted = Number(lang, int64(n)), true
			return cm.fill(form, v)
		}
	}
	data := v.m
	if v.kv != nil {
		data = Pairs(v.kv)
	}
	return c.slowN(lang, id, n, data)
}

// slowN is N through go-i18n (slowT).
func (c *Catalogue) slowN(lang, id string, n int, data map[string]any) string {
	d := map[string]any{"Count": Number(lang, int64(n))}
	for k, v := range data {
		d[k] = v
	}
	return c.translate(lang, &goi18n.LocalizeConfig{MessageID: id, PluralCount: n, TemplateData: d}, id)
}

func (c *Catalogue) translate(lang string, cfg *goi18n.LocalizeConfig, id string) string {
	if !c.known[id] {
		return id
	}
	l, ok := c.localizers[lang]
	if !ok {
		l = c.localizers[Default]
	}
	s, err := l.Localize(cfg)
	if err != nil || s == "" {
		return id
	}
	return s
}

// Negotiate returns the language of a request: query (a ?lang= value),
// else setting (the logged-in user's own), else remembered (the cookie's,
// a ?lang= of before), else the best shipped match of acceptLanguage,
// else def. Only shipped languages are ever returned: anything else is
// ignored, never reflected.
func (c *Catalogue) Negotiate(query, setting, remembered, acceptLanguage, def string) string {
	for _, l := range []string{query, setting, remembered} {
		if l = strings.ToLower(strings.TrimSpace(l)); Supported(l) {
			return l
		}
	}
	if acceptLanguage != "" && len(acceptLanguage) <= 512 {
		if tags, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(tags) > 0 {
			if _, i, conf := c.matcher.Match(tags...); conf != language.No {
				return Shipped[i]
			}
		}
	}
	if Supported(def) {
		return def
	}
	return Default
}

type ctxKey struct{}

// asked is what a request says of its language before its user is known:
// Middleware keeps it, ForUser decides with the user's setting.
// asked is what Middleware read of a request, and chose from it for
// nobody (chosen), kept for ForUser.
type asked struct{ query, remembered, accept, def, chosen string }

type askedKey struct{}

// With returns ctx carrying lang as the request's language.
func With(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, ctxKey{}, lang)
}

// Of returns the request's language, Default when none was chosen.
func Of(ctx context.Context) string {
	if l, ok := ctx.Value(ctxKey{}).(string); ok {
		return l
	}
	return Default
}

// Cookie is the cookie that remembers a language chosen with ?lang=.
const Cookie = "lang"

// Middleware chooses each request's language (Negotiate, with def the
// configured one), as for a request of nobody: the user, known later
// (after the session is read), has ForUser choose again with their own
// setting. A ?lang= choice is remembered in a cookie for a year, for
// everyone (it also serves a user after they log out); secure marks the
// cookie Secure.
func (c *Catalogue) Middleware(def string, secure bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a := asked{query: strings.ToLower(strings.TrimSpace(r.URL.Query().Get("lang"))),
				accept: r.Header.Get("Accept-Language"), def: def}
			if ck, err := r.Cookie(Cookie); err == nil {
				a.remembered = ck.Value
			}
			lang := c.Negotiate(a.query, "", a.remembered, a.accept, def)
			a.chosen = lang
			if Supported(a.query) && a.query != a.remembered {
				http.SetCookie(w, &http.Cookie{Name: Cookie, Value: a.query, Path: "/", MaxAge: 365 * 24 * 3600,
					HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
			}
			w.Header().Add("Vary", "Accept-Language")
			ctx := context.WithValue(With(r.Context(), lang), askedKey{}, a)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// IDs returns every id of the catalogue of record (English), sorted: for
// tests that look for English left untranslated on a page.
func IDs() ([]string, error) {
	files, err := Files(Default)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, name := range files {
		data, err := locales.ReadFile(name)
		if err != nil {
			return nil, err
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", path.Base(name), err)
		}
		for id := range m {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// ForUser returns ctx with the language of its request for a logged-in
// user whose own setting is setting ("" for none): a ?lang= choice first,
// then the setting, then the cookie, Accept-Language and the default, as
// Middleware read them. save is the ?lang= choice when it is a shipped
// language other than setting: "?lang= switches and remembers", so for a
// user it becomes their setting; "" otherwise. A ctx Middleware has not
// seen is returned as it is.
func (c *Catalogue) ForUser(ctx context.Context, setting string) (_ context.Context, save string) {
	a, ok := ctx.Value(askedKey{}).(asked)
	if !ok {
		return ctx, ""
	}
	if Supported(a.query) && a.query != setting {
		save = a.query
	}
	if !Supported(strings.ToLower(strings.TrimSpace(setting))) {
		// No setting: Middleware's choice weighed all there is;
		// Accept-Language is not parsed a second time.
		return With(ctx, a.chosen), save
	}
	return With(ctx, c.Negotiate(a.query, setting, a.remembered, a.accept, a.def)), save
}

// Area returns the messages of one catalogue file, locales/<area>.<lang>.yaml,
// as the file writes them: a plain message's text, or a plural one's
// forms (a map from "one", "other", ... to text). For tests that look
// for an area's English left on a page.
func Area(area, lang string) (map[string]any, error) {
	data, err := locales.ReadFile("locales/" + area + "." + lang + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("i18n: area %s in %s: %w", area, lang, err)
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("i18n: %s.%s.yaml: %w", area, lang, err)
	}
	return m, nil
}
