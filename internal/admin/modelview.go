// Package admin turns declared models into list, show, add, edit and delete
// pages: the analog of Flask-AppBuilder's ModelView. It knows models only
// through datamodel.Interface, never a storage library, and record ids only
// as opaque strings.
package admin

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/view"
)

// Page sizes of list pages: page_size is clamped to MaxPageSize.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
	// MaxSearchRunes caps the search text and filter values; longer input is
	// cut. The list template's search box says the same.
	MaxSearchRunes = 200
	// relatedRows is how many related records a show page lists.
	relatedRows = 25
)

// pageSizes are the page sizes a list offers; page_size may still ask for
// any other up to MaxPageSize.
var pageSizes = []int{DefaultPageSize, 50, MaxPageSize}

// ModelView declares the admin pages of one model.
type ModelView struct {
	Name     string // URL segment, e.g. "albumview"
	Title    string // menu entry and list heading, e.g. "Album View"
	Category string // menu category, e.g. "Model Views"
	Singular string // one record, e.g. "Album"
	Plural   string // several records; default Singular + "s"
	Data     datamodel.Interface

	ListColumns   []string // fields shown in the list; default all
	SearchColumns []string // fields q searches
	OrderColumns  []string // fields the list may be sorted by
	FilterColumns []string // fields FIELD__OP filters may use; default all
	DefaultSort   string   // "name" or "-name"; default by id

	// Related lists models whose reference fields point at this one: a show
	// page lists them and a delete page says how many will lose their link.
	Related []Related

	// Actions are the bulk actions of the list besides the built-in
	// delete (bulk.go).
	Actions []Action

	// Restricted views are for Admins by default: the built-in ReadOnly
	// role is not given their can_list, can_show and menu_access.
	Restricted bool

	// Guard, when set, holds the view's own rules about who may write
	// what (guard.go).
	Guard Guard
	// Pages are the view's own pages besides the generic ones, and
	// ShowLinks the buttons of a show page leading to them (guard.go).
	Pages     []Page
	ShowLinks []ShowLink

	// ListOnly views have a list and show pages and nothing that writes:
	// no add, edit, delete or bulk action route exists for them (the
	// audit log).
	ListOnly bool

	actions  []Action // delete, then Actions
	schema   *datamodel.Schema
	list     []*datamodel.Field
	search   []*datamodel.Field
	order    []*datamodel.Field
	filter   []*datamodel.Field
	label    *datamodel.Field
	defSort  *datamodel.Field
	defDesc  bool
	admin    *Admin
	basePath string
}

// Related names a view whose Field refers to the declaring view's model.
type Related struct {
	View  *ModelView
	Field string
}

// Flasher queues a message for the user's next page.
type Flasher func(w http.ResponseWriter, r *http.Request, msg string)

// Admin serves a set of model views.
type Admin struct {
	views   []*ModelView
	byModel map[string]*ModelView // by the name of the model they show
	log     *slog.Logger

	// Set by SetHistory, before Mount: the audit log's entries and the
	// name of the view listing them.
	history     datamodel.Interface
	historyView string

	// Set by AddCharts, before Mount: the charts (chart.go).
	charts []*Chart

	// Set by Mount, before any request is served.
	ui    *view.Engine
	flash Flasher
}

// New checks every declaration against its model's schema. A name that does
// not exist is an error at start-up, never at request time.
func New(log *slog.Logger, views ...*ModelView) (*Admin, error) {
	a := &Admin{views: views, byModel: map[string]*ModelView{}, log: log}
	for _, v := range views {
		if err := v.resolve(); err != nil {
			return nil, err
		}
		v.admin = a
		a.byModel[v.schema.Name] = v
	}
	for _, v := range views {
		for _, rel := range v.Related {
			f := rel.View.schema.Field(rel.Field)
			if f == nil || f.Target() != v.schema.Name {
				return nil, fmt.Errorf("admin: %s: related field %s.%s does not refer to it", v.Name, rel.View.Name, rel.Field)
			}
		}
	}
	return a, nil
}

