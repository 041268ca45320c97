package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// Users and roles as models of the datamodel seam, for the Security views
// and the commands that manage them. Their plain fields are columns of
// users and roles, read through a Model like any catalogue model (lists,
// filters, sorts, exports); what no column holds is added here:
//
//   - a user's roles, a Set of the roles model, kept in user_roles;
//   - a role's permissions, a Set whose option ids are permission keys
//     ("can_list:albumview", access.Permission.Key), kept in
//     role_permissions; the Admin role reads as holding every permission,
//     which is what it may do whatever its rows say;
//   - a user's password, a WriteOnly Password field written as its Hash
//     into password_hash and never read.
//
// Every write is one transaction that first locks the Admin role's row
// (an UPDATE that changes nothing: a row lock on MySQL and PostgreSQL, and
// SQLite's transactions take the database's write lock anyway), so that
// the writes to users and roles take turns and the rules below are checked
// on what they are about to commit, not on a read another write may have
// overtaken:
//
//   - the last active Admin stays: a write that would leave no active user
//     holding the Admin role (deactivation, the role taken away, a delete,
//     one or many) is refused with a RefusedError and rolls back;
//   - the built-in roles (Admin, ReadOnly) keep their names and cannot be
//     deleted, and the Admin role's permissions are not written: it holds
//     them all by its name;
//   - deactivating a user, taking a role from them, deleting a role they
//     hold or changing their password removes their sessions in the same
//     transaction: those logins end at their next request.

// The columns these models read by name: a user's active flag, a role's
// name.
const (
	activeField = "active"
	nameField   = "name"
)

// builtinRoles are the roles create-db makes, which keep their names.
var builtinRoles = []string{access.AdminRole, access.ReadOnlyRole}

// UserModel is the users of a Store as a model.
type UserModel struct {
	filled[User]
	decl     datamodel.Schema
	roles    *datamodel.Field // the Set of roles
	password *datamodel.Field // the WriteOnly Password
}

// RoleModel is the roles of a Store as a model.
type RoleModel struct {
	filled[Role]
	decl  datamodel.Schema
	perms *datamodel.Field // the Set of permissions
}

var (
	_ datamodel.Interface = (*UserModel)(nil)
	_ datamodel.Interface = (*RoleModel)(nil)
)

// splitDecl returns decl without its Set and WriteOnly fields, which no
// column holds, and those fields.
func splitDecl(decl datamodel.Schema) (columns datamodel.Schema, sets, writeOnly []*datamodel.Field) {
	columns = decl
	columns.Fields = nil
	for i := range decl.Fields {
		f := &decl.Fields[i]
		switch {
		case f.SetOf() != "":
			sets = append(sets, f)
		case f.WriteOnly:
			writeOnly = append(writeOnly, f)
		default:
			columns.Fields = append(columns.Fields, *f)
		}
	}
	return columns, sets, writeOnly
}

// NewRoleModel declares the roles model decl on s: its plain fields are
// columns of roles, and it has one Set field, the role's permissions.
func NewRoleModel(s *Store, decl datamodel.Schema) (*RoleModel, error) {
	if err := decl.Check(); err != nil {
		return nil, err
	}
	columns, sets, writeOnly := splitDecl(decl)
	if len(sets) != 1 || len(writeOnly) != 0 || decl.Label != nameField {
		return nil, fmt.Errorf("store: model %s: a role model is named by %q and has one set field (its permissions) and no write-only one",
			decl.Name, nameField)
	}
	base, err := NewModel[Role](s, columns)
	if err != nil {
		return nil, err
	}
	m := &RoleModel{decl: decl}
	m.filled = filled[Role]{base: base, fill: m.withPermissions}
	m.perms = m.decl.Field(sets[0].Name)
	return m, nil
}

