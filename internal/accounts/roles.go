package accounts

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"musicadmin/internal/access"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
)

// Roles is the roles model with its rules. Its permissions field reads
// and takes each permission by its key, "can_list:albumview"
// (access.Permission.Key), as the role form and the roles file name them,
// where the store keeps the permission's record id; the Admin role reads
// as holding every permission.
type Roles struct {
	base    datamodel.Interface
	perms   datamodel.Interface
	holders *Users // whose sessions end with a role deleted
	st      Store
	// viewTitle names a view as its menu does (NameViews); nil: by
	// its name.
	viewTitle func(view string) string
}

// NameViews makes the labels of the permissions name each view by
// title(view), its title in the menu, as a person reads it: "Song View:
// can list" rather than "can list on songsview". A view title names ""
// keeps its name. It is called once, before any request is served.
func (r *Roles) NameViews(title func(view string) string) { r.viewTitle = title }

// label is the label of p, as the role form, a role's page and the audit
// log show it: the view, then the action in words.
func (r *Roles) label(p access.Permission) string {
	return i18n.Msg(permissionLabel, r.labelData(p)...).In(i18n.Default)
}

// permissionLabel is the message of a permission's label: "Song View:
// can list".
const permissionLabel = "{{.View}}: {{.Action}}"

// labelData are the values of p's label: its view's title and its action
// in words, each a message of its own.
func (r *Roles) labelData(p access.Permission) []any {
	view := p.View
	if r.viewTitle != nil {
		if t := r.viewTitle(p.View); t != "" {
			view = t
		}
	}
	return []any{"View", i18n.Msg(view), "Action", i18n.Msg(strings.ReplaceAll(p.Name, "_", " "))}
}

var _ datamodel.Interface = (*Roles)(nil)

// builtinRoles are the roles create-db makes, which keep their names.
var builtinRoles = []string{access.AdminRole, access.ReadOnlyRole}

// Refusals of the built-in roles.
const (
	msgBuiltinName   = "The built-in role {{.Name}} keeps its name."
	msgBuiltinDelete = "The built-in role {{.Name}} cannot be deleted."
)

// Schema returns the declaration.
func (r *Roles) Schema() *datamodel.Schema { return r.base.Schema() }

// ValidID accepts the store's ids.
func (r *Roles) ValidID(id string) bool { return r.base.ValidID(id) }

// permIndex is every permission, by record id and by key.
type permIndex struct {
	byID  map[string]access.Permission
	idOf  map[string]string // key -> record id
	every []datamodel.Ref   // by view, then action
	label func(access.Permission) string
}

