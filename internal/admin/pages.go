package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/textutil"
)

// cell is one value on a page; Href links it to the record it names.
type cell struct {
	Label string
	Text  string
	Href  string
}

type column struct {
	Label   string
	SortURL string
	SortDir string // "asc", "desc" or "" when the list is not sorted by it
}

type row struct {
	ID, Label                   string // for the row's checkbox
	Cells                       []cell
	ShowURL, EditURL, DeleteURL string
}

type hidden struct{ Name, Value string }

// pageLink is one entry of the numbered pager: a page with its URL, the
// current page (no URL), or a gap (Number 0).
type pageLink struct {
	Number int
	URL    string
}

// sizeLink offers one page size; the current one has no URL.
type sizeLink struct {
	Size int
	URL  string
}

// chipLink shows one active filter and the list without it.
type chipLink struct {
	Text, RemoveURL string
}

// filterMenu is one row of the filter menu: a GET form for one field, with
// only the operators its kind allows and an input of its kind.
type filterMenu struct {
	Field, Label string
	Ops          []opChoice
	Input        string // "text", "number" or "bool" (a yes/no choice)
	MaxLength    int
	Min, Max     int64 // a "number" input's range, when Min < Max
	Ref          bool  // the value is the id of a record of Target
	Target       string
	// Lookup, for a reference whose target can be searched by label, is
	// the forms' searchable input in place of the plain id input: the
	// same control, whatever the number of records (lookup.go).
	Lookup *input
}

type opChoice struct{ Value, Label string }

type listPage struct {
	Title, Singular  string
	ListURL, AddURL  string
	Q, SearchLabel   string
	SearchMax        int
	Keep             []hidden // the list's parameters but q and page, for its GET forms
	Filtered         bool
	Notices          []string
	Chips            []chipLink
	FilterMenu       []filterMenu
	Columns          []column
	Rows             []row
	Total            int64
	AtLeast          bool // Total is a lower bound
	Page, Pages      int
	PrevURL, NextURL string
	PageLinks        []pageLink
	Sizes            []sizeLink // empty when no choice would change the list
	ExportURL        string     // the export of every row with this list's filters, search and sort
	Actions          []actionButton
	ListQuery        string // this list's query, for the bulk form to come back to (bulk.go)
}

// handleList handles "GET /{view}/list/". A submitted filter menu form is
// answered with a redirect to the list URL it stands for.
func (v *ModelView) handleList(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if query.Has(menuField) || query.Has(menuOp) || query.Has(menuValue) {
		http.Redirect(w, r, v.addFilterURL(query), http.StatusFound)
		return
	}
	p := v.parseList(query)
	res, err := v.listRecords(r.Context(), &p)
	if err != nil {
		v.admin.ui.Fail(w, r, err)
		return
	}
	data := v.listPageOf(r, p, res)
	if data.Chips, err = v.chipLinks(r.Context(), p); err != nil {
		v.admin.ui.Fail(w, r, err)
		return
	}
	data.PrevURL, data.NextURL, data.PageLinks = v.pagerLinks(p, len(res.Records))
	data.Sizes = v.sizeLinks(p, res)
	v.admin.ui.Render(w, r, http.StatusOK, "list", v.Title, data)
}

// listRecords reads the page of records p asks for. A page past the end,
// which only the count read with it reveals, is read again as the last
// page, and p moves there.
func (v *ModelView) listRecords(ctx context.Context, p *listParams) (datamodel.Page, error) {
	q := datamodel.Query{Filters: p.filters, Search: p.q, SearchFields: v.search, Sort: p.sort, Desc: p.desc,
		Limit: p.pager.size, Offset: p.pager.offset()}
	res, err := v.Data.List(ctx, q)
	if err != nil {
		return datamodel.Page{}, err
	}
	p.pager.total, p.pager.atLeast = res.Total, res.AtLeast
	if !p.pager.pastEnd(len(res.Records)) {
		return res, nil
	}
	p.pager = p.pager.last()
	q.Offset = p.pager.offset()
	return v.Data.List(ctx, q)
}

// listPageOf is the list page of res, read for p, but for its chips and its
// pager: the heading, the forms, the columns and the rows, with the links
// and buttons the request's user may follow.
func (v *ModelView) listPageOf(r *http.Request, p listParams, res datamodel.Page) listPage {
	can := v.allowed(r)
	data := listPage{Title: v.Title, Singular: v.Singular, ListURL: v.listURL(),
		Q: p.q, SearchLabel: v.searchLabel(), SearchMax: MaxSearchRunes, Notices: p.notices,
		Filtered: p.q != "" || len(p.filters) > 0, Total: res.Total, AtLeast: res.AtLeast,
		Page: p.pager.page, Pages: p.pager.pages(len(res.Records)), FilterMenu: v.filterMenu(),
		Actions: v.actionButtons(can.grants), Keep: keptParams(p), Columns: v.sortableColumns(p)}
	if len(data.Actions) > 0 {
		data.ListQuery = v.listQuery(p)
	}
	if can.add {
		data.AddURL = v.addURL()
	}
	if can.export {
		data.ExportURL = v.exportURL(p)
	}
	data.Rows = v.rows(can, res.Records, v.list)
	return data
}

