// Package view renders the HTML pages: templates are parsed once at start-up
// from the embedded web.FS, and every page is executed into a buffer before
// the status is written, so a template error never leaves half a page.
package view

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"

	"musicadmin/internal/access"
	"musicadmin/internal/i18n"
	"musicadmin/web"
)

// MenuItem is one link of the menu.
type MenuItem struct {
	Title string
	URL   string
	// View names the view whose menu_access permission shows the item;
	// empty, every logged-in user sees it (a page of their own, such as
	// the API docs).
	View string
	// Action is the permission on View that shows the item; empty,
	// menu_access (a chart's is can_list).
	Action string
}

// visibleTo reports whether the menu shows the item to a user of grants g:
// they hold menu_access on its view, or it has none and g is a logged-in
// user's (nil grants are nobody's).
func (it MenuItem) visibleTo(g *access.Grants) bool {
	if it.View == "" {
		return g != nil
	}
	if it.Action != "" {
		return g.Can(access.On(it.View, it.Action))
	}
	return g.Can(access.On(it.View, access.MenuAccess))
}

// MenuCategory groups menu items under a heading, as "Model Views".
type MenuCategory struct {
	Name  string
	Items []MenuItem
}

// Common is what every page shows besides its own content.
type Common struct {
	User    string // display name of the logged-in user; empty when anonymous
	CSRF    string
	Flashes []string
	// Grants are what the user may do: the menu shows only the items
	// they have menu_access to. Nil when anonymous.
	Grants *access.Grants
}

// CommonFunc computes the common data of a request; it may set cookies.
type CommonFunc func(w http.ResponseWriter, r *http.Request) Common

// Page is the data a page template receives.
type Page struct {
	Common
	AppName string
	Title   string
	Menu    []MenuCategory
	// Crumbs are the breadcrumbs of a logged-in user's page: Home, the
	// pages above this one, and this one (the last, with no URL).
	Crumbs []Crumb
	Data   any
	// Lang and Dir are the page's language and text direction (<html
	// lang dir>); Languages the switcher's choices.
	Lang, Dir string
	Languages []Language
}

// Language is a choice of the language switcher: URL is this page
// with ?lang= set.
type Language struct {
	Code, Name, URL string
	Current         bool
}

// Crumb is one step of the breadcrumbs; URL is empty for the current page
// and for a step the user may not open.
type Crumb struct {
	Title, URL string
}

// Home is the first of every page's breadcrumbs.
var Home = Crumb{Title: "Home", URL: "/"}

// Engine renders the named pages of web/templates. It is built once, with
// everything it shows on every page, and never changes after: it needs no
// lock however many requests render at once.
type Engine struct {
	appName string
	// languages are the parsed pages of each shipped language, whose t
	// and n functions read that language's catalogue: parsed once, never
	// cloned per request.
	languages map[string]*languagePages
	cat       *i18n.Catalogue
	log       *slog.Logger
	menu      []MenuCategory
	common    CommonFunc
}

// New parses every page in web/templates/pages with the layout and partials.
// A template that does not parse stops the start-up. menu is shown on every
// page; common computes the per-request part every page shows, and may be nil
// when pages need none (tests).
func New(appName string, log *slog.Logger, menu []MenuCategory, common CommonFunc) (*Engine, error) {
	if common == nil {
		common = func(http.ResponseWriter, *http.Request) Common { return Common{} }
	}
	cat := i18n.Std()
	e := &Engine{appName: appName, languages: map[string]*languagePages{}, cat: cat, log: log,
		menu: slices.Clone(menu), common: common}
	for _, lang := range i18n.Shipped {
		e.languages[lang] = &languagePages{lang: lang, cat: cat}
	}
	// English is parsed now: a template that does not parse stops the
	// start-up, and every language parses the same text with the same
	// function names, so the others cannot fail later.
	if _, err := e.languages[i18n.Default].get(); err != nil {
		return nil, err
	}
	return e, nil
}

// languagePages are one language's parsed pages, parsed when the first
// page in that language is asked (5-10 ms, once). A language's pages
// weigh about 1.6 MB of heap: the four held from the start were 7.8 MB
// of the server's 9 MB live heap, for languages a site may never show.
type languagePages struct {
	lang  string
	cat   *i18n.Catalogue
	once  sync.Once
	pages map[string]*template.Template
	err   error
}

func (l *languagePages) get() (map[string]*template.Template, error) {
	l.once.Do(func() { l.pages, l.err = parsePages(l.cat, l.lang) })
	return l.pages, l.err
}

