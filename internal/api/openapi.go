package api

import (
	"net/http"
	"strings"
	"sync"

	"musicadmin/internal/admin"
	"musicadmin/internal/datamodel"
)

// The OpenAPI 3.1 document of the API, generated from the same
// declarations as the routes: a view's schemas come from its model's
// fields (types, lengths, ranges, required, nullable), its list
// parameters from its allow-lists (the sort fields and the filter
// operators as enums), and every error from Problem. It is built once,
// on the first request: the declarations do not change while serving.

// obj is a JSON object of the document.
type obj = map[string]any

// handleOpenAPI answers GET /api/v1/_openapi.
func (a *API) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := a.openAPIDocument()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(doc)
}

// openAPIDocument returns the document as JSON, built on the first call.
func (a *API) openAPIDocument() ([]byte, error) {
	a.docOnce.Do(func() { a.doc, a.docErr = marshal(a.OpenAPI()) })
	return a.doc, a.docErr
}

// docCache holds the document once built.
type docCache struct {
	docOnce sync.Once
	doc     []byte
	docErr  error
}

// OpenAPI is the document as a value.
func (a *API) OpenAPI() map[string]any {
	title := a.cfg.AppName
	if title == "" {
		title = "Music Admin"
	}
	version := a.cfg.Version
	if version == "" {
		version = "1"
	}
	schemas := obj{
		"Problem": obj{"type": "object", "required": []string{"message"}, "properties": obj{
			"message": obj{"type": "string", "description": "What went wrong, for a person."},
			"errors": obj{"type": "object", "additionalProperties": obj{"type": "string"},
				"description": "The problem with each field, by field name, as the form shows it."},
		}},
		"Included": obj{"type": "object", "description": "The labels of the records a reference or set names, " +
			"by field name, then id (asked for with include=FIELD,...).",
			"additionalProperties": obj{"type": "object", "additionalProperties": obj{"type": "string"}}},
		"Info":      infoSchema(),
		"FieldInfo": fieldInfoSchema(),
	}
	paths := obj{Prefix + "/_openapi": obj{"get": obj{
		"operationId": "getOpenAPI", "summary": "This document", "tags": []string{"meta"}, "security": []any{},
		"responses": obj{"200": obj{"description": "The OpenAPI document.",
			"content": obj{mediaJSON: obj{"schema": obj{"type": "object"}}}}},
	}}}
	var tags []any
	for _, v := range a.views {
		v.addSchemas(schemas)
		v.addPaths(paths)
		tags = append(tags, obj{"name": v.mv.Name, "description": v.mv.Title})
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{"title": title + " API", "version": version,
			"description": "The JSON API of " + title + ": every model view of the admin, from the same declarations, " +
				"with the same permissions, validation and audit log. Sign in with a token (Authorization: Bearer TOKEN) " +
				"made on your own page (/users/tokens) or with `app create-token`."},
		"tags":     tags,
		"security": []any{obj{"bearerAuth": []string{}}},
		"paths":    paths,
		"components": obj{
			"schemas":   schemas,
			"responses": problemResponses(),
			"securitySchemes": obj{"bearerAuth": obj{"type": "http", "scheme": "bearer",
				"description": "An API token: it acts with its user's permissions."}},
		},
	}
}

// problemResponses are the error answers, each a Problem.
func problemResponses() obj {
	out := obj{}
	for name, desc := range map[string]string{
		"BadRequest":   "Malformed: not a JSON object, a key sent twice, an unknown field or list parameter.",
		"Unauthorized": "No token, or one that is not valid (mistyped, expired, revoked, its user inactive).",
		"Forbidden":    "The token's user lacks the permission, or the guard refuses the record.",
		"NotFound":     "No record with this id.",
		"TooLarge":     "The body is over the server's cap.",
		"Unsupported":  "A write that is not JSON (Content-Type).",
		"Invalid":      "Refused input: the message beside each field, as the form shows it; nothing was written.",
		"TooMany":      "Too many failed token attempts from this address: wait for Retry-After seconds.",
		"Unavailable":  "The database is busy or unreachable: try again after Retry-After seconds.",
	} {
		out[name] = obj{"description": desc, "content": obj{mediaJSON: obj{"schema": ref("Problem")}}}
	}
	retry := obj{"Retry-After": obj{"description": "Seconds to wait before trying again.", "schema": obj{"type": "integer"}}}
	out["TooMany"].(obj)["headers"] = retry
	out["Unavailable"].(obj)["headers"] = retry
	out["Unauthorized"].(obj)["headers"] = obj{"WWW-Authenticate": obj{"description": `Bearer realm="api"`,
		"schema": obj{"type": "string"}}}
	return out
}

func ref(schema string) obj { return obj{"$ref": "#/components/schemas/" + schema} }

func respRef(name string) obj { return obj{"$ref": "#/components/responses/" + name} }

