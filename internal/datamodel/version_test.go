package datamodel

import "testing"

// TestVersion checks that a record's version follows its stored values and
// nothing else: every change of a value changes it, a reference's label
// (the other record's business) does not, and values that print alike in
// different kinds or positions do not collide.
func TestVersion(t *testing.T) {
	s := Schema{Name: "song", Label: "title", Fields: []Field{
		{Name: "title", Kind: Text{}},
		{Name: "subtitle", Kind: Text{}},
		{Name: "rating", Kind: Int{}},
		{Name: "album", Kind: Reference{Model: "album"}},
	}}
	rec := func(title, subtitle string, rating int64, album *Ref) Record {
		return Record{ID: "1", Values: map[string]any{"title": title, "subtitle": subtitle, "rating": rating, "album": album}}
	}
	base := rec("Yesterday", "", 5, &Ref{ID: "7", Label: "Help!"})
	v := s.Version(base)
	if len(v) != 32 {
		t.Errorf("version %q: want 32 hex digits", v)
	}
	if got := s.Version(rec("Yesterday", "", 5, &Ref{ID: "7", Label: "Renamed"})); got != v {
		t.Error("the label of the album changed the song's version")
	}
	if got := s.Version(Record{ID: "2", Values: base.Values}); got != v {
		t.Error("the version depends on the id; it is the values'")
	}
	different := map[string]Record{
		"title":              rec("Yesterday!", "", 5, &Ref{ID: "7"}),
		"rating":             rec("Yesterday", "", 6, &Ref{ID: "7"}),
		"album":              rec("Yesterday", "", 5, &Ref{ID: "8"}),
		"no album":           rec("Yesterday", "", 5, nil),
		"text moved between": rec("Yesterda", "y", 5, &Ref{ID: "7"}),
	}
	seen := map[string]string{v: "base"}
	for name, r := range different {
		got := s.Version(r)
		if other, dup := seen[got]; dup {
			t.Errorf("%s: same version as %s", name, other)
		}
		seen[got] = name
	}
	// A reference to no record and one to the record with the empty id
	// are different values.
	if s.Version(rec("a", "", 0, nil)) == s.Version(rec("a", "", 0, &Ref{ID: ""})) {
		t.Error("no reference and an empty id have one version")
	}

	if !s.Holds(base, Values{"title": "Yesterday", "album": &Ref{ID: "7"}}) {
		t.Error("Holds: the stored values are not held")
	}
	if !s.Holds(base, Values{}) {
		t.Error("Holds: no values to write is a change")
	}
	if s.Holds(base, Values{"rating": int64(4)}) {
		t.Error("Holds: a new rating is held")
	}
	if s.Holds(base, Values{"album": (*Ref)(nil)}) {
		t.Error("Holds: clearing the album is held")
	}
	if base.Values["rating"] != int64(5) {
		t.Error("Holds changed the record it was given")
	}
}