// keptParams are the list's parameters but q and page, as hidden inputs:
// the search form keeps the filters, the sort and the page size.
func keptParams(p listParams) []hidden {
	var out []hidden
	for _, k := range slices.Sorted(maps.Keys(p.keep)) {
		out = append(out, hidden{k, p.keep.Get(k)})
	}
	if p.sort != nil {
		out = append(out, hidden{"sort", sortKey(p.sort, p.desc)})
	}
	if p.pager.size != DefaultPageSize {
		out = append(out, hidden{"page_size", strconv.Itoa(p.pager.size)})
	}
	return out
}

// sortableColumns are the list's column headings. An order column links to
// the list sorted by it, ascending, or descending when it is sorted by it
// ascending already.
func (v *ModelView) sortableColumns(p listParams) []column {
	var out []column
	for _, f := range v.list {
		c := column{Label: f.Label}
		if v.orderField(f.Name) != nil {
			next := f.Name
			if p.sort == f {
				c.SortDir = "asc"
				if p.desc {
					c.SortDir = "desc"
				} else {
					next = "-" + f.Name
				}
			}
			c.SortURL = v.urlFor(p, 1, next)
		}
		out = append(out, c)
	}
	return out
}

// chipLinks show the filters in force, each with the list without it. A
// filter by a related record names it by its label, not its id.
func (v *ModelView) chipLinks(ctx context.Context, p listParams) ([]chipLink, error) {
	var out []chipLink
	current := sortKey(p.sort, p.desc)
	for _, c := range p.chips {
		text := c.text
		label, err := v.refLabel(ctx, c)
		if err != nil {
			return nil, err
		}
		if label != "" {
			text = fmt.Sprintf("%s %s %s", c.filter.Field.Label, opLabel(c.filter.Op), textutil.Truncate(label, 60))
		}
		out = append(out, chipLink{Text: text, RemoveURL: v.urlFor(p.without(c.key), 1, current)})
	}
	return out, nil
}

// pagerLinks are the previous and next pages' URLs ("" where there is none)
// and the numbered pager, for a page of p that holds rows records.
func (v *ModelView) pagerLinks(p listParams, rows int) (prev, next string, numbered []pageLink) {
	current := sortKey(p.sort, p.desc)
	if p.pager.hasPrev() {
		prev = v.urlFor(p, p.pager.page-1, current)
	}
	if p.pager.hasNext(rows) {
		next = v.urlFor(p, p.pager.page+1, current)
	}
	for _, n := range p.pager.numbers(rows) {
		l := pageLink{Number: n}
		if n != 0 && n != p.pager.page {
			l.URL = v.urlFor(p, n, current)
		}
		numbered = append(numbered, l)
	}
	return prev, next, numbered
}

// sizeLinks offer the page sizes once the list res counts is longer than
// the smallest, or when the page is of another size: a short list has
// nothing to choose.
func (v *ModelView) sizeLinks(p listParams, res datamodel.Page) []sizeLink {
	if res.Total <= int64(pageSizes[0]) && !res.AtLeast && p.pager.size == DefaultPageSize {
		return nil
	}
	current := sortKey(p.sort, p.desc)
	out := make([]sizeLink, 0, len(pageSizes))
	for _, n := range pageSizes {
		l := sizeLink{Size: n}
		if n != p.pager.size {
			l.URL = v.urlFor(p.sized(n), 1, current)
		}
		out = append(out, l)
	}
	return out
}

// filterMenu describes a form per filter field, each offering only the
// operators of the field's kind.
func (v *ModelView) filterMenu() []filterMenu {
	var out []filterMenu
	for _, f := range v.filter {
		m := filterMenu{Field: f.Name, Label: f.Label, Input: "text", MaxLength: MaxSearchRunes}
		in := f.Kind.Input()
		switch {
		case f.Target() != "":
			// An id, typed, or the searchable input of the forms, which
			// is a plain id input without script. A select of every
			// record would not scale.
			m.Ref, m.Target, m.MaxLength = true, f.Target(), 64
			if target := v.refTarget(f); target != nil {
				m.Lookup = v.filterLookup(f, target)
			}
		case in.Type == "number":
			m.Input, m.MaxLength, m.Min, m.Max = "number", 0, in.Min, in.Max
		case in.Type == "checkbox":
			m.Input, m.MaxLength = "bool", 0
		}
		for _, op := range f.Kind.Ops() {
			if op == datamodel.OpEmpty {
				m.Ops = append(m.Ops, opChoice{string(op), "is empty"}, opChoice{menuNotEmpty, "is not empty"})
				continue
			}
			m.Ops = append(m.Ops, opChoice{string(op), opLabel(op)})
		}
		out = append(out, m)
	}
	return out
}

