package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"musicadmin/internal/datamodel"
)

// Store is the SQL backend of one database. It keeps the models declared on
// it by name, so that a reference field, which names only its target model,
// resolves here to that model's table and label column.
//
// GORM is used for what it does well here: parsing the model structs at
// start-up (columns, relations), translating driver errors, and the writes.
// The reads are hand-written SQL through Raw: the list's deferred join, the
// trigram candidates and the bounded counts have no GORM chain that keeps
// their plans, so do not "fix" List into chained GORM calls.
type Store struct {
	db      *gorm.DB
	dialect string
	fold    string // SQL function folding case for search
	tables  map[string]target

	// checked, when set (by tests), runs between UpdateIf's version check
	// and its write: where a concurrent write would come.
	checked func()
}

// target is what a reference needs of the model it points at.
type target struct {
	table, labelColumn string
}

// New returns the store of db, with no model declared yet.
func New(db *gorm.DB) *Store {
	fold := FoldFunc
	if db.Dialector.Name() == "mysql" {
		fold = "LOWER"
	}
	return &Store{db: db, dialect: db.Dialector.Name(), fold: fold, tables: map[string]target{}}
}

// DB returns the store's database handle.
func (s *Store) DB() *gorm.DB { return s.db }

// Model implements datamodel.Interface for the GORM model T over its
// declared schema. Column names in SQL come only from T's GORM schema,
// matched to the declared fields at start-up.
type Model[T any] struct {
	st             *Store
	db             *gorm.DB
	decl           datamodel.Schema
	schema         *schema.Schema
	table          string
	columns        map[string]string // field name -> column
	refs           map[string]target // reference field name -> what it points at
	labelColumn    string
	textIndex      map[string]string // column -> its trigram index table
	countLimit     int64             // CountLimit, lowered by tests
	walkBudget     int64             // WalkBudget, changed by tests
	walkRows       int64             // WalkRows, changed by tests
	rareCandidates int64             // RareCandidates, changed by tests
	eachBatch      int               // EachBatch, lowered by tests
	counts         *countCache
	bounds         *walkBounds
	probes         *probeCache        // rarity.go
	elemStats      *elemStatsCache    // rarity_postgres.go
	sets           map[string]joinSet // set field name -> its join table (sets.go)
}

var _ datamodel.Interface = (*Model[struct{ ID int64 }])(nil)

// NewModel declares the model T on s with decl. Each field is T's column of
// the same name, or for a reference, the foreign key of T's relation of that
// name (field "album": relation Album, column album_id), whose target must be
// the table of the model the reference names, declared on s before. Any
// mismatch is an error at start-up, never at request time.
func NewModel[T any](s *Store, decl datamodel.Schema) (*Model[T], error) {
	if err := decl.Check(); err != nil {
		return nil, err
	}
	if _, taken := s.tables[decl.Name]; taken {
		return nil, fmt.Errorf("store: model %q declared twice", decl.Name)
	}
	stmt := &gorm.Statement{DB: s.db}
	if err := stmt.Parse(new(T)); err != nil {
		return nil, fmt.Errorf("store: parse model %T: %w", *new(T), err)
	}
	gs := stmt.Schema
	if gs.PrioritizedPrimaryField == nil || gs.PrioritizedPrimaryField.DBName != "id" {
		return nil, fmt.Errorf("store: model %s: primary key must be column id", gs.Name)
	}
	m := &Model[T]{st: s, db: s.db, decl: decl, schema: gs, table: gs.Table, columns: map[string]string{},
		refs: map[string]target{}, textIndex: map[string]string{}, countLimit: CountLimit,
		walkBudget: WalkBudget, walkRows: WalkRows, rareCandidates: RareCandidates, eachBatch: EachBatch,
		counts: &countCache{}, bounds: &walkBounds{}, probes: &probeCache{},
		elemStats: &elemStatsCache{}}
	for _, f := range decl.Fields {
		if model := f.Target(); model != "" {
			col, to, err := s.resolveRef(gs, f.Name, model)
			if err != nil {
				return nil, err
			}
			m.columns[f.Name], m.refs[f.Name] = col, to
			continue
		}
		sf := gs.LookUpField(f.Name)
		if sf == nil || sf.DBName == "" {
			return nil, fmt.Errorf("store: model %s has no column %q", gs.Name, f.Name)
		}
		m.columns[f.Name] = sf.DBName
	}
	m.labelColumn = m.columns[decl.Label]
	if _, isRef := m.refs[decl.Label]; isRef {
		return nil, fmt.Errorf("store: model %s: label %q is a reference", gs.Name, decl.Label)
	}
	s.tables[decl.Name] = target{table: m.table, labelColumn: m.labelColumn}
	return m, nil
}

