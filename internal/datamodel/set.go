package datamodel

import (
	"fmt"
	"slices"
	"strings"
)

// Set is a set of options chosen among those the model's store offers for
// the field (Interface.Choices): the records of the model named Of (a
// user's roles), or any other closed list the store keeps (a role's
// permissions, "can_list:albumview"). Its value is a []Ref: the id of
// each chosen option and, when read, its label. A form posts the field
// once per chosen option (Multiple); an empty set is no option chosen.
// Whether an id is an option is the store's to say (Choices, and an
// InvalidRefError on a write), never the kind's.
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

// Ops: none. A set is not filtered by (yet): an "every user holding role
// X" filter needs a join or an array match in each store.
func (Set) Ops() []Op { return nil }

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