// NewUserModel declares the users model decl on s: its plain fields are
// columns of users, and it has one Set field of the roles model, declared
// on s before it, and one WriteOnly Password field, the password.
func NewUserModel(s *Store, decl datamodel.Schema) (*UserModel, error) {
	if err := decl.Check(); err != nil {
		return nil, err
	}
	columns, sets, writeOnly := splitDecl(decl)
	if len(sets) != 1 || len(writeOnly) != 1 || decl.Field(activeField) == nil {
		return nil, fmt.Errorf("store: model %s: a user model has an %q flag, one set field (its roles) and one write-only field (its password)",
			decl.Name, activeField)
	}
	if to, ok := s.tables[sets[0].SetOf()]; !ok || to.table != "roles" {
		return nil, fmt.Errorf("store: model %s: set %q must be of the roles model, declared before it", decl.Name, sets[0].Name)
	}
	if _, ok := writeOnly[0].Kind.(datamodel.Password); !ok {
		return nil, fmt.Errorf("store: model %s: write-only field %q is not a password", decl.Name, writeOnly[0].Name)
	}
	base, err := NewModel[User](s, columns)
	if err != nil {
		return nil, err
	}
	m := &UserModel{decl: decl}
	m.filled = filled[User]{base: base, fill: m.withRoles}
	m.roles, m.password = m.decl.Field(sets[0].Name), m.decl.Field(writeOnly[0].Name)
	return m, nil
}

// lockAccounts takes the lock every write to users and roles takes first.
func lockAccounts(tx *gorm.DB) error {
	return tx.Exec("UPDATE roles SET name = name WHERE name = ?", access.AdminRole).Error
}

// activeAdmins counts the active users holding the Admin role.
func activeAdmins(tx *gorm.DB) (int64, error) {
	var n int64
	err := tx.Raw(`SELECT COUNT(DISTINCT users.id) FROM users
JOIN user_roles ON user_roles.user_id = users.id
JOIN roles ON roles.id = user_roles.role_id
WHERE roles.name = ? AND users.active = ?`, access.AdminRole, true).Scan(&n).Error
	return n, err
}

// keepsAnAdmin runs write in tx and refuses it with refusal when it leaves
// no active Admin where there was one.
func keepsAnAdmin(tx *gorm.DB, refusal *datamodel.RefusedError, write func() error) error {
	before, err := activeAdmins(tx)
	if err != nil {
		return err
	}
	if err := write(); err != nil {
		return err
	}
	if before == 0 {
		return nil // nothing to keep (a database of no Admin yet)
	}
	after, err := activeAdmins(tx)
	if err != nil {
		return err
	}
	if after == 0 {
		return refusal
	}
	return nil
}

// record writes the audit entry of a change in tx, when ctx carries an
// actor: old and rec are the record before and after (nil for a create's
// before and a delete's after). An update that changed nothing has none.
func record(ctx context.Context, tx *gorm.DB, decl *datamodel.Schema, action string, old, rec *datamodel.Record) error {
	actor, ok := audit.From(ctx)
	if !ok {
		return nil
	}
	e := audit.NewEntry(actor, action, decl, old, rec, time.Now())
	if action == audit.ActionUpdate && len(e.Changes) == 0 {
		return nil
	}
	return appendAudit(tx, e)
}

// Refusals of the last active Admin.
const (
	msgLastAdminUpdate = "This is the last active Admin: make another user an active Admin first, then deactivate this one or take its Admin role."
	msgLastAdminDelete = "The last active Admin cannot be deleted: make another user an active Admin first."
)

// refIDs parses the ids of a Set's value as row ids; an id no row can
// have is an InvalidRefError of field.
func refIDs(field string, v any) ([]int64, error) {
	ids := datamodel.IDs(v)
	out := make([]int64, len(ids))
	for i, s := range ids {
		n, ok := parseID(s)
		if !ok {
			return nil, &datamodel.InvalidRefError{Field: field}
		}
		out[i] = n
	}
	return out, nil
}

// existing returns how many of ids are rows of table.
func existing(tx *gorm.DB, table string, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := tx.Table(table).Where("id IN ?", ids).Count(&n).Error
	return int(n), err
}

// ---- users ----

// Schema returns the declaration.
func (m *UserModel) Schema() *datamodel.Schema { return &m.decl }

// ValidID accepts an SQL id.
func (m *UserModel) ValidID(id string) bool { return m.base.ValidID(id) }