// typeName is the view's schemas' name: its Singular in one word
// ("Audit entry": AuditEntry).
func (v *view) typeName() string { return camel(v.mv.Singular) }

// pluralName names its list operations ("listAuditEntries").
func (v *view) pluralName() string { return camel(v.mv.Plural) }

func camel(s string) string {
	var b strings.Builder
	for word := range strings.FieldsSeq(s) {
		b.WriteString(strings.ToUpper(word[:1]) + word[1:])
	}
	return b.String()
}

// addSchemas adds the view's schemas: the record as read, as created, as
// replaced and as patched, and the answers that hold it.
func (v *view) addSchemas(schemas obj) {
	name := v.typeName()
	read := obj{}
	var readRequired []string
	for _, f := range v.readable() {
		read[f.Name] = fieldSchema(f, forRead)
		readRequired = append(readRequired, f.Name)
	}
	schemas[name] = obj{"type": "object", "description": v.mv.Singular + ", as an answer holds it.",
		"properties": read, "required": readRequired}
	schemas[name+"One"] = obj{"type": "object", "required": []string{"id", "version", "result"}, "properties": obj{
		"id":       obj{"type": "string", "description": "The record's id: an opaque string."},
		"version":  obj{"type": "string", "description": "The record's version, also its ETag: send it back in If-Match or as version to refuse a stale write."},
		"result":   ref(name),
		"included": ref("Included"),
	}}
	schemas[name+"Many"] = obj{"type": "object", "required": []string{"count", "page", "page_size", "ids", "result"},
		"properties": obj{
			"count":          obj{"type": "integer", "description": "How many records match."},
			"count_at_least": obj{"type": "boolean", "description": "count is a lower bound: counting stopped there."},
			"page":           obj{"type": "integer"},
			"page_size":      obj{"type": "integer"},
			"ids":            obj{"type": "array", "items": obj{"type": "string"}},
			"result":         obj{"type": "array", "items": ref(name)},
			"included":       ref("Included"),
		}}
	if v.mv.ListOnly {
		return
	}
	schemas[name+"Stale"] = obj{"type": "object", "required": []string{"message", "current"}, "properties": obj{
		"message": obj{"type": "string"}, "errors": obj{"type": "object", "additionalProperties": obj{"type": "string"}},
		"current": ref(name + "One"),
	}}
	create, createRequired := v.writeProperties(nil, forCreate)
	schemas[name+"Create"] = obj{"type": "object", "additionalProperties": false, "properties": create,
		"required": createRequired, "description": v.mv.Singular + ", as a create sends it."}
	update, updateRequired := v.writeProperties(&datamodel.Record{}, forUpdate)
	update[versionKey] = obj{"type": "string", "description": "The version a read gave (or send If-Match)."}
	schemas[name+"Update"] = obj{"type": "object", "additionalProperties": false, "properties": update,
		"required": updateRequired, "description": v.mv.Singular + ", every field, as a replace (PUT) sends it."}
	schemas[name+"Patch"] = obj{"type": "object", "additionalProperties": false, "properties": update,
		"description": v.mv.Singular + ": the fields to change (JSON merge patch: null empties one)."}
}

