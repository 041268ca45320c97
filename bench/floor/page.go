package main

import (
	"bytes"
	"fmt"
	"log"
	"net/http"
	"strconv"

	"musicadmin/internal/i18n"
)

// The data shapes the templates read: the same field names as view.Page and
// admin.listPage.
type menuItem struct{ Title, URL string }

type menuCategory struct {
	Name  string
	Items []menuItem
}

type page struct {
	User      string
	CSRF      string
	Flashes   []string
	AppName   string
	Title     string
	Menu      []menuCategory
	Path      string
	Data      any
	Crumbs    []crumb
	Lang, Dir string
	Languages []language
}

type crumb struct{ Title, URL string }

// listCrumbs are what the app's layout shows on the song list: Home ›
// Song View.
var listCrumbs = []crumb{{Title: "Home", URL: "/"}, {Title: "Song View"}}

// languages is the app's language switcher on the list: each language's
// link keeps the page's query, English current.
func languages(r *http.Request) []language {
	q := r.URL.Query()
	out := make([]language, 0, len(i18n.Shipped))
	for _, code := range i18n.Shipped {
		q.Set("lang", code)
		out = append(out, language{Code: code, Name: i18n.Names[code], URL: listPath + "?" + q.Encode(),
			Current: code == i18n.Default})
	}
	return out
}

type language struct {
	Code, Name, URL string
	Current         bool
}

// cell is a list cell; Time and Changes are the audit log's, empty here.
type cell struct {
	Label, Text, Href, Time string
	Word                    bool // Text is a catalogue word, as the app's
	Changes                 []struct{ Field, Old, New string }
}

type column struct{ Label, SortURL, SortDir string }

type row struct {
	ID, Label                   string // the row's bulk-action checkbox
	Cells                       []cell
	ShowURL, EditURL, DeleteURL string
}

// actionButton is a bulk action's button, as the app's admin.actionButton.
type actionButton struct {
	Label, URL string
	Danger     bool
}

// songActions are the song view's bulk actions: the built-in delete.
var songActions = []actionButton{{Label: "Delete selected", URL: "/songsview/action/delete", Danger: true}}

type hidden struct{ Name, Value string }

type pageLink struct {
	Number int // 0: a gap
	URL    string
}

type sizeLink struct {
	Size int
	URL  string
}

type chipLink struct{ Text, RemoveURL string }

type opChoice struct{ Value, Label string }

type filterMenu struct {
	Field, Label string
	Ops          []opChoice
	Input        string
	MaxLength    int
	Min, Max     int64
	Ref          bool
	Target       string
	Lookup       *lookupInput
}

// lookupInput is the fields of the app's admin.input that the "lookup"
// partial reads; HTMLID is a method there, a field here.
type lookupInput struct {
	Name, Label, Value, Error, HTMLID string
	LookupURL, TargetURL, Target      string
	Current                           string
}

type listPage struct {
	Title, Singular  string
	Noun             string // Singular inside a sentence, as the app's
	ListURL, AddURL  string
	Q, SearchLabel   string
	SearchHint       string // the search box's placeholder
	SearchMax        int    // the search field's maxlength, the app's admin.MaxSearchRunes
	Keep             []hidden
	Filtered         bool
	Notices          []string
	Chips            []chipLink
	FilterMenu       []filterMenu
	Columns          []column
	Rows             []row
	Total            int64
	Count            int // Total, for the plural form
	AtLeast          bool
	Page, Pages      int
	PrevURL, NextURL string
	PageLinks        []pageLink
	Sizes            []sizeLink
	ExportURL        string
	Actions          []actionButton
	ListQuery        string
}

// FilterAction is where the filter menu's forms go, as the app's.
func (p listPage) FilterAction() string { return p.ListURL }

