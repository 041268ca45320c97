package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"musicadmin/internal/access"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
	"musicadmin/internal/view"
)

// Guard holds a view's own rules about who may write what, beyond the one
// permission its route checks: the generic pages ask it, with the grants
// of the request's user, before each write they make (add, edit, delete,
// bulk action) and before they show a form or a confirmation, so that a
// rule holds on every path to the write. The Security views' guard keeps
// a user from handing out permissions they do not hold.
//
// A refusal is a *Forbidden (403: the user may not touch this record) or a
// *datamodel.RefusedError (422 beside the field it names, or for the form;
// a flash for a bulk action); any other error fails the request. Rules
// about the data itself, which hold whoever writes (the last active
// Admin), belong in the store, which refuses with RefusedError.
type Guard interface {
	// CheckEdit reports whether g may change rec at all: open its edit
	// form, save it, or reach a page of the view's own about it.
	CheckEdit(ctx context.Context, g *access.Grants, rec datamodel.Record) error
	// CheckWrite reports whether g may write v: a new record when old is
	// nil, else a change of old (which CheckEdit has allowed).
	CheckWrite(ctx context.Context, g *access.Grants, old *datamodel.Record, v datamodel.Values) error
	// CheckDelete reports whether g may delete the records with ids.
	CheckDelete(ctx context.Context, g *access.Grants, ids []string) error
	// Fixed returns the fields of rec (nil: the add form) that the form
	// shows but nobody may change, each with the note shown beside it. A
	// save leaves them as stored: what is posted for them is ignored.
	Fixed(rec *datamodel.Record) map[string]string
	// Saved is told of each record the form created or changed, after the
	// write, with the request and its response still open (to re-issue
	// the session of a user who changed their own account).
	Saved(w http.ResponseWriter, r *http.Request, id string)
}

// Forbidden is a Guard's refusal to let the user touch a record: a 403
// page with Message.
type Forbidden struct{ Message string }

var _ error = (*Forbidden)(nil)

func (e *Forbidden) Error() string { return e.Message }

// Page is a page of a view's own, besides the generic ones, mounted under
// the view's path behind the permission Permission on the view, or behind
// the login alone when Permission is "". Permissions lists it, so that
// Admin holds it and a role form offers it.
type Page struct {
	Method  string // http.MethodGet or http.MethodPost
	Pattern string // under the view's path, e.g. "/password"
	// Permission is the action on the view the page needs, e.g.
	// "can_reset_password"; "" for any logged-in user.
	Permission string
	Handler    http.HandlerFunc
}

// ShowLink is a button of a record's show page leading to one of the
// view's own pages, shown to users who hold its Permission on the view.
type ShowLink struct {
	Label      string
	Permission string
	// URL returns the link for the record with id.
	URL func(id string) string
}

// PathOf returns the URL path of the view's own page at pattern: its path
// prefixed with the view's.
func (v *ModelView) PathOf(pattern string) string { return v.basePath + pattern }

// RecordOf loads the record of the request's {id}, as the generic pages
// do: an id that cannot exist, or does not, is answered with 404 here, and
// ok is false.
func (v *ModelView) RecordOf(w http.ResponseWriter, r *http.Request) (datamodel.Record, bool) {
	return v.load(w, r)
}

// guardEdit asks the view's guard whether the request's user may change
// rec; a refusal is answered here (403) and ok is false.
func (v *ModelView) guardEdit(w http.ResponseWriter, r *http.Request, rec datamodel.Record) bool {
	if v.Guard == nil {
		return true
	}
	err := v.Guard.CheckEdit(r.Context(), access.GrantsOf(r), rec)
	if err == nil {
		return true
	}
	v.refuse(w, r, err)
	return false
}

// refuse answers a guard's refusal that has no form to show it on: 403 for
// Forbidden, 422 for a RefusedError, the error page otherwise.
func (v *ModelView) refuse(w http.ResponseWriter, r *http.Request, err error) {
	status, reason, ok := refusal(err)
	if !ok {
		v.admin.ui.Fail(w, r, err)
		return
	}
	v.admin.log.Info("write refused", "view", v.Name, "status", status, "reason", reason.Error())
	v.admin.ui.Render(w, r, status, "error", http.StatusText(status), errorPage(status, i18n.Error(r.Context(), reason)))
}

// refusal reads a guard's or a store's refusal: its status and reason, a
// message to translate where it is shown (its Error is English).
func refusal(err error) (status int, reason error, ok bool) {
	var fb *Forbidden
	var rf *datamodel.RefusedError
	switch {
	case errors.As(err, &fb):
		return http.StatusForbidden, i18n.Errorf(fb.Message), true
	case errors.As(err, &rf):
		return http.StatusUnprocessableEntity, rf.Text(), true
	}
	return 0, nil, false
}

func errorPage(status int, msg string) view.ErrorData {
	return view.ErrorData{Status: status, Message: msg}
}

// Render renders page for a view's own page (Pages), with the app's
// layout, as the generic pages are.
func (v *ModelView) Render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	v.admin.ui.Render(w, r, status, page, title, data)
}

