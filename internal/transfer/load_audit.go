package transfer

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// parseEntry reads an audit entry, each field against audit.Schema's
// limits, its time in the layout the stores keep.
func (l *loader) parseEntry(raw json.RawMessage) (audit.Entry, error) {
	var a auditFields
	if err := strictJSON(raw, &a); err != nil {
		return audit.Entry{}, err
	}
	at, err := audit.ParseTime(a.At)
	if err != nil {
		return audit.Entry{}, fmt.Errorf("at %q is not a time as the audit log writes it (2006-01-02T15:04:05.000000Z)", a.At)
	}
	for _, c := range []struct {
		field, value string
		required     bool
	}{
		{"username", a.Username, true}, {"action", a.Action, true}, {"view_name", a.View, false},
		{"record_id", a.RecordID, false}, {"record_label", a.RecordLabel, false},
	} {
		if err := limit(c.field, c.value, l.auditLimits[c.field], c.required); err != nil {
			return audit.Entry{}, err
		}
	}
	if a.Changes == nil {
		return audit.Entry{}, errors.New("changes is missing")
	}
	// Marked deleted, should its record not be in the file, the id must
	// still fit the column.
	if _, mapped := l.viewModels[a.View]; mapped && !strings.HasPrefix(a.RecordID, deletedPrefix) {
		max := l.auditLimits["record_id"] - len(deletedPrefix)
		if utf8.RuneCountInString(a.RecordID) > max {
			return audit.Entry{}, fmt.Errorf("record_id of view %s is longer than %d characters, which no record id is", a.View, max)
		}
	}
	return audit.Entry{Time: at, Username: a.Username, Action: a.Action, View: a.View, RecordID: a.RecordID,
		RecordLabel: a.RecordLabel, Changes: *a.Changes}, nil
}

// auditTexts are the fields of an audit entry checked against their
// limits in audit.Schema (parseEntry).
var auditTexts = []string{"username", "action", "view_name", "record_id", "record_label"}

// auditLimits are the limits, in characters, of the audit log's text
// fields, by name.
type auditLimits map[string]int

// auditLimitsOf reads the limits of fields from s, the audit log's schema.
// Should that schema change (a field renamed, or no longer text), load
// stops before its first line with an error naming the field, rather than
// panic on the first entry or check it against a limit of nothing.
func auditLimitsOf(s *datamodel.Schema, fields []string) (auditLimits, error) {
	limits := make(auditLimits, len(fields))
	for _, name := range fields {
		f := s.Field(name)
		if f == nil {
			return nil, fmt.Errorf("the audit log has no field %q, which an entry's line holds", name)
		}
		text, ok := f.Kind.(datamodel.Text)
		if !ok {
			return nil, fmt.Errorf("the audit log's field %q is %T, not the text whose limit an entry's line is checked against", name, f.Kind)
		}
		limits[name] = text.MaxRunes
	}
	return limits, nil
}

// cite remembers the source ids e names: its record's, and in its changes
// those of the references of the catalogue's models.
func (l *loader) cite(e audit.Entry) {
	model, ok := l.viewModels[e.View]
	if !ok {
		return
	}
	add := func(model, id string) {
		if id == "" {
			return
		}
		if l.cited[model] == nil {
			l.cited[model] = map[string]bool{}
		}
		l.cited[model][id] = true
	}
	add(model, e.RecordID)
	l.eachRef(model, e.Changes, func(target, id string) string {
		add(target, id)
		return id
	})
}

// eachRef calls fn with each reference in changes of a record of model:
// the old and new values of its reference fields, written as "Label (id)"
// (audit.Text). fn returns the id to write in its place.
func (l *loader) eachRef(model string, changes []audit.Change, fn func(target, id string) string) {
	m := l.models[model]
	if m == nil {
		return
	}
	s := m.Schema()
	for i := range changes {
		f := s.Field(changes[i].Field)
		if f == nil || f.Target() == "" {
			continue
		}
		for _, v := range []*string{&changes[i].Old, &changes[i].New} {
			open := strings.LastIndex(*v, " (")
			if open < 0 || !strings.HasSuffix(*v, ")") {
				continue
			}
			label, id := (*v)[:open], (*v)[open+2:len(*v)-1]
			*v = label + " (" + fn(lineModel(f.Target()), id) + ")"
		}
	}
}

// mapEntry returns e with the source ids it names (see cite) turned into
// the new ids of their records, or marked deleted when the file did not
// hold the record.
func (l *loader) mapEntry(e audit.Entry, newIDs idMap) audit.Entry {
	model, ok := l.viewModels[e.View]
	if !ok {
		return e
	}
	newID := func(model, id string) string {
		if id == "" || strings.HasPrefix(id, deletedPrefix) {
			return id
		}
		if n, ok := newIDs[model][id]; ok {
			return n
		}
		return deletedPrefix + id
	}
	e.RecordID = newID(model, e.RecordID)
	e.Changes = slices.Clone(e.Changes)
	l.eachRef(model, e.Changes, newID)
	return e
}
