package audit

import (
	"slices"
	"testing"
	"time"

	"musicadmin/internal/datamodel"
)

// TestSetChanges: an update of a set says which options were removed and
// which added, labels with commas included; a create lists them all.
func TestSetChanges(t *testing.T) {
	s := &datamodel.Schema{Name: "users", Label: "name", Fields: []datamodel.Field{
		{Name: "name", Label: "Name", Kind: datamodel.Text{}},
		{Name: "roles", Label: "Roles", Kind: datamodel.Set{Of: "roles"}},
	}}
	rec := func(roles ...string) *datamodel.Record {
		refs := []datamodel.Ref{}
		for i, r := range roles {
			refs = append(refs, datamodel.Ref{ID: string(rune('a' + i)), Label: r})
		}
		return &datamodel.Record{ID: "1", Values: map[string]any{"name": "ann", "roles": refs}}
	}
	a := Actor{Username: "root"}
	now := time.Now()
	got := NewEntry(a, ActionUpdate, s, rec("Editor", "Sales, West"), rec("Editor", "ReadOnly"), now).Changes
	if want := []Change{{Field: "roles", Old: "Sales, West", New: "ReadOnly"}}; !slices.Equal(got, want) {
		t.Errorf("update: %+v, want %+v", got, want)
	}
	got = NewEntry(a, ActionCreate, s, nil, rec("Admin", "ReadOnly"), now).Changes
	if !slices.Contains(got, Change{Field: "roles", New: "Admin, ReadOnly"}) {
		t.Errorf("create: %+v", got)
	}
	if got := NewEntry(a, ActionUpdate, s, rec("Admin"), rec("Admin"), now).Changes; len(got) != 0 {
		t.Errorf("an unchanged set: %+v", got)
	}
}

// TestHiddenFieldsStayOut: a hidden field (a token's digest) is in no
// snapshot and no change of an entry, created, updated or deleted.
func TestHiddenFieldsStayOut(t *testing.T) {
	s := &datamodel.Schema{Name: "tokens", Label: "name", Fields: []datamodel.Field{
		{Name: "name", Label: "Name", Kind: datamodel.Text{}},
		{Name: "digest", Label: "Digest", Kind: datamodel.Text{}, Hidden: true},
	}}
	rec := func(name, digest string) *datamodel.Record {
		return &datamodel.Record{ID: "1", Values: map[string]any{"name": name, "digest": digest}}
	}
	a, now := Actor{Username: "root"}, time.Now()
	if snap := Take(s, rec("ci", "d1")); snap.Values["digest"] != "" || len(snap.Values) != 1 {
		t.Errorf("snapshot holds %v", snap.Values)
	}
	for _, e := range []Entry{
		NewEntry(a, ActionCreate, s, nil, rec("ci", "d1"), now),
		NewEntry(a, ActionUpdate, s, rec("ci", "d1"), rec("cd", "d2"), now),
		NewEntry(a, ActionDelete, s, rec("ci", "d1"), nil, now),
	} {
		if len(e.Changes) != 1 || e.Changes[0].Field != "name" {
			t.Errorf("%s: changes %+v, want the name's alone", e.Action, e.Changes)
		}
	}
	if got := NewEntry(a, ActionUpdate, s, rec("ci", "d1"), rec("ci", "d2"), now).Changes; len(got) != 0 {
		t.Errorf("a change of the hidden field alone: %+v", got)
	}
}