func (v *ModelView) searchLabel() string {
	labels := make([]string, len(v.search))
	for i, f := range v.search {
		labels[i] = f.Label
	}
	return strings.Join(labels, ", ")
}

// rows renders records with the links can allows.
func (v *ModelView) rows(can allowed, records []datamodel.Record, fields []*datamodel.Field) []row {
	out := make([]row, 0, len(records))
	for _, rec := range records {
		rw := row{ID: rec.ID, Label: v.labelOf(rec)}
		if can.show {
			rw.ShowURL = v.showURL(rec.ID)
		}
		if can.edit {
			rw.EditURL = v.editURL(rec.ID)
		}
		if can.delete {
			rw.DeleteURL = v.deleteURL(rec.ID)
		}
		for _, f := range fields {
			c := v.cell(can.grants, f, rec)
			if f == v.label {
				c.Href = rw.ShowURL
			}
			rw.Cells = append(rw.Cells, c)
		}
		out = append(out, rw)
	}
	return out
}

// cell renders one field of rec as its kind shows it; a reference links to
// the record it names when that model has a view g may show.
func (v *ModelView) cell(g *access.Grants, f *datamodel.Field, rec datamodel.Record) cell {
	val := rec.Values[f.Name]
	c := cell{Label: f.Label, Text: f.Kind.Text(val)}
	if ref, _ := val.(*datamodel.Ref); ref != nil {
		if target := v.admin.byModel[f.Target()]; target != nil && g.Can(access.On(target.Name, access.CanShow)) {
			c.Href = target.showURL(ref.ID)
		}
	}
	return c
}

func (v *ModelView) labelOf(rec datamodel.Record) string {
	return v.label.Kind.Text(rec.Values[v.label.Name])
}

// load reads the {id} of the route and loads the record; it answers 404
// itself for an id that cannot exist or does not.
func (v *ModelView) load(w http.ResponseWriter, r *http.Request) (datamodel.Record, bool) {
	id := chi.URLParam(r, "id")
	if !v.Data.ValidID(id) {
		v.admin.ui.Fail(w, r, datamodel.ErrNotFound)
		return datamodel.Record{}, false
	}
	rec, err := v.Data.Get(r.Context(), id)
	if err != nil {
		v.admin.ui.Fail(w, r, err)
		return datamodel.Record{}, false
	}
	return rec, true
}

type showPage struct {
	Singular, Label             string
	EditURL, DeleteURL, ListURL string
	Links                       []showLink // the view's own pages about the record
	HistoryURL                  string
	Cells                       []cell
	Related                     []relatedList
}

type showLink struct{ Label, URL string }

type relatedList struct {
	Title   string
	Columns []column
	Rows    []row
	Total   int64
	MoreURL string
}

// handleShow handles "GET /{view}/show/{id}".
func (v *ModelView) handleShow(w http.ResponseWriter, r *http.Request) {
	rec, ok := v.load(w, r)
	if !ok {
		return
	}
	can := v.allowed(r)
	data := showPage{Singular: v.Singular, Label: v.labelOf(rec)}
	// What the guard would refuse is not offered: the buttons that lead
	// to a change of the record show only when the user may make it.
	mayChange := v.Guard == nil || v.Guard.CheckEdit(r.Context(), can.grants, rec) == nil
	if can.edit && mayChange {
		data.EditURL = v.editURL(rec.ID)
	}
	if can.delete && (v.Guard == nil || v.Guard.CheckDelete(r.Context(), can.grants, []string{rec.ID}) == nil) {
		data.DeleteURL = v.deleteURL(rec.ID)
	}
	if can.list {
		data.ListURL = v.listURL()
	}
	if v.admin.history != nil && !v.ListOnly {
		data.HistoryURL = v.historyURL(rec.ID)
	}
	for _, l := range v.ShowLinks {
		if mayChange && can.grants.Can(access.On(v.Name, l.Permission)) {
			data.Links = append(data.Links, showLink{Label: l.Label, URL: l.URL(rec.ID)})
		}
	}
	for _, f := range v.schema.Readable() {
		data.Cells = append(data.Cells, v.cell(can.grants, f, rec))
	}
	for _, rel := range v.Related {
		if !can.grants.Can(access.On(rel.View.Name, access.CanList)) {
			continue // the user may not list those records
		}
		list, err := v.relatedList(r, rel, rec.ID)
		if err != nil {
			v.admin.ui.Fail(w, r, err)
			return
		}
		data.Related = append(data.Related, list)
	}
	v.admin.ui.Render(w, r, http.StatusOK, "show", v.Singular+": "+data.Label, data)
}

