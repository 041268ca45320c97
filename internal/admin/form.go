package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"musicadmin/internal/datamodel"
	"musicadmin/internal/view"
)

// Messages shown beside fields.
const (
	msgRequired  = "This field is required."
	msgBadText   = "Contains characters that are not allowed (NUL or invalid UTF-8)."
	msgBadChoice = "Not a valid choice."
)

type input struct {
	Name, Label, Type, Value, Error string
	Required                        bool
	MaxLength                       int
	Min, Max                        int64
	Choices                         []choice
}

type choice struct{ Value, Label string }

type formPage struct {
	Heading, Action, CancelURL string
	FormError                  string
	Inputs                     []input
}

// form is a submitted form: the raw text per field, kept to show it back,
// the decoded values, and the problems found.
type form struct {
	raw    map[string]string
	values datamodel.Values
	errs   map[string]string
	nonFld string
}

// handleAdd handles "GET /{view}/add".
func (v *ModelView) handleAdd(w http.ResponseWriter, r *http.Request) {
	f := form{raw: map[string]string{}}
	for _, fd := range v.fields {
		if fd.Kind == datamodel.KindInt {
			f.raw[fd.Name] = strconv.FormatInt(fd.Default, 10)
		}
	}
	v.renderForm(w, r, http.StatusOK, 0, f)
}

// parseBody parses the POST form when no middleware has yet (the server's
// CSRF check normally has), answering 400 itself when it cannot.
func (v *ModelView) parseBody(w http.ResponseWriter, r *http.Request) bool {
	if r.PostForm != nil {
		return true
	}
	if err := r.ParseForm(); err != nil {
		v.admin.ui.Fail(w, r, view.ErrBadForm)
		return false
	}
	return true
}

// handleCreate handles "POST /{view}/add".
func (v *ModelView) handleCreate(w http.ResponseWriter, r *http.Request) {
	if !v.parseBody(w, r) {
		return
	}
	f := v.decode(r.Context(), r.PostForm, 0)
	if len(f.errs) == 0 && f.nonFld == "" {
		id, err := v.Data.Create(r.Context(), f.values)
		if err == nil {
			v.admin.log.Info("record created", "view", v.Name, "id", id)
			v.admin.flash(w, r, fmt.Sprintf("Added %s “%s”.", v.Singular, strings.TrimSpace(f.raw[v.label.Name])))
			http.Redirect(w, r, v.listURL(), http.StatusFound)
			return
		}
		if !v.writeError(w, r, err, &f) {
			return
		}
	}
	v.renderForm(w, r, http.StatusUnprocessableEntity, 0, f)
}

// handleEdit handles "GET /{view}/edit/{id}".
func (v *ModelView) handleEdit(w http.ResponseWriter, r *http.Request) {
	rec, ok := v.load(w, r)
	if !ok {
		return
	}
	f := form{raw: map[string]string{}}
	for _, fd := range v.fields {
		switch val := rec.Values[fd.Name].(type) {
		case string:
			f.raw[fd.Name] = val
		case int64:
			f.raw[fd.Name] = strconv.FormatInt(val, 10)
		case *datamodel.Ref:
			if val != nil {
				f.raw[fd.Name] = strconv.FormatInt(val.ID, 10)
			}
		}
	}
	v.renderForm(w, r, http.StatusOK, rec.ID, f)
}

// handleUpdate handles "POST /{view}/edit/{id}".
func (v *ModelView) handleUpdate(w http.ResponseWriter, r *http.Request) {
	if !v.parseBody(w, r) {
		return
	}
	rec, ok := v.load(w, r)
	if !ok {
		return
	}
	f := v.decode(r.Context(), r.PostForm, rec.ID)
	if len(f.errs) == 0 && f.nonFld == "" {
		err := v.Data.Update(r.Context(), rec.ID, f.values)
		if err == nil {
			v.admin.log.Info("record updated", "view", v.Name, "id", rec.ID)
			v.admin.flash(w, r, fmt.Sprintf("Saved %s “%s”.", v.Singular, strings.TrimSpace(f.raw[v.label.Name])))
			http.Redirect(w, r, v.listURL(), http.StatusFound)
			return
		}
		if !v.writeError(w, r, err, &f) {
			return
		}
	}
	v.renderForm(w, r, http.StatusUnprocessableEntity, rec.ID, f)
}

// writeError turns a refused write into form errors and reports true, or
// answers the request itself (404, 503, 500) and reports false. A duplicate
// that slipped past the pre-check, because two requests raced, lands here
// from the database's own unique index.
func (v *ModelView) writeError(w http.ResponseWriter, r *http.Request, err error, f *form) bool {
	var conflict *datamodel.ConflictError
	switch {
	case errors.As(err, &conflict):
		fd := datamodel.FieldByName(v.fields, conflict.Field)
		f.errs[conflict.Field] = existsMessage(fd)
		return true
	case errors.Is(err, datamodel.ErrInvalidRef):
		for _, fd := range v.fields {
			if fd.Kind == datamodel.KindRef && f.values[fd.Name] != (*int64)(nil) {
				f.errs[fd.Name] = msgBadChoice
			}
		}
		if len(f.errs) == 0 {
			f.nonFld = msgBadChoice
		}
		return true
	}
	v.admin.fail(w, r, err)
	return false
}

