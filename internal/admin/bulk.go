package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"musicadmin/internal/access"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
	"musicadmin/internal/view"
)

// MaxBulkIDs caps the ids one bulk action takes. The list's checkboxes post
// one page at most (MaxPageSize); the cap leaves room for a script, and
// bounds what one request may ask of the database: one transaction over
// one list of ids, and for a confirmation one read per record.
const MaxBulkIDs = 1000

// Action is a bulk action on the records selected on a list page, run by
// POST /{view}/action/{Name} with repeated ids and the csrf_token. Every
// view has the built-in "delete"; ModelView.Actions declares more.
type Action struct {
	Name  string // URL segment: lower-case letters, digits, "_" and "-"
	Label string // the list's button, e.g. "Delete selected"
	Done  string // the flash's verb, e.g. "Deleted": "Deleted 2 songs."

	// Permission is what a user must hold on the view to run the action:
	// "can_delete" for delete, "can_" + Name when empty. Its route is
	// mounted behind it (Mount), and the list offers the button only to
	// those who hold it.
	Permission string

	// Confirm asks first: the POST answers a page listing the selected
	// records, and only its own POST, which carries confirm=1, runs Run.
	Confirm bool

	// Run applies the action to ids and returns how many records it
	// changed. The ids are well formed for the backend, without repeats,
	// at most MaxBulkIDs, and may name records that no longer exist, which
	// it counts as unchanged. Run must be all or none (one transaction,
	// e.g. one statement through a store method such as DeleteMany): the
	// seam offers no transaction of its own.
	Run func(ctx context.Context, ids []string) (int, error)

	// deletes marks the built-in delete: its confirmation says how many
	// references it clears and that it cannot be undone.
	deletes bool
}

// resolveActions checks the declared actions and puts the built-in delete
// first.
func (v *ModelView) resolveActions() error {
	del := Action{Name: "delete", Label: "Delete selected", Done: "Deleted", Permission: "can_delete",
		Confirm: true, Run: v.Data.DeleteMany, deletes: true}
	v.actions = []Action{del}
	for _, a := range v.Actions {
		if !validActionName(a.Name) || a.Label == "" || a.Done == "" || a.Run == nil {
			return fmt.Errorf("admin: %s: action %q needs a Name of [a-z0-9_-], a Label, a Done and a Run", v.Name, a.Name)
		}
		if v.action(a.Name) != nil {
			return fmt.Errorf("admin: %s: action %q declared twice", v.Name, a.Name)
		}
		if a.Permission == "" {
			a.Permission = "can_" + a.Name
		}
		v.actions = append(v.actions, a)
	}
	return nil
}

func validActionName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (v *ModelView) action(name string) *Action {
	for i := range v.actions {
		if v.actions[i].Name == name {
			return &v.actions[i]
		}
	}
	return nil
}

func (v *ModelView) actionURL(name string) string {
	return v.basePath + "/action/" + url.PathEscape(name)
}

// actionButton is one bulk action offered under a list.
type actionButton struct {
	Label, URL string
	Danger     bool
}

// actionButtons returns the buttons of the actions g may run.
func (v *ModelView) actionButtons(g *access.Grants) []actionButton {
	var out []actionButton
	if v.ListOnly {
		return nil
	}
	for _, a := range v.actions {
		if g.Can(access.On(v.Name, a.Permission)) {
			out = append(out, actionButton{Label: a.Label, URL: v.actionURL(a.Name), Danger: a.deletes})
		}
	}
	return out
}

// count says n records of the view in the language of ctx: "1 song",
// "2 songs", read from the catalogue's plural message "{{.Count}} songs"
// (a counted noun takes a different form for each plural category in
// some languages), or made in English when the catalogue has none for the
// view.
func (v *ModelView) count(ctx context.Context, n int) string {
	id := "{{.Count}} " + strings.ToLower(v.Plural)
	if s := i18n.Plural(ctx, id, n); s != id {
		return s
	}
	if n == 1 {
		return "1 " + strings.ToLower(v.Singular)
	}
	return fmt.Sprintf("%d %s", n, strings.ToLower(v.Plural))
}

