package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// SetModel is a model whose records hold what no column of its own table
// does, kept by the store for any model alike:
//
//   - a Set field, in the join table <owner>_<field> with the columns
//     <owner>_id and <target>_id (owner and target: the singulars of the
//     two tables), whose rows the foreign keys remove with either end;
//   - a WriteOnly field (a password), as its hash in the column
//     <field>_hash, written and never read back.
//
// Its column fields are a Model's; every write is one transaction (or a
// savepoint of a Together's) that writes the row, the join rows and the
// audit entry of the whole record, sets included.
type SetModel[T any] struct {
	base   *Model[T]
	decl   datamodel.Schema
	sets   []joinSet
	hashed []hashColumn
}

// joinSet is where a Set field's rows are.
type joinSet struct {
	field                *datamodel.Field
	join, owner, options string
	to                   target
}

// hashColumn is where a WriteOnly field's hash is.
type hashColumn struct {
	field  *datamodel.Field
	column string
}

var _ datamodel.Interface = (*SetModel[struct{ ID int64 }])(nil)

func singular(table string) string { return strings.TrimSuffix(table, "s") }

// Declare declares decl on s over the table of the GORM model T: a Model
// when every field is a column, else a SetModel.
func Declare[T any](s *Store, decl datamodel.Schema) (datamodel.Interface, error) {
	if err := decl.Check(); err != nil {
		return nil, err
	}
	columns := decl
	columns.Fields = nil
	var sets []*datamodel.Field
	m := &SetModel[T]{decl: decl}
	for i := range m.decl.Fields {
		f := &m.decl.Fields[i]
		switch {
		case f.SetOf() != "":
			sets = append(sets, f)
		case f.WriteOnly:
			h := hashColumn{field: f, column: f.Name + "_hash"}
			m.hashed = append(m.hashed, h)
			columns.Fields = append(columns.Fields, datamodel.Field{Name: h.column, Label: f.Label, Kind: datamodel.Text{}})
		default:
			columns.Fields = append(columns.Fields, *f)
		}
	}
	base, err := NewModel[T](s, columns)
	if err != nil || len(sets)+len(m.hashed) == 0 {
		return base, err
	}
	m.base, base.sets = base, map[string]joinSet{}
	for _, f := range sets {
		to, ok := s.tables[f.SetOf()]
		if !ok {
			return nil, fmt.Errorf("store: model %s: set %q of model %q, not declared before it", decl.Name, f.Name, f.SetOf())
		}
		j := joinSet{field: f, join: singular(base.table) + "_" + f.Name, owner: singular(base.table) + "_id",
			options: singular(to.table) + "_id", to: to}
		m.sets, base.sets[f.Name] = append(m.sets, j), j
	}
	return m, nil
}

// holds is the condition of the rows of idColumn whose set holds the
// option bound to its one parameter.
func (j joinSet) holds(idColumn string) string {
	return idColumn + " IN (SELECT " + j.owner + " FROM " + j.join + " WHERE " + j.options + " = ?)"
}

// setArg is the parameter of holds: the option's id (0, no row, when it
// is no id).
func setArg(v any) any {
	n, _ := parseID(datamodel.Held(v))
	return n
}

// Schema returns the declaration.
func (m *SetModel[T]) Schema() *datamodel.Schema { return &m.decl }

// ValidID accepts an SQL id.
func (m *SetModel[T]) ValidID(id string) bool { return m.base.ValidID(id) }

// shown turns the base model's records into this model's: the hashes
// dropped, the sets read, one query per set for them all.
func (m *SetModel[T]) shown(ctx context.Context, recs []datamodel.Record) error {
	for _, r := range recs {
		for _, h := range m.hashed {
			delete(r.Values, h.column)
		}
	}
	if len(recs) == 0 {
		return nil
	}
	for _, j := range m.sets {
		if err := j.fill(m.base.conn(ctx), recs); err != nil {
			return m.base.translate("read "+j.field.Name+" of", err)
		}
	}
	return nil
}

