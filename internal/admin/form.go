package admin

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"musicadmin/internal/access"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
)

// Messages shown beside fields, translated where they are shown.
var (
	msgRequired  = i18n.Errorf("This field is required.")
	msgBadText   = i18n.Errorf("Contains characters that are not allowed (NUL or invalid UTF-8).")
	msgBadChoice = i18n.Errorf("Not a valid choice.")
	msgConflict  = i18n.Errorf("A record with these values already exists.")
	msgStale     = i18n.Errorf("This record was changed by someone else since you opened it. Your input is kept below, " +
		"with the values stored now beside each field: save again to replace them, or cancel to keep them.")
)

type input struct {
	Name, Label, Type, Value string
	// Error is the problem of the input, a message translated where it
	// is shown; nil when there is none.
	Error     error
	Required  bool
	MaxLength int
	Min, Max  int64
	Choices   []choice
	// A "lookup" input: the URL it searches, the list of the records it
	// names and what one is called, and the label of the one named now.
	LookupURL, TargetURL, Target, Current string
	// ID is the element's id when not "f-" + Name (a list's filter).
	ID string
	// On a form refused because the record changed meanwhile (409): the
	// value stored now, as shown on its page, and whether it differs from
	// the input.
	ShowStored, StoredDiffers bool
	Stored                    string
	// Checked: a "checkbox" ticked.
	Checked bool
	// Confirm asks a "password" twice (a new one).
	Confirm bool
	// Autocomplete is the input's autocomplete attribute, if any, and
	// ReadOnly shows a value that is not to be typed.
	Autocomplete string
	ReadOnly     bool
	// Fixed is the note of a field shown but not to be changed (Guard):
	// its control is read-only.
	Fixed string
}

// HTMLID is the id of the input's element: the label's for, the error's
// and the hint's prefix.
func (in input) HTMLID() string {
	if in.ID != "" {
		return in.ID
	}
	return "f-" + in.Name
}

type choice struct {
	Value, Label string
	Selected     bool // a "set" input's chosen options
}

type formPage struct {
	Heading, Action, CancelURL string
	FormError                  error
	// The buttons besides Save, as in Django admin: "Save and add
	// another" and "Save and continue editing" (posting saveAddAnother,
	// saveContinue), and the edit form's link to the delete confirmation.
	AddAnother, Continue bool
	DeleteURL            string
	// Version is the version of the record the edit form was loaded
	// from, sent back with it (datamodel.Schema.Version).
	Version string
	Inputs  []input
}

// form is a submitted form: the raw text per field, kept to show it back,
// the values read from it, the problems found beside each field, and a
// problem of the whole form.
type form struct {
	raw map[string]string
	// multi holds the ids chosen in each set field, as posted or stored.
	multi     map[string][]string
	values    datamodel.Values
	errs      map[string]error
	formError error
	version   string
	// fixed are the fields the form shows but may not change, with their
	// notes (Guard.Fixed).
	fixed map[string]string
	// refs are the references of the record as loaded, by field, with
	// their labels: a searchable input showing the one its value names
	// need not read it again.
	refs map[string]*datamodel.Ref
	// stored is the record as stored now, when the form is refused as
	// stale; nil otherwise.
	stored *datamodel.Record
}

func (f *form) valid() bool { return len(f.errs) == 0 && f.formError == nil }

// The names of the form's other save buttons, Django admin's: saved, the
// record's form comes back empty for another record, or the record's edit
// form again. Save alone goes back to the list, as the contract says.
const (
	saveAddAnother = "_addanother"
	saveContinue   = "_continue"
)

