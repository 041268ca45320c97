package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
)

// cell is one value on a page; Href links it to the record it names.
// An audit entry's time has its exact value in Time, its changes are
// Changes (auditCell). Word marks a Text that is a catalogue word, not
// data ("Yes", "No" of a yes/no field), translated where shown.
type cell struct {
	Label   string
	Text    string
	Word    bool
	Href    string
	Time    string
	Changes []change
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

// rows renders records with the links can allows.
func (v *ModelView) rows(ctx context.Context, can allowed, records []datamodel.Record, fields []*datamodel.Field) []row {
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
			c := v.cell(ctx, can.grants, f, rec)
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
func (v *ModelView) cell(ctx context.Context, g *access.Grants, f *datamodel.Field, rec datamodel.Record) cell {
	val := rec.Values[f.Name]
	c := cell{Label: v.fieldLabel(ctx, f), Text: f.Kind.Text(val)}
	if _, yesNo := f.Kind.(datamodel.Bool); yesNo {
		c.Word = true
	}
	if v.Name == v.admin.historyView {
		v.auditCell(ctx, f, rec, &c)
	}
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
		data.Cells = append(data.Cells, v.cell(r.Context(), can.grants, f, rec))
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
	title := i18n.Text(r.Context(), "{{.Singular}}: {{.Label}}", "Singular", i18n.Msg(v.Singular), "Label", data.Label)
	v.admin.ui.RenderTrail(w, r, http.StatusOK, "show", title, v.trail(r, &rec, ""), data)
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
	out.Rows = target.rows(r.Context(), target.allowed(r), res.Records, fields)
	return out, nil
}

type deletePage struct {
	Singular, Label   string
	Action, CancelURL string
	// Before and After are the question's text around the record's
	// label, which the page shows in bold: "Delete ", "? This cannot be
	// undone." in English.
	Before, After string
	Dependents    []string
	Error         error // why the delete was refused, a message
}

// handleDeleteConfirm handles "GET /{view}/delete/{id}": a confirmation that
// says what refers to the record. GET never changes anything.
func (v *ModelView) handleDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	rec, ok := v.load(w, r)
	if !ok || !v.guardDelete(w, r, rec.ID) {
		return
	}
	v.renderDelete(w, r, http.StatusOK, rec, nil)
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
func (v *ModelView) renderDelete(w http.ResponseWriter, r *http.Request, status int, rec datamodel.Record, refused error) {
	ctx := r.Context()
	data := deletePage{Error: refused, Singular: v.Singular, Label: v.labelOf(rec), Action: v.deleteURL(rec.ID),
		CancelURL: v.showURL(rec.ID)}
	// The question is one message, cut where the label goes.
	data.Before, data.After, _ = strings.Cut(i18n.Text(ctx, "Delete {{.Label}}? This cannot be undone.", "Label", "\x00"), "\x00")
	for _, rel := range v.Related {
		n, err := rel.View.Data.Count(ctx, pointingAt(rel, rec.ID))
		if err != nil {
			v.admin.ui.Fail(w, r, err)
			return
		}
		back := rel.View.schema.Field(rel.Field)
		data.Dependents = append(data.Dependents, i18n.Plural(ctx,
			"{{.Count}} {{.Plural}} refer to this {{.Singular}}. They will be kept, with no {{.Field}}.", int(n),
			"One", lowerWord(rel.View.Singular), "Plural", lowerWord(rel.View.Plural),
			"Singular", lowerWord(v.Singular), "Field", lowerWord(back.Label)))
	}
	title := i18n.Text(ctx, "Delete {{.Name}}", "Name", i18n.Msg(v.Singular))
	v.admin.ui.RenderTrail(w, r, status, "delete", title, v.trail(r, &rec, "Delete"), data)
}

// handleDelete handles "POST /{view}/delete/{id}". A delete the store
// refuses by a rule of the model (the last active Admin) answers 422: the
// confirmation again, with the reason.
func (v *ModelView) handleDelete(w http.ResponseWriter, r *http.Request) {
	rec, ok := v.load(w, r)
	if !ok || !v.guardDelete(w, r, rec.ID) {
		return
	}
	if err := v.Data.Delete(v.writeContext(r.Context()), rec.ID); err != nil {
		var refused *datamodel.RefusedError
		if errors.As(err, &refused) {
			v.admin.log.Info("delete refused", "view", v.Name, "id", rec.ID, "reason", refused.Message)
			v.renderDelete(w, r, http.StatusUnprocessableEntity, rec, refused.Text())
			return
		}
		v.admin.ui.Fail(w, r, err)
		return
	}
	v.admin.log.Info("record deleted", "view", v.Name, "id", rec.ID)
	v.admin.flash(w, r, i18n.Text(r.Context(), "Deleted {{.Singular}} “{{.Label}}”.", "Singular", i18n.Msg(v.Singular),
		"Label", v.labelOf(rec)))
	http.Redirect(w, r, v.listURL(), http.StatusFound)
}