// fill reads the options of recs' sets, by label and then id.
func (j joinSet) fill(db *gorm.DB, recs []datamodel.Record) error {
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i], _ = parseID(r.ID)
	}
	rows, err := db.Raw("SELECT j."+j.owner+", t.id, t."+j.to.labelColumn+" FROM "+j.join+" j JOIN "+
		j.to.table+" t ON t.id = j."+j.options+" WHERE j."+j.owner+" IN ? ORDER BY t."+j.to.labelColumn+", t.id", ids).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	held := map[string][]datamodel.Ref{}
	for rows.Next() {
		var owner, option int64
		var label string
		if err := rows.Scan(&owner, &option, &label); err != nil {
			return err
		}
		held[formatID(owner)] = append(held[formatID(owner)], datamodel.Ref{ID: formatID(option), Label: label})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range recs {
		refs := held[r.ID]
		if refs == nil {
			refs = []datamodel.Ref{}
		}
		r.Values[j.field.Name] = refs
	}
	return nil
}

// get reads the record with id, sets and all.
func (m *SetModel[T]) get(ctx context.Context, id string) (datamodel.Record, error) {
	rec, err := m.base.Get(ctx, id)
	if err != nil {
		return rec, err
	}
	return rec, m.shown(ctx, []datamodel.Record{rec})
}

// Get returns the record with id, or datamodel.ErrNotFound.
func (m *SetModel[T]) Get(ctx context.Context, id string) (datamodel.Record, error) {
	return m.get(ctx, id)
}

// List returns a page of records.
func (m *SetModel[T]) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	page, err := m.base.List(ctx, q)
	if err != nil {
		return page, err
	}
	return page, m.shown(ctx, page.Records)
}

