package api

import (
	"net/http"
	"slices"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/datamodel"
)

// Info is the answer of GET /api/v1/{view}/_info (Flask-AppBuilder's
// _info): the view's fields, what its lists sort, search and filter by,
// and what the caller may do on it.
type Info struct {
	View        string      `json:"view"`
	Title       string      `json:"title"`
	Label       string      `json:"label"` // the field that names a record
	Fields      []FieldInfo `json:"fields"`
	Sort        []string    `json:"sort"`
	DefaultSort string      `json:"default_sort,omitempty"`
	Search      []string    `json:"search"`
	PageSize    PageSize    `json:"page_size"`
	Permissions []string    `json:"permissions"`
}

// PageSize is a list's default and largest page size.
type PageSize struct {
	Default int `json:"default"`
	Max     int `json:"max"`
}

// FieldInfo describes one field: its JSON type (string, integer, boolean,
// reference: an id, set: a list of ids), its rules, and the filter
// operators a list takes for it (FIELD__OP=VALUE; FIELD=VALUE is eq).
type FieldInfo struct {
	Name      string   `json:"name"`
	Label     string   `json:"label"`
	Type      string   `json:"type"`
	Required  bool     `json:"required"`
	Unique    bool     `json:"unique,omitempty"`
	Nullable  bool     `json:"nullable,omitempty"`
	ReadOnly  bool     `json:"read_only,omitempty"`
	WriteOnly bool     `json:"write_only,omitempty"`
	MaxLength int      `json:"max_length,omitempty"`
	Minimum   *int64   `json:"minimum,omitempty"`
	Maximum   *int64   `json:"maximum,omitempty"`
	Target    string   `json:"target,omitempty"` // the view of the records a reference or set names
	Filters   []string `json:"filters"`
}

// Field types of FieldInfo.
const (
	typeString    = "string"
	typeInteger   = "integer"
	typeBoolean   = "boolean"
	typeReference = "reference"
	typeSet       = "set"
	typeJSON      = "json" // a JSONValuer's own (the audit log's changes)
)

// fieldType is f's type in FieldInfo.
func fieldType(f *datamodel.Field) string {
	if _, ok := f.Kind.(JSONValuer); ok {
		return typeJSON
	}
	switch f.Kind.Input().Type {
	case "number":
		return typeInteger
	case "checkbox":
		return typeBoolean
	case "select":
		return typeReference
	case "set":
		return typeSet
	}
	return typeString
}

func (v *view) handleInfo(w http.ResponseWriter, r *http.Request) {
	g := access.GrantsOf(r)
	info := v.info()
	info.Permissions = []string{}
	for _, p := range v.permissions() {
		if g.Can(access.On(v.mv.Name, p)) {
			info.Permissions = append(info.Permissions, p)
		}
	}
	writeJSON(w, http.StatusOK, info)
}

// permissions are the actions of the view's API routes.
func (v *view) permissions() []string {
	if v.mv.ListOnly {
		return []string{access.CanList, access.CanShow}
	}
	return []string{access.CanList, access.CanShow, access.CanAdd, access.CanEdit, access.CanDelete}
}

// info is the view's declaration as Info, without the caller's part.
func (v *view) info() Info {
	s := v.mv.Schema()
	info := Info{View: v.mv.Name, Title: v.mv.Title, Label: s.Label, Sort: names(v.mv.OrderFields()),
		Search: names(v.mv.SearchFields()), PageSize: PageSize{Default: admin.DefaultPageSize, Max: admin.MaxPageSize}}
	if f, desc := v.mv.DefaultOrder(); f != nil {
		info.DefaultSort = f.Name
		if desc {
			info.DefaultSort = "-" + f.Name
		}
	}
	filters := v.mv.FilterFields()
	for _, f := range v.writable(nil) {
		in := f.Kind.Input()
		fi := FieldInfo{Name: f.Name, Label: f.Label, Type: fieldType(f), Required: f.Required, Unique: f.Unique,
			ReadOnly: v.mv.ListOnly, WriteOnly: f.WriteOnly, MaxLength: in.MaxLength, Filters: []string{}}
		fi.Nullable = fi.Type == typeReference && !f.Required
		if in.Min < in.Max {
			fi.Minimum, fi.Maximum = &in.Min, &in.Max
		}
		if t := v.api.targetView(f); t != nil {
			fi.Target = t.mv.Name
		}
		if slices.Contains(filters, f) {
			for _, op := range f.Kind.Ops() {
				fi.Filters = append(fi.Filters, string(op))
			}
		}
		info.Fields = append(info.Fields, fi)
	}
	return info
}

// targetView is the view of the records a reference or a set field names,
// or nil (a role's permissions have no view).
func (a *API) targetView(f *datamodel.Field) *view {
	target := f.Target()
	if target == "" {
		target = f.SetOf()
	}
	return a.byModel[target]
}

func names(fields []*datamodel.Field) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name
	}
	return out
}
