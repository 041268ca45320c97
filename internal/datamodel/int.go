package datamodel

import (
	"strconv"

	"musicadmin/internal/i18n"
)

// Int is a whole number (int64), within [Min, Max] when Min < Max. A field
// left out of a form or a JSON body stores Default; a form that posts it
// empty is refused (Blankless).
type Int struct {
	Min, Max, Default int64
}

var (
	_ Kind      = Int{}
	_ Blankless = Int{}
)

// RefusesBlank: a form's cleared number is refused, not taken as Default.
func (Int) RefusesBlank() {}

func (k Int) problem() error {
	if k.Min < k.Max {
		return i18n.Errorf("Must be a whole number from {{.Min}} to {{.Max}}.", "Min", k.Min, "Max", k.Max)
	}
	return i18n.Errorf("Must be a whole number.")
}

// Parse reads a plain decimal.
func (k Int) Parse(text string) (any, error) {
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return nil, k.problem()
	}
	return n, nil
}

// Validate checks the range.
func (k Int) Validate(v any) error {
	n, _ := v.(int64)
	if k.Min < k.Max && (n < k.Min || n > k.Max) {
		return k.problem()
	}
	return nil
}

// Empty is the default.
func (k Int) Empty() any { return k.Default }

// Text writes the number in decimal.
func (Int) Text(v any) string { n, _ := v.(int64); return strconv.FormatInt(n, 10) }

// Edit writes the number in decimal.
func (k Int) Edit(v any) string { return k.Text(v) }

// Ops are the comparisons.
func (Int) Ops() []Op { return []Op{OpEq, OpNe, OpGt, OpGte, OpLt, OpLte} }

// Input is a number box with the range.
func (k Int) Input() Input {
	in := Input{Type: "number"}
	if k.Min < k.Max {
		in.Min, in.Max = k.Min, k.Max
	}
	return in
}

// Load reads any integer type.
func (Int) Load(raw any) (any, error) { return loadInt(raw) }

// Store writes the int64.
func (Int) Store(v any) any { return v }
