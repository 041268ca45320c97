package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"musicadmin/internal/datamodel"
)

// includeKey names the list and get parameter that asks for the labels of
// the records a reference or a set names: include=album, include=roles,permissions.
const includeKey = "include"

// readable are the fields an answer holds: the view's readable ones
// (never a password, its hash, or a hidden field).
func (v *view) readable() []*datamodel.Field { return v.fields }

// object is a record as an answer holds it: each readable field as JSON,
// a reference as the id it names (null for none), a set as the ids it
// holds.
func (v *view) object(rec datamodel.Record) Object {
	fields := v.readable()
	out := Object{names: make([]string, len(fields)), values: make([]any, len(fields))}
	for i, f := range fields {
		out.names[i], out.values[i] = f.Name, jsonValue(f, rec.Values[f.Name])
	}
	return out
}

// Object is a record's fields as a JSON object, in the order the model
// declares them (a map's would be alphabetical).
type Object struct {
	names  []string
	values []any
}

// MarshalJSON writes the fields in order.
func (o Object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, name := range o.names {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(name); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		buf.WriteByte(':')
		if err := enc.Encode(o.values[i]); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// JSONValuer is a Kind whose values an answer shows as JSON of their own
// rather than as text (the audit log's changes, a list of objects).
type JSONValuer interface {
	JSONValue(v any) any
	// JSONSchema is the JSON Schema of what JSONValue returns.
	JSONSchema() map[string]any
}

// jsonValue is one value of f as JSON.
func jsonValue(f *datamodel.Field, v any) any {
	if j, ok := f.Kind.(JSONValuer); ok {
		return j.JSONValue(v)
	}
	switch x := v.(type) {
	case *datamodel.Ref:
		if x == nil {
			return nil
		}
		return x.ID
	case []datamodel.Ref:
		return datamodel.IDs(x)
	case string, int64, bool:
		return x
	case nil:
		return nil
	}
	return f.Kind.Text(v)
}

// includes reads include=: the reference and set fields whose records'
// labels an answer adds, by field and id.
func (v *view) includes(query url.Values) ([]*datamodel.Field, error) {
	var out []*datamodel.Field
	for _, list := range query[includeKey] {
		for name := range strings.SplitSeq(list, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			i := slices.IndexFunc(v.fields, func(f *datamodel.Field) bool { return f.Name == name })
			if i < 0 || v.fields[i].Target() == "" && v.fields[i].SetOf() == "" {
				return nil, refusal(http.StatusBadRequest,
					fmt.Sprintf("include=%s: not a reference or a set of %s.", clip(name), v.mv.Plural))
			}
			if f := v.fields[i]; !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// included returns the labels of the records fields name in recs, by field
// name, then id: what a client would otherwise fetch one call each.
func included(fields []*datamodel.Field, recs []datamodel.Record) map[string]map[string]string {
	if len(fields) == 0 {
		return nil
	}
	out := make(map[string]map[string]string, len(fields))
	for _, f := range fields {
		labels := map[string]string{}
		for _, rec := range recs {
			switch x := rec.Values[f.Name].(type) {
			case *datamodel.Ref:
				if x != nil {
					labels[x.ID] = x.Label
				}
			case []datamodel.Ref:
				for _, ref := range x {
					labels[ref.ID] = ref.Label
				}
			}
		}
		out[f.Name] = labels
	}
	return out
}

// One is the answer of a get, a create and an update: the record's id,
// its version (which an update may send back in If-Match or as version),
// its fields, and the labels asked for.
type One struct {
	ID       string                       `json:"id"`
	Version  string                       `json:"version"`
	Result   Object                       `json:"result"`
	Included map[string]map[string]string `json:"included,omitempty"`
}

// Many is the answer of a list: how many records match (at least that
// many when CountAtLeast), the page, and its records' ids and fields in
// the same order.
type Many struct {
	Count        int64                        `json:"count"`
	CountAtLeast bool                         `json:"count_at_least,omitempty"`
	Page         int                          `json:"page"`
	PageSize     int                          `json:"page_size"`
	IDs          []string                     `json:"ids"`
	Result       []Object                     `json:"result"`
	Included     map[string]map[string]string `json:"included,omitempty"`
}

func (v *view) one(rec datamodel.Record, include []*datamodel.Field) One {
	return One{ID: rec.ID, Version: v.mv.Schema().Version(rec), Result: v.object(rec),
		Included: included(include, []datamodel.Record{rec})}
}

// location is the URL of the record with id.
func (v *view) location(id string) string {
	return Prefix + "/" + v.mv.Name + "/" + url.PathEscape(id)
}
