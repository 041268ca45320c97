package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"musicadmin/internal/datamodel"
)

// likeEscape escapes LIKE patterns. '!' is used rather than '\' because a
// backslash is itself an escape character in MySQL string literals.
const likeEscape = "!"

// Model implements datamodel.Interface for the GORM model T over the
// declared fields. Column names in SQL come only from the declaration,
// which NewModel checks against T's GORM schema at start-up.
type Model[T any] struct {
	db          *gorm.DB
	schema      *schema.Schema
	table       string
	labelColumn string
	fields      []datamodel.Field
	fold        string // SQL function folding case for search
	dialect     string
	textIndex   map[string]string // column -> its trigram index table
	countLimit  int64             // CountLimit, lowered by tests
	walkBudget  int64             // WalkBudget, changed by tests
	counts      *countCache
}

var _ datamodel.Interface = (*Model[struct{ ID int64 }])(nil)

// NewModel declares T, whose records are labelled by labelColumn in
// dropdowns, with fields. It fails when a field names a column T lacks.
func NewModel[T any](db *gorm.DB, labelColumn string, fields ...datamodel.Field) (*Model[T], error) {
	stmt := &gorm.Statement{DB: db}
	if err := stmt.Parse(new(T)); err != nil {
		return nil, fmt.Errorf("store: parse model %T: %w", *new(T), err)
	}
	s := stmt.Schema
	if s.PrioritizedPrimaryField == nil || s.PrioritizedPrimaryField.DBName != "id" {
		return nil, fmt.Errorf("store: model %s: primary key must be column id", s.Name)
	}
	if s.LookUpField(labelColumn) == nil {
		return nil, fmt.Errorf("store: model %s has no label column %q", s.Name, labelColumn)
	}
	for _, f := range fields {
		if s.LookUpField(f.Column) == nil {
			return nil, fmt.Errorf("store: model %s has no column %q for field %q", s.Name, f.Column, f.Name)
		}
		if f.Kind == datamodel.KindRef && (f.Ref == nil || f.Ref.Table == "" || f.Ref.LabelColumn == "") {
			return nil, fmt.Errorf("store: model %s: reference field %q needs a relation", s.Name, f.Name)
		}
	}
	fold := FoldFunc
	if db.Dialector.Name() == "mysql" {
		fold = "LOWER"
	}
	return &Model[T]{db: db, schema: s, table: s.Table, labelColumn: labelColumn, fields: fields, fold: fold,
		dialect: db.Dialector.Name(), textIndex: map[string]string{}, countLimit: CountLimit, walkBudget: WalkBudget, counts: &countCache{}}, nil
}

// IndexText declares that the migrations keep a trigram search index on
// column, in the table <table>_<column>_grams (README, "Search index"):
// contains, startswith and the search then read candidates from it instead
// of scanning every row.
func (m *Model[T]) IndexText(column string) error {
	f := m.schema.LookUpField(column)
	if f == nil || f.DataType != schema.String {
		return fmt.Errorf("store: model %s has no text column %q to index", m.schema.Name, column)
	}
	m.textIndex[column] = textIndexTable(m.table, column)
	return nil
}

func textIndexTable(table, column string) string { return table + "_" + column + "_grams" }

// OptimizeTextIndex compacts the trigram index of table.column after a bulk
// load. SQLite's FTS4 then holds each token's list of rows in one piece
// instead of one per load transaction, which makes a search several times
// cheaper on a cold cache; InnoDB merges its full-text cache by itself.
func OptimizeTextIndex(ctx context.Context, db *gorm.DB, table, column string) error {
	if db.Dialector.Name() == "mysql" {
		return nil
	}
	ix := textIndexTable(table, column)
	if err := db.WithContext(ctx).Exec("INSERT INTO " + ix + " (" + ix + ") VALUES ('optimize')").Error; err != nil {
		return fmt.Errorf("store: optimize %s: %w", ix, err)
	}
	return nil
}

// Fields returns the declared fields.
func (m *Model[T]) Fields() []datamodel.Field { return m.fields }

// Table returns the model's table name.
func (m *Model[T]) Table() string { return m.table }

