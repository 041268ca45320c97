package mongostore

import (
	"fmt"
	"slices"
	"strings"

	"musicadmin/internal/datamodel"
)

// Declare adds the model decl to s. A reference must name a model declared
// before (or decl itself), a set a model declared before, and the label
// must be neither. A WriteOnly field must be a datamodel.Password: it is
// kept as its hash under <name>_hash, which no other field may be called.
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
		if t := f.SetOf(); t != "" && s.models[t] == nil {
			return nil, fmt.Errorf("mongostore: %s.%s is a set of undeclared model %q", decl.Name, f.Name, t)
		}
		if f.Name[0] == '$' || strings.Contains(f.Name, ".") || f.Name == "_id" {
			return nil, fmt.Errorf("mongostore: %s: field name %q is not a document key", decl.Name, f.Name)
		}
		if f.WriteOnly {
			if _, ok := f.Kind.(datamodel.Password); !ok {
				return nil, fmt.Errorf("mongostore: %s.%s: a write-only field must be a password", decl.Name, f.Name)
			}
			if decl.Field(docKey(&f)) != nil {
				return nil, fmt.Errorf("mongostore: %s.%s: its hash's key %q is another field's name", decl.Name, f.Name, docKey(&f))
			}
		}
	}
	if label := decl.LabelField(); label.Target() != "" || label.SetOf() != "" {
		return nil, fmt.Errorf("mongostore: %s: label %q is a reference or a set", decl.Name, decl.Label)
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
		if f := decl.Field(n); f == nil || f.WriteOnly {
			return nil, fmt.Errorf("mongostore: %s: indexed field %q is not a readable field", decl.Name, n)
		}
	}
	m.indexed = func(f *datamodel.Field) bool {
		return f.Unique || slices.Contains(filters, f.Name) || slices.Contains(sorts, f.Name)
	}
	m.sorted = func(f *datamodel.Field) bool { return slices.Contains(sorts, f.Name) }
	return m, nil
}

// KeepCreated makes the documents m creates hold the time of their
// creation, a date under key, which no field declares and no read returns:
// the users' created_at, which app dump carries and the documents had
// before users were a model.
func (m *Model) KeepCreated(key string) error {
	if key == "" || key == "_id" || key[0] == '$' || strings.Contains(key, ".") || m.decl.Field(key) != nil || m.hashed(key) != nil {
		return fmt.Errorf("mongostore: %s: %q cannot hold the creation time", m.decl.Name, key)
	}
	m.createdKey = key
	return nil
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
