// Package memstore is an in-memory implementation of the datamodel seam,
// with ids shaped like MongoDB's ObjectId (24 hex digits). It proves that
// the seam fits a store with no SQL, no joins and no integer ids, and it
// serves the admin's tests and micro-benchmarks. It keeps nothing on disk.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"musicadmin/internal/datamodel"
	"musicadmin/internal/textindex"
)

// Store holds the models declared on it and their records.
type Store struct {
	mu     sync.RWMutex
	models map[string]*Model
	nextID uint64

	locksMu sync.Mutex
	locks   map[string]*sync.Mutex // Together's, by name
}

// New returns an empty store.
func New() *Store { return &Store{models: map[string]*Model{}, locks: map[string]*sync.Mutex{}} }

var _ datamodel.Together = (*Store)(nil)

// Together runs fn holding the lock called name. A memory store has no
// transactions: fn's writes are made as it makes them, and stay when it
// fails. One process is all that shares the lock, as all that shares the
// records.
func (s *Store) Together(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	s.locksMu.Lock()
	l := s.locks[name]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[name] = l
	}
	s.locksMu.Unlock()
	l.Lock()
	defer l.Unlock()
	return fn(ctx)
}

// Model is one declared model of a Store; it implements datamodel.Interface.
type Model struct {
	st      *Store
	decl    datamodel.Schema
	records map[string]map[string]any // id -> field name -> stored value
}

var _ datamodel.Interface = (*Model)(nil)

// Declare adds the model decl to s. A reference must name a model declared
// before.
func (s *Store) Declare(decl datamodel.Schema) (*Model, error) {
	if err := decl.Check(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.models[decl.Name]; taken {
		return nil, fmt.Errorf("memstore: model %q declared twice", decl.Name)
	}
	for _, f := range decl.Fields {
		if t := f.Target(); t != "" && s.models[t] == nil {
			return nil, fmt.Errorf("memstore: %s.%s refers to undeclared model %q", decl.Name, f.Name, t)
		}
		if t := f.SetOf(); t != "" && s.models[t] == nil {
			return nil, fmt.Errorf("memstore: %s.%s is a set of undeclared model %q", decl.Name, f.Name, t)
		}
	}
	m := &Model{st: s, decl: decl, records: map[string]map[string]any{}}
	s.models[decl.Name] = m
	return m, nil
}

// Schema returns the declaration.
func (m *Model) Schema() *datamodel.Schema { return &m.decl }

// ValidID accepts 24 lower-case hex digits.
func (m *Model) ValidID(id string) bool {
	if len(id) != 24 {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// record returns the values of a stored record as read: references carry
// the label of the record they point at. Callers hold the read lock.
func (m *Model) record(id string) datamodel.Record {
	stored := m.records[id]
	rec := datamodel.Record{ID: id, Values: make(map[string]any, len(m.decl.Fields))}
	for _, f := range m.decl.Fields {
		if f.WriteOnly {
			continue // kept, never read back
		}
		v := stored[f.Name]
		if t := f.Target(); t != "" {
			var ref *datamodel.Ref
			if refID, _ := v.(string); refID != "" {
				to := m.st.models[t]
				ref = &datamodel.Ref{ID: refID, Label: to.decl.LabelField().Kind.Text(to.records[refID][to.decl.Label])}
			}
			v = ref
		}
		if t := f.SetOf(); t != "" {
			// A set of records of t, by label: the store keeps their ids.
			to := m.st.models[t]
			ids, _ := v.([]string)
			refs := make([]datamodel.Ref, 0, len(ids))
			for _, id := range ids {
				refs = append(refs, datamodel.Ref{ID: id, Label: to.decl.LabelField().Kind.Text(to.records[id][to.decl.Label])})
			}
			slices.SortFunc(refs, func(a, b datamodel.Ref) int {
				return cmp.Or(strings.Compare(a.Label, b.Label), strings.Compare(a.ID, b.ID))
			})
			v = refs
		}
		rec.Values[f.Name] = v
	}
	return rec
}

// Get returns the record with id.
func (m *Model) Get(_ context.Context, id string) (datamodel.Record, error) {
	m.st.mu.RLock()
	defer m.st.mu.RUnlock()
	if _, ok := m.records[id]; !ok {
		return datamodel.Record{}, datamodel.ErrNotFound
	}
	return m.record(id), nil
}

// matches reports whether the stored values satisfy every filter and the
// search.
func (m *Model) matches(stored map[string]any, filters []datamodel.Filter, search string, in []*datamodel.Field) bool {
	for _, f := range filters {
		if !match(stored[f.Field.Name], f) {
			return false
		}
	}
	if search == "" || len(in) == 0 {
		return true
	}
	q := textindex.Fold(search)
	for _, f := range in {
		if s, _ := stored[f.Name].(string); strings.Contains(textindex.Fold(s), q) {
			return true
		}
	}
	return false
}

func match(v any, f datamodel.Filter) bool {
	want := f.Field.Kind.Store(f.Value) // a reference's id, or the value
	switch f.Op {
	case datamodel.OpEmpty:
		empty, _ := f.Value.(bool)
		return (v == nil) == empty
	case datamodel.OpContains, datamodel.OpStartsWith:
		s, _ := v.(string)
		s, w := textindex.Fold(s), textindex.Fold(fmt.Sprint(want))
		if f.Op == datamodel.OpContains {
			return strings.Contains(s, w)
		}
		return strings.HasPrefix(s, w)
	case datamodel.OpEq:
		if f.Field.SetOf() != "" {
			held, _ := v.([]string)
			return slices.Contains(held, datamodel.Held(f.Value))
		}
		return v != nil && v == want
	case datamodel.OpNe:
		return v != want
	}
	c, ok := compare(v, want)
	if !ok {
		return false
	}
	switch f.Op {
	case datamodel.OpGt:
		return c > 0
	case datamodel.OpGte:
		return c >= 0
	case datamodel.OpLt:
		return c < 0
	case datamodel.OpLte:
		return c <= 0
	}
	return false
}

// compare orders two stored values of one kind: numbers by value, text by
// byte (code point) order, as the SQL backends' binary collations do; no
// value sorts first.
func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case int64:
		y, ok := b.(int64)
		return cmp.Compare(x, y), ok
	case bool:
		y, ok := b.(bool)
		switch {
		case x == y:
			return 0, ok
		case !x:
			return -1, ok
		}
		return 1, ok
	case string:
		y, ok := b.(string)
		return strings.Compare(x, y), ok
	case nil:
		if b == nil {
			return 0, true
		}
		return -1, true
	}
	return 0, false
}

// List returns the page of q, sorted by q.Sort and then by id.
func (m *Model) List(_ context.Context, q datamodel.Query) (datamodel.Page, error) {
	m.st.mu.RLock()
	defer m.st.mu.RUnlock()
	var ids []string
	for id, stored := range m.records {
		if m.matches(stored, q.Filters, q.Search, q.SearchFields) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		c := 0
		if q.Sort != nil {
			c, _ = compare(m.records[a][q.Sort.Name], m.records[b][q.Sort.Name])
		}
		if c == 0 {
			c = strings.Compare(a, b)
		}
		if q.Desc {
			c = -c
		}
		return c
	})
	page := datamodel.Page{Total: int64(len(ids))}
	start := min(q.Offset, len(ids))
	end := len(ids)
	if q.Limit > 0 {
		end = min(start+q.Limit, end)
	}
	for _, id := range ids[start:end] {
		page.Records = append(page.Records, m.record(id))
	}
	return page, nil
}

