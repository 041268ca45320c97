package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/datamodel"
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
	Cells                       []cell
	ShowURL, EditURL, DeleteURL string
}

type hidden struct{ Name, Value string }

type listPage struct {
	Title, Singular  string
	ListURL, AddURL  string
	Q, SearchLabel   string
	SearchMax        int
	Keep             []hidden
	Filtered         bool
	Notices, Filters []string
	Columns          []column
	Rows             []row
	Total            int64
	AtLeast          bool // Total is a lower bound
	Page, Pages      int
	PrevURL, NextURL string
	ExportURL        string // the export of every row with this list's filters, search and sort
}

// handleList handles "GET /{view}/list/".
func (v *ModelView) handleList(w http.ResponseWriter, r *http.Request) {
	p := v.parseList(r.URL.Query())
	q := datamodel.Query{Filters: p.filters, Search: p.q, SearchFields: v.search, Sort: p.sort, Desc: p.desc,
		Limit: p.pager.size, Offset: p.pager.offset()}
	res, err := v.Data.List(r.Context(), q)
	if err != nil {
		v.admin.ui.Fail(w, r, err)
		return
	}
	p.pager.total, p.pager.atLeast = res.Total, res.AtLeast
	if p.pager.pastEnd(len(res.Records)) {
		p.pager = p.pager.last()
		q.Offset = p.pager.offset()
		if res, err = v.Data.List(r.Context(), q); err != nil {
			v.admin.ui.Fail(w, r, err)
			return
		}
	}
	rows := len(res.Records)
	data := listPage{Title: v.Title, Singular: v.Singular, ListURL: v.listURL(), AddURL: v.addURL(),
		Q: p.q, SearchLabel: v.searchLabel(), SearchMax: MaxSearchRunes, Notices: p.notices, Filters: p.described,
		Filtered: p.q != "" || len(p.filters) > 0, Total: res.Total, AtLeast: res.AtLeast,
		Page: p.pager.page, Pages: p.pager.pages(rows)}
	data.ExportURL = v.exportURL(p)
	for k, vals := range p.keep {
		data.Keep = append(data.Keep, hidden{k, vals[0]})
	}
	if p.sort != nil {
		data.Keep = append(data.Keep, hidden{"sort", sortKey(p.sort, p.desc)})
	}
	if p.pager.size != DefaultPageSize {
		data.Keep = append(data.Keep, hidden{"page_size", strconv.Itoa(p.pager.size)})
	}
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
		data.Columns = append(data.Columns, c)
	}
	data.Rows = v.rows(res.Records, v.list)
	current := sortKey(p.sort, p.desc)
	if p.pager.hasPrev() {
		data.PrevURL = v.urlFor(p, p.pager.page-1, current)
	}
	if p.pager.hasNext(rows) {
		data.NextURL = v.urlFor(p, p.pager.page+1, current)
	}
	v.admin.ui.Render(w, r, http.StatusOK, "list", v.Title, data)
}

func (v *ModelView) searchLabel() string {
	labels := make([]string, len(v.search))
	for i, f := range v.search {
		labels[i] = f.Label
	}
	return strings.Join(labels, ", ")
}

func (v *ModelView) rows(records []datamodel.Record, fields []*datamodel.Field) []row {
	out := make([]row, 0, len(records))
	for _, rec := range records {
		rw := row{ShowURL: v.showURL(rec.ID), EditURL: v.editURL(rec.ID), DeleteURL: v.deleteURL(rec.ID)}
		for _, f := range fields {
			c := v.cell(f, rec)
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
// the record it names when that model has a view.
func (v *ModelView) cell(f *datamodel.Field, rec datamodel.Record) cell {
	val := rec.Values[f.Name]
	c := cell{Label: f.Label, Text: f.Kind.Text(val)}
	if ref, _ := val.(*datamodel.Ref); ref != nil {
		if target := v.admin.byModel[f.Target()]; target != nil {
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
	Cells                       []cell
	Related                     []relatedList
}

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
	data := showPage{Singular: v.Singular, Label: v.labelOf(rec), EditURL: v.editURL(rec.ID),
		DeleteURL: v.deleteURL(rec.ID), ListURL: v.listURL()}
	for i := range v.schema.Fields {
		data.Cells = append(data.Cells, v.cell(&v.schema.Fields[i], rec))
	}
	for _, rel := range v.Related {
		list, err := v.relatedList(r.Context(), rel, rec.ID)
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

func (v *ModelView) relatedList(ctx context.Context, rel Related, id string) (relatedList, error) {
	target := rel.View
	res, err := target.Data.List(ctx, datamodel.Query{
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
	out.Rows = target.rows(res.Records, fields)
	return out, nil
}

type deletePage struct {
	Singular, Label   string
	Action, CancelURL string
	Dependents        []string
}

// handleDeleteConfirm handles "GET /{view}/delete/{id}": a confirmation that
// says what refers to the record. GET never changes anything.
func (v *ModelView) handleDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	rec, ok := v.load(w, r)
	if !ok {
		return
	}
	data := deletePage{Singular: v.Singular, Label: v.labelOf(rec), Action: v.deleteURL(rec.ID),
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
	v.admin.ui.Render(w, r, http.StatusOK, "delete", "Delete "+v.Singular, data)
}

// handleDelete handles "POST /{view}/delete/{id}".
func (v *ModelView) handleDelete(w http.ResponseWriter, r *http.Request) {
	rec, ok := v.load(w, r)
	if !ok {
		return
	}
	if err := v.Data.Delete(r.Context(), rec.ID); err != nil {
		v.admin.ui.Fail(w, r, err)
		return
	}
	v.admin.log.Info("record deleted", "view", v.Name, "id", rec.ID)
	v.admin.flash(w, r, fmt.Sprintf("Deleted %s “%s”.", v.Singular, v.labelOf(rec)))
	http.Redirect(w, r, v.listURL(), http.StatusFound)
}
