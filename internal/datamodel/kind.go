package datamodel

import (
	"fmt"
	"strconv"
)

// Kind is the type of a field's value and everything that depends on it:
// reading it from a form or a filter, checking it, showing it, the filter
// operators it allows, and converting it from what a backend reads. A new
// kind (bool, date, decimal, enum) is one type implementing it, in its own
// file, plus its tests. Each kind's file asserts the interfaces it
// implements (var _ Kind = Text{}), so a missing or misspelt method fails
// the build there, not where a model happens to declare a field of it, and
// an optional interface (Defaulter, Multiple, Confirmed) cannot be lost
// silently, as a type switch would simply stop matching.
type Kind interface {
	// Parse reads the trimmed, non-empty text of a form field or a filter.
	// Its error is a message for the user.
	Parse(text string) (any, error)
	// Validate checks a parsed value against the kind's own rules (length,
	// range). Its error is a message for the user.
	Validate(v any) error
	// Empty is the value of a field left empty that is not required.
	Empty() any
	// Text shows a value in a cell; Edit writes it into a form input.
	Text(v any) string
	Edit(v any) string
	// Ops lists the filter operators the kind allows.
	Ops() []Op
	// Input describes the form control.
	Input() Input
	// Load converts a value as a backend reads it (database/sql's int64,
	// []byte, string or nil; BSON's int32, int64, string or nil) into the
	// kind's value. A Reference loads the id; the store adds the label.
	Load(raw any) (any, error)
	// Store converts the kind's value into what a backend writes; for a
	// Reference, the id (nil for none), which the backend may convert to
	// its own id type.
	Store(v any) any
}

// Defaulter is a Kind whose new record's form starts with a value other
// than Empty, the value of an input left empty (a checkbox that starts
// ticked, yet is false when posted unticked).
type Defaulter interface {
	Default() any
}

// Blankless is a Kind with no value an empty input can stand for: a form
// that posts its field empty is refused with "This field is required.", as
// Django refuses a cleared number, while a form that leaves the field out
// stores Empty (the declared default). A number is one: 0 is a value like
// any other, and a cleared box is more likely a slip than a choice of it.
type Blankless interface {
	Kind
	RefusesBlank()
}

// RefusesBlank reports whether a form must not post f empty: f is
// required, or its kind is Blankless.
func (f *Field) RefusesBlank() bool {
	_, blankless := f.Kind.(Blankless)
	return f.Required || blankless
}

// Confirmed is a Kind whose form input is a secret typed twice (a new
// password). A form decoder takes both inputs as typed, untrimmed, since
// spaces are part of a secret, shows neither back, and leaves comparing
// them to the kind, which knows what the user is asked to repeat.
type Confirmed interface {
	Kind
	// ParseConfirmed reads text, as typed and possibly empty (then the
	// value is Empty), once again, its second input, agrees with it. The
	// decoder has checked the encoding and whether a required field is
	// empty. Its error is a message for the user.
	ParseConfirmed(text, again string) (any, error)
}

// Input describes the form control of a field.
type Input struct {
	Type      string // "text", "email", "number", "select", "checkbox", "set" or "password"
	MaxLength int    // characters; 0: no limit
	Min, Max  int64  // "number": the range, when Min < Max
}

// Allows reports whether op applies to fields of kind k.
func Allows(k Kind, op Op) bool {
	for _, o := range k.Ops() {
		if o == op {
			return true
		}
	}
	return false
}

// loadInt converts the integer types backends read into an int64.
func loadInt(raw any) (int64, error) {
	switch x := raw.(type) {
	case nil:
		return 0, nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float64:
		if x != float64(int64(x)) {
			return 0, fmt.Errorf("datamodel: %v is not a whole number", x)
		}
		return int64(x), nil
	case []byte:
		return strconv.ParseInt(string(x), 10, 64)
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("datamodel: cannot read %T as a whole number", raw)
}

// loadString converts the text types backends read into a string.
func loadString(raw any) (string, error) {
	switch x := raw.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	}
	return "", fmt.Errorf("datamodel: cannot read %T as text", raw)
}
