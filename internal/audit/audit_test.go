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
