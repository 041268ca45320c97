package transfer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"unicode/utf8"

	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/datamodel"
)

// ErrNotEmpty means the database to load into already holds users or
// catalogue records: load adds to nothing, so that after it the database
// holds exactly the file's records, with every reference pointing where it
// did.
var ErrNotEmpty = errors.New("the database is not empty")

// LineError is a file that is not a dump load can read: the first problem
// found and the number of its line (1-based).
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Load reads the dump in r, from its start, into b, which must be at the latest schema and
// hold no user and no catalogue record (ErrNotEmpty); its roles, such as
// the ones create-db makes, are kept and matched by name. It returns how
// many records of each model it wrote.
//
// The file is read twice. The first pass checks every line and writes
// nothing: the header, each record's model and fields against the target's
// declaration (kinds, required fields, limits: each kind's Load and
// Validate, and the limits of the accounts' columns), that unique fields
// hold no value twice, and that every reference names a record of an
// earlier line. A problem is a *LineError and nothing is written. The
// second pass writes: roles and users through the accounts, catalogue
// records through the seam's Create (the same rules again, and the
// database's own), mapping every source id to the new record's.
//
// What a first pass cannot see (the database going away, a constraint the
// file's checks do not know of) fails the second pass midway: the records
// written until then stay, the error says how many and from which line,
// and the database, no longer empty, is refused by a second load until it
// is emptied (dropped and created anew with create-db). Nothing is removed
// on failure, as a load may fail because the database itself is unwell.
func Load(ctx context.Context, b backend.Backend, r io.ReadSeeker, progress Progress) (Counts, error) {
	accounts, err := backend.Transfer(b)
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(string, int, int) {}
	}
	if err := backend.Ready(ctx, b); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := refuseNonEmpty(ctx, b, accounts); err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("load: rewind the file: %w", err)
	}
	l := newLoader(b, accounts)
	total, err := l.check(r)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("load: rewind the file: %w", err)
	}
	counts, err := l.write(ctx, r, total, progress)
	if err != nil {
		return counts, err
	}
	if err := b.Catalog().OptimizeSearch(ctx); err != nil {
		return counts, fmt.Errorf("load: %w", err)
	}
	return counts, nil
}

// refuseNonEmpty returns ErrNotEmpty, saying what the database holds, when
// it holds a user or a catalogue record.
func refuseNonEmpty(ctx context.Context, b backend.Backend, accounts backend.TransferAccounts) error {
	var held []string
	users, err := accounts.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if users > 0 {
		held = append(held, fmt.Sprintf("%d %s", users, plural(modelUser, int(users))))
	}
	for _, m := range b.Catalog().All() {
		n, err := m.Count(ctx, nil)
		if err != nil {
			return fmt.Errorf("load: count %s: %w", m.Schema().Name, err)
		}
		if n > 0 {
			held = append(held, fmt.Sprintf("%d %s", n, plural(m.Schema().Name, int(n))))
		}
	}
	if len(held) == 0 {
		return nil
	}
	list := strings.Join(held, " and ")
	if len(held) > 2 {
		list = strings.Join(held[:len(held)-1], ", ") + " and " + held[len(held)-1]
	}
	return fmt.Errorf("load: %w: it holds %s; load writes only into a database fresh from create-db",
		ErrNotEmpty, list)
}

// loader reads a dump into one backend.
type loader struct {
	b        backend.Backend
	accounts backend.TransferAccounts
	models   map[string]datamodel.Interface // the catalogue's, by schema name
	// referenced are the models whose ids references hold: a source id
	// of theirs is remembered (checking) and mapped (writing).
	referenced map[string]bool
}

func newLoader(b backend.Backend, accounts backend.TransferAccounts) *loader {
	l := &loader{b: b, accounts: accounts, models: map[string]datamodel.Interface{},
		referenced: map[string]bool{modelRole: true}}
	for _, m := range b.Catalog().All() {
		l.models[m.Schema().Name] = m
		for _, f := range m.Schema().Fields {
			if t := f.Target(); t != "" {
				l.referenced[t] = true
			}
		}
	}
	return l
}

// item is one record line, decoded and checked on its own.
type item struct {
	model  string
	id     string
	role   roleFields
	user   userFields
	values datamodel.Values    // a catalogue record's
	m      datamodel.Interface // its model
}

