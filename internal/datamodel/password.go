package datamodel

import (
	"errors"
	"unicode/utf8"

	"musicadmin/internal/i18n"
)

// Password is a secret set on the add form, typed twice, and never shown
// again: its field is WriteOnly, so no list, page, form, export or audit
// entry carries it, and a store's reads never return it. Parse takes the
// text as typed, untrimmed, as a Secret; a store keeps only a hash of it,
// which the layer that holds the hashing policy makes before the write
// (the security views hash with bcrypt), so a store takes a Hash and
// refuses a Secret: a clear password cannot reach a database by mistake.
type Password struct {
	// MaxBytes is the longest password taken (bcrypt reads 72 bytes and
	// ignores the rest: longer ones are refused, not cut).
	MaxBytes int
}

// Confirmed embeds Kind: one assertion checks both.
var _ Confirmed = Password{}

// Secret is a password as typed. It prints as asterisks, so that a log
// line or an error that formats it shows nothing.
type Secret string

// String hides the secret.
func (Secret) String() string { return "********" }

// GoString hides the secret from %#v too.
func (Secret) GoString() string { return "********" }

// Hash is the stored form of a password (a bcrypt hash).
type Hash string

// ParseConfirmed takes the password when both inputs are the same; two
// empty inputs are no password.
func (k Password) ParseConfirmed(text, again string) (any, error) {
	switch {
	case text != again:
		return nil, i18n.Errorf("The two passwords differ.")
	case text == "":
		return k.Empty(), nil
	}
	return k.Parse(text)
}

// Parse keeps the text as typed.
func (Password) Parse(text string) (any, error) { return Secret(text), nil }

// Validate checks the length in bytes and the text's encoding.
func (k Password) Validate(v any) error {
	s, _ := v.(Secret)
	switch {
	case s == "":
		return i18n.Errorf("This field is required.")
	case !utf8.ValidString(string(s)):
		return i18n.Errorf("Contains characters that are not allowed (invalid UTF-8).")
	case k.MaxBytes > 0 && len(s) > k.MaxBytes:
		return i18n.Errorf("Must be at most {{.Max}} bytes.", "Max", k.MaxBytes)
	}
	return nil
}

// Empty is no password.
func (Password) Empty() any { return Secret("") }

// Text never shows the password.
func (Password) Text(any) string { return "" }

// Edit never writes the password back into a form.
func (Password) Edit(any) string { return "" }

// Ops: none; a password is never filtered by.
func (Password) Ops() []Op { return nil }

// Input is a password box, with a second one to confirm it.
func (k Password) Input() Input { return Input{Type: "password"} }

// Load refuses: a store never reads a password back.
func (Password) Load(any) (any, error) {
	return nil, errors.New("datamodel: a password is never read back")
}

// Store returns the Hash to write; a Secret, which nobody hashed, is
// written as nothing.
func (Password) Store(v any) any {
	if h, ok := v.(Hash); ok {
		return h
	}
	return nil
}