// resolveRef finds the foreign key of gs's belongs-to relation called field
// and checks that it points at the table of the declared model.
func (s *Store) resolveRef(gs *schema.Schema, field, model string) (string, target, error) {
	to, ok := s.tables[model]
	if !ok {
		return "", target{}, fmt.Errorf("store: model %s: reference %q names model %q, not declared before it", gs.Name, field, model)
	}
	for name, rel := range gs.Relationships.Relations {
		if !strings.EqualFold(name, field) || rel.Type != schema.BelongsTo || len(rel.References) != 1 {
			continue
		}
		if rel.FieldSchema.Table != to.table {
			return "", target{}, fmt.Errorf("store: model %s: relation %s points at %s, not at model %q", gs.Name, name, rel.FieldSchema.Table, model)
		}
		return rel.References[0].ForeignKey.DBName, to, nil
	}
	return "", target{}, fmt.Errorf("store: model %s has no belongs-to relation %q for its reference", gs.Name, field)
}

// IndexText declares that the migrations keep a substring search index on
// the text field (docs/design.md, "Search index"): a trigram index named
// <table>_<column>_grams (on SQLite a table, on PostgreSQL an index on
// app_grams(column)), or on MySQL the table <table>_<column>_suffixes of
// its suffixes. Contains, startswith and the search then read candidates
// from it instead of scanning every row.
func (m *Model[T]) IndexText(field string) error {
	f := m.decl.Field(field)
	if f == nil {
		return fmt.Errorf("store: model %s has no field %q to index", m.decl.Name, field)
	}
	if _, isText := f.Kind.(datamodel.Text); !isText {
		return fmt.Errorf("store: model %s: field %q is not text", m.decl.Name, field)
	}
	column := m.columns[field]
	m.textIndex[column] = textIndexTable(m.table, column)
	if m.st.dialect == "mysql" {
		m.textIndex[column] = m.table + "_" + column + "_suffixes"
	}
	return nil
}

func textIndexTable(table, column string) string { return table + "_" + column + "_grams" }

// OptimizeTextIndexes compacts the trigram indexes of m after a bulk load.
// SQLite's FTS4 then holds each token's list of rows in one piece instead of
// one per load transaction, which makes a search several times cheaper on a
// cold cache; InnoDB merges its full-text cache by itself. PostgreSQL's GIN
// index queues new entries in a pending list that every search reads
// through until a vacuum moves them into the index: this vacuums the table
// now, which also marks its pages all-visible (a page's ids are then read
// from an index alone, several times faster deep in a list), and refreshes
// the statistics the planner weighs a search with.
func (m *Model[T]) OptimizeTextIndexes(ctx context.Context) error {
	switch m.st.dialect {
	case "mysql":
		return nil
	case "postgres":
		if len(m.textIndex) == 0 {
			return nil
		}
		if err := m.conn(ctx).Exec("VACUUM (ANALYZE) " + m.table).Error; err != nil {
			return fmt.Errorf("store: vacuum %s: %w", m.table, err)
		}
		return nil
	}
	for _, ix := range m.textIndex {
		if err := m.conn(ctx).Exec("INSERT INTO " + ix + " (" + ix + ") VALUES ('optimize')").Error; err != nil {
			return fmt.Errorf("store: optimize %s: %w", ix, err)
		}
	}
	return nil
}

// Schema returns the model's declaration.
func (m *Model[T]) Schema() *datamodel.Schema { return &m.decl }

// ValidID accepts what an SQL id is: a plain positive decimal. "+5", "0x10",
// "007" or "1e3" name no record.
func (m *Model[T]) ValidID(id string) bool {
	_, ok := parseID(id)
	return ok
}

