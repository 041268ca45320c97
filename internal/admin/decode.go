package admin

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"musicadmin/internal/datamodel"
)

// decode reads the declared fields, and only those, from the POST body
// (never the query string; the first of repeated values, or every value
// of a Multiple kind) into values of their kinds. It checks what the text
// alone tells: valid UTF-8 without NUL, required, and the kind's syntax.
// Text is trimmed first; a Confirmed kind (a password) is taken as typed,
// with its second input. rec is the record edited (nil on the add form):
// a write-only field is read on the add form only, a hidden one never (no
// post sets it), and the fields the guard fixes for rec are not read at
// all (they keep their stored values).
func (v *ModelView) decode(body url.Values, rec *datamodel.Record) form {
	f := form{raw: map[string]string{}, multi: map[string][]string{}, values: datamodel.Values{},
		errs: map[string]error{}, fixed: v.fixedOf(rec)}
	for i := range v.schema.Fields {
		fd := &v.schema.Fields[i]
		if fd.Hidden || fd.WriteOnly && rec != nil {
			continue
		}
		if _, fixed := f.fixed[fd.Name]; fixed {
			f.keepStored(fd, rec)
			continue
		}
		switch kind := fd.Kind.(type) {
		case datamodel.Multiple:
			f.readMultiple(fd, kind, body[fd.Name])
		case datamodel.Confirmed:
			f.readConfirmed(fd, kind, body.Get(fd.Name), body.Get(fd.Name+confirmSuffix))
		default:
			_, posted := body[fd.Name]
			f.readText(fd, body.Get(fd.Name), posted, v.Data.ValidID)
		}
	}
	return f
}

// cleanInput reports whether raw is valid UTF-8 without NUL, and returns
// it with those characters replaced when it is not, to be shown back.
func cleanInput(raw string) (string, bool) {
	if !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
		return strings.ToValidUTF8(strings.ReplaceAll(raw, "\x00", ""), "\uFFFD"), false
	}
	return raw, true
}

// keepStored shows fd as stored in rec (nil: a new record, its empty
// value): nothing posted for a fixed field is read.
func (f *form) keepStored(fd *datamodel.Field, rec *datamodel.Record) {
	var val any = fd.Kind.Empty()
	if rec != nil {
		val = rec.Values[fd.Name]
	}
	f.raw[fd.Name], f.multi[fd.Name] = fd.Kind.Edit(val), datamodel.IDs(val)
}

// readMultiple reads the values posted for fd, whose kind takes them all.
func (f *form) readMultiple(fd *datamodel.Field, kind datamodel.Multiple, posted []string) {
	var texts []string
	for _, raw := range posted {
		text, ok := cleanInput(raw)
		if !ok {
			f.errs[fd.Name] = msgBadText
			continue
		}
		if text = strings.TrimSpace(text); text != "" {
			texts = append(texts, text)
		}
	}
	f.multi[fd.Name] = texts
	if _, bad := f.errs[fd.Name]; bad {
		return
	}
	if len(texts) == 0 && fd.Required {
		f.errs[fd.Name] = msgRequired
		return
	}
	val, err := kind.ParseAll(texts)
	f.parsed(fd, val, err)
}

// readConfirmed reads the secret typed for fd and typed again. It is never
// shown back, and not trimmed: spaces are part of a password.
func (f *form) readConfirmed(fd *datamodel.Field, kind datamodel.Confirmed, text, again string) {
	f.raw[fd.Name] = ""
	switch _, ok := cleanInput(text); {
	case !ok:
		f.errs[fd.Name] = msgBadText
	case text == "" && fd.Required:
		f.errs[fd.Name] = msgRequired
	default:
		val, err := kind.ParseConfirmed(text, again)
		f.parsed(fd, val, err)
	}
}

// readText reads the one value posted for fd, trimmed; posted tells
// whether the form holds the field at all (a blank a Blankless kind
// refuses; a field left out stores its kind's Empty), validID whether the
// text of a reference can be an id at all.
func (f *form) readText(fd *datamodel.Field, raw string, posted bool, validID func(string) bool) {
	cleaned, ok := cleanInput(raw)
	f.raw[fd.Name] = cleaned
	if !ok {
		f.errs[fd.Name] = msgBadText
		return
	}
	text := strings.TrimSpace(raw)
	switch {
	case text == "" && (fd.Required || posted && fd.RefusesBlank()):
		f.errs[fd.Name] = msgRequired
	case text == "":
		f.values[fd.Name] = fd.Kind.Empty()
	case fd.Target() != "" && !validID(text):
		f.errs[fd.Name] = msgBadChoice
	default:
		val, err := fd.Kind.Parse(text)
		f.parsed(fd, val, err)
	}
}

// parsed keeps the value a kind parsed for fd, or its error beside the field.
func (f *form) parsed(fd *datamodel.Field, val any, err error) {
	if err != nil {
		f.errs[fd.Name] = err
		return
	}
	f.values[fd.Name] = val
}

// confirmSuffix names a password's second input: "password_confirm".
const confirmSuffix = "_confirm"
