package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/datamodel"
)

// handleList handles GET /api/v1/{view}/: the list page's parameters, read
// through the same allow-lists, but what a page would ignore with a notice
// is a 400 here: a program is told, not shown.
func (v *view) handleList(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	include, err := v.includes(query)
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	query.Del(includeKey)
	q, page, size, problems := v.mv.ListQuery(query)
	if len(problems) > 0 {
		v.api.fail(w, r, refusal(http.StatusBadRequest, strings.Join(problems, " ")))
		return
	}
	res, err := v.mv.Data.List(r.Context(), q)
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	out := Many{Count: res.Total, CountAtLeast: res.AtLeast, Page: page, PageSize: size,
		IDs: make([]string, len(res.Records)), Result: make([]Object, len(res.Records)),
		Included: included(include, res.Records)}
	for i, rec := range res.Records {
		out.IDs[i], out.Result[i] = rec.ID, v.object(rec)
	}
	writeJSON(w, http.StatusOK, out)
}

// load reads the record of the route's {id}: 404 for an id that cannot
// exist or does not.
func (v *view) load(r *http.Request) (datamodel.Record, error) {
	id := chi.URLParam(r, "id")
	if !v.mv.Data.ValidID(id) {
		return datamodel.Record{}, errNotFound
	}
	return v.mv.Data.Get(r.Context(), id)
}

// handleGet handles GET /api/v1/{view}/{id}, with the record's version as
// its ETag.
func (v *view) handleGet(w http.ResponseWriter, r *http.Request) {
	include, err := v.includes(r.URL.Query())
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	rec, err := v.load(r)
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	v.answer(w, http.StatusOK, v.one(rec, include))
}

// answer writes one record with its ETag.
func (v *view) answer(w http.ResponseWriter, status int, one One) {
	w.Header().Set("ETag", `"`+one.Version+`"`)
	writeJSON(w, status, one)
}

// handleCreate handles POST /api/v1/{view}/: 201 with the record as
// stored and its Location.
func (v *view) handleCreate(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(r, mediaJSON)
	if err == nil {
		err = b.unknown(v.writable(nil))
	}
	posted := url.Values{}
	if err == nil {
		err = b.posted(v.writable(nil), posted)
	}
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	b.defaults(v.writable(nil), posted)
	ctx := r.Context()
	values, err := v.mv.Validate(ctx, posted, nil)
	if err == nil && v.mv.Guard != nil {
		err = v.mv.Guard.CheckWrite(ctx, access.GrantsOf(r), nil, values)
	}
	var id string
	if err == nil {
		id, err = v.mv.Data.Create(v.mv.WriteContext(ctx), values)
		err = v.mv.WriteProblem(err)
	}
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	v.api.cfg.Log.Info("record created", "view", v.mv.Name, "id", id, "via", "api")
	rec, err := v.mv.Data.Get(ctx, id)
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	w.Header().Set("Location", v.location(id))
	v.answer(w, http.StatusCreated, v.one(rec, nil))
}

// writable are the fields a body may hold: every field a user reads, and
// on a new record (rec nil) the write-only ones (a user's password) too.
func (v *view) writable(rec *datamodel.Record) []*datamodel.Field {
	fields := v.readable()
	if rec == nil {
		for i := range v.mv.Schema().Fields {
			if f := &v.mv.Schema().Fields[i]; f.WriteOnly {
				fields = append(fields, f)
			}
		}
	}
	return fields
}

// handleReplace handles PUT /api/v1/{view}/{id}: every field as sent, a
// field left out as an empty input.
func (v *view) handleReplace(w http.ResponseWriter, r *http.Request) {
	v.update(w, r, false)
}

// handlePatch handles PATCH /api/v1/{view}/{id} (RFC 7396 merge patch):
// the fields sent change, null empties one, the others keep their values.
func (v *view) handlePatch(w http.ResponseWriter, r *http.Request) {
	v.update(w, r, true)
}