func parseID(s string) (int64, bool) {
	if s == "" || len(s) > 19 || s[0] == '0' {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// scan reads records selected with m.selectColumns. The scan targets are
// made once and reused for every row: Each reads a million rows through
// here, and a fresh set per row was most of its allocations (each value is
// copied out of them before the next row).
func (m *Model[T]) scan(rows *sql.Rows, err error) ([]datamodel.Record, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var id int64
	dest := []any{&id}
	isRef := make([]bool, len(m.decl.Fields))
	for i, f := range m.decl.Fields {
		if _, isRef[i] = m.refs[f.Name]; isRef[i] {
			dest = append(dest, new(sql.NullInt64), new(sql.NullString))
		} else {
			dest = append(dest, new(any))
		}
	}
	var out []datamodel.Record
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		rec := datamodel.Record{ID: formatID(id), Values: make(map[string]any, len(m.decl.Fields))}
		i := 1
		for j, f := range m.decl.Fields {
			if isRef[j] {
				var ref *datamodel.Ref
				if id := dest[i].(*sql.NullInt64); id.Valid {
					ref = &datamodel.Ref{ID: formatID(id.Int64), Label: dest[i+1].(*sql.NullString).String}
				}
				rec.Values[f.Name] = ref
				i += 2
				continue
			}
			v, err := f.Kind.Load(*dest[i].(*any))
			if err != nil {
				return nil, fmt.Errorf("store: %s.%s: %w", m.table, f.Name, err)
			}
			rec.Values[f.Name] = v
			i++
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// Get returns the record with id, or datamodel.ErrNotFound.
func (m *Model[T]) Get(ctx context.Context, id string) (datamodel.Record, error) {
	n, ok := parseID(id)
	if !ok {
		return datamodel.Record{}, datamodel.ErrNotFound
	}
	records, err := m.scan(queryByKey(ctx, m.db,
		"SELECT "+m.selectColumns()+" FROM "+m.table+m.joins()+" WHERE "+m.col("id")+" = ?", n))
	if err != nil {
		return datamodel.Record{}, m.translate("get", err)
	}
	if len(records) == 0 {
		return datamodel.Record{}, datamodel.ErrNotFound
	}
	return records[0], nil
}

// Exists reports whether a record other than exceptID has field == value.
func (m *Model[T]) Exists(ctx context.Context, field *datamodel.Field, value any, exceptID string) (bool, error) {
	except, _ := parseID(exceptID)
	val, err := m.arg(field, value)
	if err != nil {
		return false, err
	}
	var ids []int64
	err = m.conn(ctx).Table(m.table).Where(m.columns[field.Name]+" = ? AND id <> ?", val, except).
		Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, m.translate("check", err)
	}
	return len(ids) > 0, nil
}

// arg converts a value of field to its SQL parameter: a reference's id
// becomes the integer its column holds. An id no record can have (not a
// decimal) becomes 0, which matches no row and which a foreign key refuses.
func (m *Model[T]) arg(f *datamodel.Field, v any) (any, error) {
	stored := f.Kind.Store(v)
	if _, isRef := m.refs[f.Name]; !isRef || stored == nil {
		return stored, nil
	}
	s, ok := stored.(string)
	if !ok {
		return nil, fmt.Errorf("store: %s.%s: id of type %T", m.table, f.Name, stored)
	}
	id, _ := parseID(s)
	return id, nil
}

// Choices lists every record field may point at, as id and label, ordered
// by label.
func (m *Model[T]) Choices(ctx context.Context, field *datamodel.Field) ([]datamodel.Ref, error) {
	to, ok := m.refs[field.Name]
	if !ok {
		return nil, fmt.Errorf("store: %s.%s is not a reference", m.table, field.Name)
	}
	rows, err := m.conn(ctx).Table(to.table).Select("id, " + to.labelColumn).
		Order(to.labelColumn + ", id").Rows()
	if err != nil {
		return nil, m.translate("choices", err)
	}
	defer rows.Close()
	var out []datamodel.Ref
	for rows.Next() {
		var id int64
		var label string
		if err := rows.Scan(&id, &label); err != nil {
			return nil, m.translate("choices", err)
		}
		out = append(out, datamodel.Ref{ID: formatID(id), Label: label})
	}
	if err := rows.Err(); err != nil {
		return nil, m.translate("choices", err)
	}
	return out, nil
}