// index reads every permission: a few dozen records, read afresh so that
// a view added by another instance's start is seen.
func (r *Roles) index(ctx context.Context) (*permIndex, error) {
	idx := &permIndex{byID: map[string]access.Permission{}, idOf: map[string]string{}, label: r.label}
	err := r.perms.Each(ctx, datamodel.Query{}, func(rec datamodel.Record) error {
		name, _ := rec.Values[FieldName].(string)
		view, _ := rec.Values[FieldView].(string)
		p := access.On(view, name)
		idx.byID[rec.ID], idx.idOf[p.Key()] = p, rec.ID
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("accounts: read permissions: %w", err)
	}
	all := slices.SortedFunc(maps.Values(idx.byID), access.Compare)
	for _, p := range all {
		idx.every = append(idx.every, idx.ref(p))
	}
	return idx, nil
}

// ref is p as a role's permissions value holds it: by key, with its label.
func (idx *permIndex) ref(p access.Permission) datamodel.Ref {
	return datamodel.Ref{ID: p.Key(), Label: idx.label(p)}
}

// roleName returns a role's name as read.
func roleName(rec datamodel.Record) string {
	s, _ := rec.Values[FieldName].(string)
	return s
}

// shown turns the permissions of recs from record ids into keys, by view
// and then action; the Admin role holds them all.
func (idx *permIndex) shown(recs []datamodel.Record) {
	for _, rec := range recs {
		if roleName(rec) == access.AdminRole {
			rec.Values[FieldPermissions] = slices.Clone(idx.every)
			continue
		}
		refs, _ := rec.Values[FieldPermissions].([]datamodel.Ref)
		held := make([]access.Permission, 0, len(refs))
		for _, ref := range refs {
			if p, ok := idx.byID[ref.ID]; ok {
				held = append(held, p)
			}
		}
		slices.SortFunc(held, access.Compare)
		out := make([]datamodel.Ref, len(held))
		for i, p := range held {
			out[i] = idx.ref(p)
		}
		rec.Values[FieldPermissions] = out
	}
}

// stored turns a permissions value from keys into record ids; a key no
// permission has is an InvalidRefError.
func (idx *permIndex) stored(v any) (any, error) {
	keys := datamodel.IDs(v)
	out := make([]datamodel.Ref, len(keys))
	for i, k := range keys {
		id, ok := idx.idOf[k]
		if !ok {
			return nil, &datamodel.InvalidRefError{Field: FieldPermissions}
		}
		out[i] = datamodel.Ref{ID: id}
	}
	return out, nil
}

// storedValues is v with its permissions as record ids.
func (idx *permIndex) storedValues(v datamodel.Values) (datamodel.Values, error) {
	given, ok := v[FieldPermissions]
	if !ok {
		return v, nil
	}
	ids, err := idx.stored(given)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(v)
	out[FieldPermissions] = ids
	return out, nil
}

// storedFilters is filters with a permission filter's key as a record id
// (one naming no permission matches nothing).
func (idx *permIndex) storedFilters(filters []datamodel.Filter) []datamodel.Filter {
	out := slices.Clone(filters)
	for i, f := range out {
		if f.Field.Name == FieldPermissions {
			id, ok := idx.idOf[datamodel.Held(f.Value)]
			if !ok {
				id = "-" // no record has it
			}
			out[i].Value = []datamodel.Ref{{ID: id}}
		}
	}
	return out
}

// Get returns the role with id.
func (r *Roles) Get(ctx context.Context, id string) (datamodel.Record, error) {
	rec, err := r.base.Get(ctx, id)
	if err != nil {
		return rec, err
	}
	idx, err := r.index(ctx)
	if err != nil {
		return rec, err
	}
	idx.shown([]datamodel.Record{rec})
	return rec, nil
}

// List returns a page of roles.
func (r *Roles) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	idx, err := r.index(ctx)
	if err != nil {
		return datamodel.Page{}, err
	}
	q.Filters = idx.storedFilters(q.Filters)
	page, err := r.base.List(ctx, q)
	if err != nil {
		return page, err
	}
	idx.shown(page.Records)
	return page, nil
}

// Each calls fn with every role matching q.
func (r *Roles) Each(ctx context.Context, q datamodel.Query, fn func(datamodel.Record) error) error {
	idx, err := r.index(ctx)
	if err != nil {
		return err
	}
	q.Filters = idx.storedFilters(q.Filters)
	return r.base.Each(ctx, q, func(rec datamodel.Record) error {
		idx.shown([]datamodel.Record{rec})
		return fn(rec)
	})
}

// Count returns how many roles match filters.
func (r *Roles) Count(ctx context.Context, filters []datamodel.Filter) (int64, error) {
	idx, err := r.index(ctx)
	if err != nil {
		return 0, err
	}
	return r.base.Count(ctx, idx.storedFilters(filters))
}

// Group groups the roles matching q as the store does, with the filters
// by permission name read as Count reads them.
func (r *Roles) Group(ctx context.Context, q datamodel.GroupQuery) (datamodel.Grouping, error) {
	idx, err := r.index(ctx)
	if err != nil {
		return datamodel.Grouping{}, err
	}
	q.Filters = idx.storedFilters(q.Filters)
	return r.base.Group(ctx, q)
}