// withRoles fills in the roles of recs, read through db: one query for
// them all.
func (m *UserModel) withRoles(ctx context.Context, db *gorm.DB, recs []datamodel.Record) error {
	if len(recs) == 0 {
		return nil
	}
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i], _ = parseID(r.ID)
	}
	rows, err := db.WithContext(ctx).Raw(`SELECT user_roles.user_id, roles.id, roles.name FROM user_roles
JOIN roles ON roles.id = user_roles.role_id
WHERE user_roles.user_id IN ? ORDER BY roles.name, roles.id`, ids).Rows()
	if err != nil {
		return m.base.translate("read roles of", err)
	}
	defer rows.Close()
	held := map[string][]datamodel.Ref{}
	for rows.Next() {
		var user, role int64
		var name string
		if err := rows.Scan(&user, &role, &name); err != nil {
			return m.base.translate("read roles of", err)
		}
		held[formatID(user)] = append(held[formatID(user)], datamodel.Ref{ID: formatID(role), Label: name})
	}
	if err := rows.Err(); err != nil {
		return m.base.translate("read roles of", err)
	}
	for _, r := range recs {
		refs := held[r.ID]
		if refs == nil {
			refs = []datamodel.Ref{}
		}
		r.Values[m.roles.Name] = refs
	}
	return nil
}

// filled is the read side of a model whose records carry a value another
// table keeps (a user's roles, a role's permissions): the base model's
// reads, then fill, through the same db (a transaction's, when in one).
type filled[T any] struct {
	base *Model[T]
	fill func(ctx context.Context, db *gorm.DB, recs []datamodel.Record) error
}

// get reads the record with id through db, filled.
func (f *filled[T]) get(ctx context.Context, db *gorm.DB, id string) (datamodel.Record, error) {
	rec, err := f.base.in(db).Get(ctx, id)
	if err != nil {
		return rec, err
	}
	return rec, f.fill(ctx, db, []datamodel.Record{rec})
}

// Get returns the record with id, or datamodel.ErrNotFound.
func (f *filled[T]) Get(ctx context.Context, id string) (datamodel.Record, error) {
	return f.get(ctx, f.base.db, id)
}

// List returns a page of records, filled.
func (f *filled[T]) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	page, err := f.base.List(ctx, q)
	if err != nil {
		return page, err
	}
	return page, f.fill(ctx, f.base.db, page.Records)
}

// Each calls fn with every record matching q, filled a batch at a time.
func (f *filled[T]) Each(ctx context.Context, q datamodel.Query, fn func(datamodel.Record) error) error {
	return eachFilled(ctx, q, f.base.Each, func(recs []datamodel.Record) error {
		return f.fill(ctx, f.base.db, recs)
	}, fn)
}

// writeErr maps a failed write: refusals and reference errors as they are,
// database errors as the base model maps them.
func (f *filled[T]) writeErr(ctx context.Context, op string, err error, v datamodel.Values, id string) error {
	var refused *datamodel.RefusedError
	var badRef *datamodel.InvalidRefError
	if errors.As(err, &refused) || errors.As(err, &badRef) || errors.Is(err, datamodel.ErrNotFound) || errors.Is(err, datamodel.ErrStale) {
		return err
	}
	return f.base.translateWrite(ctx, op, err, v, id)
}