// afterSave answers a saved form: a 302 to the list, or, for the other
// save buttons, to a new add form or to the record's edit form, each with
// its flash message. Every target is a path of the view: nothing of the
// request chooses where it leads but which button was pressed, and a
// button the user may not follow (no can_add, no can_edit) leads to the
// list.
func (v *ModelView) afterSave(w http.ResponseWriter, r *http.Request, done, id string) {
	can := v.allowed(r)
	to, msg := v.listURL(), done
	switch {
	case r.PostForm.Has(saveAddAnother) && can.add:
		to, msg = v.addURL(), done+" "+i18n.Text(r.Context(), "You may add another {{.Name}} below.", "Name", lowerWord(v.Singular))
	case r.PostForm.Has(saveContinue) && can.edit:
		to, msg = v.editURL(id), done+" "+i18n.Text(r.Context(), "You may edit it again below.")
	}
	v.admin.flash(w, r, msg)
	http.Redirect(w, r, to, http.StatusFound)
}

// handleAdd handles "GET /{view}/add": the form holds each kind's value for
// an empty input (a number field its default).
func (v *ModelView) handleAdd(w http.ResponseWriter, r *http.Request) {
	f := v.filled(nil)
	v.renderForm(w, r, http.StatusOK, nil, f)
}

// filled returns the form of rec as stored, or of a new record (nil).
func (v *ModelView) filled(rec *datamodel.Record) form {
	f := form{raw: map[string]string{}, multi: map[string][]string{}, fixed: v.fixedOf(rec)}
	for i := range v.schema.Fields {
		fd := &v.schema.Fields[i]
		if fd.Hidden {
			continue // never on a form
		}
		val := fd.Kind.Empty()
		if d, ok := fd.Kind.(datamodel.Defaulter); ok {
			val = d.Default()
		}
		if rec != nil {
			val = rec.Values[fd.Name]
			if ref, ok := val.(*datamodel.Ref); ok && ref != nil {
				if f.refs == nil {
					f.refs = map[string]*datamodel.Ref{}
				}
				f.refs[fd.Name] = ref
			}
		}
		if fd.SetOf() != "" {
			f.multi[fd.Name] = datamodel.IDs(val)
		}
		f.raw[fd.Name] = fd.Kind.Edit(val)
	}
	if rec != nil {
		f.version = v.schema.Version(*rec)
	}
	return f
}

// fixedOf asks the guard which fields of rec (nil: a new record) may not
// change.
func (v *ModelView) fixedOf(rec *datamodel.Record) map[string]string {
	if v.Guard == nil {
		return nil
	}
	return v.Guard.Fixed(rec)
}

// handleCreate handles "POST /{view}/add".
func (v *ModelView) handleCreate(w http.ResponseWriter, r *http.Request) {
	f := v.decode(r.PostForm, nil)
	v.validate(r.Context(), &f, "")
	if f.valid() && !v.guardWrite(w, r, nil, &f) {
		return
	}
	if f.valid() {
		id, err := v.Data.Create(v.writeContext(r.Context()), f.values)
		if err == nil {
			v.admin.log.Info("record created", "view", v.Name, "id", id)
			if v.Guard != nil {
				v.Guard.Saved(w, r, id)
			}
			v.afterSave(w, r, i18n.Text(r.Context(), "Added {{.Singular}} “{{.Label}}”.", "Singular", i18n.Msg(v.Singular),
				"Label", strings.TrimSpace(f.raw[v.label.Name])), id)
			return
		}
		if !v.writeError(w, r, err, &f) {
			return
		}
	}
	v.renderForm(w, r, http.StatusUnprocessableEntity, nil, f)
}

// guardWrite asks the view's guard whether the request's user may write
// f's values over old (nil: a new record). A refusal of the form's values
// goes into f (422); a refusal of the user is answered here (403), as is
// a failure, and then ok is false.
func (v *ModelView) guardWrite(w http.ResponseWriter, r *http.Request, old *datamodel.Record, f *form) bool {
	if v.Guard == nil {
		return true
	}
	err := v.Guard.CheckWrite(r.Context(), access.GrantsOf(r), old, f.values)
	if err == nil {
		return true
	}
	var rf *datamodel.RefusedError
	if errors.As(err, &rf) {
		v.admin.log.Info("write refused", "view", v.Name, "reason", rf.Message)
		f.refused(v.schema, rf)
		return true
	}
	v.refuse(w, r, err)
	return false
}

