package transfer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"musicadmin/internal/datamodel"
)

// parse decodes one record line and checks what it can alone.
func (l *loader) parse(line []byte) (item, error) {
	var rec record
	if err := strictJSON(line, &rec); err != nil {
		return item{}, fmt.Errorf("not a record: %v", err)
	}
	if rec.ID == "" {
		return item{}, fmt.Errorf("%s: no id", orUnnamed(rec.Model))
	}
	if len(rec.Fields) == 0 || rec.Fields[0] != '{' {
		return item{}, fmt.Errorf("%s %s: fields is not an object", orUnnamed(rec.Model), rec.ID)
	}
	it := item{model: rec.Model, id: rec.ID}
	var err error
	switch rec.Model {
	case modelRole:
		it.perms, err = parseRole(rec.Fields, &it.role, l.version)
	case modelUser:
		err = parseUser(rec.Fields, &it.user)
	case modelAudit:
		if l.version < 2 {
			return item{}, fmt.Errorf("%s %s: a version %d dump has no audit log", rec.Model, rec.ID, l.version)
		}
		it.entry, err = l.parseEntry(rec.Fields)
	default:
		m := l.models[rec.Model]
		if m == nil {
			return item{}, fmt.Errorf("unknown model %q", rec.Model)
		}
		it.m = m
		it.values, err = parseValues(m.Schema(), rec.Fields)
	}
	if err != nil {
		return item{}, fmt.Errorf("%s %s: %w", rec.Model, rec.ID, err)
	}
	return it, nil
}

func orUnnamed(model string) string {
	if model == "" {
		return "record without a model"
	}
	return model
}

// limit checks a text of the accounts against its column's limit, in
// characters, so that a file loads on every backend alike (SQL's columns
// refuse what MongoDB would keep).
func limit(field, s string, max int, required bool) error {
	switch {
	case required && s == "":
		return fmt.Errorf("%s is required", field)
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("%s is longer than %d characters", field, max)
	}
	return nil
}

// parseValues reads a catalogue record's fields by its schema: every
// declared field and no other, each loaded and validated by its kind.
func parseValues(s *datamodel.Schema, raw json.RawMessage) (datamodel.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // an int64 is read exactly, not through a float64
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		return nil, err
	}
	for name := range fields {
		if s.Field(name) == nil {
			return nil, fmt.Errorf("unknown field %q", name)
		}
	}
	v := make(datamodel.Values, len(s.Fields))
	for _, f := range s.Fields {
		raw, ok := fields[f.Name]
		if !ok {
			return nil, fmt.Errorf("field %q is missing", f.Name)
		}
		switch x := raw.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				raw = n
			} else if fl, err := x.Float64(); err == nil {
				raw = fl // the kind says whether it takes it
			}
		case bool, map[string]any, []any:
			return nil, fmt.Errorf("%s: %T is not a value of a field", f.Name, raw)
		}
		val, err := f.Kind.Load(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
		if stored := f.Kind.Store(val); f.Required && (stored == nil || stored == "") {
			return nil, fmt.Errorf("%s is required", f.Name)
		}
		if err := f.Kind.Validate(val); err != nil {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
		v[f.Name] = val
	}
	return v, nil
}