// eachFilled is Each of a model whose records need a value filled in by a
// second read (fill), done per batch of records rather than per record.
func eachFilled(ctx context.Context, q datamodel.Query,
	each func(context.Context, datamodel.Query, func(datamodel.Record) error) error,
	fill func([]datamodel.Record) error, fn func(datamodel.Record) error) error {
	const batch = 200
	var pending []datamodel.Record
	flush := func() error {
		if err := fill(pending); err != nil {
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
	err := each(ctx, q, func(r datamodel.Record) error {
		pending = append(pending, r)
		if len(pending) == batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// Count returns how many users match filters.
func (m *UserModel) Count(ctx context.Context, filters []datamodel.Filter) (int64, error) {
	return m.base.Count(ctx, filters)
}

// Exists reports whether another user has field == value.
func (m *UserModel) Exists(ctx context.Context, field *datamodel.Field, value any, exceptID string) (bool, error) {
	return m.base.Exists(ctx, field, value, exceptID)
}

// Choices lists the roles a user may hold, by name.
func (m *UserModel) Choices(ctx context.Context, field *datamodel.Field) ([]datamodel.Ref, error) {
	if field.Name != m.roles.Name {
		return m.base.Choices(ctx, field)
	}
	var rows []Role
	if err := m.base.db.WithContext(ctx).Order("name, id").Find(&rows).Error; err != nil {
		return nil, m.base.translate("choices of", err)
	}
	out := make([]datamodel.Ref, len(rows))
	for i, r := range rows {
		out[i] = datamodel.Ref{ID: formatID(r.ID), Label: r.Name}
	}
	return out, nil
}

// columnValues returns the values of v that columns hold: its plain
// fields, and the password's hash. A password not hashed is refused.
func (m *UserModel) columnValues(v datamodel.Values) (datamodel.Values, string, error) {
	out := datamodel.Values{}
	for k, val := range v {
		if k != m.roles.Name && k != m.password.Name {
			out[k] = val
		}
	}
	var hash string
	if val, ok := v[m.password.Name]; ok {
		h, isHash := val.(datamodel.Hash)
		if !isHash || h == "" {
			return nil, "", fmt.Errorf("store: %s: a password is stored as its hash, never as typed", m.decl.Name)
		}
		hash = string(h)
	}
	return out, hash, nil
}

// Create stores a new user, with their roles and password hash, and
// returns its id. A user is created with a password: a Hash in v.
func (m *UserModel) Create(ctx context.Context, v datamodel.Values) (string, error) {
	cols, hash, err := m.columnValues(v)
	if err != nil {
		return "", err
	}
	if hash == "" {
		return "", fmt.Errorf("store: %s: a new user needs a password hash", m.decl.Name)
	}
	roles, err := refIDs(m.roles.Name, v[m.roles.Name])
	if err != nil {
		return "", err
	}
	row, err := m.base.row(cols)
	if err != nil {
		return "", err
	}
	row["password_hash"], row["created_at"] = hash, time.Now().Unix()
	var id int64
	invalidateCounts()
	defer invalidateCounts()
	err = m.base.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockAccounts(tx); err != nil {
			return err
		}
		if n, err := existing(tx, "roles", roles); err != nil || n != len(roles) {
			if err == nil {
				err = &datamodel.InvalidRefError{Field: m.roles.Name}
			}
			return err
		}
		if err := tx.Model(&User{}).Create(row).Error; err != nil {
			return err
		}
		switch x := row["id"].(type) {
		case int64:
			id = x
		case int:
			id = int64(x)
		default:
			return fmt.Errorf("store: create user: no id returned (%T)", row["id"])
		}
		if err := addRoles(tx, id, roles); err != nil {
			return err
		}
		return m.recordNow(ctx, tx, audit.ActionCreate, nil, formatID(id))
	})
	if err != nil {
		return "", m.writeErr(ctx, "create", err, v, "")
	}
	return formatID(id), nil
}

// recordNow records action on the user with id as tx reads it now,
// against old.
func (m *UserModel) recordNow(ctx context.Context, tx *gorm.DB, action string, old *datamodel.Record, id string) error {
	if _, ok := audit.From(ctx); !ok {
		return nil
	}
	rec, err := m.get(ctx, tx, id)
	if err != nil {
		return fmt.Errorf("store: read user %s back for the audit log: %w", id, err)
	}
	return record(ctx, tx, &m.decl, action, old, &rec)
}

func addRoles(tx *gorm.DB, user int64, roles []int64) error {
	if len(roles) == 0 {
		return nil
	}
	links := make([]UserRole, len(roles))
	for i, r := range roles {
		links[i] = UserRole{UserID: user, RoleID: r}
	}
	return tx.Create(&links).Error
}

// Update writes v to the user with id.
func (m *UserModel) Update(ctx context.Context, id string, v datamodel.Values) error {
	return m.update(ctx, id, nil, v)
}

// UpdateIf writes v to the user with id if the user still has version:
// read and written in one transaction, after the lock every write of users
// and roles takes, so no write of the app comes between.
func (m *UserModel) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	return m.update(ctx, id, &version, v)
}

func (m *UserModel) update(ctx context.Context, id string, version *string, v datamodel.Values) error {
	n, ok := parseID(id)
	if !ok {
		return datamodel.ErrNotFound
	}
	cols, hash, err := m.columnValues(v)
	if err != nil {
		return err
	}
	row, err := m.base.row(cols)
	if err != nil {
		return err
	}
	if hash != "" {
		row["password_hash"] = hash
	}
	_, setRoles := v[m.roles.Name]
	roles, err := refIDs(m.roles.Name, v[m.roles.Name])
	if err != nil {
		return err
	}
	invalidateCounts()
	defer invalidateCounts()
	err = m.base.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockAccounts(tx); err != nil {
			return err
		}
		cur, err := m.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if version != nil && m.decl.Version(cur) != *version {
			if m.decl.Holds(cur, v) {
				return errUnchanged
			}
			return datamodel.ErrStale
		}
		refusal := &datamodel.RefusedError{Field: m.roles.Name, Message: msgLastAdminUpdate}
		if active, ok := v[activeField].(bool); ok && !active {
			refusal.Field = activeField
		}
		return keepsAnAdmin(tx, refusal, func() error {
			if len(row) > 0 {
				if err := tx.Model(&User{}).Where("id = ?", n).Updates(row).Error; err != nil {
					return err
				}
			}
			held := datamodel.IDs(cur.Values[m.roles.Name])
			var dropped bool
			if setRoles {
				want := make([]string, len(roles))
				for i, r := range roles {
					want[i] = formatID(r)
				}
				var add []int64
				var drop []int64
				for _, r := range roles {
					if !slices.Contains(held, formatID(r)) {
						add = append(add, r)
					}
				}
				for _, h := range held {
					if !slices.Contains(want, h) {
						r, _ := parseID(h)
						drop = append(drop, r)
					}
				}
				if n, err := existing(tx, "roles", add); err != nil || n != len(add) {
					if err == nil {
						err = &datamodel.InvalidRefError{Field: m.roles.Name}
					}
					return err
				}
				if len(drop) > 0 {
					if err := tx.Where("user_id = ? AND role_id IN ?", n, drop).Delete(&UserRole{}).Error; err != nil {
						return err
					}
					dropped = true
				}
				if err := addRoles(tx, n, add); err != nil {
					return err
				}
			}
			wasActive, _ := cur.Values[activeField].(bool)
			active, activeSet := v[activeField].(bool)
			if hash != "" || dropped || wasActive && activeSet && !active {
				if err := endSessions(tx, n); err != nil {
					return err
				}
			}
			return m.recordNow(ctx, tx, audit.ActionUpdate, &cur, id)
		})
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return m.writeErr(ctx, "update", err, v, id)
	}
	return nil
}

// errUnchanged ends a transaction that has nothing to write: a stale save
// of values already stored, which loses nothing.
var errUnchanged = errors.New("store: unchanged")

// endSessions removes every session of the user with id.
func endSessions(tx *gorm.DB, user int64) error {
	return tx.Where("user_id = ?", user).Delete(&Session{}).Error
}

// SetPassword stores hash as the password hash of the user with id and
// ends every session of theirs, in one transaction; ErrNotFound when no
// user has id.
func (m *UserModel) SetPassword(ctx context.Context, id string, hash datamodel.Hash) error {
	n, ok := parseID(id)
	if !ok || hash == "" {
		return datamodel.ErrNotFound
	}
	err := m.base.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockAccounts(tx); err != nil {
			return err
		}
		res := tx.Model(&User{}).Where("id = ?", n).Update("password_hash", string(hash))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var found []int64
			if err := tx.Model(&User{}).Where("id = ?", n).Pluck("id", &found).Error; err != nil {
				return err
			}
			if len(found) == 0 {
				return datamodel.ErrNotFound
			}
		}
		if err := endSessions(tx, n); err != nil {
			return err
		}
		if actor, ok := audit.From(ctx); ok {
			// That it happened, by whom, to whom; never the hash.
			rec, err := m.get(ctx, tx, id)
			if err != nil {
				return err
			}
			e := audit.NewEntry(actor, audit.ActionPassword, &m.decl, &rec, &rec, time.Now())
			return appendAudit(tx, e)
		}
		return nil
	})
	if errors.Is(err, datamodel.ErrNotFound) {
		return err
	}
	if err != nil {
		return m.base.translate("set the password of", err)
	}
	return nil
}