// update writes a PUT or a PATCH through the edit form's path: the guard's
// CheckEdit, the form's decoding and validation, the stale check, the
// guard's CheckWrite, then UpdateIf (with a version) or Update. A version
// comes from If-Match or the body's version; a write without one is saved
// as a form without one is (last write wins).
func (v *view) update(w http.ResponseWriter, r *http.Request, patch bool) {
	types := []string{mediaJSON}
	if patch {
		types = []string{mediaMergePatch, mediaJSON}
	}
	b, err := readBody(r, types...)
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	rec, err := v.load(r)
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	ctx, g := r.Context(), access.GrantsOf(r)
	if v.mv.Guard != nil {
		if err := v.mv.Guard.CheckEdit(ctx, g, rec); err != nil {
			v.api.fail(w, r, err)
			return
		}
	}
	version, err := b.version()
	if err == nil && version == "" {
		version = ifMatch(r)
	}
	if err == nil {
		err = b.unknown(v.writable(&rec))
	}
	posted := url.Values{}
	if patch {
		posted = v.asPosted(rec)
	}
	if err == nil {
		err = b.posted(v.writable(&rec), posted)
	}
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	values, err := v.mv.Validate(ctx, posted, &rec)
	schema := v.mv.Schema()
	if version != "" && version != schema.Version(rec) && !(err == nil && schema.Holds(rec, values)) {
		v.stale(w, r, rec)
		return
	}
	if err == nil && v.mv.Guard != nil {
		err = v.mv.Guard.CheckWrite(ctx, g, &rec, values)
	}
	if err == nil {
		if version != "" {
			err = v.mv.Data.UpdateIf(v.mv.WriteContext(ctx), rec.ID, version, values)
		} else {
			err = v.mv.Data.Update(v.mv.WriteContext(ctx), rec.ID, values)
		}
		err = v.mv.WriteProblem(err)
	}
	if errors.Is(err, datamodel.ErrStale) {
		if now, gerr := v.mv.Data.Get(ctx, rec.ID); gerr == nil {
			v.stale(w, r, now)
			return
		}
	}
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	v.api.cfg.Log.Info("record updated", "view", v.mv.Name, "id", rec.ID, "via", "api")
	saved, err := v.mv.Data.Get(ctx, rec.ID)
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	v.answer(w, http.StatusOK, v.one(saved, nil))
}

// Stale is the answer of a write refused because the record changed since
// the version it names: nothing was written; current is the record as
// stored now, with the version to send once the client has seen it.
type Stale struct {
	Problem
	Current One `json:"current"`
}

func (v *view) stale(w http.ResponseWriter, r *http.Request, now datamodel.Record) {
	v.api.cfg.Log.Info("stale write refused", "view", v.mv.Name, "id", now.ID, "via", "api")
	one := v.one(now, nil)
	w.Header().Set("ETag", `"`+one.Version+`"`)
	writeJSON(w, http.StatusConflict, Stale{Problem: errStale.Problem, Current: one})
}

// asPosted is rec as its edit form would post it unchanged: the start of a
// merge patch.
func (v *view) asPosted(rec datamodel.Record) url.Values {
	out := url.Values{}
	for _, f := range v.readable() {
		postValue(f, rec.Values[f.Name], out)
	}
	return out
}

// postValue sets val of f in out as its form would post it.
func postValue(f *datamodel.Field, val any, out url.Values) {
	switch {
	case f.SetOf() != "":
		out[f.Name] = datamodel.IDs(val)
	case f.Kind.Input().Type == "checkbox":
		if val == true {
			out.Set(f.Name, "true")
		}
	default:
		out.Set(f.Name, f.Kind.Edit(val))
	}
}

// handleDelete handles DELETE /api/v1/{view}/{id}: the guard's
// CheckDelete, then Delete; If-Match, when sent, must name the version
// stored.
func (v *view) handleDelete(w http.ResponseWriter, r *http.Request) {
	rec, err := v.load(r)
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	ctx := r.Context()
	if version := ifMatch(r); version != "" && version != v.mv.Schema().Version(rec) {
		v.stale(w, r, rec)
		return
	}
	if v.mv.Guard != nil {
		err = v.mv.Guard.CheckDelete(ctx, access.GrantsOf(r), []string{rec.ID})
	}
	if err == nil {
		err = v.mv.Data.Delete(v.mv.WriteContext(ctx), rec.ID)
	}
	if err != nil {
		v.api.fail(w, r, err)
		return
	}
	v.api.cfg.Log.Info("record deleted", "view", v.mv.Name, "id", rec.ID, "via", "api")
	label := v.mv.Schema().LabelField()
	writeJSON(w, http.StatusOK, Problem{Message: fmt.Sprintf("Deleted %s “%s”.", v.mv.Singular,
		label.Kind.Text(rec.Values[label.Name]))})
}