// Each calls fn with every record matching q, in q's order. The matches
// are listed under the lock first and fn called after it is released, so
// fn may write to the store. Records without a reference sort first, as
// compare puts no value first, which is the seam's order.
func (m *Model) Each(ctx context.Context, q datamodel.Query, fn func(datamodel.Record) error) error {
	q.Offset, q.Limit = 0, 0
	page, err := m.List(ctx, q)
	if err != nil {
		return err
	}
	for _, r := range page.Records {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Count returns how many records match filters.
func (m *Model) Count(_ context.Context, filters []datamodel.Filter) (int64, error) {
	m.st.mu.RLock()
	defer m.st.mu.RUnlock()
	var n int64
	for _, stored := range m.records {
		if m.matches(stored, filters, "", nil) {
			n++
		}
	}
	return n, nil
}

// Exists reports whether a record other than exceptID has field == value.
func (m *Model) Exists(_ context.Context, field *datamodel.Field, value any, exceptID string) (bool, error) {
	m.st.mu.RLock()
	defer m.st.mu.RUnlock()
	return m.taken(field, field.Kind.Store(value), exceptID), nil
}

func (m *Model) taken(field *datamodel.Field, stored any, exceptID string) bool {
	for id, other := range m.records {
		if id != exceptID && other[field.Name] == stored {
			return true
		}
	}
	return false
}

// check refuses values that a unique index or a foreign key would refuse.
// Callers hold the write lock.
func (m *Model) check(row map[string]any, exceptID string) error {
	for i := range m.decl.Fields {
		f := &m.decl.Fields[i]
		v := row[f.Name]
		if f.Unique && m.taken(f, v, exceptID) {
			return &datamodel.ConflictError{Field: f.Name}
		}
		if t := f.Target(); t != "" && v != nil {
			if _, ok := m.st.models[t].records[v.(string)]; !ok {
				return &datamodel.InvalidRefError{Field: f.Name}
			}
		}
		if t := f.SetOf(); t != "" {
			ids, _ := v.([]string)
			for _, id := range ids {
				if _, ok := m.st.models[t].records[id]; !ok {
					return &datamodel.InvalidRefError{Field: f.Name}
				}
			}
		}
	}
	return nil
}

// unhashed refuses a write-only value the kind would store as nothing (a
// password as typed, which nobody hashed), as the other stores do.
func (m *Model) unhashed(v datamodel.Values) error {
	for _, f := range m.decl.Fields {
		if val, ok := v[f.Name]; ok && f.WriteOnly && f.Kind.Store(val) == nil {
			return fmt.Errorf("memstore: %s.%s is written as its hash, never as typed", m.decl.Name, f.Name)
		}
	}
	return nil
}

// stored converts v into what is kept: each kind's stored form, and for the
// fields v does not hold, base's value (or the kind's empty value).
func (m *Model) stored(v datamodel.Values, base map[string]any) map[string]any {
	row := make(map[string]any, len(m.decl.Fields))
	for _, f := range m.decl.Fields {
		val, ok := v[f.Name]
		switch {
		case ok:
			row[f.Name] = f.Kind.Store(val)
		case base != nil:
			row[f.Name] = base[f.Name]
		default:
			row[f.Name] = f.Kind.Store(f.Kind.Empty())
		}
	}
	return row
}

// Create stores a new record under a new id.
func (m *Model) Create(_ context.Context, v datamodel.Values) (string, error) {
	if err := m.unhashed(v); err != nil {
		return "", err
	}
	m.st.mu.Lock()
	defer m.st.mu.Unlock()
	row := m.stored(v, nil)
	if err := m.check(row, ""); err != nil {
		return "", err
	}
	m.st.nextID++
	id := fmt.Sprintf("%024x", 0x6500000000000000+m.st.nextID)
	m.records[id] = row
	return id, nil
}

// Update writes v over the record with id.
func (m *Model) Update(_ context.Context, id string, v datamodel.Values) error {
	return m.update(id, nil, v)
}

// UpdateIf writes v over the record with id if it still has version; the
// store's lock makes the check and the write one step.
func (m *Model) UpdateIf(_ context.Context, id, version string, v datamodel.Values) error {
	return m.update(id, &version, v)
}

func (m *Model) update(id string, version *string, v datamodel.Values) error {
	if err := m.unhashed(v); err != nil {
		return err
	}
	m.st.mu.Lock()
	defer m.st.mu.Unlock()
	base, ok := m.records[id]
	if !ok {
		return datamodel.ErrNotFound
	}
	if cur := m.record(id); version != nil && m.decl.Version(cur) != *version {
		if m.decl.Holds(cur, v) {
			return nil
		}
		return datamodel.ErrStale
	}
	row := m.stored(v, base)
	if err := m.check(row, id); err != nil {
		return err
	}
	m.records[id] = row
	return nil
}

// Delete removes the record with id and clears every reference to it.
func (m *Model) Delete(_ context.Context, id string) error {
	m.st.mu.Lock()
	defer m.st.mu.Unlock()
	if _, ok := m.records[id]; !ok {
		return datamodel.ErrNotFound
	}
	delete(m.records, id)
	m.clearRefs(map[string]bool{id: true})
	return nil
}

// clearRefs clears every reference to the records gone, and takes them out
// of every set. Callers hold the write lock.
func (m *Model) clearRefs(gone map[string]bool) {
	for _, other := range m.st.models {
		for _, f := range other.decl.Fields {
			switch m.decl.Name {
			case f.Target():
				for _, row := range other.records {
					if id, _ := row[f.Name].(string); gone[id] {
						row[f.Name] = nil
					}
				}
			case f.SetOf():
				for _, row := range other.records {
					ids, _ := row[f.Name].([]string)
					row[f.Name] = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return gone[id] })
				}
			}
		}
	}
}