// writeProperties are the properties of a write's body (rec nil: a
// create) and those it requires.
func (v *view) writeProperties(rec *datamodel.Record, use schemaUse) (obj, []string) {
	props := obj{}
	required := []string{}
	for _, f := range v.writable(rec) {
		props[f.Name] = fieldSchema(f, use)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	return props, required
}

// schemaUse is where a field's schema is used.
type schemaUse int

const (
	forRead   schemaUse = iota // an answer, where every field is present
	forCreate                  // a create, where a field left out takes its default
	forUpdate                  // a PUT (left out: an empty input) or a PATCH (left out: unchanged)
)

// fieldSchema is the JSON Schema of a value of f in use. In a write, null
// is an empty input. Only a create's schema has defaults: a PUT empties
// a field it leaves out, a PATCH keeps it, so a default there would be
// false, and a tool that fills defaults in (a validating proxy, a client)
// would change what the write means (a patch of a user's name would
// activate them again, one of a song's title reset its rating).
func fieldSchema(f *datamodel.Field, use schemaUse) obj {
	in := f.Kind.Input()
	s := obj{"title": f.Label}
	read := use == forRead
	nullable := !read && !f.Required
	switch fieldType(f) {
	case typeJSON:
		s = f.Kind.(JSONValuer).JSONSchema()
		s["title"] = f.Label
		return s
	case typeInteger:
		s["type"] = "integer"
		if in.Min < in.Max {
			s["minimum"], s["maximum"] = in.Min, in.Max
		}
		if d, ok := f.Kind.Empty().(int64); ok && !f.Required && use == forCreate {
			s["default"] = d
		}
	case typeBoolean:
		s["type"] = "boolean"
		nullable = false // null is false, as an unticked box
		if d, ok := f.Kind.(datamodel.Defaulter); ok && use == forCreate {
			s["default"] = d.Default()
		}
	case typeReference:
		s["type"] = "string"
		s["description"] = "The id of a record of " + f.Target() + "; null for none."
		nullable = !f.Required
	case typeSet:
		s["type"] = "array"
		s["items"] = obj{"type": "string"}
		s["description"] = "The ids of records of " + f.SetOf() + "."
	default:
		s["type"] = "string"
		if in.MaxLength > 0 {
			s["maxLength"] = in.MaxLength
		}
		if in.Type == "email" {
			// idn-email, not email: the store takes what net/mail parses,
			// internationalised addresses (josé@exämple.com) included,
			// which format email (RFC 5321, ASCII) refuses.
			s["format"] = "idn-email"
		}
		if !read && f.Required && !f.WriteOnly {
			s["minLength"] = 1
		}
	}
	if f.WriteOnly {
		s["writeOnly"] = true
		delete(s, "maxLength") // its limit is in bytes, which JSON Schema does not count
	}
	if nullable {
		s["type"] = []string{s["type"].(string), "null"}
	}
	return s
}

// addPaths adds the view's routes.
func (v *view) addPaths(paths obj) {
	name, plural, tag := v.typeName(), v.pluralName(), []string{v.mv.Name}
	base := Prefix + "/" + v.mv.Name + "/"
	std := func(op obj, codes ...string) obj {
		responses := op["responses"].(obj)
		for _, c := range append([]string{"401", "403", "429", "503"}, codes...) {
			responses[c] = respRef(map[string]string{"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
				"404": "NotFound", "413": "TooLarge", "415": "Unsupported", "422": "Invalid", "429": "TooMany",
				"503": "Unavailable"}[c])
		}
		op["tags"] = tag
		return op
	}
	jsonOf := func(schema string) obj { return obj{mediaJSON: obj{"schema": ref(schema)}} }
	etag := obj{"ETag": obj{"description": "The record's version.", "schema": obj{"type": "string"}}}
	idParam := obj{"name": "id", "in": "path", "required": true, "schema": obj{"type": "string"},
		"description": "The record's id."}
	ifMatchParam := obj{"name": "If-Match", "in": "header", "required": false, "schema": obj{"type": "string"},
		"description": "The ETag a read gave: a write to a record changed since is refused with 409."}
	includeParam := obj{"name": includeKey, "in": "query", "required": false, "schema": obj{"type": "string"},
		"description": "Reference or set fields, comma-separated, whose records' labels the answer adds under included: " +
			strings.Join(v.refFields(), ", ") + "."}

	list := std(obj{"operationId": "list" + plural, "summary": "List " + strings.ToLower(v.mv.Plural),
		"parameters": append(v.listParameters(), includeParam),
		"responses":  obj{"200": obj{"description": "One page.", "content": jsonOf(name + "Many")}}}, "400")
	collection := obj{"get": list}
	one := obj{"get": std(obj{"operationId": "get" + name, "summary": "Get one " + strings.ToLower(v.mv.Singular),
		"parameters": []any{idParam, includeParam},
		"responses": obj{"200": obj{"description": "The record.", "headers": etag,
			"content": jsonOf(name + "One")}}}, "400", "404")}
	info := obj{"get": std(obj{"operationId": "info" + plural, "summary": "Fields, sorts, filters and your permissions",
		"responses": obj{"200": obj{"description": "The view's declaration.", "content": jsonOf("Info")}}})}
	paths[base+"_info"] = info
	if !v.mv.ListOnly {
		collection["post"] = std(obj{"operationId": "create" + name, "summary": "Create " + strings.ToLower(v.mv.Singular),
			"requestBody": obj{"required": true, "content": jsonOf(name + "Create")},
			"responses": obj{"201": obj{"description": "Created: the record as stored.", "content": jsonOf(name + "One"),
				"headers": obj{"Location": obj{"description": "The record's URL.", "schema": obj{"type": "string"}},
					"ETag": etag["ETag"]}}}}, "400", "413", "415", "422")
		written := obj{"200": obj{"description": "Saved: the record as stored.", "headers": etag, "content": jsonOf(name + "One")},
			"409": obj{"description": "Changed since the version sent: nothing written.", "content": jsonOf(name + "Stale")}}
		one["put"] = std(obj{"operationId": "replace" + name, "summary": "Replace every field",
			"parameters":  []any{idParam, ifMatchParam},
			"requestBody": obj{"required": true, "content": jsonOf(name + "Update")},
			"responses":   written}, "400", "404", "413", "415", "422")
		one["patch"] = std(obj{"operationId": "patch" + name, "summary": "Change the fields sent (JSON merge patch)",
			"parameters":  []any{idParam, ifMatchParam},
			"requestBody": obj{"required": true, "content": obj{mediaMergePatch: obj{"schema": ref(name + "Patch")}}},
			"responses":   cloneObj(written)}, "400", "404", "413", "415", "422")
		one["delete"] = std(obj{"operationId": "delete" + name, "summary": "Delete",
			"parameters": []any{idParam, ifMatchParam},
			"responses": obj{"200": obj{"description": "Deleted.", "content": jsonOf("Problem")},
				"409": obj{"description": "Changed since the version sent: nothing deleted.", "content": jsonOf(name + "Stale")}}},
			"404", "422")
	}
	paths[base] = collection
	paths[base+"{id}"] = one
}

func cloneObj(o obj) obj {
	out := make(obj, len(o))
	for k, v := range o {
		out[k] = v
	}
	return out
}

// refFields names the fields include= takes.
func (v *view) refFields() []string {
	var out []string
	for _, f := range v.readable() {
		if f.Target() != "" || f.SetOf() != "" {
			out = append(out, f.Name)
		}
	}
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}

// listParameters are a list's query parameters: the page, its size, the
// sort (an enum of the order fields), the search, and one parameter per
// filter field and operator.
func (v *view) listParameters() []any {
	sorts := []string{}
	for _, f := range v.mv.OrderFields() {
		sorts = append(sorts, f.Name, "-"+f.Name)
	}
	params := []any{
		obj{"name": "page", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "default": 1}},
		obj{"name": "page_size", "in": "query", "schema": obj{"type": "integer", "minimum": 1,
			"maximum": admin.MaxPageSize, "default": admin.DefaultPageSize}},
	}
	if len(sorts) > 0 {
		params = append(params, obj{"name": "sort", "in": "query", "schema": obj{"type": "string", "enum": sorts},
			"description": "An order field, - first for descending."})
	}
	if search := names(v.mv.SearchFields()); len(search) > 0 {
		params = append(params, obj{"name": "q", "in": "query", "schema": obj{"type": "string", "maxLength": admin.MaxSearchRunes},
			"description": "Search text: a case-insensitive substring of " + strings.Join(search, ", ") + "."})
	}
	for _, f := range v.mv.FilterFields() {
		for _, op := range f.Kind.Ops() {
			schema := filterSchema(f)
			if op == datamodel.OpEmpty {
				schema = obj{"type": "boolean"}
			}
			params = append(params, obj{"name": f.Name + "__" + string(op), "in": "query", "schema": schema,
				"description": "Filter: " + f.Label + " " + string(op) + "."})
			if op == datamodel.OpEq {
				params = append(params, obj{"name": f.Name, "in": "query", "schema": schema,
					"description": "Filter: " + f.Label + " eq (the same as " + f.Name + "__eq)."})
			}
		}
	}
	return params
}