// parsePages parses every page of web/templates/pages with the layout and
// partials, with lang's t, n and num.
func parsePages(cat *i18n.Catalogue, lang string) (map[string]*template.Template, error) {
	names, err := fs.Glob(web.FS, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("view: list pages: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		t, err := template.New("layout.html").Funcs(funcs).Funcs(languageFuncs(cat, lang)).ParseFS(web.FS,
			"templates/layout.html", "templates/partials/*.html", name)
		if err != nil {
			return nil, fmt.Errorf("view: parse %s in %s: %w", name, lang, err)
		}
		pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return pages, nil
}

// Catalogue returns the languages' catalogue the pages are rendered with.
func (e *Engine) Catalogue() *i18n.Catalogue { return e.cat }

// languageFuncs are the template functions of lang: t translates a
// message id (the English text) with its placeholders' values given as
// name, value pairs, or a message made in Go (an i18n.Message, or an
// error: i18n.ErrorIn); n translates a plural message for a count, its
// {{.Count}} written as num writes it; num writes a count as lang does
// ("20,010", "20.010").
func languageFuncs(cat *i18n.Catalogue, lang string) template.FuncMap {
	return template.FuncMap{
		"t": func(msg any, kv ...any) string {
			switch m := msg.(type) {
			case string:
				return cat.TPairs(lang, m, kv)
			case i18n.Message:
				return m.In(lang)
			case *i18n.Message:
				return m.In(lang)
			case error:
				return i18n.ErrorIn(lang, m)
			case nil:
				return ""
			}
			return fmt.Sprint(msg)
		},
		"n":   func(id string, count int, kv ...any) string { return cat.NPairs(lang, id, count, kv) },
		"num": func(n any) string { return numberOf(lang, n) },
	}
}

// Render writes page with status and data; its breadcrumbs are Home and
// the page's title.
func (e *Engine) Render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	e.RenderTrail(w, r, status, page, title, nil, data)
}

// RenderTrail is Render for a page below others: its breadcrumbs are Home,
// then trail (the last step the page itself). An empty trail is the
// title's step alone, and the start page ("index") is Home alone.
func (e *Engine) RenderTrail(w http.ResponseWriter, r *http.Request, status int, page, title string, trail []Crumb, data any) {
	lang := i18n.Of(r.Context())
	l, ok := e.languages[lang]
	if !ok {
		lang, l = i18n.Default, e.languages[i18n.Default]
	}
	pages, err := l.get()
	if err != nil { // not after English parsed (New); shown in English
		e.log.Error("render: parse a language's pages", "lang", lang, "err", err)
		lang, pages = i18n.Default, e.languages[i18n.Default].pages
	}
	t, ok := pages[page]
	if !ok {
		e.log.Error("render: no such page", "page", page)
		PlainInternalError(w)
		return
	}
	c := e.common(w, r)
	p := Page{Common: c, AppName: e.appName, Title: title, Menu: e.menuFor(c.Grants), Data: data,
		Lang: lang, Dir: i18n.Dir(lang), Languages: languages(r, lang)}
	if c.User != "" {
		p.Crumbs = crumbs(page, title, trail)
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := t.Execute(buf, p); err != nil {
		e.log.Error("render", "page", page, "err", err)
		PlainInternalError(w)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(showBidiControls(buf.Bytes()))
}

// crumbs are the breadcrumbs of page: Home, then trail, or the title's
// step when trail is empty. The last step never links: it is the page.
func crumbs(page, title string, trail []Crumb) []Crumb {
	if page == "index" {
		return []Crumb{{Title: Home.Title}}
	}
	if len(trail) == 0 {
		trail = []Crumb{{Title: title}}
	}
	out := append([]Crumb{Home}, trail...)
	out[len(out)-1].URL = ""
	return out
}

// renderBuffers keeps the buffers pages are rendered into: a list page
// is some 20 KB, which a new buffer reaches by doubling, a dozen
// allocations and 40 KB of garbage per page.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer is the largest buffer kept for the next page: a rare
// huge page does not pin its memory.
const maxPooledBuffer = 256 << 10

func putRenderBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	renderBuffers.Put(b)
}

// menuFor returns the menu with only the items visible to g, and without
// the categories left empty.
func (e *Engine) menuFor(g *access.Grants) []MenuCategory {
	var out []MenuCategory
	for _, c := range e.menu {
		var items []MenuItem
		for _, it := range c.Items {
			if it.visibleTo(g) {
				items = append(items, it)
			}
		}
		if len(items) > 0 {
			out = append(out, MenuCategory{Name: c.Name, Items: items})
		}
	}
	return out
}

// languages are the switcher's choices, current the page's: each links
// to this page (its path and query) in that language.
func languages(r *http.Request, current string) []Language {
	path := r.URL.Path
	// Only a local path: "//host" or "/\host" would be another site.
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\") {
		path = "/"
	}
	q := r.URL.Query()
	out := make([]Language, len(i18n.Shipped))
	for i, code := range i18n.Shipped {
		q.Set("lang", code)
		out[i] = Language{Code: code, Name: i18n.Names[code], URL: path + "?" + q.Encode(), Current: code == current}
	}
	return out
}

var funcs = template.FuncMap{
	"add":   func(a, b int) int { return a + b },
	"lower": strings.ToLower,
	// static links a file of web/static by its content-hashed name.
	"static": web.StaticURL,
}

// Number writes n as a count reads in lang, with its thousands
// separators: 20010 is "20,010" in English, "20.010" in German
// (i18n.Number, from x/text's CLDR data).
func Number(lang string, n int64) string { return i18n.Number(lang, n) }

// numberOf writes n, a whole number of any width, as Number does in
// lang; anything else as fmt prints it.
func numberOf(lang string, n any) string {
	switch n := n.(type) {
	case int:
		return Number(lang, int64(n))
	case int64:
		return Number(lang, n)
	case int32:
		return Number(lang, int64(n))
	}
	return fmt.Sprint(n)
}
