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
	"strings"
	"sync"

	"musicadmin/web"
)

// MenuItem is one link of the menu.
type MenuItem struct {
	Title string
	URL   string
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
}

// CommonFunc computes the common data of a request; it may set cookies.
type CommonFunc func(w http.ResponseWriter, r *http.Request) Common

// Page is the data a page template receives.
type Page struct {
	Common
	AppName string
	Title   string
	Menu    []MenuCategory
	Path    string
	Data    any
}

// Engine renders the named pages of web/templates.
type Engine struct {
	appName string
	pages   map[string]*template.Template
	log     *slog.Logger

	mu     sync.RWMutex
	menu   []MenuCategory
	common CommonFunc
}

// New parses every page in web/templates/pages with the layout and partials.
// A template that does not parse stops the start-up.
func New(appName string, log *slog.Logger) (*Engine, error) {
	e := &Engine{appName: appName, pages: map[string]*template.Template{}, log: log,
		common: func(http.ResponseWriter, *http.Request) Common { return Common{} }}
	names, err := fs.Glob(web.FS, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("view: list pages: %w", err)
	}
	for _, name := range names {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(web.FS,
			"templates/layout.html", "templates/partials/*.html", name)
		if err != nil {
			return nil, fmt.Errorf("view: parse %s: %w", name, err)
		}
		e.pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return e, nil
}

// SetMenu sets the menu shown on every page.
func (e *Engine) SetMenu(menu []MenuCategory) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.menu = menu
}

// SetCommon sets the function computing the common data of a request.
func (e *Engine) SetCommon(f CommonFunc) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.common = f
}

// Render writes page with status and data.
func (e *Engine) Render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	t, ok := e.pages[page]
	if !ok {
		e.log.Error("render: no such page", "page", page)
		e.plainError(w, http.StatusInternalServerError)
		return
	}
	e.mu.RLock()
	menu, common := e.menu, e.common
	e.mu.RUnlock()
	p := Page{Common: common(w, r), AppName: e.appName, Title: title, Menu: menu, Path: r.URL.Path, Data: data}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		e.log.Error("render", "page", page, "err", err)
		e.plainError(w, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// Error renders the error page with status and a message for the user.
func (e *Engine) Error(w http.ResponseWriter, r *http.Request, status int, message string) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	e.Render(w, r, status, "error", http.StatusText(status), ErrorData{Status: status, Message: message})
}

// ErrorData is the data of the error page.
type ErrorData struct {
	Status  int
	Message string
}

func (e *Engine) plainError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, "Internal error")
}

var funcs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
}
