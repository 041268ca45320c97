package admin

import (
	"context"
	"fmt"
	"net/http"
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
	Keep             []hidden
	Filtered         bool
	Notices, Filters []string
	Columns          []column
	Rows             []row
	Total            int64
	AtLeast          bool // Total is a lower bound
	Page, Pages      int
	PrevURL, NextURL string
}

// handleList handles "GET /{view}/list/".
func (v *ModelView) handleList(w http.ResponseWriter, r *http.Request) {
	p := v.parseList(r.URL.Query())
	q := datamodel.Query{Filters: p.filters, Search: p.q, SearchFields: v.search, Sort: p.sort, Desc: p.desc,
		Limit: p.pageSize, Offset: (p.page - 1) * p.pageSize}
	res, err := v.Data.List(r.Context(), q)
	if err != nil {
		v.admin.fail(w, r, err)
		return
	}
	pages := int((res.Total + int64(p.pageSize) - 1) / int64(p.pageSize))
	if len(res.Records) == 0 && !res.AtLeast && pages > 0 && p.page > pages {
		// Past the end: show the last page rather than an empty one.
		p.page = pages
		q.Offset = (p.page - 1) * p.pageSize
		if res, err = v.Data.List(r.Context(), q); err != nil {
			v.admin.fail(w, r, err)
			return
		}
	}
	if res.AtLeast {
		// The count stopped early: the pages go on at least while they are full.
		pages = max(pages, p.page)
		if len(res.Records) == p.pageSize {
			pages = p.page + 1
		}
	}
	data := listPage{Title: v.Title, Singular: v.Singular, ListURL: v.listURL(), AddURL: v.addURL(),
		Q: p.q, SearchLabel: v.searchLabel(), Notices: p.notices, Filters: p.described,
		Filtered: p.q != "" || len(p.filters) > 0, Total: res.Total, AtLeast: res.AtLeast,
		Page: p.page, Pages: max(pages, 1)}
	for k, vals := range p.keep {
		data.Keep = append(data.Keep, hidden{k, vals[0]})
	}
	if p.sort != nil {
		data.Keep = append(data.Keep, hidden{"sort", sortKey(p.sort, p.desc)})
	}
	if p.pageSize != DefaultPageSize {
		data.Keep = append(data.Keep, hidden{"page_size", strconv.Itoa(p.pageSize)})
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
	if p.page > 1 {
		data.PrevURL = v.urlFor(p, p.page-1, current)
	}
	if p.page < pages {
		data.NextURL = v.urlFor(p, p.page+1, current)
	}
	v.admin.ui.Render(w, r, http.StatusOK, "list", v.Title, data)
}

func (v *ModelView) searchLabel() string {
	s := ""
	for i, f := range v.search {
		if i > 0 {
			s += ", "
		}
		s += f.Label
	}
	return s
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

// cell renders one field of rec; a reference links to the record it names
// when that model has a view.
func (v *ModelView) cell(f *datamodel.Field, rec datamodel.Record) cell {
	c := cell{Label: f.Label}
	switch val := rec.Values[f.Name].(type) {
	case string:
		c.Text = val
	case int64:
		c.Text = strconv.FormatInt(val, 10)
	case *datamodel.Ref:
		if val != nil {
			c.Text = val.Label
			if target := v.admin.byData[f.Ref.Model]; target != nil {
				c.Href = target.showURL(val.ID)
			}
		}
	}
	return c
}

func (v *ModelView) labelOf(rec datamodel.Record) string {
	return v.cell(v.label, rec).Text
}

// load parses the {id} of the route and loads the record; it answers 404
// itself for an id that is malformed or unknown.
func (v *ModelView) load(w http.ResponseWriter, r *http.Request) (datamodel.Record, bool) {
	id, ok := parseID(chi.URLParam(r, "id"))
	if !ok {
		v.admin.notFound(w, r)
		return datamodel.Record{}, false
	}
	rec, err := v.Data.Get(r.Context(), id)
	if err != nil {
		v.admin.fail(w, r, err)
		return datamodel.Record{}, false
	}
	return rec, true
}

// parseID accepts only a plain positive decimal: "+5", "0x10" or "1e3"
// name no record.
func parseID(s string) (int64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
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
	for i := range v.fields {
		data.Cells = append(data.Cells, v.cell(&v.fields[i], rec))
	}
	for _, rel := range v.Related {
		list, err := v.relatedList(r.Context(), rel, rec.ID)
		if err != nil {
			v.admin.fail(w, r, err)
			return
		}
		data.Related = append(data.Related, list)
	}
	v.admin.ui.Render(w, r, http.StatusOK, "show", v.Singular+": "+data.Label, data)
}

func (v *ModelView) relatedList(ctx context.Context, rel Related, id int64) (relatedList, error) {
	target := rel.View
	back := datamodel.FieldByName(target.fields, rel.Field)
	res, err := target.Data.List(ctx, datamodel.Query{
		Filters: []datamodel.Filter{{Field: back, Op: datamodel.OpEq, Value: id}},
		Sort:    target.defSort, Desc: target.defDesc, Limit: relatedRows,
	})
	if err != nil {
		return relatedList{}, err
	}
	var fields []*datamodel.Field
	out := relatedList{Title: target.Plural, Total: res.Total,
		MoreURL: fmt.Sprintf("%s?%s=%d", target.listURL(), rel.Field, id)}
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
		back := datamodel.FieldByName(rel.View.fields, rel.Field)
		n, err := rel.View.Data.Count(r.Context(), []datamodel.Filter{{Field: back, Op: datamodel.OpEq, Value: rec.ID}})
		if err != nil {
			v.admin.fail(w, r, err)
			return
		}
		lower := strings.ToLower
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
		v.admin.fail(w, r, err)
		return
	}
	v.admin.log.Info("record deleted", "view", v.Name, "id", rec.ID)
	v.admin.flash(w, r, fmt.Sprintf("Deleted %s “%s”.", v.Singular, v.labelOf(rec)))
	http.Redirect(w, r, v.listURL(), http.StatusFound)
}

// fail answers a data-layer error through the one error-to-page mapper.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, err error) { a.ui.Fail(w, r, err) }

func (a *Admin) notFound(w http.ResponseWriter, r *http.Request) {
	a.ui.Fail(w, r, datamodel.ErrNotFound)
}