// bulkIDs reads the posted ids: repeats dropped, and ids that cannot be
// this backend's dropped and counted as ignored. ok is false when more
// than MaxBulkIDs were posted.
func (v *ModelView) bulkIDs(posted []string) (ids []string, ignored int, ok bool) {
	if len(posted) > MaxBulkIDs {
		return nil, 0, false
	}
	seen := make(map[string]bool, len(posted))
	for _, id := range posted {
		switch {
		case seen[id]:
		case !v.Data.ValidID(id):
			ignored++
		default:
			ids = append(ids, id)
		}
		seen[id] = true
	}
	return ids, ignored, true
}

// ignoredNote tells the user about selected ids that named no record.
func ignoredNote(ctx context.Context, n int) string {
	return i18n.Plural(ctx, "{{.Count}} selected ids name no record and were ignored.", n)
}

type bulkPage struct {
	Heading           string
	Label, Question   string
	Labels            []string // the selected records
	IDs               []string
	Notices           []string
	Irreversible      bool
	Action, CancelURL string
	ListQuery         string // the list the action was asked from (listQueryField)
}

// listQueryField is the bulk form's hidden field that holds the query of
// the list the action is asked from, so that the user lands on that list
// again, with its filters, search, sort, page and page size.
const listQueryField = "list_query"

// maxListQuery bounds the posted list query read; a longer one is ignored.
const maxListQuery = 8 << 10

// listQuery is the query of the list p shows at its page, without the
// view's default sort and page 1 ("" for the plain list): what the bulk
// form carries in listQueryField.
func (v *ModelView) listQuery(p listParams) string {
	sortBy := sortKey(p.sort, p.desc)
	if p.sort == v.defSort && p.desc == v.defDesc {
		sortBy = ""
	}
	_, query, _ := strings.Cut(v.urlFor(p, p.pager.page, sortBy), "?")
	return query
}

// backToList reads a posted list query and returns it rebuilt and the URL
// of the list it names: read as the list reads its own query, so that only
// this view's list path and its known parameters with accepted values are
// kept, however the text was forged (never an open redirect). Anything
// else gives the plain list.
func (v *ModelView) backToList(posted string) (query, to string) {
	values, err := url.ParseQuery(posted)
	if posted == "" || len(posted) > maxListQuery || err != nil {
		return "", v.listURL()
	}
	query = v.listQuery(v.parseList(values))
	if query == "" {
		return "", v.listURL()
	}
	return query, v.listURL() + "?" + query
}

// handleAction handles "POST /{view}/action/{name}": the bulk action name
// on the posted ids. An action that confirms answers its confirmation page
// unless the form carries confirm=1. Ids that are malformed or name no
// record are ignored and said so; more than MaxBulkIDs are refused (422).
// Done, the user is sent back to the list the form was posted from
// (backToList).
func (v *ModelView) handleAction(name string) http.HandlerFunc {
	a := v.action(name)
	return func(w http.ResponseWriter, r *http.Request) { v.runAction(w, r, a) }
}

func (v *ModelView) runAction(w http.ResponseWriter, r *http.Request, a *Action) {
	ctx := r.Context()
	listQuery, back := v.backToList(r.PostForm.Get(listQueryField))
	ids, ignored, ok := v.bulkIDs(r.PostForm["ids"])
	if !ok {
		v.admin.ui.Render(w, r, http.StatusUnprocessableEntity, "error", http.StatusText(http.StatusUnprocessableEntity),
			view.ErrorData{Status: http.StatusUnprocessableEntity,
				Message: i18n.Text(ctx, "Select at most {{.Max}} records at a time.", "Max", MaxBulkIDs)})
		return
	}
	if len(ids) == 0 {
		msg := i18n.Text(ctx, "No records selected.")
		if ignored > 0 {
			msg += " " + ignoredNote(ctx, ignored)
		}
		v.admin.flash(w, r, msg)
		http.Redirect(w, r, back, http.StatusFound)
		return
	}
	if a.deletes && v.Guard != nil {
		if err := v.Guard.CheckDelete(r.Context(), access.GrantsOf(r), ids); err != nil {
			v.refuseAction(w, r, a, err)
			return
		}
	}
	if a.Confirm && r.PostForm.Get("confirm") != "1" {
		v.confirmAction(w, r, a, ids, ignored, listQuery, back)
		return
	}
	n, err := a.Run(v.writeContext(r.Context()), ids)
	if err != nil {
		v.refuseAction(w, r, a, err)
		return
	}
	v.admin.log.Info("bulk action", "view", v.Name, "action", a.Name, "selected", len(ids), "changed", n)
	msg := i18n.Text(ctx, "{{.Done}} {{.Records}}.", "Done", i18n.Msg(a.Done), "Records", v.count(ctx, n))
	if ignored > 0 {
		msg += " " + ignoredNote(ctx, ignored)
	}
	v.admin.flash(w, r, msg)
	http.Redirect(w, r, back, http.StatusFound)
}

