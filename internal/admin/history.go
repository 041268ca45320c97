package admin

import (
	"net/http"
	"net/url"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
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
	Entries                          []historyEntry
	More                             bool
}

type historyEntry struct {
	At, Username, Action string
	Changes              []audit.Change
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
		data.Entries = append(data.Entries, historyEntry{At: text("at"), Username: text("username"),
			Action: text("action"), Changes: changes})
	}
	v.admin.ui.Render(w, r, http.StatusOK, "history", "History of "+v.Singular+": "+data.Label, data)
}

func (v *ModelView) historyURL(id string) string {
	return v.basePath + "/history/" + url.PathEscape(id)
}