// lines reads r line by line, the header first, and calls fn with each
// record's line number and item. A line it cannot parse is a *LineError;
// fn's error stops it and is returned as it is.
func (l *loader) lines(r io.Reader, fn func(n int, it item) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n, records, ended := 0, 0, false
	for sc.Scan() {
		n++
		if n == 1 {
			if err := readHeader(sc.Bytes()); err != nil {
				return &LineError{Line: 1, Err: err}
			}
			continue
		}
		if ended {
			return &LineError{Line: n, Err: errors.New("a line after the dump's last line")}
		}
		var end trailer
		if strictJSON(sc.Bytes(), &end) == nil && end.End {
			if end.Records != records {
				return &LineError{Line: n, Err: fmt.Errorf("the last line counts %d records, the file holds %d", end.Records, records)}
			}
			ended = true
			continue
		}
		records++
		it, err := l.parse(sc.Bytes())
		if err != nil {
			return &LineError{Line: n, Err: err}
		}
		if err := fn(n, it); err != nil {
			return err
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return &LineError{Line: n + 1, Err: fmt.Errorf("longer than %d bytes", maxLine)}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("load: read the file: %w", err)
	}
	if n == 0 {
		return &LineError{Line: 1, Err: errors.New("the file is empty: want a dump's header")}
	}
	if !ended {
		return &LineError{Line: n + 1, Err: errors.New(`the file ends before the dump's last line {"end":true,…}: it is cut short`)}
	}
	return nil
}

func readHeader(line []byte) error {
	var h header
	if err := strictJSON(line, &h); err != nil || h.Format != Format {
		return fmt.Errorf(`not a dump: want the header {"format":%q,"version":%d}`, Format, Version)
	}
	if h.Version != Version {
		return fmt.Errorf("dump format version %d: this app reads version %d", h.Version, Version)
	}
	return nil
}

// strictJSON decodes one JSON value into v, refusing unknown keys and
// anything after the value.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// parse decodes one record line and checks what it can alone.
func (l *loader) parse(line []byte) (item, error) {
	var rec record
	if err := strictJSON(line, &rec); err != nil {
		return item{}, fmt.Errorf("not a record: %v", err)
	}
	if rec.ID == "" {
		return item{}, fmt.Errorf("%s: no id", orUnnamed(rec.Model))
	}
	if len(rec.Fields) == 0 || rec.Fields[0] != '{' {
		return item{}, fmt.Errorf("%s %s: fields is not an object", orUnnamed(rec.Model), rec.ID)
	}
	it := item{model: rec.Model, id: rec.ID}
	var err error
	switch rec.Model {
	case modelRole:
		err = parseRole(rec.Fields, &it.role)
	case modelUser:
		err = parseUser(rec.Fields, &it.user)
	default:
		m := l.models[rec.Model]
		if m == nil {
			return item{}, fmt.Errorf("unknown model %q", rec.Model)
		}
		it.m = m
		it.values, err = parseValues(m.Schema(), rec.Fields)
	}
	if err != nil {
		return item{}, fmt.Errorf("%s %s: %w", rec.Model, rec.ID, err)
	}
	return it, nil
}

func orUnnamed(model string) string {
	if model == "" {
		return "record without a model"
	}
	return model
}

// limit checks a text of the accounts against its column's limit, in
// characters, so that a file loads on every backend alike (SQL's columns
// refuse what MongoDB would keep).
func limit(field, s string, max int, required bool) error {
	switch {
	case required && s == "":
		return fmt.Errorf("%s is required", field)
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("%s is longer than %d characters", field, max)
	}
	return nil
}

func parseRole(raw json.RawMessage, r *roleFields) error {
	if err := strictJSON(raw, r); err != nil {
		return err
	}
	return limit("name", r.Name, 64, true)
}

func parseUser(raw json.RawMessage, u *userFields) error {
	if err := strictJSON(raw, u); err != nil {
		return err
	}
	for _, c := range []struct {
		field, value string
		max          int
		required     bool
	}{
		{"username", u.Username, 64, true}, {"first_name", u.FirstName, 64, false},
		{"last_name", u.LastName, 64, false}, {"email", u.Email, 254, false},
		{"password_hash", u.PasswordHash, 255, false},
	} {
		if err := limit(c.field, c.value, c.max, c.required); err != nil {
			return err
		}
	}
	if u.Active == nil {
		return errors.New("active is required")
	}
	if u.CreatedAt.IsZero() {
		return errors.New("created_at is required")
	}
	return nil
}

// parseValues reads a catalogue record's fields by its schema: every
// declared field and no other, each loaded and validated by its kind.
func parseValues(s *datamodel.Schema, raw json.RawMessage) (datamodel.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // an int64 is read exactly, not through a float64
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		return nil, err
	}
	for name := range fields {
		if s.Field(name) == nil {
			return nil, fmt.Errorf("unknown field %q", name)
		}
	}
	v := make(datamodel.Values, len(s.Fields))
	for _, f := range s.Fields {
		raw, ok := fields[f.Name]
		if !ok {
			return nil, fmt.Errorf("field %q is missing", f.Name)
		}
		switch x := raw.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				raw = n
			} else if fl, err := x.Float64(); err == nil {
				raw = fl // the kind says whether it takes it
			}
		case bool, map[string]any, []any:
			return nil, fmt.Errorf("%s: %T is not a value of a field", f.Name, raw)
		}
		val, err := f.Kind.Load(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
		if stored := f.Kind.Store(val); f.Required && (stored == nil || stored == "") {
			return nil, fmt.Errorf("%s is required", f.Name)
		}
		if err := f.Kind.Validate(val); err != nil {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
		v[f.Name] = val
	}
	return v, nil
}