// filterSchema is the schema of a filter's value on f.
func filterSchema(f *datamodel.Field) obj {
	switch fieldType(f) {
	case typeInteger:
		return obj{"type": "integer"}
	case typeBoolean:
		return obj{"type": "boolean"}
	case typeReference, typeSet:
		return obj{"type": "string", "description": "An id."}
	}
	return obj{"type": "string", "maxLength": admin.MaxSearchRunes}
}

func infoSchema() obj {
	strs := obj{"type": "array", "items": obj{"type": "string"}}
	return obj{"type": "object", "required": []string{"view", "title", "label", "fields", "sort", "search", "page_size", "permissions"},
		"properties": obj{
			"view": obj{"type": "string"}, "title": obj{"type": "string"}, "label": obj{"type": "string"},
			"fields": obj{"type": "array", "items": ref("FieldInfo")}, "sort": strs, "default_sort": obj{"type": "string"},
			"search": strs, "permissions": strs,
			"page_size": obj{"type": "object", "required": []string{"default", "max"},
				"properties": obj{"default": obj{"type": "integer"}, "max": obj{"type": "integer"}}},
		}}
}

func fieldInfoSchema() obj {
	return obj{"type": "object", "required": []string{"name", "label", "type", "required", "filters"}, "properties": obj{
		"name": obj{"type": "string"}, "label": obj{"type": "string"},
		"type":     obj{"type": "string", "enum": []string{typeString, typeInteger, typeBoolean, typeReference, typeSet, typeJSON}},
		"required": obj{"type": "boolean"}, "unique": obj{"type": "boolean"}, "nullable": obj{"type": "boolean"},
		"read_only": obj{"type": "boolean"}, "write_only": obj{"type": "boolean"},
		"max_length": obj{"type": "integer"}, "minimum": obj{"type": "integer"}, "maximum": obj{"type": "integer"},
		"target":  obj{"type": "string"},
		"filters": obj{"type": "array", "items": obj{"type": "string"}},
	}}
}