// Delete removes the user with id (their roles and sessions with them),
// unless they are the last active Admin.
func (m *UserModel) Delete(ctx context.Context, id string) error {
	return deleteOne(ctx, id, m.remove)
}

// DeleteMany removes the users with ids in one transaction, or none of
// them when that would leave no active Admin.
func (m *UserModel) DeleteMany(ctx context.Context, ids []string) (int, error) {
	ns := parseIDs(ids)
	if len(ns) == 0 {
		return 0, nil
	}
	return m.remove(ctx, ns)
}

func (m *UserModel) remove(ctx context.Context, ids []int64) (int, error) {
	var removed int64
	invalidateCounts()
	defer invalidateCounts()
	err := m.base.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockAccounts(tx); err != nil {
			return err
		}
		return keepsAnAdmin(tx, &datamodel.RefusedError{Message: msgLastAdminDelete}, func() error {
			olds, err := m.gone(ctx, tx, ids)
			if err != nil {
				return err
			}
			res := tx.Delete(&User{}, ids)
			if res.Error != nil {
				return res.Error
			}
			removed = res.RowsAffected
			for i := range olds {
				if err := record(ctx, tx, &m.decl, audit.ActionDelete, &olds[i], nil); err != nil {
					return err
				}
			}
			return nil
		})
	})
	var refused *datamodel.RefusedError
	if errors.As(err, &refused) {
		return 0, err
	}
	if err != nil {
		return 0, m.base.translate("delete", err)
	}
	return int(removed), nil
}