// resolve fills in the defaults of v's declaration and checks every name
// in it against the model's schema.
func (v *ModelView) resolve() error {
	if v.Name == "" || v.Data == nil || v.Singular == "" {
		return fmt.Errorf("admin: a model view needs a Name, a Singular and Data")
	}
	if v.Title == "" {
		v.Title = v.Singular + " View"
	}
	if v.Plural == "" {
		v.Plural = v.Singular + "s"
	}
	v.basePath = "/" + v.Name
	v.schema = v.Data.Schema()
	if err := v.schema.Check(); err != nil {
		return fmt.Errorf("admin: %s: %w", v.Name, err)
	}
	v.label = v.schema.LabelField()
	for _, step := range []func() error{v.resolveColumns, v.checkPages, v.resolveDefaultSort, v.resolveActions} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// resolveColumns resolves the allow-lists: the list, search, order and
// filter columns.
func (v *ModelView) resolveColumns() error {
	var err error
	if v.list, err = v.columnFields("list", v.ListColumns, true); err != nil {
		return err
	}
	if v.search, err = v.columnFields("search", v.SearchColumns, false); err != nil {
		return err
	}
	for _, f := range v.search {
		if _, isText := f.Kind.(datamodel.Text); !isText {
			return fmt.Errorf("admin: %s: search column %q is not text", v.Name, f.Name)
		}
	}
	if v.order, err = v.columnFields("order", v.OrderColumns, false); err != nil {
		return err
	}
	if v.filter, err = v.columnFields("filter", v.FilterColumns, true); err != nil {
		return err
	}
	for _, f := range v.filter {
		if reserved[f.Name] {
			return fmt.Errorf("admin: %s: filter column %q has the name of a list parameter", v.Name, f.Name)
		}
	}
	return nil
}

// columnFields resolves the names of one allow-list (what: "list",
// "search", "order" or "filter"); with none declared and all, every field
// that fits it.
func (v *ModelView) columnFields(what string, names []string, all bool) ([]*datamodel.Field, error) {
	if len(names) == 0 && all {
		for _, f := range v.schema.Readable() {
			if fitsColumn(what, f) {
				names = append(names, f.Name)
			}
		}
	}
	var out []*datamodel.Field
	for _, n := range names {
		f := v.schema.Field(n)
		if f == nil {
			return nil, fmt.Errorf("admin: %s: %s column %q is not a field", v.Name, what, n)
		}
		if !fitsColumn(what, f) {
			return nil, fmt.Errorf("admin: %s: field %q cannot be a %s column", v.Name, n, what)
		}
		out = append(out, f)
	}
	return out, nil
}

// fitsColumn reports whether f may be a column of the allow-list what. A
// write-only or hidden field fits none, and a field of a kind with no filter
// operators (a set) is no filter or order column.
func fitsColumn(what string, f *datamodel.Field) bool {
	switch {
	case f.WriteOnly, f.Hidden:
		return false
	case what == "order" && f.SetOf() != "":
		return false // a set has no order
	case what == "filter" || what == "order":
		return len(f.Kind.Ops()) > 0
	}
	return true
}

// checkPages checks the view's own pages: a method the router serves them
// with, a pattern under the view's path, and a handler.
func (v *ModelView) checkPages() error {
	for _, p := range v.Pages {
		if p.Method != http.MethodGet && p.Method != http.MethodPost || !strings.HasPrefix(p.Pattern, "/") || p.Handler == nil {
			return fmt.Errorf("admin: %s: page %q needs GET or POST, a pattern starting with / and a handler", v.Name, p.Pattern)
		}
	}
	return nil
}

// resolveDefaultSort reads DefaultSort, which must name an order column.
func (v *ModelView) resolveDefaultSort() error {
	if v.DefaultSort == "" {
		return nil
	}
	name, desc := strings.CutPrefix(v.DefaultSort, "-")
	if v.defSort = v.orderField(name); v.defSort == nil {
		return fmt.Errorf("admin: %s: default sort %q is not an order column", v.Name, v.DefaultSort)
	}
	v.defDesc = desc
	return nil
}

func (v *ModelView) orderField(name string) *datamodel.Field {
	i := slices.IndexFunc(v.order, func(f *datamodel.Field) bool { return f.Name == name })
	if i < 0 {
		return nil
	}
	return v.order[i]
}

func (v *ModelView) filterField(name string) *datamodel.Field {
	i := slices.IndexFunc(v.filter, func(f *datamodel.Field) bool { return f.Name == name })
	if i < 0 {
		return nil
	}
	return v.filter[i]
}

// URLs of a view's pages. Ids are opaque: they are escaped as path segments.
func (v *ModelView) listURL() string            { return v.basePath + "/list/" }
func (v *ModelView) addURL() string             { return v.basePath + "/add" }
func (v *ModelView) showURL(id string) string   { return v.basePath + "/show/" + url.PathEscape(id) }
func (v *ModelView) editURL(id string) string   { return v.basePath + "/edit/" + url.PathEscape(id) }
func (v *ModelView) deleteURL(id string) string { return v.basePath + "/delete/" + url.PathEscape(id) }

// Menu returns the menu entries of the views, grouped by category in the
// order they were declared.
func (a *Admin) Menu() []view.MenuCategory {
	var menu []view.MenuCategory
	for _, v := range a.views {
		i := slices.IndexFunc(menu, func(c view.MenuCategory) bool { return c.Name == v.Category })
		if i < 0 {
			menu = append(menu, view.MenuCategory{Name: v.Category})
			i = len(menu) - 1
		}
		menu[i].Items = append(menu[i].Items, view.MenuItem{Title: v.Title, URL: v.listURL(), View: v.Name})
	}
	return append(menu, a.chartMenu()...)
}

// Mount registers every view's routes on r, each behind its permission,
// rendering with ui and flashing with flash. It is called once, before
// serving. POST handlers read r.PostForm, which the CSRF middleware in
// front of them has parsed.
func (a *Admin) Mount(r *access.Router, ui *view.Engine, flash Flasher) {
	a.ui, a.flash = ui, flash
	a.mountCharts(r)
	for _, v := range a.views {
		r.Route(v.basePath, func(r *access.Router) {
			can := func(action string) access.Permission { return access.On(v.Name, action) }
			r.Get("/", can(access.CanList), view.Redirect(v.listURL()))
			r.Get("/list", can(access.CanList), view.Redirect(v.listURL()))
			r.Get("/list/", can(access.CanList), v.handleList)
			r.Get("/show/{id}", can(access.CanShow), v.handleShow)
			if a.history != nil && !v.ListOnly {
				// Whoever may see a record may see how it came to be, as
				// in Django admin's history.
				r.Get("/history/{id}", can(access.CanShow), v.handleHistory)
			}
			if v.ListOnly {
				return
			}
			r.Get("/export.csv", can(access.CanExport), v.handleExport)
			r.Get("/add", can(access.CanAdd), v.handleAdd)
			r.Post("/add", can(access.CanAdd), v.handleCreate)
			r.Get("/edit/{id}", can(access.CanEdit), v.handleEdit)
			r.Post("/edit/{id}", can(access.CanEdit), v.handleUpdate)
			r.Get("/delete/{id}", can(access.CanDelete), v.handleDeleteConfirm)
			r.Post("/delete/{id}", can(access.CanDelete), v.handleDelete)
			// The lookup serves the list's filter by the field and the
			// add and edit forms' field: whoever may list, add or edit the
			// view may search it (the contract's rule).
			r.Denying(a.denyJSON).GetAny("/lookup/{field}",
				[]access.Permission{can(access.CanList), can(access.CanAdd), can(access.CanEdit)}, v.handleLookup)
			// One route per action, so each is behind its own permission.
			for _, act := range v.actions {
				r.Post("/action/"+act.Name, can(act.Permission), v.handleAction(act.Name))
			}
			for _, p := range v.Pages {
				perm := access.LoggedIn
				if p.Permission != "" {
					perm = can(p.Permission)
				}
				if p.Method == http.MethodPost {
					r.Post(p.Pattern, perm, p.Handler)
				} else {
					r.Get(p.Pattern, perm, p.Handler)
				}
			}
		})
	}
}

// trail is the breadcrumbs of a page of v below Home: the list, then
// the record rec when there is one (nil: none), then the page's own step,
// last, when not empty. A step the user may not open is shown unlinked.
func (v *ModelView) trail(r *http.Request, rec *datamodel.Record, last string) []view.Crumb {
	can := v.allowed(r)
	out := []view.Crumb{{Title: v.Title}}
	if can.list {
		out[0].URL = v.listURL()
	}
	if rec != nil {
		c := view.Crumb{Title: v.labelOf(*rec)}
		if can.show {
			c.URL = v.showURL(rec.ID)
		}
		out = append(out, c)
	}
	if last != "" {
		out = append(out, view.Crumb{Title: last})
	}
	return out
}

func (a *Admin) denyJSON(w http.ResponseWriter, r *http.Request) {
	a.ui.FailJSON(w, r, view.ErrForbidden)
}

// Permissions lists every permission of the views: one per route and bulk
// action, and menu_access.
func (a *Admin) Permissions() []access.Permission {
	var out []access.Permission
	for _, v := range a.views {
		names := []string{access.CanList, access.CanShow, access.MenuAccess}
		if !v.ListOnly {
			names = append(names, access.CanAdd, access.CanEdit, access.CanDelete, access.CanExport)
		}
		for _, name := range names {
			out = append(out, access.On(v.Name, name))
		}
		if v.ListOnly {
			continue
		}
		for _, act := range v.actions {
			if p := access.On(v.Name, act.Permission); !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
		for _, pg := range v.Pages {
			if p := access.On(v.Name, pg.Permission); pg.Permission != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// ReadOnlyPermissions lists what the built-in ReadOnly role holds: can_list,
// can_show and menu_access on every view that is not Restricted.
func (a *Admin) ReadOnlyPermissions() []access.Permission {
	var out []access.Permission
	for _, v := range a.views {
		if !v.Restricted {
			out = append(out, access.On(v.Name, access.CanList), access.On(v.Name, access.CanShow),
				access.On(v.Name, access.MenuAccess))
		}
	}
	return out
}

// writeContext is the context of a write through v: the request's actor
// (set by the server for the logged-in user) now acting through v, so the
// store writes the change's audit entry with the view's name.
func (v *ModelView) writeContext(ctx context.Context) context.Context {
	if a, ok := audit.From(ctx); ok {
		a.View = v.Name
		return audit.With(ctx, a)
	}
	return ctx
}

// allowed is what the request's user may do on a view: the links and
// buttons of a page show only that.
type allowed struct {
	grants                                *access.Grants
	list, show, add, edit, delete, export bool
}

func (v *ModelView) allowed(r *http.Request) allowed {
	g := access.GrantsOf(r)
	can := func(action string) bool { return g.Can(access.On(v.Name, action)) }
	a := allowed{grants: g, list: can(access.CanList), show: can(access.CanShow)}
	if !v.ListOnly {
		a.add, a.edit, a.delete, a.export = can(access.CanAdd), can(access.CanEdit), can(access.CanDelete), can(access.CanExport)
	}
	return a
}
