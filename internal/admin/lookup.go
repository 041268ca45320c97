package admin

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/datamodel"
	"musicadmin/internal/textutil"
	"musicadmin/internal/view"
)

// Related fields at any size: a reference field whose target has at most
// ChoicesThreshold records is a dropdown of them all; above it, a form never
// lists the target's records but a searchable input, which asks
// "GET /{view}/lookup/{field}?q=" as the user types and works as a plain id
// input without script.
const (
	// ChoicesThreshold is the most records a dropdown lists.
	ChoicesThreshold = 100
	// LookupLimit is the most results a lookup answers.
	LookupLimit = 20
)

// lookupResult is one record a lookup found.
type lookupResult struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// lookupAnswer is the JSON of a lookup.
type lookupAnswer struct {
	Results []lookupResult `json:"results"`
	More    bool           `json:"more"`
}

// lookupURL is the lookup of the reference field named field.
func (v *ModelView) lookupURL(field string) string { return v.basePath + "/lookup/" + field }

// refTarget returns the view of the model the reference field fd points
// at, when that view can be searched by its label; nil otherwise (the
// field then keeps its dropdown of every record, from Choices).
func (v *ModelView) refTarget(fd *datamodel.Field) *ModelView {
	target := v.admin.byModel[fd.Target()]
	if target == nil || !datamodel.Allows(target.label.Kind, datamodel.OpStartsWith) ||
		!datamodel.Allows(target.label.Kind, datamodel.OpContains) {
		return nil
	}
	return target
}

// handleLookup handles "GET /{view}/lookup/{field}": up to LookupLimit
// records of the field's target whose label holds q, ignoring case, those
// that start with it first, each group by label. Like the add and edit
// forms it serves, it is for any logged-in user (the route sits behind the
// login); errors are JSON too, so the script reading it never parses a page.
func (v *ModelView) handleLookup(w http.ResponseWriter, r *http.Request) {
	fd := v.schema.Field(chi.URLParam(r, "field"))
	var target *ModelView
	if fd != nil && fd.Target() != "" && !fd.Hidden {
		target = v.refTarget(fd)
	}
	if target == nil {
		v.admin.ui.FailJSON(w, r, view.StatusError(http.StatusNotFound))
		return
	}
	ans, err := target.lookup(r.Context(), cleanSearch(r.URL.Query().Get("q")))
	if err != nil {
		v.admin.ui.FailJSON(w, r, err)
		return
	}
	view.WriteJSON(w, http.StatusOK, ans)
}

// lookup finds the records of v whose label holds text, best first: the
// labels that start with text, then the others that contain it, each by
// label. Each search asks for one record more than it answers, so it knows
// whether there are more, and none counts its matches.
func (v *ModelView) lookup(ctx context.Context, text string) (lookupAnswer, error) {
	ans := lookupAnswer{Results: []lookupResult{}}
	if text == "" {
		recs, more, err := v.firstByLabel(ctx, LookupLimit)
		if err != nil {
			return ans, err
		}
		ans.Results, ans.More = v.results(recs), more
		return ans, nil
	}
	value, err := v.label.Kind.Parse(text)
	if err != nil {
		return ans, nil // no label can hold text that is not a label
	}
	search := func(op datamodel.Op) ([]datamodel.Record, error) {
		page, err := v.Data.List(ctx, datamodel.Query{
			Filters: []datamodel.Filter{{Field: v.label, Op: op, Value: value}},
			Sort:    v.label, Limit: LookupLimit + 1, NoCount: true,
		})
		return page.Records, err
	}
	prefixed, err := search(datamodel.OpStartsWith)
	if err != nil {
		return ans, err
	}
	found := prefixed
	if len(found) <= LookupLimit {
		// Fewer prefix matches than a full answer: they are all of them,
		// so the first LookupLimit+1 matches anywhere, less those, hold
		// every other match the answer needs, and tell whether there are
		// more.
		containing, err := search(datamodel.OpContains)
		if err != nil {
			return ans, err
		}
		seen := make(map[string]bool, len(prefixed))
		for _, rec := range prefixed {
			seen[rec.ID] = true
		}
		for _, rec := range containing {
			if !seen[rec.ID] {
				found = append(found, rec)
			}
		}
	}
	ans.More = len(found) > LookupLimit
	ans.Results = v.results(found[:min(len(found), LookupLimit)])
	return ans, nil
}

// firstByLabel returns the first n records of v by label, and whether
// there are more, without counting them.
func (v *ModelView) firstByLabel(ctx context.Context, n int) ([]datamodel.Record, bool, error) {
	page, err := v.Data.List(ctx, datamodel.Query{Sort: v.label, Limit: n + 1, NoCount: true})
	if err != nil {
		return nil, false, err
	}
	if len(page.Records) > n {
		return page.Records[:n], true, nil
	}
	return page.Records, false, nil
}