// gone reads, for the audit log, the users with ids about to be deleted
// in tx: those that exist.
func (m *UserModel) gone(ctx context.Context, tx *gorm.DB, ids []int64) ([]datamodel.Record, error) {
	if _, ok := audit.From(ctx); !ok {
		return nil, nil
	}
	var out []datamodel.Record
	for _, id := range ids {
		rec, err := m.get(ctx, tx, formatID(id))
		if errors.Is(err, datamodel.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// ---- roles ----

// Schema returns the declaration.
func (m *RoleModel) Schema() *datamodel.Schema { return &m.decl }

// ValidID accepts an SQL id.
func (m *RoleModel) ValidID(id string) bool { return m.base.ValidID(id) }

// permissionRef is the option of a permission in a role's Set.
func permissionRef(p access.Permission) datamodel.Ref {
	return datamodel.Ref{ID: p.Key(), Label: p.String()}
}

// allPermissions returns every permission, by view and then action.
func allPermissions(ctx context.Context, db *gorm.DB) ([]Permission, error) {
	var rows []Permission
	err := db.WithContext(ctx).Order("view_name, name").Find(&rows).Error
	return rows, err
}

// withPermissions fills in the permissions of recs: one query for them
// all, and for the Admin role every permission.
func (m *RoleModel) withPermissions(ctx context.Context, db *gorm.DB, recs []datamodel.Record) error {
	if len(recs) == 0 {
		return nil
	}
	ids := make([]int64, len(recs))
	admin := -1
	for i, r := range recs {
		ids[i], _ = parseID(r.ID)
		if m.nameOf(r) == access.AdminRole {
			admin = i
		}
	}
	rows, err := db.WithContext(ctx).Raw(`SELECT role_permissions.role_id, permissions.name, permissions.view_name
FROM role_permissions JOIN permissions ON permissions.id = role_permissions.permission_id
WHERE role_permissions.role_id IN ? ORDER BY permissions.view_name, permissions.name`, ids).Rows()
	if err != nil {
		return m.base.translate("read permissions of", err)
	}
	defer rows.Close()
	held := map[string][]datamodel.Ref{}
	for rows.Next() {
		var role int64
		var p access.Permission
		if err := rows.Scan(&role, &p.Name, &p.View); err != nil {
			return m.base.translate("read permissions of", err)
		}
		held[formatID(role)] = append(held[formatID(role)], permissionRef(p))
	}
	if err := rows.Err(); err != nil {
		return m.base.translate("read permissions of", err)
	}
	for _, r := range recs {
		refs := held[r.ID]
		if refs == nil {
			refs = []datamodel.Ref{}
		}
		r.Values[m.perms.Name] = refs
	}
	if admin >= 0 {
		all, err := allPermissions(ctx, db)
		if err != nil {
			return m.base.translate("read permissions", err)
		}
		refs := make([]datamodel.Ref, len(all))
		for i, p := range all {
			refs[i] = permissionRef(access.Permission{Name: p.Name, View: p.ViewName})
		}
		recs[admin].Values[m.perms.Name] = refs
	}
	return nil
}

// nameOf returns the role's name as read.
func (m *RoleModel) nameOf(rec datamodel.Record) string {
	s, _ := rec.Values[nameField].(string)
	return s
}

// Count returns how many roles match filters.
func (m *RoleModel) Count(ctx context.Context, filters []datamodel.Filter) (int64, error) {
	return m.base.Count(ctx, filters)
}

// Exists reports whether another role has field == value.
func (m *RoleModel) Exists(ctx context.Context, field *datamodel.Field, value any, exceptID string) (bool, error) {
	return m.base.Exists(ctx, field, value, exceptID)
}

// Choices lists every permission, by view and then action.
func (m *RoleModel) Choices(ctx context.Context, field *datamodel.Field) ([]datamodel.Ref, error) {
	if field.Name != m.perms.Name {
		return m.base.Choices(ctx, field)
	}
	all, err := allPermissions(ctx, m.base.db)
	if err != nil {
		return nil, m.base.translate("read permissions", err)
	}
	out := make([]datamodel.Ref, len(all))
	for i, p := range all {
		out[i] = permissionRef(access.Permission{Name: p.Name, View: p.ViewName})
	}
	return out, nil
}

// permissionIDs returns the row ids of the permissions whose keys v's Set
// holds; a key no row has is an InvalidRefError.
func (m *RoleModel) permissionIDs(ctx context.Context, tx *gorm.DB, v any) ([]int64, error) {
	keys := datamodel.IDs(v)
	if len(keys) == 0 {
		return nil, nil
	}
	all, err := allPermissions(ctx, tx)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]int64, len(all))
	for _, p := range all {
		byKey[access.Permission{Name: p.Name, View: p.ViewName}.Key()] = p.ID
	}
	out := make([]int64, len(keys))
	for i, k := range keys {
		id, ok := byKey[k]
		if !ok {
			return nil, &datamodel.InvalidRefError{Field: m.perms.Name}
		}
		out[i] = id
	}
	return out, nil
}

func grant(tx *gorm.DB, role int64, perms []int64) error {
	if len(perms) == 0 {
		return nil
	}
	rows := make([]RolePermission, len(perms))
	for i, p := range perms {
		rows[i] = RolePermission{RoleID: role, PermissionID: p}
	}
	return tx.Create(&rows).Error
}

// plain returns v without the permissions, which no column holds.
func (m *RoleModel) plain(v datamodel.Values) datamodel.Values {
	out := datamodel.Values{}
	for k, val := range v {
		if k != m.perms.Name {
			out[k] = val
		}
	}
	return out
}

// Create stores a new role with its permissions and returns its id.
func (m *RoleModel) Create(ctx context.Context, v datamodel.Values) (string, error) {
	row, err := m.base.row(m.plain(v))
	if err != nil {
		return "", err
	}
	var id int64
	invalidateCounts()
	defer invalidateCounts()
	err = m.base.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockAccounts(tx); err != nil {
			return err
		}
		perms, err := m.permissionIDs(ctx, tx, v[m.perms.Name])
		if err != nil {
			return err
		}
		if err := tx.Model(&Role{}).Create(row).Error; err != nil {
			return err
		}
		switch x := row["id"].(type) {
		case int64:
			id = x
		case int:
			id = int64(x)
		default:
			return fmt.Errorf("store: create role: no id returned (%T)", row["id"])
		}
		if err := grant(tx, id, perms); err != nil {
			return err
		}
		return m.recordNow(ctx, tx, audit.ActionCreate, nil, formatID(id))
	})
	if err != nil {
		return "", m.writeErr(ctx, "create", err, v, "")
	}
	return formatID(id), nil
}

