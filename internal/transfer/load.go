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
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/catalog"
	"musicadmin/internal/datamodel"
)

// ErrNotEmpty means the database to load into already holds users,
// catalogue records or audit entries: load adds to nothing, so that after
// it the database holds exactly the file's records, with every reference
// pointing where it did, and its audit log is the file's, in order.
var ErrNotEmpty = errors.New("the database is not empty")

// LineError is a file that is not a dump load can read: the first problem
// found and the number of its line (1-based).
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Load reads the dump in r, from its start, into b, which must be at the
// latest schema and hold no user, no catalogue record and no audit entry
// (ErrNotEmpty); its roles, such as the ones create-db makes, are kept and
// matched by name, and get the file's permissions as the package doc
// says. It returns how many records of each model it wrote.
//
// The file is read twice. The first pass checks every line and writes
// nothing: the header, each record's model and fields against the target's
// declaration (kinds, required fields, limits: each kind's Load and
// Validate, and the limits of the accounts' columns), that unique fields
// hold no value twice, and that every reference names a record of an
// earlier line. A problem is a *LineError and nothing is written. The
// second pass writes: roles and users through the accounts, catalogue
// records through the seam's Create (the same rules again, and the
// database's own), mapping every source id to the new record's, and the
// audit log's entries as they were but for those ids.
//
// The load is nobody's change: ctx's actor, if any, is dropped, so the
// stores write no audit entry of their own for the records loaded.
//
// What a first pass cannot see (the database going away, a constraint the
// file's checks do not know of) fails the second pass midway: the records
// written until then stay, the error says how many and from which line,
// and the database, no longer empty, is refused by a second load until it
// is emptied (dropped and created anew with create-db). Nothing is removed
// on failure, as a load may fail because the database itself is unwell.
func Load(ctx context.Context, b backend.Backend, r io.ReadSeeker, progress Progress) (Counts, error) {
	ctx = audit.Without(ctx)
	accounts, err := backend.Transfer(b)
	if err != nil {
		return nil, err
	}
	log, err := backend.AuditTransfer(b)
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
	l, err := newLoader(b, accounts, log)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
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
// it holds a user, a catalogue record or an audit entry. create-db writes
// none; a failed login on a server over the empty database does, and then
// the database is no longer the fresh one load writes into.
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
	entries, err := b.Audit().Entries().Count(ctx, nil)
	if err != nil {
		return fmt.Errorf("load: count audit entries: %w", err)
	}
	if entries > 0 {
		held = append(held, fmt.Sprintf("%d %s", entries, plural(modelAudit, int(entries))))
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
	log      backend.TransferAudit
	models   map[string]datamodel.Interface // the catalogue's, by schema name
	// referenced are the models whose ids references hold: a source id
	// of theirs is remembered (checking) and mapped (writing).
	referenced map[string]bool
	// viewModels names the model each view shows, for the record ids of
	// audit entries.
	viewModels map[string]string

	// What the first pass learns of the file, for the second.
	version int
	// views are the views the file's permissions name, sorted: on those,
	// a role gets exactly the file's permissions (see the package doc).
	views []string
	// cited are the source ids audit entries name, by model: their new
	// ids are remembered as they are written, for the entries after them.
	// Only those: a million songs' ids are not kept for a log that names
	// a few.
	cited map[string]map[string]bool
	// auditLimits are audit.Schema's limits an entry's texts are checked
	// against, read once, before any line.
	auditLimits auditLimits
}

// accountViews are the views of the Security menu that show users and
// roles (CONTRACT: /users/list/, /roles/list/): their audit entries' record
// ids are users' and roles' ids.
var accountViews = map[string]string{"users": modelUser, "roles": modelRole}

func newLoader(b backend.Backend, accounts backend.TransferAccounts, log backend.TransferAudit) (*loader, error) {
	limits, err := auditLimitsOf(&audit.Schema, auditTexts)
	if err != nil {
		return nil, err
	}
	l := &loader{b: b, accounts: accounts, log: log, models: map[string]datamodel.Interface{},
		referenced: map[string]bool{modelRole: true}, viewModels: map[string]string{},
		cited: map[string]map[string]bool{}, auditLimits: limits}
	for _, m := range b.Catalog().All() {
		l.models[m.Schema().Name] = m
		for _, f := range m.Schema().Fields {
			if t := f.Target(); t != "" {
				l.referenced[t] = true
			}
		}
	}
	for _, v := range catalog.Views(b.Catalog()) {
		l.viewModels[v.Name] = v.Data.Schema().Name
	}
	maps.Copy(l.viewModels, accountViews)
	return l, nil
}

// item is one record line, decoded and checked on its own.
type item struct {
	model  string
	id     string
	role   roleFields
	perms  []access.Permission // a role's, parsed; nil in a version 1 file
	user   userFields
	values datamodel.Values    // a catalogue record's
	m      datamodel.Interface // its model
	entry  audit.Entry         // an audit entry, with the source's ids
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
			v, err := readHeader(sc.Bytes())
			if err != nil {
				return &LineError{Line: 1, Err: err}
			}
			l.version = v
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

// readHeader checks the first line and returns the file's version.
func readHeader(line []byte) (int, error) {
	var h header
	if err := strictJSON(line, &h); err != nil || h.Format != Format {
		return 0, fmt.Errorf(`not a dump: want the header {"format":%q,"version":%d}`, Format, Version)
	}
	switch {
	case h.Version > Version:
		return 0, fmt.Errorf("dump format version %d is newer than this app reads (versions %d to %d): load it with the app that wrote it, or a newer one",
			h.Version, MinVersion, Version)
	case h.Version < MinVersion:
		return 0, fmt.Errorf("dump format version %d: this app reads versions %d to %d", h.Version, MinVersion, Version)
	}
	return h.Version, nil
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
		it.perms, err = parseRole(rec.Fields, &it.role, l.version)
	case modelUser:
		err = parseUser(rec.Fields, &it.user)
	case modelAudit:
		if l.version < 2 {
			return item{}, fmt.Errorf("%s %s: a version %d dump has no audit log", rec.Model, rec.ID, l.version)
		}
		it.entry, err = l.parseEntry(rec.Fields)
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

// parseRole reads a role and its permissions: none in a version 1 file,
// a list in later ones.
func parseRole(raw json.RawMessage, r *roleFields, version int) ([]access.Permission, error) {
	if err := strictJSON(raw, r); err != nil {
		return nil, err
	}
	if err := limit("name", r.Name, 64, true); err != nil {
		return nil, err
	}
	switch {
	case version < 2 && r.Permissions != nil:
		return nil, fmt.Errorf("permissions: a version %d dump has none", version)
	case version < 2:
		return nil, nil
	case r.Permissions == nil:
		return nil, errors.New("permissions is missing")
	}
	perms := make([]access.Permission, 0, len(*r.Permissions))
	for _, key := range *r.Permissions {
		p, ok := access.ParseKey(key)
		if !ok {
			return nil, fmt.Errorf("permission %q is not action:view (lower-case letters, digits, _ and -)", key)
		}
		if slices.Contains(perms, p) {
			return nil, fmt.Errorf("permission %q is listed twice", key)
		}
		perms = append(perms, p)
	}
	return perms, nil
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
	} {
		if err := limit(c.field, c.value, c.max, c.required); err != nil {
			return err
		}
	}
	if !isBcrypt(u.PasswordHash) {
		// Most likely a file edited to set a password: load writes
		// hashes only, and the app logs in against bcrypt's alone.
		return errors.New("password_hash is not a bcrypt hash (a password in clear?): a dump holds password hashes only")
	}
	if u.Active == nil {
		return errors.New("active is required")
	}
	if u.CreatedAt.IsZero() {
		return errors.New("created_at is required")
	}
	return nil
}

// parseEntry reads an audit entry, each field against audit.Schema's
// limits, its time in the layout the stores keep.
func (l *loader) parseEntry(raw json.RawMessage) (audit.Entry, error) {
	var a auditFields
	if err := strictJSON(raw, &a); err != nil {
		return audit.Entry{}, err
	}
	at, err := audit.ParseTime(a.At)
	if err != nil {
		return audit.Entry{}, fmt.Errorf("at %q is not a time as the audit log writes it (2006-01-02T15:04:05.000000Z)", a.At)
	}
	for _, c := range []struct {
		field, value string
		required     bool
	}{
		{"username", a.Username, true}, {"action", a.Action, true}, {"view_name", a.View, false},
		{"record_id", a.RecordID, false}, {"record_label", a.RecordLabel, false},
	} {
		if err := limit(c.field, c.value, l.auditLimits[c.field], c.required); err != nil {
			return audit.Entry{}, err
		}
	}
	if a.Changes == nil {
		return audit.Entry{}, errors.New("changes is missing")
	}
	// Marked deleted, should its record not be in the file, the id must
	// still fit the column.
	if _, mapped := l.viewModels[a.View]; mapped && !strings.HasPrefix(a.RecordID, deletedPrefix) {
		max := l.auditLimits["record_id"] - len(deletedPrefix)
		if utf8.RuneCountInString(a.RecordID) > max {
			return audit.Entry{}, fmt.Errorf("record_id of view %s is longer than %d characters, which no record id is", a.View, max)
		}
	}
	return audit.Entry{Time: at, Username: a.Username, Action: a.Action, View: a.View, RecordID: a.RecordID,
		RecordLabel: a.RecordLabel, Changes: *a.Changes}, nil
}

// auditTexts are the fields of an audit entry checked against their
// limits in audit.Schema (parseEntry).
var auditTexts = []string{"username", "action", "view_name", "record_id", "record_label"}

// auditLimits are the limits, in characters, of the audit log's text
// fields, by name.
type auditLimits map[string]int

// auditLimitsOf reads the limits of fields from s, the audit log's schema.
// Should that schema change (a field renamed, or no longer text), load
// stops before its first line with an error naming the field, rather than
// panic on the first entry or check it against a limit of nothing.
func auditLimitsOf(s *datamodel.Schema, fields []string) (auditLimits, error) {
	limits := make(auditLimits, len(fields))
	for _, name := range fields {
		f := s.Field(name)
		if f == nil {
			return nil, fmt.Errorf("the audit log has no field %q, which an entry's line holds", name)
		}
		text, ok := f.Kind.(datamodel.Text)
		if !ok {
			return nil, fmt.Errorf("the audit log's field %q is %T, not the text whose limit an entry's line is checked against", name, f.Kind)
		}
		limits[name] = text.MaxRunes
	}
	return limits, nil
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
	views := map[string]bool{}
	total, inLog := 0, false
	err := l.lines(r, func(n int, it item) error {
		total++
		switch {
		case it.model == modelAudit:
			inLog = true
			l.cite(it.entry)
		case inLog:
			// Entries name records by the ids of lines before them.
			return &LineError{Line: n, Err: fmt.Errorf("%s %s after the audit log's entries, which come last", it.model, it.id)}
		}
		for _, p := range it.perms {
			views[p.View] = true
		}
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
	l.views = slices.Sorted(maps.Keys(views))
	return total, err
}

// cite remembers the source ids e names: its record's, and in its changes
// those of the references of the catalogue's models.
func (l *loader) cite(e audit.Entry) {
	model, ok := l.viewModels[e.View]
	if !ok {
		return
	}
	add := func(model, id string) {
		if id == "" {
			return
		}
		if l.cited[model] == nil {
			l.cited[model] = map[string]bool{}
		}
		l.cited[model][id] = true
	}
	add(model, e.RecordID)
	l.eachRef(model, e.Changes, func(target, id string) string {
		add(target, id)
		return id
	})
}

// eachRef calls fn with each reference in changes of a record of model:
// the old and new values of its reference fields, written as "Label (id)"
// (audit.Text). fn returns the id to write in its place.
func (l *loader) eachRef(model string, changes []audit.Change, fn func(target, id string) string) {
	m := l.models[model]
	if m == nil {
		return
	}
	s := m.Schema()
	for i := range changes {
		f := s.Field(changes[i].Field)
		if f == nil || f.Target() == "" {
			continue
		}
		for _, v := range []*string{&changes[i].Old, &changes[i].New} {
			open := strings.LastIndex(*v, " (")
			if open < 0 || !strings.HasSuffix(*v, ")") {
				continue
			}
			label, id := (*v)[:open], (*v)[open+2:len(*v)-1]
			*v = label + " (" + fn(f.Target(), id) + ")"
		}
	}
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
	case modelAudit:
		// An entry may name a record the file does not hold: one deleted
		// before the dump (see mapEntry).
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
	w := newWriting(ctx, l, total, progress)
	err := l.lines(r, w.line)
	if err == nil {
		err = w.flushRecords()
	}
	if err == nil {
		err = w.flushEntries()
	}
	var le *LineError
	if errors.As(err, &le) {
		// Checked, then unreadable: the file changed in between.
		return w.counts, fmt.Errorf("load: the file changed since it was checked: %w; the %d records before it are written and stay",
			err, w.counts.Total())
	}
	return w.counts, err
}

// idMap maps source ids to the new ids of their records: model -> source
// id -> new id.
type idMap map[string]map[string]string

// writing is the second pass under way: what it has written, and what it
// holds to write in one go.
type writing struct {
	// ctx is write's: a writing lives for one call of it.
	ctx      context.Context
	l        *loader
	total    int
	progress Progress
	// newIDs holds the records of referenced or cited models written so
	// far.
	newIDs idMap
	counts Counts
	// records are catalogue records of one model not written yet, for
	// its CreateBatch.
	records pending
	// entries are the audit entries not written yet, their ids mapped
	// (mapEntry), for ImportEntries.
	entries pending
}

// pending are records read and not written yet, with their lines.
type pending struct {
	items []item
	lines []int
}

func (p *pending) add(n int, it item) {
	p.items, p.lines = append(p.items, it), append(p.lines, n)
}

func (p *pending) clear() { p.items, p.lines = p.items[:0], p.lines[:0] }

func newWriting(ctx context.Context, l *loader, total int, progress Progress) *writing {
	newIDs := idMap{}
	for model := range l.referenced {
		newIDs[model] = map[string]string{}
	}
	for model := range l.cited {
		newIDs[model] = map[string]string{}
	}
	return &writing{ctx: ctx, l: l, total: total, progress: progress, newIDs: newIDs}
}

// line takes the record of line n: it holds it for a batch, or writes
// it alone.
func (w *writing) line(n int, it item) error {
	if held := w.records.items; len(held) > 0 && (it.m != held[0].m || w.l.refersToBatch(it, w.newIDs)) {
		if err := w.flushRecords(); err != nil {
			return err
		}
	}
	if it.model == modelAudit {
		it.entry = w.l.mapEntry(it.entry, w.newIDs)
		w.entries.add(n, it)
		if len(w.entries.items) == loadBatch {
			return w.flushEntries()
		}
		return nil
	}
	if _, ok := it.m.(batchCreator); ok {
		w.records.add(n, it)
		if len(w.records.items) == loadBatch {
			return w.flushRecords()
		}
		return nil
	}
	id, err := w.l.writeItem(w.ctx, it, w.newIDs)
	if err != nil {
		return w.failed(n, it, err)
	}
	w.written(it, id)
	return nil
}

// flushRecords writes the catalogue records held, all or none.
func (w *writing) flushRecords() error {
	batch := w.records.items
	if len(batch) == 0 {
		return nil
	}
	vs := make([]datamodel.Values, len(batch))
	for i, it := range batch {
		vs[i] = w.l.mapRefs(it, w.newIDs)
	}
	ids, err := batch[0].m.(batchCreator).CreateBatch(w.ctx, vs)
	if err != nil {
		// The batch is rolled back: the records before it stay.
		i := 0
		var be *datamodel.BatchError
		if errors.As(err, &be) {
			i = be.Index
		}
		return w.failed(w.records.lines[i], batch[i], err)
	}
	for i, it := range batch {
		w.written(it, ids[i])
	}
	w.records.clear()
	return nil
}

// flushEntries writes the audit entries held: on error, those before the
// one that failed stay written.
func (w *writing) flushEntries() error {
	held := w.entries.items
	if len(held) == 0 {
		return nil
	}
	entries := make([]audit.Entry, len(held))
	for i, it := range held {
		entries[i] = it.entry
	}
	n, err := w.l.log.ImportEntries(w.ctx, entries)
	if err != nil {
		n = min(n, len(entries)-1)
	}
	for _, it := range held[:n] {
		w.written(it, "")
	}
	if err != nil {
		return w.failed(w.entries.lines[n], held[n], err)
	}
	w.entries.clear()
	return nil
}

// written counts a record written with new id id, and remembers the id
// should a later line name the record.
func (w *writing) written(it item, id string) {
	if w.l.referenced[it.model] || w.l.cited[it.model][it.id] {
		w.newIDs[it.model][it.id] = id
	}
	w.counts.add(it.model)
	w.progress("load", w.counts.Total(), w.total)
}

// failed is the error of the record of line n, which could not be
// written: it says what was written before it and stays.
func (w *writing) failed(n int, it item, err error) error {
	return fmt.Errorf("load: line %d: %s %s: %w; the %d records before it are written and stay: "+
		"empty the database (drop it, then create-db) before loading again", n, it.model, it.id, err, w.counts.Total())
}

// refersToBatch reports whether it refers to a record not written yet: one
// of the batch, which must be written first.
func (l *loader) refersToBatch(it item, newIDs idMap) bool {
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
func (l *loader) mapRefs(it item, newIDs idMap) datamodel.Values {
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
func (l *loader) writeItem(ctx context.Context, it item, newIDs idMap) (string, error) {
	switch it.model {
	case modelRole:
		id, err := l.accounts.ImportRole(ctx, it.role.Name)
		if err != nil || it.perms == nil {
			return id, err
		}
		return id, l.accounts.ImportPermissions(ctx, id, it.perms, l.views)
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

// mapEntry returns e with the source ids it names (see cite) turned into
// the new ids of their records, or marked deleted when the file did not
// hold the record.
func (l *loader) mapEntry(e audit.Entry, newIDs idMap) audit.Entry {
	model, ok := l.viewModels[e.View]
	if !ok {
		return e
	}
	newID := func(model, id string) string {
		if id == "" || strings.HasPrefix(id, deletedPrefix) {
			return id
		}
		if n, ok := newIDs[model][id]; ok {
			return n
		}
		return deletedPrefix + id
	}
	e.RecordID = newID(model, e.RecordID)
	e.Changes = slices.Clone(e.Changes)
	l.eachRef(model, e.Changes, newID)
	return e
}