// pointingAt is the filter that keeps the records of rel whose reference is
// the record with id.
func pointingAt(rel Related, id string) []datamodel.Filter {
	return []datamodel.Filter{{Field: rel.View.schema.Field(rel.Field), Op: datamodel.OpEq, Value: &datamodel.Ref{ID: id}}}
}

func (v *ModelView) relatedList(r *http.Request, rel Related, id string) (relatedList, error) {
	target := rel.View
	res, err := target.Data.List(r.Context(), datamodel.Query{
		Filters: pointingAt(rel, id), Sort: target.defSort, Desc: target.defDesc, Limit: relatedRows,
	})
	if err != nil {
		return relatedList{}, err
	}
	var fields []*datamodel.Field
	out := relatedList{Title: target.Plural, Total: res.Total,
		MoreURL: target.listURL() + "?" + url.Values{rel.Field: {id}}.Encode()}
	for _, f := range target.list {
		if f.Name != rel.Field {
			fields = append(fields, f)
			out.Columns = append(out.Columns, column{Label: f.Label})
		}
	}
	out.Rows = target.rows(target.allowed(r), res.Records, fields)
	return out, nil
}

type deletePage struct {
	Singular, Label   string
	Action, CancelURL string
	Dependents        []string
	Error             string // why the delete was refused
}

// handleDeleteConfirm handles "GET /{view}/delete/{id}": a confirmation that
// says what refers to the record. GET never changes anything.
func (v *ModelView) handleDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	rec, ok := v.load(w, r)
	if !ok || !v.guardDelete(w, r, rec.ID) {
		return
	}
	v.renderDelete(w, r, http.StatusOK, rec, "")
}

// guardDelete asks the view's guard whether the request's user may delete
// the record with id; a refusal is answered here and ok is false.
func (v *ModelView) guardDelete(w http.ResponseWriter, r *http.Request, id string) bool {
	if v.Guard == nil {
		return true
	}
	if err := v.Guard.CheckDelete(r.Context(), access.GrantsOf(r), []string{id}); err != nil {
		v.refuse(w, r, err)
		return false
	}
	return true
}

// renderDelete answers the delete confirmation of rec, with the reason a
// delete was refused, if one was.
func (v *ModelView) renderDelete(w http.ResponseWriter, r *http.Request, status int, rec datamodel.Record, refused string) {
	data := deletePage{Error: refused, Singular: v.Singular, Label: v.labelOf(rec), Action: v.deleteURL(rec.ID),
		CancelURL: v.showURL(rec.ID)}
	for _, rel := range v.Related {
		n, err := rel.View.Data.Count(r.Context(), pointingAt(rel, rec.ID))
		if err != nil {
			v.admin.ui.Fail(w, r, err)
			return
		}
		lower := strings.ToLower
		back := rel.View.schema.Field(rel.Field)
		msg := fmt.Sprintf("%d %s refer to this %s. They will be kept, with no %s.",
			n, lower(rel.View.Plural), lower(v.Singular), lower(back.Label))
		if n == 1 {
			msg = fmt.Sprintf("1 %s refers to this %s. It will be kept, with no %s.",
				lower(rel.View.Singular), lower(v.Singular), lower(back.Label))
		}
		data.Dependents = append(data.Dependents, msg)
	}
	v.admin.ui.Render(w, r, status, "delete", "Delete "+v.Singular, data)
}

// handleDelete handles "POST /{view}/delete/{id}". A delete the store
// refuses by a rule of the model (the last active Admin) answers 422: the
// confirmation again, with the reason.
func (v *ModelView) handleDelete(w http.ResponseWriter, r *http.Request) {
	rec, ok := v.load(w, r)
	if !ok || !v.guardDelete(w, r, rec.ID) {
		return
	}
	if err := v.Data.Delete(v.writeContext(r), rec.ID); err != nil {
		var refused *datamodel.RefusedError
		if errors.As(err, &refused) {
			v.admin.log.Info("delete refused", "view", v.Name, "id", rec.ID, "reason", refused.Message)
			v.renderDelete(w, r, http.StatusUnprocessableEntity, rec, refused.Message)
			return
		}
		v.admin.ui.Fail(w, r, err)
		return
	}
	v.admin.log.Info("record deleted", "view", v.Name, "id", rec.ID)
	v.admin.flash(w, r, fmt.Sprintf("Deleted %s “%s”.", v.Singular, v.labelOf(rec)))
	http.Redirect(w, r, v.listURL(), http.StatusFound)
}