// Each calls fn with every record matching q, their sets read a batch at
// a time.
func (m *SetModel[T]) Each(ctx context.Context, q datamodel.Query, fn func(datamodel.Record) error) error {
	const batch = 200
	var pending []datamodel.Record
	flush := func() error {
		if err := m.shown(ctx, pending); err != nil {
			return err
		}
		for _, r := range pending {
			if err := fn(r); err != nil {
				return err
			}
		}
		pending = pending[:0]
		return nil
	}
	err := m.base.Each(ctx, q, func(r datamodel.Record) error {
		if pending = append(pending, r); len(pending) == batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// Count returns how many records match filters.
func (m *SetModel[T]) Count(ctx context.Context, filters []datamodel.Filter) (int64, error) {
	return m.base.Count(ctx, filters)
}

// Group groups the records matching q by a column field, as Model does;
// a set is neither a key nor a series (GroupQuery.Check).
func (m *SetModel[T]) Group(ctx context.Context, q datamodel.GroupQuery) (datamodel.Grouping, error) {
	if err := q.Check(&m.decl); err != nil {
		return datamodel.Grouping{}, err
	}
	return m.base.group(ctx, q)
}

// Exists reports whether a record other than exceptID has field == value.
func (m *SetModel[T]) Exists(ctx context.Context, field *datamodel.Field, value any, exceptID string) (bool, error) {
	return m.base.Exists(ctx, field, value, exceptID)
}

// Choices lists the options of a set, or the targets of a reference, by
// label and then id.
func (m *SetModel[T]) Choices(ctx context.Context, field *datamodel.Field) ([]datamodel.Ref, error) {
	j, isSet := m.base.sets[field.Name]
	if !isSet {
		return m.base.Choices(ctx, field)
	}
	var rows []struct {
		ID    int64
		Label string
	}
	err := m.base.conn(ctx).Raw("SELECT id, " + j.to.labelColumn + " AS label FROM " + j.to.table +
		" ORDER BY " + j.to.labelColumn + ", id").Scan(&rows).Error
	if err != nil {
		return nil, m.base.translate("choices of", err)
	}
	out := make([]datamodel.Ref, len(rows))
	for i, r := range rows {
		out[i] = datamodel.Ref{ID: formatID(r.ID), Label: r.Label}
	}
	return out, nil
}

// columnValues returns the values of v that columns hold: its column
// fields, and a write-only field's hash. A value not hashed is refused.
func (m *SetModel[T]) columnValues(v datamodel.Values) (datamodel.Values, error) {
	out := datamodel.Values{}
	for k, val := range v {
		if _, isSet := m.base.sets[k]; !isSet {
			out[k] = val
		}
	}
	for _, h := range m.hashed {
		val, ok := v[h.field.Name]
		if !ok {
			continue
		}
		delete(out, h.field.Name)
		hash, isHash := val.(datamodel.Hash)
		if !isHash || hash == "" {
			return nil, fmt.Errorf("store: %s.%s is stored as its hash, never as typed", m.decl.Name, h.field.Name)
		}
		out[h.column] = string(hash)
	}
	return out, nil
}

// writeSets replaces the sets v holds of the record with id.
func (m *SetModel[T]) writeSets(tx *gorm.DB, id int64, v datamodel.Values, created bool) error {
	for _, j := range m.sets {
		given, ok := v[j.field.Name]
		if !ok {
			continue
		}
		options, err := optionIDs(tx, j, given)
		if err != nil {
			return err
		}
		if !created {
			if err := tx.Exec("DELETE FROM "+j.join+" WHERE "+j.owner+" = ?", id).Error; err != nil {
				return err
			}
		}
		for _, o := range options {
			if err := tx.Exec("INSERT INTO "+j.join+" ("+j.owner+", "+j.options+") VALUES (?, ?)", id, o).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// optionIDs returns the row ids a set's value names; one naming no row is
// an InvalidRefError of the set.
func optionIDs(tx *gorm.DB, j joinSet, v any) ([]int64, error) {
	ids := datamodel.IDs(v)
	out := make([]int64, len(ids))
	for i, s := range ids {
		n, ok := parseID(s)
		if !ok {
			return nil, &datamodel.InvalidRefError{Field: j.field.Name}
		}
		out[i] = n
	}
	if len(out) == 0 {
		return out, nil
	}
	var found int64
	if err := tx.Table(j.to.table).Where("id IN ?", out).Count(&found).Error; err != nil {
		return nil, err
	}
	if int(found) != len(out) {
		return nil, &datamodel.InvalidRefError{Field: j.field.Name}
	}
	return out, nil
}

// errUnchanged ends a transaction that has nothing to write: a stale save
// of values already stored, which loses nothing.
var errUnchanged = errors.New("store: unchanged")

// write runs fn in a transaction of its own, or in a savepoint of the
// Together ctx is in (so that a failed write leaves that transaction
// usable for the error's translation), and with an actor in ctx writes
// the audit entry of action, comparing the record with id as read before
// (none for a create) with the record fn returns the id of.
func (m *SetModel[T]) write(ctx context.Context, action, id string,
	fn func(tx *gorm.DB, old *datamodel.Record) (string, error)) (string, error) {
	actor, auditing := audit.From(ctx)
	invalidateCounts()
	defer invalidateCounts()
	var done string
	err := m.base.conn(ctx).Transaction(func(tx *gorm.DB) error {
		in := context.WithValue(ctx, txKey{}, tx)
		get := func(id string) (datamodel.Record, error) { return m.get(in, id) }
		var readOld *string
		if id != "" {
			readOld = &id
		}
		if !auditing {
			// The old record still, for UpdateIf's version; no entry.
			old, err := recordOf(get, readOld)
			if err != nil {
				return err
			}
			done, err = fn(tx, old)
			return err
		}
		var err error
		done, err = auditedWrite(tx, actor, action, &m.decl, readOld, get, fn)
		return err
	})
	return done, err
}

// writeErr maps a failed write: this model's own answers as they are,
// database errors as the base model maps them.
func (m *SetModel[T]) writeErr(ctx context.Context, op string, err error, v datamodel.Values, id string) error {
	var refused *datamodel.RefusedError
	var badRef *datamodel.InvalidRefError
	switch {
	case errors.As(err, &refused), errors.As(err, &badRef), errors.Is(err, datamodel.ErrNotFound),
		errors.Is(err, datamodel.ErrStale):
		return err
	}
	cols, cerr := m.columnValues(v)
	if cerr != nil {
		return cerr
	}
	return m.base.translateWrite(ctx, op, err, cols, id)
}

// Create stores a new record, its sets and its hashes, and returns its id.
func (m *SetModel[T]) Create(ctx context.Context, v datamodel.Values) (string, error) {
	cols, err := m.columnValues(v)
	if err != nil {
		return "", err
	}
	row, err := m.base.row(cols)
	if err != nil {
		return "", err
	}
	m.base.stampCreated(row, time.Now())
	id, err := m.write(ctx, audit.ActionCreate, "", func(tx *gorm.DB, _ *datamodel.Record) (string, error) {
		if err := tx.Model(new(T)).Create(row).Error; err != nil {
			return "", err
		}
		id, err := m.base.createdID(row)
		if err != nil {
			return "", err
		}
		n, _ := parseID(id)
		return id, m.writeSets(tx, n, v, true)
	})
	if err != nil {
		return "", m.writeErr(ctx, "create", err, v, "")
	}
	return id, nil
}

// Update writes v to the record with id.
func (m *SetModel[T]) Update(ctx context.Context, id string, v datamodel.Values) error {
	return m.update(ctx, id, nil, v)
}

// UpdateIf writes v to the record with id if it still has version, read
// and written in one transaction. (The accounts layer, which writes these
// models, also holds its Together lock around it.)
func (m *SetModel[T]) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	return m.update(ctx, id, &version, v)
}

func (m *SetModel[T]) update(ctx context.Context, id string, version *string, v datamodel.Values) error {
	cols, err := m.columnValues(v)
	if err != nil {
		return err
	}
	n, row, err := m.base.target(id, cols)
	if err != nil {
		return err
	}
	_, err = m.write(ctx, audit.ActionUpdate, id, func(tx *gorm.DB, old *datamodel.Record) (string, error) {
		if version != nil && m.decl.Version(*old) != *version {
			if m.decl.Holds(*old, v) {
				return "", errUnchanged
			}
			return "", datamodel.ErrStale
		}
		if len(row) > 0 {
			if err := tx.Model(new(T)).Where("id = ?", n).Updates(row).Error; err != nil {
				return "", err
			}
		}
		return id, m.writeSets(tx, n, v, false)
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return m.writeErr(ctx, "update", err, v, id)
	}
	return nil
}

// Delete removes the record with id; its join rows go with it.
func (m *SetModel[T]) Delete(ctx context.Context, id string) error {
	n, err := m.DeleteMany(ctx, []string{id})
	if err == nil && n == 0 {
		return datamodel.ErrNotFound
	}
	return err
}

// DeleteMany removes the records with ids in one transaction, each with
// its audit entry.
func (m *SetModel[T]) DeleteMany(ctx context.Context, ids []string) (int, error) {
	ns := parseIDs(ids)
	if len(ns) == 0 {
		return 0, nil
	}
	actor, auditing := audit.From(ctx)
	var removed int64
	invalidateCounts()
	defer invalidateCounts()
	err := m.base.conn(ctx).Transaction(func(tx *gorm.DB) error {
		in := context.WithValue(ctx, txKey{}, tx)
		var olds []datamodel.Record
		for _, n := range ns {
			if !auditing {
				break
			}
			rec, err := m.get(in, formatID(n))
			if errors.Is(err, datamodel.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			olds = append(olds, rec)
		}
		res := tx.Delete(new(T), ns)
		if res.Error != nil {
			return res.Error
		}
		removed = res.RowsAffected
		for i := range olds {
			if err := appendAudit(tx, audit.NewEntry(actor, audit.ActionDelete, &m.decl, &olds[i], nil, time.Now())); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, m.base.translate("delete", err)
	}
	return int(removed), nil
}

// stampCreated sets the autoCreateTime columns of T in row, which GORM
// fills for a struct and not for a map: a user's created_at.
func (m *Model[T]) stampCreated(row map[string]any, now time.Time) {
	for _, f := range m.schema.Fields {
		if f.AutoCreateTime == 0 || f.DBName == "" {
			continue
		}
		if _, set := row[f.DBName]; set {
			continue
		}
		switch f.AutoCreateTime {
		case schema.UnixMillisecond:
			row[f.DBName] = now.UnixMilli()
		case schema.UnixNanosecond:
			row[f.DBName] = now.UnixNano()
		case schema.UnixSecond:
			row[f.DBName] = now.Unix()
		default:
			row[f.DBName] = now
		}
	}
}
