package transfer

import (
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"slices"

	"musicadmin/internal/datamodel"
)

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
				if ref, _ := v.(*datamodel.Ref); ref != nil && !refers(lineModel(t), ref.ID) {
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