func existsMessage(f *datamodel.Field) string {
	return fmt.Sprintf("A record with this %s already exists.", strings.ToLower(f.Label))
}

// decode reads the declared fields, and only those, from the POST body
// (never the query string; the first of repeated values), then validates
// them. exceptID is the record being edited, which may keep its own values.
func (v *ModelView) decode(ctx context.Context, body url.Values, exceptID int64) form {
	f := form{raw: map[string]string{}, values: datamodel.Values{}, errs: map[string]string{}}
	for i := range v.fields {
		fd := &v.fields[i]
		raw := body.Get(fd.Name)
		f.raw[fd.Name] = raw
		if !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
			f.raw[fd.Name] = strings.ToValidUTF8(strings.ReplaceAll(raw, "\x00", ""), "\uFFFD")
			f.errs[fd.Name] = msgBadText
			continue
		}
		text := strings.TrimSpace(raw)
		switch fd.Kind {
		case datamodel.KindText:
			switch {
			case text == "" && fd.Required:
				f.errs[fd.Name] = msgRequired
			case fd.MaxRunes > 0 && utf8.RuneCountInString(text) > fd.MaxRunes:
				f.errs[fd.Name] = fmt.Sprintf("Must be at most %d characters.", fd.MaxRunes)
			default:
				f.values[fd.Name] = text
			}
		case datamodel.KindInt:
			if text == "" {
				if fd.Required {
					f.errs[fd.Name] = msgRequired
				} else {
					f.values[fd.Name] = fd.Default
				}
				continue
			}
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil || (fd.Min < fd.Max && (n < fd.Min || n > fd.Max)) {
				f.errs[fd.Name] = intMessage(fd)
				continue
			}
			f.values[fd.Name] = n
		case datamodel.KindRef:
			if text == "" {
				if fd.Required {
					f.errs[fd.Name] = msgRequired
				} else {
					f.values[fd.Name] = (*int64)(nil)
				}
				continue
			}
			id, ok := parseID(text)
			if !ok {
				f.errs[fd.Name] = msgBadChoice
				continue
			}
			if _, err := fd.Ref.Model.Get(ctx, id); err != nil {
				if errors.Is(err, datamodel.ErrNotFound) {
					f.errs[fd.Name] = msgBadChoice
					continue
				}
				// Let the write report an unreachable database.
			}
			f.values[fd.Name] = &id
		}
	}
	// Uniqueness is checked here for a clear message; the unique index stays
	// the backstop for requests that race past it.
	for i := range v.fields {
		fd := &v.fields[i]
		val, ok := f.values[fd.Name]
		if !fd.Unique || !ok {
			continue
		}
		if taken, err := v.Data.Exists(ctx, fd, val, exceptID); err == nil && taken {
			f.errs[fd.Name] = existsMessage(fd)
		}
	}
	return f
}

func intMessage(f *datamodel.Field) string {
	if f.Min < f.Max {
		return fmt.Sprintf("Must be a whole number from %d to %d.", f.Min, f.Max)
	}
	return "Must be a whole number."
}

func (v *ModelView) renderForm(w http.ResponseWriter, r *http.Request, status int, id int64, f form) {
	data := formPage{Heading: "Add " + v.Singular, Action: v.addURL(), CancelURL: v.listURL(), FormError: f.nonFld}
	if id != 0 {
		data.Heading, data.Action, data.CancelURL = "Edit "+v.Singular, v.editURL(id), v.showURL(id)
	}
	for i := range v.fields {
		fd := &v.fields[i]
		in := input{Name: fd.Name, Label: fd.Label, Type: "text", Value: f.raw[fd.Name], Error: f.errs[fd.Name],
			Required: fd.Required, MaxLength: fd.MaxRunes}
		switch fd.Kind {
		case datamodel.KindInt:
			in.Type = "number"
			if fd.Min < fd.Max {
				in.Min, in.Max = fd.Min, fd.Max
			}
		case datamodel.KindRef:
			in.Type = "select"
			refs, err := fd.Ref.Model.Choices(r.Context())
			if err != nil {
				v.admin.fail(w, r, err)
				return
			}
			in.Choices = make([]choice, 0, len(refs))
			for _, ref := range refs {
				in.Choices = append(in.Choices, choice{Value: strconv.FormatInt(ref.ID, 10), Label: ref.Label})
			}
		}
		data.Inputs = append(data.Inputs, in)
	}
	v.admin.ui.Render(w, r, status, "form", data.Heading, data)
}
