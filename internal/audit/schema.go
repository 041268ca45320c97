package audit

import (
	"context"
	"encoding/json"
	"strings"

	"musicadmin/internal/datamodel"
)

// Schema is the audit log as a model: what its list and show pages read
// through the same list machinery as any model, on every backend. Its
// label is the time, the one field every entry has.
var Schema = datamodel.Schema{Name: "audit_log", Label: "at", Fields: []datamodel.Field{
	{Name: "at", Label: "Time (UTC)", Kind: datamodel.Text{MaxRunes: 32}, Required: true},
	{Name: "username", Label: "User", Kind: datamodel.Text{MaxRunes: 256}, Required: true},
	{Name: "action", Label: "Action", Kind: datamodel.Text{MaxRunes: 32}, Required: true},
	{Name: "view_name", Label: "View", Kind: datamodel.Text{MaxRunes: 64}},
	{Name: "record_id", Label: "Record id", Kind: datamodel.Text{MaxRunes: 64}},
	{Name: "record_label", Label: "Record", Kind: datamodel.Text{MaxRunes: MaxValueRunes + 1}},
	{Name: "changes", Label: "Changes", Kind: ChangesKind{}},
}}

// ChangesKind is the changes of an entry, stored as a JSON array of
// {field, old, new} and shown as "field: old → new" lines.
type ChangesKind struct{ text datamodel.Text }

func (k ChangesKind) Parse(s string) (any, error) { return k.text.Parse(s) }
func (k ChangesKind) Validate(v any) error        { return k.text.Validate(v) }
func (k ChangesKind) Empty() any                  { return "[]" }
func (k ChangesKind) Edit(v any) string           { return k.text.Edit(v) }
func (k ChangesKind) Input() datamodel.Input      { return k.text.Input() }
func (k ChangesKind) Load(raw any) (any, error)   { return k.text.Load(raw) }
func (k ChangesKind) Store(v any) any             { return k.text.Store(v) }

// Text shows each change on a line of its own.
func (ChangesKind) Text(v any) string {
	changes, err := ParseChanges(v)
	if err != nil {
		s, _ := v.(string)
		return s
	}
	lines := make([]string, len(changes))
	for i, c := range changes {
		lines[i] = c.String()
	}
	return strings.Join(lines, "\n")
}

// JSONValue is the changes as a list of {field, old, new}, for the JSON
// API; what does not parse is shown as its text.
func (ChangesKind) JSONValue(v any) any {
	changes, err := ParseChanges(v)
	if err != nil {
		s, _ := v.(string)
		return s
	}
	if changes == nil {
		changes = []Change{}
	}
	return changes
}

// JSONSchema is the schema of JSONValue's list.
func (ChangesKind) JSONSchema() map[string]any {
	str := map[string]any{"type": "string"}
	return map[string]any{"type": "array", "description": "Each changed field, its value before and after, as a person reads them.",
		"items": map[string]any{"type": "object", "required": []string{"field", "old", "new"},
			"properties": map[string]any{"field": str, "old": str, "new": str}}}
}

// Ops: the changes are searched as text, never compared.
func (ChangesKind) Ops() []datamodel.Op { return []datamodel.Op{datamodel.OpContains} }

// String is one change as a person reads it.
func (c Change) String() string {
	switch {
	case c.Old == "" && c.New != "":
		return c.Field + ": " + c.New
	case c.New == "" && c.Old != "":
		return c.Field + ": " + c.Old + " → (none)"
	}
	return c.Field + ": " + c.Old + " → " + c.New
}

// ParseChanges reads the stored JSON of an entry's changes.
func ParseChanges(v any) ([]Change, error) {
	s, _ := v.(string)
	if s == "" {
		return nil, nil
	}
	var out []Change
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

// Log keeps the audit log of one database.
type Log interface {
	// Append writes an entry that records no change of a record: a login,
	// a failed login, a logout. A record's change is written with it by
	// the store (see With).
	Append(ctx context.Context, e Entry) error
	// Entries is the log as a read-only model, for its list, its show
	// pages and each record's history. Nothing writes through it.
	Entries() datamodel.Interface
}