func (v *ModelView) results(recs []datamodel.Record) []lookupResult {
	out := make([]lookupResult, len(recs))
	for i, rec := range recs {
		// The label is shown in the browser's list: its direction
		// controls are shown, not obeyed (the page's own text gets the
		// same from view).
		out[i] = lookupResult{ID: rec.ID, Label: textutil.ShowBidiControls(v.labelOf(rec))}
	}
	return out
}

// refInput fills in the control of the reference field fd whose form value
// is in.Value: a dropdown of every record the target holds, when it holds
// at most ChoicesThreshold, or else a searchable input showing the label
// of the record the value names. Which of them is told by the record after
// the threshold, if any: a read of that one row (past threshold entries of
// the primary key), where reading the first threshold+1 records by label
// sent them all back to be dropped. Only a dropdown then reads its
// records. stored is the reference as loaded with the record (nil: none,
// or a new record): its label is shown without reading the target again.
func (v *ModelView) refInput(ctx context.Context, fd *datamodel.Field, in *input, stored *datamodel.Ref) error {
	target := v.refTarget(fd)
	if target == nil {
		refs, err := v.Data.Choices(ctx, fd)
		if err != nil {
			return err
		}
		in.Choices = make([]choice, 0, len(refs))
		for _, ref := range refs {
			in.Choices = append(in.Choices, choice{Value: ref.ID, Label: ref.Label})
		}
		return nil
	}
	past, err := target.Data.List(ctx, datamodel.Query{Offset: ChoicesThreshold, Limit: 1, NoCount: true})
	if err != nil {
		return err
	}
	if len(past.Records) == 0 {
		recs, _, err := target.firstByLabel(ctx, ChoicesThreshold)
		if err != nil {
			return err
		}
		in.Choices = make([]choice, 0, len(recs))
		for _, rec := range recs {
			in.Choices = append(in.Choices, choice{Value: rec.ID, Label: target.labelOf(rec)})
		}
		return nil
	}
	return v.lookupInput(ctx, fd, target, in, stored)
}

// lookupInput makes in the searchable input of fd, whose records are
// target's, showing the label of the one its value names: stored's when
// it is that one, else read.
func (v *ModelView) lookupInput(ctx context.Context, fd *datamodel.Field, target *ModelView, in *input,
	stored *datamodel.Ref) error {
	in.Type, in.LookupURL, in.TargetURL = "lookup", v.lookupURL(fd.Name), target.listURL()
	in.Target = noun(ctx, target.Singular)
	if stored != nil && stored.ID == in.Value {
		in.Current = stored.Label
		return nil
	}
	if in.Value != "" && target.Data.ValidID(in.Value) {
		rec, err := target.Data.Get(ctx, in.Value)
		switch {
		case err == nil:
			in.Current = target.labelOf(rec)
		case !errors.Is(err, datamodel.ErrNotFound):
			return err
		}
	}
	return nil
}

// filterLookup is the value input of the filter menu's row for fd, whose
// records are target's: the searchable input of the forms, empty (the
// chips show the filters in force), posting the id as the menu's value.
// The target is named in the language of ctx.
func (v *ModelView) filterLookup(ctx context.Context, fd *datamodel.Field, target *ModelView) *input {
	return &input{Name: menuValue, Label: fd.Label, Type: "lookup", ID: "filter-" + fd.Name + "-value",
		LookupURL: v.lookupURL(fd.Name), TargetURL: target.listURL(), Target: noun(ctx, target.Singular)}
}

// refLabel returns the label of the record that the filter of chip c
// names, when it is a filter by a related record (FIELD or FIELD__eq) whose
// model has a view, or by an option of a set, and the id as typed names
// one; "" otherwise. It costs one read by id (a set's: its few options),
// only for such a filter.
func (v *ModelView) refLabel(ctx context.Context, c chip) (string, error) {
	f := c.filter
	if f.Op == datamodel.OpEq && f.Field.SetOf() != "" {
		return v.optionLabel(ctx, f.Field, c.raw)
	}
	if f.Op != datamodel.OpEq || f.Field.Target() == "" {
		return "", nil
	}
	target := v.admin.byModel[f.Field.Target()]
	if target == nil || !target.Data.ValidID(c.raw) {
		return "", nil
	}
	rec, err := target.Data.Get(ctx, c.raw)
	switch {
	case err == nil:
		return target.labelOf(rec), nil
	case errors.Is(err, datamodel.ErrNotFound):
		return "", nil
	}
	return "", err
}

// optionLabel returns the label of the option id of the set f, or "".
func (v *ModelView) optionLabel(ctx context.Context, f *datamodel.Field, id string) (string, error) {
	options, err := v.Data.Choices(ctx, f)
	if err != nil {
		return "", err
	}
	for _, o := range options {
		if o.ID == id {
			return o.Label, nil
		}
	}
	return "", nil
}