// Fail answers a failed request of a view's own page as the generic pages
// do; a guard's refusal (Forbidden, RefusedError) gets its status and
// message.
func (v *ModelView) Fail(w http.ResponseWriter, r *http.Request, err error) { v.refuse(w, r, err) }

// Flash queues msg for the user's next page.
func (v *ModelView) Flash(w http.ResponseWriter, r *http.Request, msg string) {
	v.admin.flash(w, r, msg)
}

// Log is the admin's logger.
func (v *ModelView) Log() *slog.Logger { return v.admin.log }

// ShowURL is the show page of the record with id.
func (v *ModelView) ShowURL(id string) string { return v.showURL(id) }

// FormField is an input of a view's own form page (Pages).
type FormField struct {
	Name, Label string
	// Type is the input's: "text", "password"...
	Type string
	// Confirm asks a "password" twice: the second input is Name +
	// "_confirm".
	Confirm  bool
	Required bool
	Error    string
	// Value is shown in the input; with ReadOnly it is only shown.
	Value        string
	ReadOnly     bool
	Autocomplete string
}

// FormPage is a view's own form page, rendered with the generic form
// template.
type FormPage struct {
	Heading, Action, CancelURL string
	FormError                  string
	Fields                     []FormField
}

// RenderForm renders a view's own form page p with status (200, or 422
// when the input was refused).
func (v *ModelView) RenderForm(w http.ResponseWriter, r *http.Request, status int, p FormPage) {
	data := formPage{Heading: p.Heading, Action: p.Action, CancelURL: p.CancelURL, FormError: textError(p.FormError)}
	for _, f := range p.Fields {
		data.Inputs = append(data.Inputs, input{Name: f.Name, Label: f.Label, Type: f.Type, Confirm: f.Confirm,
			Required: f.Required, Error: textError(f.Error), Value: f.Value, ReadOnly: f.ReadOnly, Autocomplete: f.Autocomplete})
	}
	v.admin.ui.Render(w, r, status, "form", p.Heading, data)
}

// InvalidError is input that Validate refused: the message beside each
// field, by field name, and the form's own.
type InvalidError struct {
	Fields map[string]string
	Form   string
	fields []datamodel.Field // the view's, for their order and labels
}

var _ error = (*InvalidError)(nil)

// Error lists the problems on one line, each field by its label, in the
// order the fields are declared.
func (e *InvalidError) Error() string {
	var parts []string
	if e.Form != "" {
		parts = append(parts, e.Form)
	}
	for _, fd := range e.fields {
		if msg, ok := e.Fields[fd.Name]; ok {
			parts = append(parts, fd.Label+": "+msg)
		}
	}
	return strings.Join(parts, " ")
}

// invalid is the InvalidError of the form f.
func (v *ModelView) invalid(f form) *InvalidError {
	e := &InvalidError{Fields: make(map[string]string, len(f.errs)), fields: v.schema.Fields}
	for name, err := range f.errs {
		e.Fields[name] = err.Error()
	}
	if f.formError != nil {
		e.Form = f.formError.Error()
	}
	return e
}

// Validate reads posted as the add form (rec nil) or the edit form of rec
// would, and checks it as their save does, store lookups included
// (uniqueness, the options of a set): it returns the values to write, or
// an *InvalidError. The command line writes through it, so that its rules
// are the forms' to the letter. It does not ask the Guard: the command
// line is run by whoever runs the server.
func (v *ModelView) Validate(ctx context.Context, posted url.Values, rec *datamodel.Record) (datamodel.Values, error) {
	f := v.decode(posted, rec)
	id := ""
	if rec != nil {
		id = rec.ID
	}
	v.validate(ctx, &f, id)
	if f.valid() {
		return f.values, nil
	}
	return nil, v.invalid(f)
}

// WriteProblem turns a refused write into what a form would show: an
// *InvalidError for a taken unique value, a reference to nothing or a
// store's RefusedError; any other error is returned as it is.
func (v *ModelView) WriteProblem(err error) error {
	f := form{errs: map[string]error{}}
	var conflict *datamodel.ConflictError
	var badRef *datamodel.InvalidRefError
	var refused *datamodel.RefusedError
	switch {
	case errors.As(err, &refused):
		f.refused(v.schema, refused)
	case errors.As(err, &conflict):
		if fd := v.schema.Field(conflict.Field); fd != nil {
			f.errs[fd.Name] = existsMessage(fd)
		} else {
			f.formError = msgConflict
		}
	case errors.As(err, &badRef):
		f.errs[badRef.Field] = msgBadChoice
	default:
		return err
	}
	return v.invalid(f)
}

// textError is a message of a view's own page (FormPage) as the form
// shows it: its text is its catalogue id, translated where it is shown
// when the catalogue has it, shown as it is otherwise; nil when empty.
func textError(msg string) error {
	if msg == "" {
		return nil
	}
	return i18n.Errorf(msg)
}
