package datamodel

import (
	"fmt"
	"slices"
	"strings"
)

// Set is a set of records of the model named Of, declared on the same
// store before the model that holds the set (a user's roles). Its value
// is a []Ref: the id of each chosen record and, when read, its label,
// ordered by label (then id). A form posts the field once per chosen
// option (Multiple); an empty set is no option chosen. Whether an id is
// an option is the store's to say (Choices, and an InvalidRefError on a
// write), never the kind's.
//
// Every store keeps a set natively, and alike:
//   - on SQL, a join table named <owner>_<field> with the columns
//     <owner>_id and <target>_id, where owner and target are the
//     singulars of the two models' tables (users.roles: user_roles with
//     user_id and role_id), its rows removed with either end's record;
//   - on MongoDB, an array of the chosen documents' ObjectIds under the
//     field's key, from which a deleted target is pulled;
//   - in memory, the ids.
//
// A write that carries the field replaces the whole set; one that does
// not leaves it as it is. Deleting a target record takes it out of every
// set, never deletes the holder. The one filter is OpEq: the records
// whose set holds the option (every user holding role 3).
type Set struct {
	Of string
}

// Multiple is a Kind whose form field is posted once per value chosen: a
// form decoder hands it every posted value, not the first.
type Multiple interface {
	Kind
	// ParseAll reads the trimmed, non-empty texts posted for the field.
	ParseAll(texts []string) (any, error)
}

var _ Multiple = Set{}

// Parse reads one option's id.
func (k Set) Parse(text string) (any, error) { return k.ParseAll([]string{text}) }

// ParseAll reads the ids of the chosen options, each once, in the order
// first posted.
func (Set) ParseAll(texts []string) (any, error) {
	out := make([]Ref, 0, len(texts))
	seen := make(map[string]bool, len(texts))
	for _, t := range texts {
		if !seen[t] {
			seen[t] = true
			out = append(out, Ref{ID: t})
		}
	}
	return out, nil
}

// Validate has no rules of its own.
func (Set) Validate(any) error { return nil }

// Empty is no option.
func (Set) Empty() any { return []Ref{} }

// Text lists the labels of the options, as the store ordered them.
func (Set) Text(v any) string {
	refs, _ := v.([]Ref)
	labels := make([]string, len(refs))
	for i, r := range refs {
		labels[i] = r.Label
	}
	return strings.Join(labels, ", ")
}

// Edit lists the ids, sorted, one per line: two sets are the same set when
// their Edit texts are equal.
func (k Set) Edit(v any) string {
	ids, _ := k.Store(v).([]string)
	return strings.Join(ids, "\n")
}

// Ops: OpEq, "holds": its value is a []Ref of one option (as Parse
// reads a filter's text), and it matches the records whose set holds it.
func (Set) Ops() []Op { return []Op{OpEq} }

// Held returns the option an OpEq filter on a set asks for: the id of the
// first Ref of its value, or "" for none.
func Held(v any) string {
	refs, _ := v.([]Ref)
	if len(refs) == 0 {
		return ""
	}
	return refs[0].ID
}

// Input is a choice of several options.
func (Set) Input() Input { return Input{Type: "set"} }

// Load reads the ids a backend returns (labels are the store's to add).
func (Set) Load(raw any) (any, error) {
	switch x := raw.(type) {
	case nil:
		return []Ref{}, nil
	case []Ref:
		return x, nil
	case []string:
		out := make([]Ref, len(x))
		for i, id := range x {
			out[i] = Ref{ID: id}
		}
		return out, nil
	case []any:
		out := make([]Ref, len(x))
		for i, e := range x {
			id, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("datamodel: cannot read %T as an option's id", e)
			}
			out[i] = Ref{ID: id}
		}
		return out, nil
	}
	return nil, fmt.Errorf("datamodel: cannot read %T as a set", raw)
}

// Store writes the ids, sorted and each once: a set has no order, so two
// writes of the same options store (and version) the same.
func (Set) Store(v any) any {
	refs, _ := v.([]Ref)
	ids := make([]string, 0, len(refs))
	for _, r := range refs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// IDs returns the ids of a Set's value, sorted and each once.
func IDs(v any) []string { ids, _ := (Set{}).Store(v).([]string); return ids }