// menu is the menu the app shows the bench's user, an Admin.
var menu = []menuCategory{
	{Name: "Model Views", Items: []menuItem{
		{Title: "Album View", URL: "/albumview/list/"},
		{Title: "Song View", URL: "/songsview/list/"},
	}},
	{Name: "Security", Items: []menuItem{
		{Title: "List Users", URL: "/users/list/"},
		{Title: "List Roles", URL: "/roles/list/"},
		{Title: "Audit Log", URL: "/auditlog/list/"},
	}},
	{Name: "Charts", Items: []menuItem{
		{Title: "Songs by Rating", URL: "/charts/songs-by-rating/"},
		{Title: "Albums by Rating", URL: "/charts/albums-by-rating/"},
	}},
	{Name: "API", Items: []menuItem{
		{Title: "API Docs", URL: "/api/docs/"},
		{Title: "API Tokens", URL: "/users/tokens"},
	}},
}

// pageSizes are the app's admin.pageSizes.
var pageSizes = []int{defaultPageSize, 50, maxPageSize}

// filterMenus is the song view's filter menu as the app builds it from the
// song schema: a form per field, with the operators of its kind; the
// album's value is the searchable input of the forms (admin.filterLookup).
var filterMenus = []filterMenu{
	{Field: "title", Label: "Title", Input: "text", MaxLength: maxSearchRunes, Ops: []opChoice{
		{"contains", "contains"}, {"startswith", "starts with"}, {"eq", "="}, {"ne", "≠"}}},
	{Field: "rating", Label: "Rating", Input: "number", Min: 0, Max: 9, Ops: []opChoice{
		{"eq", "="}, {"ne", "≠"}, {"gt", ">"}, {"gte", "≥"}, {"lt", "<"}, {"lte", "≤"}}},
	{Field: "album", Label: "Album", Input: "text", MaxLength: 64, Ref: true, Target: "album", Ops: []opChoice{
		{"eq", "="}, {"empty", "is empty"}, {"notempty", "is not empty"}},
		Lookup: &lookupInput{Name: "filter_value", Label: "Album", HTMLID: "filter-album-value",
			LookupURL: "/songsview/lookup/album", TargetURL: "/albumview/list/", Target: "album"}},
}

// list handles "GET /songsview/list/": the song list page, read with the
// app's SQL and built as the app's admin builds it.
func (s *server) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := parse(r.URL.Query())
	where, args, indexed := s.where(p, !s.plain)
	total, atLeast, err := s.total(ctx, where, args)
	if err != nil {
		fail(w, err)
		return
	}
	if indexed {
		// Dense matches: walk the sort order instead, as the app does
		// (store.Model.walkBeatsIndex).
		walk := atLeast
		if !atLeast && total > 0 {
			rows, _, err := s.total(ctx, "", nil)
			if err != nil {
				fail(w, err)
				return
			}
			walk = int64(p.page*p.pageSize)*rows/total <= walkBudget
		}
		if walk {
			where, args, _ = s.where(p, false)
		}
	}
	songs, err := s.page(ctx, p, where, args, total, atLeast)
	if err != nil {
		fail(w, err)
		return
	}
	if g := (pager{page: p.page, size: p.pageSize, total: total, atLeast: atLeast}); g.pastEnd(len(songs)) {
		// Past the end: the last page, as the app shows.
		p.page = g.pages(0)
		if songs, err = s.page(ctx, p, where, args, total, atLeast); err != nil {
			fail(w, err)
			return
		}
	}
	// The album filter shows the name of the album it names: one read by
	// id, as the app's, and only when the filter is on. The app checks the
	// value as typed, spaces and all, so " 42" filters but shows no name.
	var album string
	if id, ok := validID(p.albumRaw); ok {
		if album, err = s.albumName(ctx, id); err != nil {
			fail(w, err)
			return
		}
	}

	var buf bytes.Buffer
	pg := page{User: user, CSRF: csrf, AppName: s.app, Title: "Song View", Menu: menu, Path: r.URL.Path,
		Crumbs: listCrumbs, Lang: "en", Dir: "ltr", Languages: languages(r),
		Data: buildList(p, songs, total, atLeast, album)}
	if err := s.tmpl.Execute(&buf, pg); err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
}

