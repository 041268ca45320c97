package datamodel

import (
	"errors"
	"strings"

	"musicadmin/internal/i18n"
)

// Bool is a yes-or-no value (bool): a checkbox on a form, whose absence
// from a posted form is false, as a browser sends no unticked box. With
// DefaultOn the box of a new record's form starts ticked (a new user is
// active), which an empty input still is not.
type Bool struct {
	DefaultOn bool
}

var (
	_ Kind      = Bool{}
	_ Defaulter = Bool{}
)

// Default is the box a new record's form starts with.
func (k Bool) Default() any { return k.DefaultOn }

// Parse reads what a checkbox or a filter sends: "true", "on", "yes", "1"
// and their opposites, in any case.
func (Bool) Parse(text string) (any, error) {
	switch strings.ToLower(text) {
	case "true", "on", "yes", "y", "1":
		return true, nil
	case "false", "off", "no", "n", "0":
		return false, nil
	}
	return nil, i18n.Errorf("Must be yes or no.")
}

// Validate has no rules of its own.
func (Bool) Validate(any) error { return nil }

// Empty is false: an unticked box.
func (Bool) Empty() any { return false }

// Text says "Yes" or "No".
func (Bool) Text(v any) string {
	if b, _ := v.(bool); b {
		return "Yes"
	}
	return "No"
}

// Edit writes "true" or "false", which Parse reads back.
func (Bool) Edit(v any) string {
	if b, _ := v.(bool); b {
		return "true"
	}
	return "false"
}

// Ops: equal to yes or to no.
func (Bool) Ops() []Op { return []Op{OpEq} }

// Input is a checkbox.
func (Bool) Input() Input { return Input{Type: "checkbox"} }

// Load reads a bool, or the integer (SQLite, MySQL) or text a backend
// keeps one as.
func (Bool) Load(raw any) (any, error) {
	switch x := raw.(type) {
	case bool:
		return x, nil
	case string:
		return loadBoolText(x)
	case []byte:
		return loadBoolText(string(x))
	}
	n, err := loadInt(raw)
	if err != nil {
		return nil, errors.New("datamodel: cannot read a value as yes or no")
	}
	return n != 0, nil
}

func loadBoolText(s string) (any, error) {
	switch strings.ToLower(s) {
	case "1", "t", "true":
		return true, nil
	case "0", "f", "false", "":
		return false, nil
	}
	return nil, errors.New("datamodel: cannot read text as yes or no")
}

// Store writes the bool.
func (Bool) Store(v any) any { b, _ := v.(bool); return b }
