package datamodel

import "testing"

// TestHiddenNotReadable: Readable leaves out hidden fields as it does
// write-only ones; a hidden field cannot be the label; the version sees a
// change of a hidden field, which a store reads like any other.
func TestHiddenNotReadable(t *testing.T) {
	s := Schema{Name: "tokens", Label: "name", Fields: []Field{
		{Name: "name", Label: "Name", Kind: Text{}},
		{Name: "secret", Label: "Secret", Kind: Password{}, WriteOnly: true},
		{Name: "digest", Label: "Digest", Kind: Text{}, Hidden: true},
	}}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	got := s.Readable()
	if len(got) != 1 || got[0].Name != "name" {
		t.Errorf("readable: %v, want name alone", got)
	}
	s.Label = "digest"
	if err := s.Check(); err == nil {
		t.Error("a hidden label passed the check")
	}
	s.Label = "name"
	a := Record{ID: "1", Values: map[string]any{"name": "ci", "digest": "d1"}}
	b := Record{ID: "1", Values: map[string]any{"name": "ci", "digest": "d2"}}
	if s.Version(a) == s.Version(b) {
		t.Error("the version misses a change of the hidden field")
	}
}