// refuseAction answers a bulk action that a guard or the store refused
// with a flash on the list, which it names the reason on: nothing was
// written (Run is all or none). Any other error fails the request.
func (v *ModelView) refuseAction(w http.ResponseWriter, r *http.Request, a *Action, err error) {
	_, reason, ok := refusal(err)
	if !ok {
		v.admin.ui.Fail(w, r, err)
		return
	}
	v.admin.log.Info("bulk action refused", "view", v.Name, "action", a.Name, "reason", reason.Error())
	v.admin.flash(w, r, i18n.Text(r.Context(), "Nothing done: {{.Reason}}", "Reason", i18n.Error(r.Context(), reason)))
	http.Redirect(w, r, v.listURL(), http.StatusFound)
}

// confirmAction answers the confirmation page of a on ids: the records
// that exist, by label, and for a delete how many records of each related
// view lose their reference. It reads each record and counts each one's
// dependants on its own: the seam has no "id in" query, and ids are capped.
// Its form carries listQuery on, and Cancel goes back to that list.
func (v *ModelView) confirmAction(w http.ResponseWriter, r *http.Request, a *Action, ids []string, ignored int, listQuery, back string) {
	ctx := r.Context()
	data := bulkPage{Heading: i18n.Text(ctx, a.Label), Label: a.Label, Irreversible: a.deletes, Action: v.actionURL(a.Name),
		CancelURL: back, ListQuery: listQuery}
	for _, id := range ids {
		rec, err := v.Data.Get(r.Context(), id)
		switch {
		case err == nil:
			data.IDs = append(data.IDs, rec.ID)
			data.Labels = append(data.Labels, v.labelOf(rec))
		case errors.Is(err, datamodel.ErrNotFound):
			ignored++
		default:
			v.admin.ui.Fail(w, r, err)
			return
		}
	}
	if len(data.IDs) == 0 {
		v.admin.flash(w, r, i18n.Text(ctx, "No records selected.")+" "+ignoredNote(ctx, ignored))
		http.Redirect(w, r, back, http.StatusFound)
		return
	}
	data.Question = i18n.Text(ctx, "{{.Action}}: {{.Records}}.", "Action", i18n.Msg(a.Label), "Records", v.count(ctx, len(data.IDs)))
	if a.deletes {
		data.Heading = i18n.Text(ctx, "Delete {{.Name}}", "Name", i18n.Msg(v.Plural))
		data.Question = i18n.Text(ctx, "Delete {{.Records}}?", "Records", v.count(ctx, len(data.IDs)))
		for _, rel := range v.Related {
			var n int64
			for _, id := range data.IDs {
				c, err := rel.View.Data.Count(r.Context(), pointingAt(rel, id))
				if err != nil {
					v.admin.ui.Fail(w, r, err)
					return
				}
				n += c
			}
			data.Notices = append(data.Notices, i18n.Plural(ctx,
				"{{.Count}} {{.Plural}} refer to them. They will be kept, with no {{.Field}}.", int(n),
				"One", lowerWord(rel.View.Singular), "Plural", lowerWord(rel.View.Plural),
				"Field", lowerWord(rel.View.schema.Field(rel.Field).Label)))
		}
	}
	if ignored > 0 {
		data.Notices = append(data.Notices, ignoredNote(ctx, ignored))
	}
	v.admin.ui.RenderTrail(w, r, http.StatusOK, "bulk", data.Heading, v.trail(r, nil, data.Heading), data)
}