// refused puts a refusal beside the field it names, or on the form.
func (f *form) refused(s *datamodel.Schema, rf *datamodel.RefusedError) {
	if fd := s.Field(rf.Field); fd != nil && rf.Field != "" {
		f.errs[fd.Name] = rf.Text()
		return
	}
	f.formError = rf.Text()
}

// handleEdit handles "GET /{view}/edit/{id}".
func (v *ModelView) handleEdit(w http.ResponseWriter, r *http.Request) {
	rec, ok := v.load(w, r)
	if !ok || !v.guardEdit(w, r, rec) {
		return
	}
	v.renderForm(w, r, http.StatusOK, &rec, v.filled(&rec))
}

// handleUpdate handles "POST /{view}/edit/{id}".
//
// The form carries the version of the record it was loaded from. When the
// record has changed since, the answer is 409: the form again with the
// user's input, the values stored now beside it, and the new version, so
// that saving once more, having seen them, replaces them. Nothing is
// written. A form without a version (a script posting the model's fields,
// as the contract lists them) is saved as before, last write wins: the
// check protects users of the form, and refusing such posts would break
// every client written against the fields alone.
func (v *ModelView) handleUpdate(w http.ResponseWriter, r *http.Request) {
	rec, ok := v.load(w, r)
	if !ok || !v.guardEdit(w, r, rec) {
		return
	}
	f := v.decode(r.PostForm, &rec)
	f.version = r.PostForm.Get("version")
	v.validate(r.Context(), &f, rec.ID)
	if f.version != "" && f.version != v.schema.Version(rec) && !(f.valid() && v.schema.Holds(rec, f.values)) {
		// Stale, and the input does not merely repeat what is stored now:
		// the input needs fixing or not, the user must first see the change.
		v.renderStale(w, r, rec, f)
		return
	}
	if f.valid() && !v.guardWrite(w, r, &rec, &f) {
		return
	}
	if f.valid() {
		var err error
		if f.version != "" {
			err = v.Data.UpdateIf(v.writeContext(r.Context()), rec.ID, f.version, f.values)
		} else {
			err = v.Data.Update(v.writeContext(r.Context()), rec.ID, f.values)
		}
		if errors.Is(err, datamodel.ErrStale) {
			// Changed between the read above and the write.
			v.reloadStale(w, r, rec.ID, f)
			return
		}
		if err == nil {
			v.admin.log.Info("record updated", "view", v.Name, "id", rec.ID)
			if v.Guard != nil {
				v.Guard.Saved(w, r, rec.ID)
			}
			v.afterSave(w, r, i18n.Text(r.Context(), "Saved {{.Singular}} “{{.Label}}”.", "Singular", i18n.Msg(v.Singular),
				"Label", strings.TrimSpace(f.raw[v.label.Name])), rec.ID)
			return
		}
		if !v.writeError(w, r, err, &f) {
			return
		}
	}
	v.renderForm(w, r, http.StatusUnprocessableEntity, &rec, f)
}

// reloadStale answers a save that UpdateIf refused as stale with the
// record as stored now (404 if it is gone meanwhile).
func (v *ModelView) reloadStale(w http.ResponseWriter, r *http.Request, id string, f form) {
	rec, err := v.Data.Get(r.Context(), id)
	if err != nil {
		v.admin.ui.Fail(w, r, err)
		return
	}
	v.renderStale(w, r, rec, f)
}

