package admin

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
)

// historyRows is how many entries a history page shows, newest first; the
// audit log's list, filtered to the record, pages through the rest.
const historyRows = 100

// SetHistory gives every view a history page, /{view}/history/{id}, read
// from the audit log's entries, and names the view that lists them. It is
// called before Mount.
func (a *Admin) SetHistory(entries datamodel.Interface, logView string) {
	a.history, a.historyView = entries, logView
}

type historyPage struct {
	Singular, Label, ShowURL, AllURL string
	// TimeLabel heads the times: "Time (UTC)", or the reader's zone.
	TimeLabel string
	Entries   []historyEntry
	More      bool
}

type historyEntry struct {
	At               when
	Username, Action string
	Changes          []change
}

// when is a time of the audit log as a person reads it (Text) and as
// stored, exactly, in UTC (Exact: a <time datetime>). A value that is not
// a time is shown as stored, with no Exact.
type when struct{ Text, Exact string }

// whenOf is the stored time as the reader of ctx reads it: in their
// language, in their own time zone, else UTC, labelled with the zone
// ("6 Dec 2026, 23:06:44 UTC"; i18n.TimeIn).
func whenOf(ctx context.Context, stored string) when {
	t, err := time.Parse(time.RFC3339Nano, stored)
	if err != nil {
		return when{Text: stored}
	}
	return when{Text: i18n.TimeIn(ctx, t), Exact: stored}
}

// change is a changed field of an audit entry as a page shows it: the
// field by its label.
type change struct{ Field, Old, New string }

// changesOf labels the changes of an entry of the view named viewName by
// that view's field labels; a field no view declares (a view since
// removed, a field renamed) keeps its name.
func (a *Admin) changesOf(viewName string, changes []audit.Change) []change {
	var s *datamodel.Schema
	if v := a.view(viewName); v != nil {
		s = v.schema
	}
	out := make([]change, len(changes))
	for i, c := range changes {
		out[i] = change{Field: c.Field, Old: c.Old, New: c.New}
		if s != nil {
			if f := s.Field(c.Field); f != nil {
				out[i].Field = f.Label
			}
		}
	}
	return out
}

// view returns the view called name, or nil.
func (a *Admin) view(name string) *ModelView {
	for _, v := range a.views {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// viewTitle is the title of the view called name, as the menu shows it,
// or name for a view this app does not declare.
func (a *Admin) viewTitle(name string) string {
	if t := a.ViewTitle(name); t != "" {
		return t
	}
	return name
}

// ViewTitle is the title of the view called name, as the menu shows it,
// or "" for a view this app does not declare.
func (a *Admin) ViewTitle(name string) string {
	if v := a.view(name); v != nil {
		return v.Title
	}
	return ""
}

// fieldLabel is the label of f as a page heads its values: the declared
// one, but for the audit log's time when the reader of ctx has a time zone
// of their own: "Time (Europe/Berlin)" in their language, for the times
// the cells then show in it.
func (v *ModelView) fieldLabel(ctx context.Context, f *datamodel.Field) string {
	if f.Name != "at" || v.Name != v.admin.historyView {
		return f.Label
	}
	if zone := i18n.ZoneOf(ctx); zone != time.UTC {
		return i18n.Text(ctx, "Time ({{.Zone}})", "Zone", zone.String())
	}
	return f.Label
}

// auditCell shows a field of an audit entry in human terms: its time
// readable and exact, its view by title, its changes by field label.
func (v *ModelView) auditCell(ctx context.Context, f *datamodel.Field, rec datamodel.Record, c *cell) {
	switch f.Name {
	case "at":
		w := whenOf(ctx, c.Text)
		c.Text, c.Time = w.Text, w.Exact
	case "view_name":
		// A view's title and an action's name are catalogue words,
		// translated where shown.
		c.Text, c.Word = v.admin.viewTitle(c.Text), true
	case "action":
		c.Word = true
	case "changes":
		changes, err := audit.ParseChanges(rec.Values[f.Name])
		if err == nil && len(changes) > 0 {
			view, _ := rec.Values["view_name"].(string)
			c.Changes = v.admin.changesOf(view, changes)
		}
	}
}

// handleHistory handles "GET /{view}/history/{id}": the record's audit
// entries, newest first, each with its changed fields' old and new values.
func (v *ModelView) handleHistory(w http.ResponseWriter, r *http.Request) {
	rec, ok := v.load(w, r)
	if !ok {
		return
	}
	s := v.admin.history.Schema()
	res, err := v.admin.history.List(r.Context(), datamodel.Query{
		// The record's id first: the more selective filter, which a
		// store reading one index for the first equality should pick.
		Filters: []datamodel.Filter{
			{Field: s.Field("record_id"), Op: datamodel.OpEq, Value: rec.ID},
			{Field: s.Field("view_name"), Op: datamodel.OpEq, Value: v.Name},
		},
		Sort: s.Field("at"), Desc: true, Limit: historyRows + 1, NoCount: true,
	})
	if err != nil {
		v.admin.ui.Fail(w, r, err)
		return
	}
	data := historyPage{Singular: v.Singular, Label: v.labelOf(rec), ShowURL: v.showURL(rec.ID)}
	if logView := v.admin.view(v.admin.historyView); logView != nil {
		data.TimeLabel = logView.fieldLabel(r.Context(), s.Field("at"))
	}
	if g := access.GrantsOf(r); g.Can(access.On(v.admin.historyView, access.CanList)) {
		data.AllURL = "/" + v.admin.historyView + "/list/?" + url.Values{"view_name": {v.Name}, "record_id": {rec.ID}}.Encode()
	}
	for i, e := range res.Records {
		if i == historyRows {
			data.More = true
			break
		}
		changes, _ := audit.ParseChanges(e.Values["changes"])
		text := func(name string) string { return s.Field(name).Kind.Text(e.Values[name]) }
		entry := historyEntry{At: whenOf(r.Context(), text("at")), Username: text("username"),
			Action: text("action"), Changes: v.admin.changesOf(v.Name, changes)}
		for i := range entry.Changes {
			entry.Changes[i].Field = i18n.Text(r.Context(), entry.Changes[i].Field) // a label, in the reader's language
		}
		data.Entries = append(data.Entries, entry)
	}
	title := i18n.Text(r.Context(), "History of {{.Singular}}: {{.Label}}", "Singular", i18n.Msg(v.Singular), "Label", data.Label)
	v.admin.ui.RenderTrail(w, r, http.StatusOK, "history", title, v.trail(r, &rec, "History"), data)
}

func (v *ModelView) historyURL(id string) string {
	return v.basePath + "/history/" + url.PathEscape(id)
}
