package i18n

import (
	"context"
	"errors"
	"maps"
)

// Message is a text made in Go that a user reads, kept as its catalogue
// id and its values until it is shown, in the language of whoever reads
// it: a validation error made deep in the data model ("Must be a whole
// number from {{.Min}} to {{.Max}}.") is translated on the page that
// shows it. As an error it reads in English, for logs and the CLI.
type Message struct {
	ID   string
	Data map[string]any
}

// Msg returns the message id with its values given as name, value pairs:
// Msg("Deleted {{.Name}}.", "Name", "Blue").
func Msg(id string, kv ...any) Message {
	return Message{ID: id, Data: Pairs(kv)}
}

// Errorf returns an error that is the message id with its values, to be
// translated where it is shown (Error).
func Errorf(id string, kv ...any) error {
	m := Msg(id, kv...)
	return &m
}

// Error is the message in English.
func (m *Message) Error() string { return m.In(Default) }

// In returns the message in lang.
func (m Message) In(lang string) string { return Std().T(lang, m.ID, localData(lang, m.Data)) }

// localData returns data with each value that is itself a message (a
// field's label inside "A record with this {{.Field}} already exists.")
// put in lang; data itself when it has none.
func localData(lang string, data map[string]any) map[string]any {
	var out map[string]any
	for k, v := range data {
		if sub, ok := v.(interface{ In(string) string }); ok {
			if out == nil {
				out = maps.Clone(data)
			}
			out[k] = sub.In(lang)
		}
	}
	if out == nil {
		return data
	}
	return out
}

// Pairs turns name, value pairs into a message's values; nil when there
// are none.
func Pairs(kv []any) map[string]any {
	if len(kv) < 2 {
		return nil
	}
	data := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			data[k] = kv[i+1]
		}
	}
	return data
}

// Text returns the message id, with its values as name, value pairs, in
// the language of ctx (a request's, see Middleware); a value that is a
// Message is put in that language too.
func Text(ctx context.Context, id string, kv ...any) string {
	lang := Of(ctx)
	return Std().T(lang, id, localData(lang, Pairs(kv)))
}

// Plural returns the message id for the count n in the language of ctx.
func Plural(ctx context.Context, id string, n int, kv ...any) string {
	lang := Of(ctx)
	return Std().N(lang, id, n, localData(lang, Pairs(kv)))
}

// ErrorIn returns err as its reader sees it in lang: a Message (or an
// error wrapping one) translated with its values; any other error's text
// looked up as an id, and shown as it is when the catalogue lacks it.
func ErrorIn(lang string, err error) string {
	if err == nil {
		return ""
	}
	var m *Message
	if errors.As(err, &m) {
		return m.In(lang)
	}
	return Std().T(lang, err.Error(), nil)
}

// Error returns err in the language of ctx (ErrorIn).
func Error(ctx context.Context, err error) string { return ErrorIn(Of(ctx), err) }