// check reads the whole file and returns its number of records, or the
// first problem as a *LineError. It writes nothing.
//
// Unique values are remembered by a 64-bit hash, not as text, so that a
// million titles cost a few megabytes; two different values sharing a hash
// (about one chance in ten million at a million values) would be reported
// as a duplicate, never let through.
func (l *loader) check(r io.Reader) (int, error) {
	seed := maphash.MakeSeed()
	ids := map[string]map[string]bool{} // referenced model -> source ids seen
	unique := map[string]map[uint64]bool{}
	taken := func(key string, v any) bool {
		set := unique[key]
		if set == nil {
			set = map[uint64]bool{}
			unique[key] = set
		}
		h := maphash.String(seed, fmt.Sprintf("%T:%v", v, v))
		if set[h] {
			return true
		}
		set[h] = true
		return false
	}
	refers := func(model, id string) bool { return ids[model][id] }
	total := 0
	err := l.lines(r, func(n int, it item) error {
		total++
		if err := l.checkItem(it, taken, refers); err != nil {
			return &LineError{Line: n, Err: err}
		}
		if l.referenced[it.model] {
			if ids[it.model] == nil {
				ids[it.model] = map[string]bool{}
			}
			if ids[it.model][it.id] {
				return &LineError{Line: n, Err: fmt.Errorf("%s id %q is on an earlier line too", it.model, it.id)}
			}
			ids[it.model][it.id] = true
		}
		return nil
	})
	return total, err
}

// checkItem checks what one record needs of the records before it: unique
// values not taken, references to records already read.
func (l *loader) checkItem(it item, taken func(key string, v any) bool, refers func(model, id string) bool) error {
	switch it.model {
	case modelRole:
		if taken("role.name", it.role.Name) {
			return fmt.Errorf("role %s: name %q is taken by an earlier role", it.id, it.role.Name)
		}
	case modelUser:
		if taken("user.username", it.user.Username) {
			return fmt.Errorf("user %s: username %q is taken by an earlier user", it.id, it.user.Username)
		}
		if max := l.accounts.RolesPerUser(); max > 0 && len(it.user.Roles) > max {
			return fmt.Errorf("user %s: %d roles, and a user holds at most %d on %s", it.id,
				len(it.user.Roles), max, l.b.Driver())
		}
		for _, role := range it.user.Roles {
			if !refers(modelRole, role) {
				return fmt.Errorf("user %s: role %q is not on an earlier line", it.id, role)
			}
		}
	default:
		s := it.m.Schema()
		for _, f := range s.Fields {
			v := it.values[f.Name]
			if t := f.Target(); t != "" {
				if ref, _ := v.(*datamodel.Ref); ref != nil && !refers(t, ref.ID) {
					return fmt.Errorf("%s %s: %s %q is not on an earlier line", s.Name, it.id, f.Name, ref.ID)
				}
				continue
			}
			if f.Unique && taken(s.Name+"."+f.Name, f.Kind.Store(v)) {
				return fmt.Errorf("%s %s: %s %q is taken by an earlier %s", s.Name, it.id, f.Name,
					f.Kind.Text(v), s.Name)
			}
		}
	}
	return nil
}

// loadBatch is how many catalogue records are written per transaction
// where the store offers one (batchCreator).
const loadBatch = 500

