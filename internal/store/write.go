package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// row converts v into the column values of a write: the one write path of
// Create and Update.
func (m *Model[T]) row(v datamodel.Values) (map[string]any, error) {
	out := make(map[string]any, len(v))
	for i := range m.decl.Fields {
		f := &m.decl.Fields[i]
		val, ok := v[f.Name]
		if !ok {
			continue
		}
		a, err := m.arg(f, val)
		if err != nil {
			return nil, err
		}
		if id, isID := a.(int64); isID && id == 0 {
			if _, isRef := m.refs[f.Name]; isRef {
				return nil, &datamodel.InvalidRefError{Field: f.Name}
			}
		}
		out[m.columns[f.Name]] = a
	}
	return out, nil
}

// Create stores a new record from v and returns its id. With an actor in
// ctx, its audit entry is written in the same transaction.
func (m *Model[T]) Create(ctx context.Context, v datamodel.Values) (string, error) {
	row, err := m.row(v)
	if err != nil {
		return "", err
	}
	invalidateCounts()
	defer invalidateCounts()
	id, err := m.audited(ctx, audit.ActionCreate, nil, false, func(tx *gorm.DB, _ *datamodel.Record) (string, error) {
		if err := tx.Model(new(T)).Create(row).Error; err != nil {
			return "", err
		}
		return m.createdID(row)
	})
	if err != nil {
		return "", m.translateWrite(ctx, "create", err, v, "")
	}
	return id, nil
}

// createdID returns the id GORM set in row after an insert.
func (m *Model[T]) createdID(row map[string]any) (string, error) {
	switch id := row["id"].(type) {
	case int64:
		return formatID(id), nil
	case int:
		return strconv.Itoa(id), nil
	}
	return "", fmt.Errorf("store: create %s: no id returned (%T)", m.table, row["id"])
}

// errNoRow is what an UPDATE or DELETE that matched no row returns from
// its transaction; the caller then reads why.
var errNoRow = errors.New("store: no row matched")

// target returns the row id an update of id writes and the columns it
// writes of v; datamodel.ErrNotFound for an id no row can have.
func (m *Model[T]) target(id string, v datamodel.Values) (int64, map[string]any, error) {
	n, ok := parseID(id)
	if !ok {
		return 0, nil, datamodel.ErrNotFound
	}
	row, err := m.row(v)
	return n, row, err
}

// Update writes v to the record with id.
func (m *Model[T]) Update(ctx context.Context, id string, v datamodel.Values) error {
	n, row, err := m.target(id, v)
	if err != nil {
		return err
	}
	if len(row) == 0 {
		return nil
	}
	invalidateCounts()
	defer invalidateCounts()
	_, err = m.audited(ctx, audit.ActionUpdate, &id, false, func(tx *gorm.DB, _ *datamodel.Record) (string, error) {
		res := tx.Model(new(T)).Where("id = ?", n).Updates(row)
		if res.Error != nil {
			return "", res.Error
		}
		if res.RowsAffected == 0 {
			return "", errNoRow
		}
		return id, nil
	})
	if errors.Is(err, errNoRow) {
		// MySQL counts only changed rows: an unchanged save is not a miss.
		_, err := m.Get(ctx, id)
		return err
	}
	if err != nil {
		return m.translateWrite(ctx, "update", err, v, id)
	}
	return nil
}

// UpdateIf writes v to the record with id if the record still has
// version. The version is checked on the record as read first, for the
// common stale form; then the UPDATE names every stored value in its
// WHERE, so that a write landing between that read and this one makes it
// match no row: the check and the write are one statement.
func (m *Model[T]) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	n, row, err := m.target(id, v)
	if err != nil {
		return err
	}
	invalidateCounts()
	defer invalidateCounts()
	_, err = m.audited(ctx, audit.ActionUpdate, &id, true, func(tx *gorm.DB, cur *datamodel.Record) (string, error) {
		if m.decl.Version(*cur) != version {
			if err := m.stale(*cur, v); err != nil {
				return "", err
			}
			return id, nil // it holds v already: nothing is lost
		}
		if m.st.checked != nil {
			m.st.checked()
		}
		if len(row) == 0 {
			return id, nil
		}
		where, args, err := m.unchanged(n, *cur)
		if err != nil {
			return "", err
		}
		res := tx.Model(new(T)).Where(where, args...).Updates(row)
		if res.Error != nil {
			return "", res.Error
		}
		if res.RowsAffected == 0 {
			return "", errNoRow
		}
		return id, nil
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errNoRow):
		// Gone, changed meanwhile, or (MySQL counts only changed rows)
		// saved unchanged: what is stored now tells which.
		now, err := m.Get(ctx, id)
		if err != nil {
			return err
		}
		return m.stale(now, v)
	case errors.Is(err, datamodel.ErrStale), errors.Is(err, datamodel.ErrNotFound):
		return err
	}
	return m.translateWrite(ctx, "update", err, v, id)
}

// stale is UpdateIf's answer for a record that no longer has the version
// asked for: ErrStale, unless it already holds v, when nothing is lost.
// A nil answer inside UpdateIf's transaction writes nothing.
func (m *Model[T]) stale(rec datamodel.Record, v datamodel.Values) error {
	if m.decl.Holds(rec, v) {
		return nil
	}
	return datamodel.ErrStale
}

// unchanged returns the WHERE clause matching the row id only while it
// holds rec's values: a missing reference as IS NULL.
func (m *Model[T]) unchanged(id int64, rec datamodel.Record) (string, []any, error) {
	row, err := m.row(datamodel.Values(rec.Values))
	if err != nil {
		return "", nil, err
	}
	where, args := []string{"id = ?"}, []any{id}
	for _, f := range m.decl.Fields {
		col := m.columns[f.Name]
		val, ok := row[col]
		switch {
		case !ok:
			continue
		case val == nil:
			where = append(where, col+" IS NULL")
		default:
			where, args = append(where, col+" = ?"), append(args, val)
		}
	}
	return strings.Join(where, " AND "), args, nil
}

// Delete removes the record with id.
func (m *Model[T]) Delete(ctx context.Context, id string) error {
	n, ok := parseID(id)
	if !ok {
		return datamodel.ErrNotFound
	}
	invalidateCounts()
	defer invalidateCounts()
	_, err := m.audited(ctx, audit.ActionDelete, &id, false, func(tx *gorm.DB, _ *datamodel.Record) (string, error) {
		res := tx.Delete(new(T), n)
		if res.Error != nil {
			return "", res.Error
		}
		if res.RowsAffected == 0 {
			return "", datamodel.ErrNotFound
		}
		return id, nil
	})
	if errors.Is(err, datamodel.ErrNotFound) {
		return datamodel.ErrNotFound
	}
	if err != nil {
		return m.translate("delete", err)
	}
	return nil
}
