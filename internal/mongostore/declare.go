package mongostore

import (
	"fmt"
	"slices"
	"strings"

	"musicadmin/internal/datamodel"
)

// Declare adds the model decl to s. A reference must name a model declared
// before, and the label must not be a reference.
func (s *Store) Declare(decl datamodel.Schema) (*Model, error) {
	if err := decl.Check(); err != nil {
		return nil, err
	}
	if _, taken := s.models[decl.Name]; taken {
		return nil, fmt.Errorf("mongostore: model %q declared twice", decl.Name)
	}
	for _, f := range decl.Fields {
		if t := f.Target(); t != "" && s.models[t] == nil && t != decl.Name {
			return nil, fmt.Errorf("mongostore: %s.%s refers to undeclared model %q", decl.Name, f.Name, t)
		}
		if f.Name[0] == '$' || strings.Contains(f.Name, ".") || f.Name == "_id" {
			return nil, fmt.Errorf("mongostore: %s: field name %q is not a document key", decl.Name, f.Name)
		}
	}
	if decl.LabelField().Target() != "" {
		return nil, fmt.Errorf("mongostore: %s: label %q is a reference", decl.Name, decl.Label)
	}
	m := &Model{st: s, decl: decl, coll: s.db.Collection(decl.Name), countLimit: CountLimit, eachBatch: EachBatch, marks: &markCache{epoch: &s.markEpoch},
		counts: &countCache{epoch: &s.markEpoch}, indexed: func(*datamodel.Field) bool { return true },
		sorted: func(*datamodel.Field) bool { return true }}
	s.models[decl.Name] = m
	s.order = append(s.order, m)
	return m, nil
}

// DeclareIndexed is Declare for a model whose lists filter or search only
// the fields named in filters and sort only by those in sorts: it keeps
// indexes for those and their pairs only. A log written far more often
// than it is read (the audit log) would otherwise keep an index on every
// field and every pair of fields, each written with every document.
func (s *Store) DeclareIndexed(decl datamodel.Schema, filters, sorts []string) (*Model, error) {
	m, err := s.Declare(decl)
	if err != nil {
		return nil, err
	}
	for _, n := range append(append([]string(nil), filters...), sorts...) {
		if decl.Field(n) == nil {
			return nil, fmt.Errorf("mongostore: %s: indexed field %q is not a field", decl.Name, n)
		}
	}
	m.indexed = func(f *datamodel.Field) bool {
		return f.Unique || slices.Contains(filters, f.Name) || slices.Contains(sorts, f.Name)
	}
	m.sorted = func(f *datamodel.Field) bool { return slices.Contains(sorts, f.Name) }
	return m, nil
}

// indexName is the name of the index on field f: the one a query filtering
// or sorting by f names in its hint.
func (m *Model) indexName(f *datamodel.Field) string {
	if f == nil {
		return idIndex
	}
	if f.Unique {
		return "ux_" + m.decl.Name + "_" + f.Name
	}
	return "ix_" + m.decl.Name + "_" + f.Name
}

// pairIndexName is the name of the index on filter field f, then sort
// field by: the one a list filtered by equality on f and sorted by names in
// its hint.
func (m *Model) pairIndexName(f, by *datamodel.Field) string {
	return "ix_" + m.decl.Name + "_" + f.Name + "_" + by.Name
}