// buildList fills the list template's data for p showing songs out of
// total (a lower bound if atLeast), with album the name of the album the
// album filter names, as the app's admin.ModelView.handleList does.
func buildList(p params, songs []song, total int64, atLeast bool, album string) listPage {
	g := pager{page: p.page, size: p.pageSize, total: total, atLeast: atLeast}
	rows := len(songs)
	current := p.sortKey()
	data := listPage{Title: "Song View", Singular: "Song", Noun: "song", ListURL: listPath, AddURL: "/songsview/add",
		Q: p.q, SearchLabel: "Title", SearchHint: "Search Title", SearchMax: maxSearchRunes, Filtered: p.q != "" || p.album != nil || p.rating != nil,
		Total: total, Count: int(total), AtLeast: atLeast, Page: p.page, Pages: g.pages(rows), FilterMenu: filterMenus,
		ExportURL: p.exportURL(current), Actions: songActions, ListQuery: p.listQuery()}
	// The accepted filters by query key, as the app sorts them.
	var filters []hidden
	if p.album != nil {
		filters = append(filters, hidden{"album", p.albumRaw})
		// The app names the album by its label when the id finds one.
		text := "Album = " + truncate(p.albumRaw, 60)
		if album != "" {
			text = "Album = " + truncate(album, 60)
		}
		data.Chips = append(data.Chips, chipLink{Text: text})
	}
	if p.rating != nil {
		filters = append(filters, hidden{p.ratingKey(), p.ratingRaw})
		data.Chips = append(data.Chips, chipLink{Text: p.ratingLabel() + truncate(p.ratingRaw, 60)})
	}
	for i, f := range filters {
		data.Chips[i].RemoveURL = p.without(f.Name).url(1, current)
	}
	data.Keep = append(data.Keep, filters...)
	data.Keep = append(data.Keep, hidden{"sort", current})
	if p.pageSize != defaultPageSize {
		data.Keep = append(data.Keep, hidden{"page_size", strconv.Itoa(p.pageSize)})
	}
	for _, c := range []struct{ name, label string }{{"title", "Title"}, {"rating", "Rating"}} {
		col := column{Label: c.label}
		next := c.name
		if p.sort == c.name {
			col.SortDir = "asc"
			if p.desc {
				col.SortDir = "desc"
			} else {
				next = "-" + c.name
			}
		}
		col.SortURL = p.url(1, next)
		data.Columns = append(data.Columns, col)
	}
	data.Columns = append(data.Columns, column{Label: "Album"})
	data.Rows = make([]row, 0, len(songs))
	for _, sg := range songs {
		id := strconv.FormatInt(sg.id, 10)
		rw := row{ID: id, Label: sg.title, ShowURL: "/songsview/show/" + id, EditURL: "/songsview/edit/" + id, DeleteURL: "/songsview/delete/" + id}
		albumCell := cell{Label: "Album"}
		if sg.albumID.Valid {
			albumCell.Text = sg.albumName.String
			albumCell.Href = "/albumview/show/" + strconv.FormatInt(sg.albumID.Int64, 10)
		}
		rw.Cells = []cell{
			{Label: "Title", Text: sg.title, Href: rw.ShowURL},
			{Label: "Rating", Text: strconv.FormatInt(sg.rating, 10)},
			albumCell,
		}
		data.Rows = append(data.Rows, rw)
	}
	if p.page > 1 {
		data.PrevURL = p.url(p.page-1, current)
	}
	if p.page < g.pages(rows) {
		data.NextURL = p.url(p.page+1, current)
	}
	for _, n := range g.numbers(rows) {
		l := pageLink{Number: n}
		if n != 0 && n != p.page {
			l.URL = p.url(n, current)
		}
		data.PageLinks = append(data.PageLinks, l)
	}
	// Sizes only once there is a choice, as the app offers them.
	if total > int64(pageSizes[0]) || atLeast || p.pageSize != defaultPageSize {
		for _, n := range pageSizes {
			l := sizeLink{Size: n}
			if n != p.pageSize {
				l.URL = p.sized(n).url(1, current)
			}
			data.Sizes = append(data.Sizes, l)
		}
	}
	return data
}

// fail logs err and answers 500 with no detail, as the app does.
func fail(w http.ResponseWriter, err error) {
	log.Printf("floor: %v", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintln(w, "Internal error")
}