// batchCreator is a model that writes many records at once, all or none
// (store.Model's CreateBatch, one transaction; mongostore.Model's, one
// insertMany undone on failure): a commit per record is most of what a
// load through Create costs on an SQL server, and Create's three round
// trips per record on MongoDB.
type batchCreator interface {
	CreateBatch(ctx context.Context, vs []datamodel.Values) ([]string, error)
}

// write reads the checked file again and writes its records.
func (l *loader) write(ctx context.Context, r io.Reader, total int, progress Progress) (Counts, error) {
	newIDs := map[string]map[string]string{} // referenced model -> source id -> new id
	for model := range l.referenced {
		newIDs[model] = map[string]string{}
	}
	var counts Counts
	done := func(it item, id string) {
		if l.referenced[it.model] {
			newIDs[it.model][it.id] = id
		}
		counts.add(it.model)
		progress("load", counts.Total(), total)
	}
	failed := func(n int, it item, err error) error {
		return fmt.Errorf("load: line %d: %s %s: %w; the %d records before it are written and stay: "+
			"empty the database (drop it, then create-db) before loading again", n, it.model, it.id, err, counts.Total())
	}
	// The batch not yet written: records of one model, with their lines.
	var batch []item
	var batchLines []int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		vs := make([]datamodel.Values, len(batch))
		for i, it := range batch {
			vs[i] = l.mapRefs(it, newIDs)
		}
		ids, err := batch[0].m.(batchCreator).CreateBatch(ctx, vs)
		if err != nil {
			// The batch is rolled back: the records before it stay.
			i := 0
			var be *datamodel.BatchError
			if errors.As(err, &be) {
				i = be.Index
			}
			return failed(batchLines[i], batch[i], err)
		}
		for i, it := range batch {
			done(it, ids[i])
		}
		batch, batchLines = batch[:0], batchLines[:0]
		return nil
	}
	err := l.lines(r, func(n int, it item) error {
		if len(batch) > 0 && (it.m != batch[0].m || l.refersToBatch(it, newIDs)) {
			if err := flush(); err != nil {
				return err
			}
		}
		if _, ok := it.m.(batchCreator); ok {
			batch, batchLines = append(batch, it), append(batchLines, n)
			if len(batch) == loadBatch {
				return flush()
			}
			return nil
		}
		id, err := l.writeItem(ctx, it, newIDs)
		if err != nil {
			return failed(n, it, err)
		}
		done(it, id)
		return nil
	})
	if err == nil {
		err = flush()
	}
	var le *LineError
	if errors.As(err, &le) {
		// Checked, then unreadable: the file changed in between.
		return counts, fmt.Errorf("load: the file changed since it was checked: %w; the %d records before it are written and stay",
			err, counts.Total())
	}
	return counts, err
}

// refersToBatch reports whether it refers to a record not written yet: one
// of the batch, which must be written first.
func (l *loader) refersToBatch(it item, newIDs map[string]map[string]string) bool {
	if it.m == nil {
		return false
	}
	for _, f := range it.m.Schema().Fields {
		if t := f.Target(); t != "" {
			if ref, _ := it.values[f.Name].(*datamodel.Ref); ref != nil {
				if _, written := newIDs[t][ref.ID]; !written {
					return true
				}
			}
		}
	}
	return false
}

// mapRefs returns the values of a catalogue record with its references
// turned into the new ids of the records they point at.
func (l *loader) mapRefs(it item, newIDs map[string]map[string]string) datamodel.Values {
	for _, f := range it.m.Schema().Fields {
		if t := f.Target(); t != "" {
			if ref, _ := it.values[f.Name].(*datamodel.Ref); ref != nil {
				it.values[f.Name] = &datamodel.Ref{ID: newIDs[t][ref.ID]}
			}
		}
	}
	return it.values
}

// writeItem writes one record, its references mapped to new ids, and
// returns its new id.
func (l *loader) writeItem(ctx context.Context, it item, newIDs map[string]map[string]string) (string, error) {
	switch it.model {
	case modelRole:
		return l.accounts.ImportRole(ctx, it.role.Name)
	case modelUser:
		u := it.user
		roles := make([]string, len(u.Roles))
		for i, r := range u.Roles {
			roles[i] = newIDs[modelRole][r]
		}
		return l.accounts.ImportAccount(ctx, auth.Account{User: auth.User{Username: u.Username, FirstName: u.FirstName,
			LastName: u.LastName, Email: u.Email, PasswordHash: u.PasswordHash, Active: *u.Active},
			RoleIDs: roles, CreatedAt: u.CreatedAt})
	}
	return it.m.Create(ctx, l.mapRefs(it, newIDs))
}
