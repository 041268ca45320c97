// Package datamodel is the seam between the generic admin views and a storage
// backend, the analog of Flask-AppBuilder's SQLAInterface. It declares what a
// model's fields are and what a backend must do with records; it imports no
// storage library, so any backend (GORM today, in-memory in a test) fits.
package datamodel

import (
	"context"
	"errors"
	"fmt"
)

// Kind is the type of a field's value.
type Kind int

const (
	// KindText values are strings.
	KindText Kind = iota + 1
	// KindInt values are int64.
	KindInt
	// KindRef values are *Ref (nil for none) when read and *int64 when written.
	KindRef
)

// Field declares one field of a model: how it is stored, labelled, checked.
type Field struct {
	Name     string // form field and query-string name, e.g. "album"
	Column   string // database column, e.g. "album_id"
	Label    string // shown to the user
	Kind     Kind
	Required bool
	Unique   bool
	MaxRunes int   // KindText: maximum length in characters (0: no limit)
	Min, Max int64 // KindInt: inclusive bounds, when Min < Max
	Default  int64 // KindInt: the value stored when the input is empty

	// Ref describes the related model of a KindRef field.
	Ref *Relation
}

// Relation describes the target of a reference field.
type Relation struct {
	Model       Interface // the related model, which lists the choices
	Table       string    // its table, for the join that loads labels
	LabelColumn string    // its column shown in place of the id
}

// Ref is the value of a reference field as read: the id and a label.
type Ref struct {
	ID    int64
	Label string
}

// Record is one row: its id and its values keyed by field name.
type Record struct {
	ID     int64
	Values map[string]any
}

// Values are field values keyed by field name, as written by Create and Update.
type Values map[string]any

// Op is a filter operator.
type Op string

// Filter operators. Which apply to which Kind is decided by OpsFor.
// OpContains and OpStartsWith ignore case, as the search does (the ilike of
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

// OpsFor lists the operators a user may apply to a field of kind k.
func OpsFor(k Kind) []Op {
	switch k {
	case KindText:
		return []Op{OpContains, OpStartsWith, OpEq, OpNe}
	case KindInt:
		return []Op{OpEq, OpNe, OpGt, OpGte, OpLt, OpLte}
	case KindRef:
		return []Op{OpEq, OpEmpty}
	}
	return nil
}

// Filter restricts a list to records whose Field satisfies Op against Value.
// Value is a string for KindText, an int64 for KindInt and KindRef with OpEq,
// and a bool for OpEmpty.
type Filter struct {
	Field *Field
	Op    Op
	Value any
}

// Query asks for one page of a list. Every field in it has already been
// checked against the model's declaration: a backend never sees request text
// in place of a column name.
type Query struct {
	Filters      []Filter
	Search       string   // case-insensitive substring, matched literally
	SearchFields []*Field // the fields Search looks in
	Sort         *Field   // nil: by id
	Desc         bool
	Offset       int
	Limit        int
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
	// Fields returns the model's declared fields in display order.
	Fields() []Field

	// List returns the records matching q, with reference labels loaded in
	// the same query, and the total count of matches.
	List(ctx context.Context, q Query) (Page, error)

	// Count returns how many records match filters.
	Count(ctx context.Context, filters []Filter) (int64, error)

	// Get returns one record, or ErrNotFound.
	Get(ctx context.Context, id int64) (Record, error)

	// Exists reports whether another record than exceptID has field == value.
	Exists(ctx context.Context, field *Field, value any, exceptID int64) (bool, error)

	// Create stores a new record and returns its id. It returns a
	// *ConflictError when a unique field is taken and ErrInvalidRef when a
	// reference points at no record.
	Create(ctx context.Context, v Values) (int64, error)

	// Update changes the record with id; errors as Create, plus ErrNotFound.
	Update(ctx context.Context, id int64, v Values) error

	// Delete removes the record with id, or returns ErrNotFound. References to
	// it from other models are cleared by the database, never cascaded.
	Delete(ctx context.Context, id int64) error

	// Choices returns every record as an id and a label, ordered by label, for
	// the dropdowns of reference fields that point at this model.
	Choices(ctx context.Context) ([]Ref, error)
}

var (
	// ErrNotFound means no record has the requested id.
	ErrNotFound = errors.New("record not found")
	// ErrInvalidRef means a reference names a record that does not exist.
	ErrInvalidRef = errors.New("reference to a missing record")
	// ErrUnavailable means the database is busy or unreachable: the request
	// may succeed if tried again.
	ErrUnavailable = errors.New("database unavailable")
)

// ConflictError reports a value that a unique field already holds.
type ConflictError struct{ Field string }

func (e *ConflictError) Error() string { return fmt.Sprintf("%s already exists", e.Field) }

// FieldByName returns the declared field called name, or nil.
func FieldByName(fields []Field, name string) *Field {
	for i := range fields {
		if fields[i].Name == name {
			return &fields[i]
		}
	}
	return nil
}