// DeleteMany removes the records with ids and clears every reference to
// them, all under one lock: all or none, as a transaction would. Unknown
// ids are skipped.
func (m *Model) DeleteMany(_ context.Context, ids []string) (int, error) {
	m.st.mu.Lock()
	defer m.st.mu.Unlock()
	gone := map[string]bool{}
	for _, id := range ids {
		if _, ok := m.records[id]; ok {
			delete(m.records, id)
			gone[id] = true
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	m.clearRefs(gone)
	return len(gone), nil
}

// Choices lists the records field may point at, by label and then id.
func (m *Model) Choices(ctx context.Context, field *datamodel.Field) ([]datamodel.Ref, error) {
	target := field.Target()
	if target == "" {
		target = field.SetOf()
	}
	m.st.mu.RLock()
	to := m.st.models[target]
	m.st.mu.RUnlock()
	if to == nil {
		return nil, fmt.Errorf("memstore: %s.%s is not a reference", m.decl.Name, field.Name)
	}
	page, err := to.List(ctx, datamodel.Query{Sort: to.decl.LabelField()})
	if err != nil {
		return nil, err
	}
	out := make([]datamodel.Ref, len(page.Records))
	for i, r := range page.Records {
		out[i] = datamodel.Ref{ID: r.ID, Label: to.decl.LabelField().Kind.Text(r.Values[to.decl.Label])}
	}
	return out, nil
}