// Update writes v to the role with id.
func (m *RoleModel) Update(ctx context.Context, id string, v datamodel.Values) error {
	return m.update(ctx, id, nil, v)
}

// UpdateIf writes v to the role with id if it still has version, read and
// written in one transaction.
func (m *RoleModel) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	return m.update(ctx, id, &version, v)
}

func (m *RoleModel) update(ctx context.Context, id string, version *string, v datamodel.Values) error {
	n, ok := parseID(id)
	if !ok {
		return datamodel.ErrNotFound
	}
	row, err := m.base.row(m.plain(v))
	if err != nil {
		return err
	}
	invalidateCounts()
	defer invalidateCounts()
	err = m.base.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockAccounts(tx); err != nil {
			return err
		}
		cur, err := m.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if version != nil && m.decl.Version(cur) != *version {
			if m.decl.Holds(cur, v) {
				return errUnchanged
			}
			return datamodel.ErrStale
		}
		name := m.nameOf(cur)
		if slices.Contains(builtinRoles, name) {
			if newName, ok := v[nameField].(string); ok && newName != name {
				return &datamodel.RefusedError{Field: nameField, Message: fmt.Sprintf("The built-in role %s keeps its name.", name)}
			}
		}
		if len(row) > 0 {
			if err := tx.Model(&Role{}).Where("id = ?", n).Updates(row).Error; err != nil {
				return err
			}
		}
		// Admin holds every permission by its name: its rows are not
		// written.
		if want, set := v[m.perms.Name]; set && name != access.AdminRole {
			perms, err := m.permissionIDs(ctx, tx, want)
			if err != nil {
				return err
			}
			if err := tx.Where("role_id = ?", n).Delete(&RolePermission{}).Error; err != nil {
				return err
			}
			if err := grant(tx, n, perms); err != nil {
				return err
			}
		}
		return m.recordNow(ctx, tx, audit.ActionUpdate, &cur, id)
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return m.writeErr(ctx, "update", err, v, id)
	}
	return nil
}