func (m *Model[T]) scan(rows *sql.Rows, err error) ([]datamodel.Record, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []datamodel.Record
	for rows.Next() {
		var id int64
		dest := []any{&id}
		for _, f := range m.fields {
			switch f.Kind {
			case datamodel.KindText:
				dest = append(dest, new(sql.NullString))
			case datamodel.KindInt:
				dest = append(dest, new(sql.NullInt64))
			case datamodel.KindRef:
				dest = append(dest, new(sql.NullInt64), new(sql.NullString))
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		rec := datamodel.Record{ID: id, Values: make(map[string]any, len(m.fields))}
		i := 1
		for _, f := range m.fields {
			switch f.Kind {
			case datamodel.KindText:
				rec.Values[f.Name] = dest[i].(*sql.NullString).String
			case datamodel.KindInt:
				rec.Values[f.Name] = dest[i].(*sql.NullInt64).Int64
			case datamodel.KindRef:
				ref := dest[i].(*sql.NullInt64)
				label := dest[i+1].(*sql.NullString)
				if ref.Valid {
					rec.Values[f.Name] = &datamodel.Ref{ID: ref.Int64, Label: label.String}
				} else {
					rec.Values[f.Name] = (*datamodel.Ref)(nil)
				}
				i++
			}
			i++
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// Get returns the record with id, or datamodel.ErrNotFound.
func (m *Model[T]) Get(ctx context.Context, id int64) (datamodel.Record, error) {
	records, err := m.scan(m.db.WithContext(ctx).Raw(
		"SELECT "+m.columns()+" FROM "+m.table+m.joins()+" WHERE "+m.col("id")+" = ?", id).Rows())
	if err != nil {
		return datamodel.Record{}, m.translate("get", err)
	}
	if len(records) == 0 {
		return datamodel.Record{}, datamodel.ErrNotFound
	}
	return records[0], nil
}

// Exists reports whether a record other than exceptID has field == value.
func (m *Model[T]) Exists(ctx context.Context, field *datamodel.Field, value any, exceptID int64) (bool, error) {
	var ids []int64
	err := m.db.WithContext(ctx).Table(m.table).Where(field.Column+" = ? AND id <> ?", value, exceptID).
		Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, m.translate("check", err)
	}
	return len(ids) > 0, nil
}

// Create stores a new T built from v and returns its id.
func (m *Model[T]) Create(ctx context.Context, v datamodel.Values) (int64, error) {
	obj := new(T)
	rv := reflect.ValueOf(obj).Elem()
	for _, f := range m.fields {
		val, ok := v[f.Name]
		if !ok {
			continue
		}
		if err := m.set(rv, f.Column, val); err != nil {
			return 0, err
		}
	}
	wrote()
	defer wrote()
	if err := m.db.WithContext(ctx).Create(obj).Error; err != nil {
		return 0, m.translateWrite(ctx, "create", err, v, 0)
	}
	id := m.schema.PrioritizedPrimaryField.ReflectValueOf(ctx, rv)
	return id.Int(), nil
}

// set assigns val to T's field for column, converting to its Go type.
func (m *Model[T]) set(rv reflect.Value, column string, val any) error {
	sf := m.schema.LookUpField(column)
	dst := rv.FieldByIndex(sf.StructField.Index)
	switch x := val.(type) {
	case nil:
		dst.Set(reflect.Zero(dst.Type()))
		return nil
	case *int64:
		if x == nil {
			dst.Set(reflect.Zero(dst.Type()))
			return nil
		}
		val = *x
	}
	src := reflect.ValueOf(val)
	if dst.Kind() == reflect.Pointer {
		p := reflect.New(dst.Type().Elem())
		if !src.Type().ConvertibleTo(p.Elem().Type()) {
			return fmt.Errorf("store: %s.%s: cannot hold %T", m.table, column, val)
		}
		p.Elem().Set(src.Convert(p.Elem().Type()))
		dst.Set(p)
		return nil
	}
	if !src.Type().ConvertibleTo(dst.Type()) {
		return fmt.Errorf("store: %s.%s: cannot hold %T", m.table, column, val)
	}
	dst.Set(src.Convert(dst.Type()))
	return nil
}

// Update writes v to the record with id.
func (m *Model[T]) Update(ctx context.Context, id int64, v datamodel.Values) error {
	updates := map[string]any{}
	for _, f := range m.fields {
		val, ok := v[f.Name]
		if !ok {
			continue
		}
		if p, isPtr := val.(*int64); isPtr {
			if p == nil {
				val = nil
			} else {
				val = *p
			}
		}
		updates[f.Column] = val
	}
	if len(updates) == 0 {
		return nil
	}
	wrote()
	defer wrote()
	res := m.db.WithContext(ctx).Table(m.table).Where("id = ?", id).Updates(updates)
	if res.Error != nil {
		return m.translateWrite(ctx, "update", res.Error, v, id)
	}
	if res.RowsAffected == 0 {
		// MySQL counts only changed rows: an unchanged save is not a miss.
		if _, err := m.Get(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the record with id.
func (m *Model[T]) Delete(ctx context.Context, id int64) error {
	wrote()
	defer wrote()
	res := m.db.WithContext(ctx).Delete(new(T), id)
	if res.Error != nil {
		return m.translate("delete", res.Error)
	}
	if res.RowsAffected == 0 {
		return datamodel.ErrNotFound
	}
	return nil
}

// Choices lists every record as id and label, ordered by label.
func (m *Model[T]) Choices(ctx context.Context) ([]datamodel.Ref, error) {
	rows, err := m.db.WithContext(ctx).Table(m.table).Select("id, " + m.labelColumn).
		Order(m.labelColumn + ", id").Rows()
	if err != nil {
		return nil, m.translate("choices", err)
	}
	defer rows.Close()
	var out []datamodel.Ref
	for rows.Next() {
		var r datamodel.Ref
		if err := rows.Scan(&r.ID, &r.Label); err != nil {
			return nil, m.translate("choices", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, m.translate("choices", err)
	}
	return out, nil
}

// translateWrite maps a failed write: a unique violation becomes a
// ConflictError naming the field that holds the value (found by asking the
// database, not by reading the error text), a broken reference ErrInvalidRef.
func (m *Model[T]) translateWrite(ctx context.Context, op string, err error, v datamodel.Values, id int64) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		for i := range m.fields {
			f := &m.fields[i]
			if !f.Unique {
				continue
			}
			if val, ok := v[f.Name]; ok {
				if taken, cerr := m.Exists(ctx, f, val, id); cerr == nil && taken {
					return &datamodel.ConflictError{Field: f.Name}
				}
			}
		}
		for _, f := range m.fields {
			if f.Unique {
				return &datamodel.ConflictError{Field: f.Name}
			}
		}
	}
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return datamodel.ErrInvalidRef
	}
	return m.translate(op, err)
}

func (m *Model[T]) translate(op string, err error) error {
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return datamodel.ErrNotFound
	case Unavailable(err):
		return fmt.Errorf("store: %s %s: %w: %w", op, m.table, datamodel.ErrUnavailable, err)
	}
	return fmt.Errorf("store: %s %s: %w", op, m.table, err)
}