// renderStale answers 409: the form f with the input kept, rec's values
// beside it, and rec's version, so that the next save replaces what the
// user has now seen.
func (v *ModelView) renderStale(w http.ResponseWriter, r *http.Request, rec datamodel.Record, f form) {
	f.formError, f.version, f.stored = msgStale, v.schema.Version(rec), &rec
	v.admin.log.Info("stale edit refused", "view", v.Name, "id", rec.ID)
	v.renderForm(w, r, http.StatusConflict, &rec, f)
}

// writeError turns a refused write into form errors and reports true, or
// answers the request itself (404, 503, 500) and reports false. A duplicate
// that slipped past validate, because two requests raced, or a reference to
// a record that does not exist, lands here from the backend.
func (v *ModelView) writeError(w http.ResponseWriter, r *http.Request, err error, f *form) bool {
	var conflict *datamodel.ConflictError
	var badRef *datamodel.InvalidRefError
	var refused *datamodel.RefusedError
	switch {
	case errors.As(err, &refused):
		v.admin.log.Info("write refused", "view", v.Name, "reason", refused.Message)
		f.refused(v.schema, refused)
		return true
	case errors.As(err, &conflict):
		if fd := v.schema.Field(conflict.Field); fd != nil {
			f.errs[fd.Name] = existsMessage(fd)
		} else {
			f.formError = msgConflict
		}
		return true
	case errors.As(err, &badRef):
		if fd := v.schema.Field(badRef.Field); fd != nil {
			f.errs[fd.Name] = msgBadChoice
		} else {
			f.formError = msgBadChoice
		}
		return true
	case errors.Is(err, datamodel.ErrInvalidRef):
		f.formError = msgBadChoice
		return true
	}
	v.admin.ui.Fail(w, r, err)
	return false
}

func existsMessage(f *datamodel.Field) error {
	return i18n.Errorf("A record with this {{.Field}} already exists.", "Field", lowerWord(f.Label))
}

// validate checks the decoded values against the rules of their kinds and
// the unique fields against the stored records; exceptID is the record being
// edited, which may keep its own values. Uniqueness is checked here for a
// clear message, and so is a reference's target when its model has a view;
// the backend stays the backstop for requests that race past these checks
// (ConflictError, InvalidRefError).
func (v *ModelView) validate(ctx context.Context, f *form, exceptID string) {
	for i := range v.schema.Fields {
		fd := &v.schema.Fields[i]
		val, ok := f.values[fd.Name]
		if !ok {
			continue
		}
		if err := fd.Kind.Validate(val); err != nil {
			f.errs[fd.Name] = err
			delete(f.values, fd.Name)
			continue
		}
		if fd.Unique {
			if taken, err := v.Data.Exists(ctx, fd, val, exceptID); err == nil && taken {
				f.errs[fd.Name] = existsMessage(fd)
			}
		}
		if ref, _ := val.(*datamodel.Ref); ref != nil {
			if target := v.admin.byModel[fd.Target()]; target != nil {
				if _, err := target.Data.Get(ctx, ref.ID); errors.Is(err, datamodel.ErrNotFound) {
					f.errs[fd.Name] = msgBadChoice
				}
			}
		}
		if refs, isSet := val.([]datamodel.Ref); isSet && len(refs) > 0 {
			// Every option chosen must be one the store offers; the
			// store stays the backstop (InvalidRefError) for a race.
			offered, err := v.Data.Choices(ctx, fd)
			if err != nil {
				f.errs[fd.Name] = msgBadChoice // shown again: the form reads them once more
				continue
			}
			ok := make(map[string]bool, len(offered))
			for _, o := range offered {
				ok[o.ID] = true
			}
			for _, r := range refs {
				if !ok[r.ID] {
					f.errs[fd.Name] = msgBadChoice
					break
				}
			}
		}
	}
}