// recordNow records action on the role with id as tx reads it now,
// against old.
func (m *RoleModel) recordNow(ctx context.Context, tx *gorm.DB, action string, old *datamodel.Record, id string) error {
	if _, ok := audit.From(ctx); !ok {
		return nil
	}
	rec, err := m.get(ctx, tx, id)
	if err != nil {
		return fmt.Errorf("store: read role %s back for the audit log: %w", id, err)
	}
	return record(ctx, tx, &m.decl, action, old, &rec)
}

// Delete removes the role with id; a built-in role is refused.
func (m *RoleModel) Delete(ctx context.Context, id string) error {
	return deleteOne(ctx, id, m.remove)
}

// DeleteMany removes the roles with ids in one transaction, or none of
// them when one is built in.
func (m *RoleModel) DeleteMany(ctx context.Context, ids []string) (int, error) {
	ns := parseIDs(ids)
	if len(ns) == 0 {
		return 0, nil
	}
	return m.remove(ctx, ns)
}

// remove deletes the roles with ids: the users who held them lose them,
// and so their sessions.
func (m *RoleModel) remove(ctx context.Context, ids []int64) (int, error) {
	var removed int64
	invalidateCounts()
	defer invalidateCounts()
	err := m.base.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockAccounts(tx); err != nil {
			return err
		}
		var names []string
		if err := tx.Model(&Role{}).Where("id IN ? AND name IN ?", ids, builtinRoles).Pluck("name", &names).Error; err != nil {
			return err
		}
		if len(names) > 0 {
			return &datamodel.RefusedError{Message: fmt.Sprintf("The built-in role %s cannot be deleted.", names[0])}
		}
		// Their holders lose the role: their logins end.
		err := tx.Exec("DELETE FROM user_sessions WHERE user_id IN (SELECT user_id FROM user_roles WHERE role_id IN ?)", ids).Error
		if err != nil {
			return err
		}
		var olds []datamodel.Record
		if _, ok := audit.From(ctx); ok {
			for _, id := range ids {
				rec, err := m.get(ctx, tx, formatID(id))
				if errors.Is(err, datamodel.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				olds = append(olds, rec)
			}
		}
		res := tx.Delete(&Role{}, ids)
		if res.Error != nil {
			return res.Error
		}
		removed = res.RowsAffected
		for i := range olds {
			if err := record(ctx, tx, &m.decl, audit.ActionDelete, &olds[i], nil); err != nil {
				return err
			}
		}
		return nil
	})
	var refused *datamodel.RefusedError
	if errors.As(err, &refused) {
		return 0, err
	}
	if err != nil {
		return 0, m.base.translate("delete", err)
	}
	return int(removed), nil
}

// deleteOne removes the record with id through remove, the model's delete
// of several: datamodel.ErrNotFound when it removed none.
func deleteOne(ctx context.Context, id string, remove func(ctx context.Context, ids []int64) (int, error)) error {
	n, ok := parseID(id)
	if !ok {
		return datamodel.ErrNotFound
	}
	removed, err := remove(ctx, []int64{n})
	if err != nil {
		return err
	}
	if removed == 0 {
		return datamodel.ErrNotFound
	}
	return nil
}
