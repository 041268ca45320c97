package datamodel

import (
	"fmt"
	"strconv"
)

// Reference points at one record of the model named Model, or at none. Its
// value is a *Ref: the id, and when read, the label of the record.
type Reference struct {
	Model string
}

var _ Kind = Reference{}

// Parse takes the text as an id; whether a record has it is for the
// backend to say (ValidID, and InvalidRefError on a write).
func (Reference) Parse(text string) (any, error) { return &Ref{ID: text}, nil }

// Validate has no rules of its own.
func (Reference) Validate(any) error { return nil }

// Empty is no reference.
func (Reference) Empty() any { return (*Ref)(nil) }

// Text shows the label of the record pointed at.
func (Reference) Text(v any) string {
	if r, _ := v.(*Ref); r != nil {
		return r.Label
	}
	return ""
}

// Edit writes the id into the form.
func (Reference) Edit(v any) string {
	if r, _ := v.(*Ref); r != nil {
		return r.ID
	}
	return ""
}

// Ops: the record pointed at, or none.
func (Reference) Ops() []Op { return []Op{OpEq, OpEmpty} }

// Input is a choice among the records of Model.
func (Reference) Input() Input { return Input{Type: "select"} }

// Load reads an id (nil: no reference).
func (Reference) Load(raw any) (any, error) {
	switch x := raw.(type) {
	case nil:
		return (*Ref)(nil), nil
	case int64:
		return &Ref{ID: strconv.FormatInt(x, 10)}, nil
	case string:
		return &Ref{ID: x}, nil
	case []byte:
		return &Ref{ID: string(x)}, nil
	}
	return nil, fmt.Errorf("datamodel: cannot read %T as a reference", raw)
}

// Store writes the id, or nil for none.
func (Reference) Store(v any) any {
	if r, _ := v.(*Ref); r != nil {
		return r.ID
	}
	return nil
}
