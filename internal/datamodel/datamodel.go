// Package datamodel is the seam between the generic admin views and a storage
// backend, the analog of Flask-AppBuilder's SQLAInterface. It declares what a
// model is (its Schema: name, label and fields, each of a Kind) and what a
// backend must do with its records (Interface). It speaks no SQL: no table or
// column names, no joins, and record ids are opaque strings (digits on an SQL
// backend, ObjectId hex on MongoDB, anything in an in-memory one).
package datamodel

import (
	"context"
	"errors"
	"fmt"

	"musicadmin/internal/i18n"
)

// Schema declares a model once; the store and the admin both read it.
type Schema struct {
	// Name is the model's name, e.g. "album": reference fields of other
	// models name their target by it, and a store maps it to its table or
	// collection.
	Name string
	// Label is the name of the field that names a record in links, choices
	// and messages, e.g. "name".
	Label string
	// Fields in display order.
	Fields []Field
}

// Field declares one field of a model.
type Field struct {
	Name     string // form field, query-string and document key, e.g. "album"
	Label    string // shown to the user
	Kind     Kind   // the type of the value, with its own rules
	Required bool
	Unique   bool
	// WriteOnly fields are written, never read back: they are asked on
	// the add form only, and no list, show page, edit form, export,
	// version or audit entry holds them (a password).
	WriteOnly bool
	// Hidden fields are kept, read and filtered by like any other, but
	// only by the code that declared them: no user ever sees or sets one.
	// No list, show page, form, export or audit entry holds them, and a
	// form post never sets one (an API token's digest). A store reads and
	// writes them as it does any field.
	Hidden bool
}

// Target returns the name of the model a reference field points at, or "".
func (f *Field) Target() string {
	if r, ok := f.Kind.(Reference); ok {
		return r.Model
	}
	return ""
}

