package datamodel

import (
	"net/mail"
	"unicode/utf8"

	"musicadmin/internal/i18n"
)

// Text is a string of at most MaxRunes characters (0: no limit). With
// Email it must be one plain email address.
type Text struct {
	MaxRunes int
	Email    bool
}

var _ Kind = Text{}

// Parse keeps the text as it is: any Unicode text is a value. An Email
// text must be an address alone ("ada@example.com", not "Ada
// <ada@example.com>").
func (k Text) Parse(text string) (any, error) {
	if k.Email {
		addr, err := mail.ParseAddress(text)
		if err != nil || addr.Address != text {
			return nil, i18n.Errorf("Must be an email address, such as name@example.com.")
		}
	}
	return text, nil
}

// Validate checks the length in characters, not bytes.
func (k Text) Validate(v any) error {
	s, _ := v.(string)
	if k.MaxRunes > 0 && utf8.RuneCountInString(s) > k.MaxRunes {
		return i18n.Errorf("Must be at most {{.Max}} characters.", "Max", k.MaxRunes)
	}
	return nil
}

// Empty is the empty string.
func (Text) Empty() any { return "" }

// Text returns the string.
func (Text) Text(v any) string { s, _ := v.(string); return s }

// Edit returns the string.
func (Text) Edit(v any) string { s, _ := v.(string); return s }

// Ops are the substring matches (ignoring case) and exact comparisons.
func (Text) Ops() []Op { return []Op{OpContains, OpStartsWith, OpEq, OpNe} }

// Input is a text box as long as the limit (an email box for Email).
func (k Text) Input() Input {
	if k.Email {
		return Input{Type: "email", MaxLength: k.MaxRunes}
	}
	return Input{Type: "text", MaxLength: k.MaxRunes}
}

// Load reads a string. One read as a string is returned as it came, in
// the same interface: boxing its copy again would cost an allocation per
// value read, a million for an export.
func (Text) Load(raw any) (any, error) {
	if _, ok := raw.(string); ok {
		return raw, nil
	}
	return loadString(raw)
}

// Store writes the string.
func (Text) Store(v any) any { return v }