// renderForm answers the form f of a new record (rec nil) or of rec.
func (v *ModelView) renderForm(w http.ResponseWriter, r *http.Request, status int, rec *datamodel.Record, f form) {
	can := v.allowed(r)
	id := ""
	if rec != nil {
		id = rec.ID
	}
	ctx := r.Context()
	data := formPage{Heading: i18n.Text(ctx, "Add {{.Name}}", "Name", i18n.Msg(v.Singular)), Action: v.addURL(), CancelURL: v.listURL(), FormError: f.formError,
		Version: f.version, AddAnother: can.add, Continue: can.edit}
	if id != "" {
		data.Heading, data.Action, data.CancelURL = i18n.Text(ctx, "Edit {{.Name}}", "Name", i18n.Msg(v.Singular)), v.editURL(id), v.showURL(id)
		if can.delete && (v.Guard == nil || v.Guard.CheckDelete(r.Context(), can.grants, []string{id}) == nil) {
			data.DeleteURL = v.deleteURL(id)
		}
	}
	for i := range v.schema.Fields {
		fd := &v.schema.Fields[i]
		if fd.Hidden || fd.WriteOnly && id != "" {
			continue
		}
		spec := fd.Kind.Input()
		in := input{Name: fd.Name, Label: fd.Label, Type: spec.Type, Value: f.raw[fd.Name], Error: f.errs[fd.Name],
			Required: fd.RefusesBlank(), MaxLength: spec.MaxLength, Min: spec.Min, Max: spec.Max, Fixed: f.fixed[fd.Name]}
		if _, twice := fd.Kind.(datamodel.Confirmed); twice {
			in.Confirm = true
		} else {
			// A record's fields are not the user's own details: a
			// browser's autofill has nothing to offer them.
			in.Autocomplete = "off"
		}
		if spec.Type == "checkbox" {
			checked, _ := fd.Kind.Parse(strings.TrimSpace(in.Value))
			in.Checked = checked == true
		}
		if f.stored != nil && !fd.WriteOnly {
			now := f.stored.Values[fd.Name]
			in.ShowStored, in.Stored = true, fd.Kind.Text(now)
			in.StoredDiffers = fd.Kind.Edit(now) != strings.TrimSpace(in.Value)
			switch {
			case fd.SetOf() != "":
				in.StoredDiffers = !slices.Equal(datamodel.IDs(now), sortedUnique(f.multi[fd.Name]))
			case spec.Type == "checkbox":
				in.StoredDiffers = fd.Kind.Edit(now) != fd.Kind.Edit(in.Checked)
			}
		}
		switch {
		case fd.Target() != "":
			if err := v.refInput(r.Context(), fd, &in, f.refs[fd.Name]); err != nil {
				v.admin.ui.Fail(w, r, err)
				return
			}
		case fd.SetOf() != "":
			if err := v.setInput(r.Context(), fd, f.multi[fd.Name], &in); err != nil {
				v.admin.ui.Fail(w, r, err)
				return
			}
		}
		data.Inputs = append(data.Inputs, in)
	}
	last := data.Heading
	if rec != nil {
		last = "Edit"
	}
	v.admin.ui.RenderTrail(w, r, status, "form", data.Heading, v.trail(r, rec, last), data)
}

// setInput fills in the options of the set field fd, chosen ones ticked:
// every option the store offers (a set chooses among a closed list, such
// as the roles or the permissions, which stays short).
func (v *ModelView) setInput(ctx context.Context, fd *datamodel.Field, chosen []string, in *input) error {
	offered, err := v.Data.Choices(ctx, fd)
	if err != nil {
		return err
	}
	in.Choices = make([]choice, 0, len(offered))
	for _, o := range offered {
		in.Choices = append(in.Choices, choice{Value: o.ID, Label: o.Label, Selected: slices.Contains(chosen, o.ID)})
	}
	return nil
}

func sortedUnique(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// lowerWord is a view's noun or a field's label as it reads inside a
// sentence ("song", "title"): a message whose id is the English word in
// lower case, put in the reader's language where it is shown (a German
// noun keeps its capital).
func lowerWord(s string) i18n.Message { return i18n.Msg(strings.ToLower(s)) }