// Field returns the declared field called name, or nil.
func (s *Schema) Field(name string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// LabelField returns the field that names a record.
func (s *Schema) LabelField() *Field { return s.Field(s.Label) }

// Check reports a declaration that cannot work: no name, a label that is
// not a field, a field without a kind or a name used twice.
func (s *Schema) Check() error {
	if s.Name == "" {
		return errors.New("datamodel: a schema needs a name")
	}
	seen := map[string]bool{}
	for _, f := range s.Fields {
		if f.Name == "" || f.Kind == nil {
			return fmt.Errorf("datamodel: %s: every field needs a name and a kind", s.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("datamodel: %s: field %q declared twice", s.Name, f.Name)
		}
		seen[f.Name] = true
	}
	if s.LabelField() == nil {
		return fmt.Errorf("datamodel: %s: label %q is not a field", s.Name, s.Label)
	}
	if s.LabelField().WriteOnly || s.LabelField().Hidden {
		return fmt.Errorf("datamodel: %s: label %q is write-only or hidden", s.Name, s.Label)
	}
	return nil
}

// SetOf returns the name of what a set field chooses among, or "".
func (f *Field) SetOf() string {
	if s, ok := f.Kind.(Set); ok {
		return s.Of
	}
	return ""
}

// Readable returns the fields a user may read: all but the WriteOnly ones,
// which no read returns, and the Hidden ones, which a read returns to the
// code that declared them only.
func (s *Schema) Readable() []*Field {
	out := make([]*Field, 0, len(s.Fields))
	for i := range s.Fields {
		if !s.Fields[i].WriteOnly && !s.Fields[i].Hidden {
			out = append(out, &s.Fields[i])
		}
	}
	return out
}

// Ref is the value of a reference field: the id of the record it points at
// and, when read, that record's label. A nil *Ref is no reference.
type Ref struct {
	ID    string
	Label string
}

// Record is one record: its id and its values keyed by field name, each of
// its field's Kind's value type.
type Record struct {
	ID     string
	Values map[string]any
}

// Values are field values keyed by field name, as written by Create and Update.
type Values map[string]any

// Op is a filter operator.
type Op string

// Filter operators. Which apply to a field is its Kind's Ops. OpContains and
// OpStartsWith ignore case, as the search does (the ilike of
// Flask-AppBuilder's filters); OpEq and OpNe compare exactly.
const (
	OpContains   Op = "contains"
	OpStartsWith Op = "startswith"
	OpEq         Op = "eq"
	OpNe         Op = "ne"
	OpGt         Op = "gt"
	OpGte        Op = "gte"
	OpLt         Op = "lt"
	OpLte        Op = "lte"
	OpEmpty      Op = "empty"
)

// Filter restricts a list to records whose Field satisfies Op against Value,
// a value of the field's Kind (a bool for OpEmpty).
type Filter struct {
	Field *Field
	Op    Op
	Value any
}

// Query asks for one page of a list. Every field in it has already been
// checked against the model's declaration: a backend never sees request text
// in place of a field name.
type Query struct {
	Filters      []Filter
	Search       string   // case-insensitive substring, matched literally
	SearchFields []*Field // the fields Search looks in
	Sort         *Field   // nil: by id
	Desc         bool
	Offset       int
	Limit        int // 0: every match
	// NoCount asks for the records only: counting the matches may cost
	// as much as finding them (a lookup as the user types needs no
	// total). The Page then says Total 0 and AtLeast; a store whose count
	// is free may count anyway.
	NoCount bool
}

// Page is one page of a list and the number of records matching the query.
type Page struct {
	Records []Record
	Total   int64
	// AtLeast means counting stopped at Total: there are more matches.
	AtLeast bool
}

// Interface is what the admin views need from a model's storage.
type Interface interface {
	// Schema returns the model's declaration.
	Schema() *Schema

	// ValidID reports whether id has the form of this backend's ids. Every
	// model of one backend shares that form, so it also judges the ids of
	// reference fields.
	ValidID(id string) bool

	// List returns the records matching q, with the labels of the records
	// they refer to, and the total count of matches.
	List(ctx context.Context, q Query) (Page, error)

	// Each calls fn with every record matching q's filters and search, in
	// q's sort order (by id when q.Sort is nil), ties broken by id, with
	// the labels of the records they refer to; q.Offset and q.Limit are
	// ignored. Unlike List it holds no page in memory and no count: it
	// streams, for a dump or an export of any size. A record whose sort
	// field is empty (a reference to nothing) comes first in ascending
	// order and last in descending order, on every backend alike. Records
	// are read in batches, each through the indexes a page uses, with no
	// cursor held while fn runs: fn may use the same database, and a write
	// meanwhile may or may not be seen. An error of fn stops the walk and
	// is returned as it is.
	Each(ctx context.Context, q Query, fn func(Record) error) error

	// Count returns how many records match filters.
	Count(ctx context.Context, filters []Filter) (int64, error)

	// Group returns the records matching q's filters and search grouped
	// by q.By, q's series computed per group, ranked and limited as q
	// says (group.go). The database computes it (a GROUP BY, an
	// aggregation), never the caller from the records; the answer may be
	// remembered as a list's count is, until a write of this process or
	// for the count's few seconds.
	Group(ctx context.Context, q GroupQuery) (Grouping, error)

	// Get returns one record, or ErrNotFound.
	Get(ctx context.Context, id string) (Record, error)

	// Exists reports whether a record other than exceptID ("" for none) has
	// field == value.
	Exists(ctx context.Context, field *Field, value any, exceptID string) (bool, error)

	// Create stores a new record and returns its id. It returns a
	// *ConflictError when a unique field is taken and an *InvalidRefError
	// when a reference points at no record.
	Create(ctx context.Context, v Values) (string, error)

	// Update changes the record with id; errors as Create, plus ErrNotFound.
	Update(ctx context.Context, id string, v Values) error

	// UpdateIf changes the record with id as Update does, provided it still
	// has version (Schema.Version of the record as it was read); the check
	// and the write are one step, whatever writes race with it. Otherwise
	// it writes nothing and returns ErrStale, or ErrNotFound when the
	// record is gone. Errors as Update besides. A write whose values are
	// already stored succeeds whichever version it names: it loses nothing.
	UpdateIf(ctx context.Context, id, version string, v Values) error

	// Delete removes the record with id, or returns ErrNotFound. References to
	// it from other models are cleared, never cascaded.
	Delete(ctx context.Context, id string) error

	// DeleteMany removes the records with ids, as Delete does each (their
	// references cleared, never cascaded), and returns how many it
	// removed: ids that are malformed or name no record are skipped, not
	// errors. A store with transactions removes all or none; one without
	// says in its own comment what it guarantees instead.
	DeleteMany(ctx context.Context, ids []string) (int, error)

	// Choices returns every record the reference field may point at, as an
	// id and a label, ordered by label.
	Choices(ctx context.Context, field *Field) ([]Ref, error)
}

var (
	// ErrNotFound means no record has the requested id.
	ErrNotFound = errors.New("record not found")
	// ErrInvalidRef means a reference names a record that does not exist.
	ErrInvalidRef = errors.New("reference to a missing record")
	// ErrStale means a conditional write (UpdateIf) found the record
	// changed since the version it names was read, and wrote nothing.
	ErrStale = errors.New("record changed since it was read")
	// ErrUnavailable means the database is busy or unreachable: the request
	// may succeed if tried again.
	ErrUnavailable = errors.New("database unavailable")
)

// ConflictError reports a value that a unique field already holds.
type ConflictError struct{ Field string }

func (e *ConflictError) Error() string { return fmt.Sprintf("%s already exists", e.Field) }

// InvalidRefError reports a reference field naming a record that does not
// exist; it is ErrInvalidRef.
type InvalidRefError struct{ Field string }

func (e *InvalidRefError) Error() string { return fmt.Sprintf("%s: %v", e.Field, ErrInvalidRef) }

// Is makes errors.Is(err, ErrInvalidRef) true.
func (e *InvalidRefError) Is(target error) bool { return target == ErrInvalidRef }

// RefusedError is a write a model's own rule refuses (the last active
// Admin cannot be deactivated; a built-in role cannot be renamed), checked
// by the store where the write is made, so that every path to it (a form,
// a bulk action, the command line) meets it. Message is for the user;
// Field names the field at fault, or is empty for the record as a whole.
// Nothing was written.
type RefusedError struct {
	Field   string
	Message string
	// Msg, when set, is Message as a catalogue message with its values,
	// for a message that has some (Refused); a Message without values is
	// its own id.
	Msg *i18n.Message
}

func (e *RefusedError) Error() string { return e.Message }

// Text is the refusal as a message to translate where it is shown.
func (e *RefusedError) Text() error {
	if e.Msg != nil {
		return e.Msg
	}
	return i18n.Errorf(e.Message)
}

// Refused returns the refusal of field (empty: the record as a whole)
// with the catalogue message id and its values as name, value pairs: its
// Message is the English text.
func Refused(field, id string, kv ...any) *RefusedError {
	m := i18n.Msg(id, kv...)
	return &RefusedError{Field: field, Message: m.Error(), Msg: &m}
}

// BatchError is a batch create (a store's CreateBatch) that failed at one
// record: Index is its position in the batch, Err what Create would have
// returned for it.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string { return fmt.Sprintf("record %d of the batch: %v", e.Index, e.Err) }
func (e *BatchError) Unwrap() error { return e.Err }

// EmptyFirst runs the walk of the records whose sort field is empty and
// the walk of those where it is set in the order Each promises: the empty
// ones first in ascending order, last in descending order. A store whose
// index does not order empty values so by itself walks the two apart.
func EmptyFirst(desc bool, empty, set func() error) error {
	first, second := empty, set
	if desc {
		first, second = set, empty
	}
	if err := first(); err != nil {
		return err
	}
	return second()
}

// Reuser is a model whose Each can hand fn one Record for every call,
// refilled for each record (its ID, its Values map and the Refs in it),
// instead of a fresh one each time: fn must not keep the record, its map
// or its Refs after it returns, nor change them. An export that turns each
// record into text at once reads a million records without a million maps.
type Reuser interface {
	EachReused(ctx context.Context, q Query, fn func(Record) error) error
}

// EachReused walks the records of m matching q as m.Each does, through
// m's EachReused when it has one: fn is held to what Reuser says whether
// or not it has.
func EachReused(ctx context.Context, m Interface, q Query, fn func(Record) error) error {
	if r, ok := m.(Reuser); ok {
		return r.EachReused(ctx, q, fn)
	}
	return m.Each(ctx, q, fn)
}