// Exists reports whether another role has field == value.
func (r *Roles) Exists(ctx context.Context, field *datamodel.Field, value any, exceptID string) (bool, error) {
	return r.base.Exists(ctx, field, value, exceptID)
}

// Choices lists every permission by key, by view and then action.
func (r *Roles) Choices(ctx context.Context, field *datamodel.Field) ([]datamodel.Ref, error) {
	if field.Name != FieldPermissions {
		return r.base.Choices(ctx, field)
	}
	idx, err := r.index(ctx)
	if err != nil {
		return nil, err
	}
	// The form's options, in the reader's language; what is stored and
	// written to the audit log keeps the English label (label).
	out := make([]datamodel.Ref, len(idx.every))
	for i, ref := range idx.every {
		out[i] = datamodel.Ref{ID: ref.ID, Label: i18n.Text(ctx, permissionLabel, r.labelData(idx.byID[idx.idOf[ref.ID]])...)}
	}
	return out, nil
}

// Create stores a new role with its permissions.
func (r *Roles) Create(ctx context.Context, v datamodel.Values) (string, error) {
	idx, err := r.index(ctx)
	if err != nil {
		return "", err
	}
	v, err = idx.storedValues(v)
	if err != nil {
		return "", err
	}
	return r.base.Create(ctx, v)
}

// Update writes v to the role with id.
func (r *Roles) Update(ctx context.Context, id string, v datamodel.Values) error {
	return r.update(ctx, id, nil, v)
}

// UpdateIf writes v to the role with id if it still has version.
func (r *Roles) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	return r.update(ctx, id, &version, v)
}

// update checks the version on the role as this model reads it (its
// permissions by key, which the store's own version would not match),
// under the accounts' lock, so the check and the write are one step.
func (r *Roles) update(ctx context.Context, id string, version *string, v datamodel.Values) error {
	return r.st.Together(ctx, lockName, func(ctx context.Context) error {
		cur, err := r.Get(ctx, id)
		if err != nil {
			return err
		}
		if version != nil && r.Schema().Version(cur) != *version {
			if r.Schema().Holds(cur, v) {
				return nil // already stored: nothing is lost
			}
			return datamodel.ErrStale
		}
		name := roleName(cur)
		if newName, ok := v[FieldName].(string); ok && newName != name && slices.Contains(builtinRoles, name) {
			return datamodel.Refused(FieldName, msgBuiltinName, "Name", name)
		}
		if name == access.AdminRole {
			// Admin holds every permission by its name: its set is not
			// written.
			v = maps.Clone(v)
			delete(v, FieldPermissions)
		}
		idx, err := r.index(ctx)
		if err != nil {
			return err
		}
		if v, err = idx.storedValues(v); err != nil {
			return err
		}
		return r.base.Update(ctx, id, v)
	})
}

// Delete removes the role with id; a built-in role is refused.
func (r *Roles) Delete(ctx context.Context, id string) error {
	n, err := r.DeleteMany(ctx, []string{id})
	if err == nil && n == 0 {
		return datamodel.ErrNotFound
	}
	return err
}

// DeleteMany removes the roles with ids, or none of them when one is
// built in. Their holders lose them, and so their sessions.
func (r *Roles) DeleteMany(ctx context.Context, ids []string) (int, error) {
	var removed int
	err := r.st.Together(ctx, lockName, func(ctx context.Context) error {
		var holders []string
		for _, id := range ids {
			rec, err := r.base.Get(ctx, id)
			if errors.Is(err, datamodel.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if name := roleName(rec); slices.Contains(builtinRoles, name) {
				return datamodel.Refused("", msgBuiltinDelete, "Name", name)
			}
			held, err := r.holders.holdersOf(ctx, id)
			if err != nil {
				return err
			}
			holders = append(holders, held...)
		}
		n, err := r.base.DeleteMany(ctx, ids)
		if err != nil {
			return err
		}
		removed = n
		return r.st.EndSessions(ctx, holders)
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}
