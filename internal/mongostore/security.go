package mongostore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// Users and roles as models of the datamodel seam, over the documents
// Accounts keeps (accounts.go, permissions.go), as the SQL store's
// UserModel and RoleModel are over its tables: their plain fields are
// read through a Model declared with DeclareIndexed (lists, filters, sorts,
// exports); a user's roles (the ObjectIds of their roles array) and a
// role's permissions (its {name, view} pairs, whose option ids are
// permission keys) are read and written here, and a user's password is
// written as its hash into password_hash, never read.
//
// The rules are the SQL store's: the last active Admin stays, the built-in
// roles keep their names and are never deleted, Admin's permissions are
// all of them by its name, and deactivating a user, taking a role from
// them, deleting a role they hold or changing their password removes their
// sessions. Without transactions (FerretDB, a standalone server), the
// writes of users and roles take turns under one lock of this process
// (Store.accountsMu), and each checks the Admin rule on the documents as
// they are under it before it writes. Two app instances on one MongoDB
// server do not share that lock: two Admins each deactivating the other at
// the same moment through two instances could both pass. The writes are
// ordered so that a failure midway leaves the safer state: sessions are
// removed after the write that ends them is made, and a role's holders
// lose it before it is deleted.

// builtinRoles are the roles create-db makes, which keep their names.
var builtinRoles = []string{access.AdminRole, access.ReadOnlyRole}

// The document keys these models read by name: a user's active flag, a
// role's name.
const (
	activeKey = "active"
	nameKey   = "name"
)

// Refusals, as on SQL.
const (
	msgLastAdminUpdate = "This is the last active Admin: make another user an active Admin first, then deactivate this one or take its Admin role."
	msgLastAdminDelete = "The last active Admin cannot be deleted: make another user an active Admin first."
)

// UserModel is the users collection as a model.
type UserModel struct {
	base     *Model
	decl     datamodel.Schema
	roles    *datamodel.Field
	password *datamodel.Field
	acc      *Accounts
}

// RoleModel is the roles collection as a model.
type RoleModel struct {
	base  *Model
	decl  datamodel.Schema
	perms *datamodel.Field
	acc   *Accounts
}

var (
	_ datamodel.Interface = (*UserModel)(nil)
	_ datamodel.Interface = (*RoleModel)(nil)
)

// splitDecl returns decl without its Set and WriteOnly fields, which the
// base model does not read, and those fields.
func splitDecl(decl datamodel.Schema) (plain datamodel.Schema, sets, writeOnly []*datamodel.Field) {
	plain = decl
	plain.Fields = nil
	for i := range decl.Fields {
		f := &decl.Fields[i]
		switch {
		case f.SetOf() != "":
			sets = append(sets, f)
		case f.WriteOnly:
			writeOnly = append(writeOnly, f)
		default:
			plain.Fields = append(plain.Fields, *f)
		}
	}
	return plain, sets, writeOnly
}

// DeclareRoles declares the roles model decl on s, whose database holds
// Accounts' roles collection: decl.Name must be "roles", with one Set
// field, the permissions.
func (s *Store) DeclareRoles(decl datamodel.Schema) (*RoleModel, error) {
	plain, sets, writeOnly := splitDecl(decl)
	if decl.Name != rolesColl || len(sets) != 1 || len(writeOnly) != 0 || decl.Label != nameKey {
		return nil, fmt.Errorf("mongostore: model %s: the roles model is named %s, with a name and one set field (its permissions)", decl.Name, rolesColl)
	}
	base, err := s.DeclareIndexed(plain, fieldNames(plain), nil)
	if err != nil {
		return nil, err
	}
	m := &RoleModel{base: base, decl: decl, acc: NewAccounts(s.db)}
	m.perms = m.decl.Field(sets[0].Name)
	base.outer = m
	return m, nil
}

// DeclareUsers declares the users model decl on s: decl.Name must be
// "users", with an active flag, one Set field of the roles model (its
// roles) and one WriteOnly Password field.
func (s *Store) DeclareUsers(decl datamodel.Schema) (*UserModel, error) {
	plain, sets, writeOnly := splitDecl(decl)
	if decl.Name != usersColl || len(sets) != 1 || len(writeOnly) != 1 || decl.Field(activeKey) == nil {
		return nil, fmt.Errorf("mongostore: model %s: the users model is named %s, with an active flag, one set field (its roles) and one write-only field (its password)", decl.Name, usersColl)
	}
	if sets[0].SetOf() != rolesColl || s.models[rolesColl] == nil {
		return nil, fmt.Errorf("mongostore: model %s: set %q must be of the roles model, declared before it", decl.Name, sets[0].Name)
	}
	if _, ok := writeOnly[0].Kind.(datamodel.Password); !ok {
		return nil, fmt.Errorf("mongostore: model %s: write-only field %q is not a password", decl.Name, writeOnly[0].Name)
	}
	base, err := s.DeclareIndexed(plain, fieldNames(plain), nil)
	if err != nil {
		return nil, err
	}
	m := &UserModel{base: base, decl: decl, acc: NewAccounts(s.db)}
	m.roles, m.password = m.decl.Field(sets[0].Name), m.decl.Field(writeOnly[0].Name)
	base.outer = m
	return m, nil
}

// fieldNames names the fields of s: the users' and roles' lists filter
// by any of them. They are few documents: an index per field, and none per
// filter × sort pair (DeclareIndexed with no sorts), which a few hundred
// documents sorted in memory do not need and every write would pay for.
func fieldNames(s datamodel.Schema) []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

// oids parses the ids of a Set's value as ObjectIds; an id that cannot be
// one is an InvalidRefError of field.
func oids(field string, v any) ([]bson.ObjectID, error) {
	ids := datamodel.IDs(v)
	out := make([]bson.ObjectID, len(ids))
	for i, s := range ids {
		oid, ok := parseID(s)
		if !ok {
			return nil, &datamodel.InvalidRefError{Field: field}
		}
		out[i] = oid
	}
	return out, nil
}

// lockAccounts takes the turn of a write to users or roles.
func (s *Store) lockAccounts() (unlock func()) {
	s.accountsMu.Lock()
	return s.accountsMu.Unlock
}

// adminRoleID returns the _id of the Admin role, or NilObjectID when there
// is none.
func (a *Accounts) adminRoleID(ctx context.Context) (bson.ObjectID, error) {
	var r struct {
		ID bson.ObjectID `bson:"_id"`
	}
	err := a.roles.FindOne(ctx, bson.D{{Key: nameKey, Value: access.AdminRole}},
		options.FindOne().SetHint(ixRoleName).SetProjection(bson.D{{Key: "_id", Value: 1}})).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return bson.NilObjectID, nil
	}
	if err != nil {
		return bson.NilObjectID, translate("find the Admin role", err)
	}
	return r.ID, nil
}

// activeAdminsBut counts the active users holding the Admin role (admin)
// other than those in except.
func (a *Accounts) activeAdminsBut(ctx context.Context, admin bson.ObjectID, except []bson.ObjectID) (int64, error) {
	filter := bson.D{{Key: "roles", Value: admin}, {Key: activeKey, Value: true}}
	if len(except) > 0 {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$nin", Value: except}}})
	}
	n, err := a.users.CountDocuments(ctx, filter, options.Count().SetHint(ixUserRoles))
	if err != nil {
		return 0, translate("count the active Admins", err)
	}
	return n, nil
}

// endSessions removes every session of the users with ids.
func (a *Accounts) endSessions(ctx context.Context, ids []bson.ObjectID) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := a.sessions.DeleteMany(ctx, bson.D{{Key: "user_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.DeleteMany().SetHint(ixSessionsExpired))
	if err != nil {
		return translate("end sessions", err)
	}
	return nil
}

// existingRoles reports whether every id names a role.
func (a *Accounts) existingRoles(ctx context.Context, ids []bson.ObjectID) (bool, error) {
	if len(ids) == 0 {
		return true, nil
	}
	n, err := a.roles.CountDocuments(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Count().SetHint(idIndex))
	if err != nil {
		return false, translate("find roles", err)
	}
	return int(n) == len(ids), nil
}

// ---- users ----

// Schema returns the declaration.
func (m *UserModel) Schema() *datamodel.Schema { return &m.decl }

// ValidID accepts an ObjectId's hex.
func (m *UserModel) ValidID(id string) bool { return m.base.ValidID(id) }

// withRoles fills in the roles of recs: the users' role ids, then the
// roles' names, two finds for them all.
func (m *UserModel) withRoles(ctx context.Context, recs []datamodel.Record) error {
	if len(recs) == 0 {
		return nil
	}
	ids := make(bson.A, len(recs))
	for i, r := range recs {
		ids[i], _ = parseID(r.ID)
	}
	cur, err := m.acc.users.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetHint(idIndex).SetProjection(bson.D{{Key: "roles", Value: 1}}))
	if err != nil {
		return translate("read roles of users", err)
	}
	var docs []struct {
		ID    bson.ObjectID   `bson:"_id"`
		Roles []bson.ObjectID `bson:"roles"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return translate("read roles of users", err)
	}
	held := map[string][]bson.ObjectID{}
	var all bson.A
	for _, d := range docs {
		held[d.ID.Hex()] = d.Roles
		for _, r := range d.Roles {
			all = append(all, r)
		}
	}
	names := map[bson.ObjectID]string{}
	if len(all) > 0 {
		cur, err := m.acc.roles.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: all}}}},
			options.Find().SetHint(idIndex).SetProjection(bson.D{{Key: nameKey, Value: 1}}))
		if err != nil {
			return translate("read role names", err)
		}
		var roles []struct {
			ID   bson.ObjectID `bson:"_id"`
			Name string        `bson:"name"`
		}
		if err := cur.All(ctx, &roles); err != nil {
			return translate("read role names", err)
		}
		for _, r := range roles {
			names[r.ID] = r.Name
		}
	}
	for _, r := range recs {
		refs := []datamodel.Ref{}
		for _, oid := range held[r.ID] {
			if name, ok := names[oid]; ok { // a role deleted meanwhile is no role
				refs = append(refs, datamodel.Ref{ID: oid.Hex(), Label: name})
			}
		}
		// By name, as SQL orders them (byte order on every backend).
		slices.SortFunc(refs, func(a, b datamodel.Ref) int {
			return cmp.Or(strings.Compare(a.Label, b.Label), strings.Compare(a.ID, b.ID))
		})
		r.Values[m.roles.Name] = refs
	}
	return nil
}

// Get returns the user with id, or datamodel.ErrNotFound.
func (m *UserModel) Get(ctx context.Context, id string) (datamodel.Record, error) {
	rec, err := m.base.Get(ctx, id)
	if err != nil {
		return rec, err
	}
	return rec, m.withRoles(ctx, []datamodel.Record{rec})
}

// List returns a page of users, with their roles.
func (m *UserModel) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	page, err := m.base.List(ctx, q)
	if err != nil {
		return page, err
	}
	return page, m.withRoles(ctx, page.Records)
}

// Each calls fn with every user matching q, with their roles.
func (m *UserModel) Each(ctx context.Context, q datamodel.Query, fn func(datamodel.Record) error) error {
	return eachFilled(ctx, q, m.base.Each, func(recs []datamodel.Record) error { return m.withRoles(ctx, recs) }, fn)
}

// eachFilled is Each of a model whose records need a value filled in by
// further reads (fill), made per batch of records rather than per record.
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
	cur, err := m.acc.roles.Find(ctx, bson.D{}, options.Find().SetHint(ixRoleName).
		SetSort(bson.D{{Key: nameKey, Value: 1}}).SetProjection(bson.D{{Key: nameKey, Value: 1}}))
	if err != nil {
		return nil, translate("choices of roles", err)
	}
	var docs []struct {
		ID   bson.ObjectID `bson:"_id"`
		Name string        `bson:"name"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("choices of roles", err)
	}
	out := make([]datamodel.Ref, len(docs))
	for i, d := range docs {
		out[i] = datamodel.Ref{ID: d.ID.Hex(), Label: d.Name}
	}
	return out, nil
}

// plain returns the values of v the base model holds, and the password's
// hash; a password not hashed is refused.
func (m *UserModel) plain(v datamodel.Values) (datamodel.Values, string, error) {
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
			return nil, "", fmt.Errorf("mongostore: %s: a password is stored as its hash, never as typed", m.decl.Name)
		}
		hash = string(h)
	}
	return out, hash, nil
}

// Create stores a new user with their roles and password hash and returns
// its id.
func (m *UserModel) Create(ctx context.Context, v datamodel.Values) (string, error) {
	plain, hash, err := m.plain(v)
	if err != nil {
		return "", err
	}
	if hash == "" {
		return "", fmt.Errorf("mongostore: %s: a new user needs a password hash", m.decl.Name)
	}
	roles, err := oids(m.roles.Name, v[m.roles.Name])
	if err != nil {
		return "", err
	}
	fields, err := m.base.fields(plain, true)
	if err != nil {
		return "", err
	}
	defer m.base.st.lockAccounts()()
	if ok, err := m.acc.existingRoles(ctx, roles); err != nil || !ok {
		if err == nil {
			err = &datamodel.InvalidRefError{Field: m.roles.Name}
		}
		return "", err
	}
	oid := bson.NewObjectID()
	doc := append(bson.D{{Key: "_id", Value: oid}}, fields...)
	doc = append(doc, bson.E{Key: "password_hash", Value: hash}, bson.E{Key: "roles", Value: roles},
		bson.E{Key: "created_at", Value: time.Now()})
	m.base.st.invalidateMarks()
	defer m.base.st.invalidateMarks()
	err = m.base.audited(ctx, audit.ActionCreate, oid, nil, func() error {
		if _, err := m.acc.users.InsertOne(ctx, doc); err != nil {
			return m.base.translateWrite(ctx, "create", err, v, "")
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return oid.Hex(), nil
}

// Update writes v to the user with id.
func (m *UserModel) Update(ctx context.Context, id string, v datamodel.Values) error {
	return m.update(ctx, id, nil, v)
}

// UpdateIf writes v to the user with id if it still has version: checked
// and written in the turn of the writes of users and roles.
func (m *UserModel) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	return m.update(ctx, id, &version, v)
}

func (m *UserModel) update(ctx context.Context, id string, version *string, v datamodel.Values) error {
	oid, ok := parseID(id)
	if !ok {
		return datamodel.ErrNotFound
	}
	plain, hash, err := m.plain(v)
	if err != nil {
		return err
	}
	_, setRoles := v[m.roles.Name]
	roles, err := oids(m.roles.Name, v[m.roles.Name])
	if err != nil {
		return err
	}
	fields, err := m.base.fields(plain, false)
	if err != nil {
		return err
	}
	defer m.base.st.lockAccounts()()
	cur, err := m.Get(ctx, id)
	if err != nil {
		return err
	}
	if version != nil && m.decl.Version(cur) != *version {
		if m.decl.Holds(cur, v) {
			return nil
		}
		return datamodel.ErrStale
	}
	held := datamodel.IDs(cur.Values[m.roles.Name])
	if setRoles {
		if ok, err := m.acc.existingRoles(ctx, roles); err != nil || !ok {
			if err == nil {
				err = &datamodel.InvalidRefError{Field: m.roles.Name}
			}
			return err
		}
		fields = append(fields, bson.E{Key: "roles", Value: roles})
	} else {
		roles, _ = oids(m.roles.Name, cur.Values[m.roles.Name])
	}
	if hash != "" {
		fields = append(fields, bson.E{Key: "password_hash", Value: hash})
	}
	wasActive, _ := cur.Values[activeKey].(bool)
	active := wasActive
	if a, ok := v[activeKey].(bool); ok {
		active = a
	}
	admin, err := m.acc.adminRoleID(ctx)
	if err != nil {
		return err
	}
	wasAdmin := wasActive && slices.Contains(held, admin.Hex())
	if wasAdmin && !(active && slices.Contains(roles, admin)) {
		others, err := m.acc.activeAdminsBut(ctx, admin, []bson.ObjectID{oid})
		if err != nil {
			return err
		}
		if others == 0 {
			field := m.roles.Name
			if !active {
				field = activeKey
			}
			return &datamodel.RefusedError{Field: field, Message: msgLastAdminUpdate}
		}
	}
	if len(fields) == 0 {
		return nil
	}
	m.base.st.invalidateMarks()
	defer m.base.st.invalidateMarks()
	err = m.base.audited(ctx, audit.ActionUpdate, oid, fields, func() error {
		res, err := m.acc.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: fields}},
			options.UpdateOne().SetHint(idIndex))
		if err != nil {
			return m.base.translateWrite(ctx, "update", err, v, id)
		}
		if res.MatchedCount == 0 {
			return datamodel.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return err
	}
	dropped := false
	for _, h := range held {
		if !slices.ContainsFunc(roles, func(r bson.ObjectID) bool { return r.Hex() == h }) {
			dropped = true
		}
	}
	if hash != "" || dropped || wasActive && !active {
		return m.acc.endSessions(ctx, []bson.ObjectID{oid})
	}
	return nil
}

// SetPassword stores hash as the password hash of the user with id, then
// ends every session of theirs; ErrNotFound when no user has id.
func (m *UserModel) SetPassword(ctx context.Context, id string, hash datamodel.Hash) error {
	oid, ok := parseID(id)
	if !ok || hash == "" {
		return datamodel.ErrNotFound
	}
	defer m.base.st.lockAccounts()()
	set := bson.D{{Key: "password_hash", Value: string(hash)}}
	err := m.base.audited(ctx, audit.ActionPassword, oid, set, func() error {
		res, err := m.acc.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: set}},
			options.UpdateOne().SetHint(idIndex))
		if err != nil {
			return translate("set the password of a user", err)
		}
		if res.MatchedCount == 0 {
			return datamodel.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The sessions are bound to the hash (auth's tag) and end with it
	// already; removing them keeps no dead session behind.
	return m.acc.endSessions(ctx, []bson.ObjectID{oid})
}

// Delete removes the user with id and their sessions, unless they are the
// last active Admin.
func (m *UserModel) Delete(ctx context.Context, id string) error {
	return deleteOne(ctx, id, m.remove)
}

// DeleteMany removes the users with ids and their sessions, or none of
// them when that would leave no active Admin.
func (m *UserModel) DeleteMany(ctx context.Context, ids []string) (int, error) {
	list := uniqueIDs(ids)
	if len(list) == 0 {
		return 0, nil
	}
	return m.remove(ctx, list)
}

func (m *UserModel) remove(ctx context.Context, ids []bson.ObjectID) (int, error) {
	defer m.base.st.lockAccounts()()
	admin, err := m.acc.adminRoleID(ctx)
	if err != nil {
		return 0, err
	}
	all, err := m.acc.activeAdminsBut(ctx, admin, nil)
	if err != nil {
		return 0, err
	}
	if all > 0 {
		left, err := m.acc.activeAdminsBut(ctx, admin, ids)
		if err != nil {
			return 0, err
		}
		if left == 0 {
			return 0, &datamodel.RefusedError{Message: msgLastAdminDelete}
		}
	}
	m.base.st.invalidateMarks()
	defer m.base.st.invalidateMarks()
	var deleted int
	err = m.base.auditedMany(ctx, ids, func() error {
		res, err := m.acc.users.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
			options.DeleteMany().SetHint(idIndex))
		if err != nil {
			return translate("delete users", err)
		}
		deleted = int(res.DeletedCount)
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := m.acc.endSessions(ctx, ids); err != nil {
		return 0, err
	}
	return deleted, nil
}

// ---- roles ----

// Schema returns the declaration.
func (m *RoleModel) Schema() *datamodel.Schema { return &m.decl }

// ValidID accepts an ObjectId's hex.
func (m *RoleModel) ValidID(id string) bool { return m.base.ValidID(id) }

func permissionRef(p access.Permission) datamodel.Ref {
	return datamodel.Ref{ID: p.Key(), Label: p.String()}
}

// allPermissions returns every permission of the permissions collection,
// by view and then action.
func (a *Accounts) allPermissions(ctx context.Context) ([]access.Permission, error) {
	cur, err := a.permissions().Find(ctx, bson.D{}, options.Find().SetHint(ixPermissionView).
		SetSort(bson.D{{Key: "view", Value: 1}, {Key: "name", Value: 1}}))
	if err != nil {
		return nil, translate("read permissions", err)
	}
	var docs []permDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("read permissions", err)
	}
	out := make([]access.Permission, len(docs))
	for i, d := range docs {
		out[i] = access.Permission{Name: d.Name, View: d.View}
	}
	return out, nil
}

func (m *RoleModel) nameOf(rec datamodel.Record) string {
	s, _ := rec.Values[nameKey].(string)
	return s
}

// withPermissions fills in the permissions of recs: one find for them all,
// and for the Admin role every permission.
func (m *RoleModel) withPermissions(ctx context.Context, recs []datamodel.Record) error {
	if len(recs) == 0 {
		return nil
	}
	ids := make(bson.A, len(recs))
	for i, r := range recs {
		ids[i], _ = parseID(r.ID)
	}
	cur, err := m.acc.roles.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetHint(idIndex).SetProjection(bson.D{{Key: "permissions", Value: 1}}))
	if err != nil {
		return translate("read permissions of roles", err)
	}
	var docs []struct {
		ID          bson.ObjectID `bson:"_id"`
		Permissions []permDoc     `bson:"permissions"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return translate("read permissions of roles", err)
	}
	held := map[string][]access.Permission{}
	for _, d := range docs {
		for _, p := range d.Permissions {
			held[d.ID.Hex()] = append(held[d.ID.Hex()], access.Permission{Name: p.Name, View: p.View})
		}
	}
	var all []access.Permission
	for _, r := range recs {
		perms := held[r.ID]
		if m.nameOf(r) == access.AdminRole {
			if all == nil {
				if all, err = m.acc.allPermissions(ctx); err != nil {
					return err
				}
			}
			perms = all
		}
		perms = slices.Clone(perms)
		slices.SortFunc(perms, access.Compare)
		perms = slices.Compact(perms)
		refs := make([]datamodel.Ref, len(perms))
		for i, p := range perms {
			refs[i] = permissionRef(p)
		}
		r.Values[m.perms.Name] = refs
	}
	return nil
}

// Get returns the role with id, or datamodel.ErrNotFound.
func (m *RoleModel) Get(ctx context.Context, id string) (datamodel.Record, error) {
	rec, err := m.base.Get(ctx, id)
	if err != nil {
		return rec, err
	}
	return rec, m.withPermissions(ctx, []datamodel.Record{rec})
}

// List returns a page of roles, with their permissions.
func (m *RoleModel) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	page, err := m.base.List(ctx, q)
	if err != nil {
		return page, err
	}
	return page, m.withPermissions(ctx, page.Records)
}

// Each calls fn with every role matching q, with its permissions.
func (m *RoleModel) Each(ctx context.Context, q datamodel.Query, fn func(datamodel.Record) error) error {
	return eachFilled(ctx, q, m.base.Each, func(recs []datamodel.Record) error { return m.withPermissions(ctx, recs) }, fn)
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
	all, err := m.acc.allPermissions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]datamodel.Ref, len(all))
	for i, p := range all {
		out[i] = permissionRef(p)
	}
	return out, nil
}

// permDocs returns the {name, view} pairs of the permission keys v's Set
// holds; a key the permissions collection does not hold is an
// InvalidRefError.
func (m *RoleModel) permDocs(ctx context.Context, v any) ([]permDoc, error) {
	keys := datamodel.IDs(v)
	out := make([]permDoc, 0, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	all, err := m.acc.allPermissions(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		p, ok := access.ParseKey(k)
		if !ok || !slices.Contains(all, p) {
			return nil, &datamodel.InvalidRefError{Field: m.perms.Name}
		}
		out = append(out, permDoc{Name: p.Name, View: p.View})
	}
	return out, nil
}

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
	fields, err := m.base.fields(m.plain(v), true)
	if err != nil {
		return "", err
	}
	defer m.base.st.lockAccounts()()
	perms, err := m.permDocs(ctx, v[m.perms.Name])
	if err != nil {
		return "", err
	}
	oid := bson.NewObjectID()
	doc := append(append(bson.D{{Key: "_id", Value: oid}}, fields...), bson.E{Key: "permissions", Value: perms})
	m.base.st.invalidateMarks()
	defer m.base.st.invalidateMarks()
	err = m.base.audited(ctx, audit.ActionCreate, oid, nil, func() error {
		if _, err := m.acc.roles.InsertOne(ctx, doc); err != nil {
			return m.base.translateWrite(ctx, "create", err, v, "")
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return oid.Hex(), nil
}

// Update writes v to the role with id.
func (m *RoleModel) Update(ctx context.Context, id string, v datamodel.Values) error {
	return m.update(ctx, id, nil, v)
}

// UpdateIf writes v to the role with id if it still has version.
func (m *RoleModel) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	return m.update(ctx, id, &version, v)
}

func (m *RoleModel) update(ctx context.Context, id string, version *string, v datamodel.Values) error {
	oid, ok := parseID(id)
	if !ok {
		return datamodel.ErrNotFound
	}
	fields, err := m.base.fields(m.plain(v), false)
	if err != nil {
		return err
	}
	defer m.base.st.lockAccounts()()
	cur, err := m.Get(ctx, id)
	if err != nil {
		return err
	}
	if version != nil && m.decl.Version(cur) != *version {
		if m.decl.Holds(cur, v) {
			return nil
		}
		return datamodel.ErrStale
	}
	name := m.nameOf(cur)
	if slices.Contains(builtinRoles, name) {
		if newName, ok := v[nameKey].(string); ok && newName != name {
			return &datamodel.RefusedError{Field: nameKey, Message: fmt.Sprintf("The built-in role %s keeps its name.", name)}
		}
	}
	if want, set := v[m.perms.Name]; set && name != access.AdminRole {
		perms, err := m.permDocs(ctx, want)
		if err != nil {
			return err
		}
		fields = append(fields, bson.E{Key: "permissions", Value: perms})
	}
	if len(fields) == 0 {
		return nil
	}
	m.base.st.invalidateMarks()
	defer m.base.st.invalidateMarks()
	return m.base.audited(ctx, audit.ActionUpdate, oid, fields, func() error {
		res, err := m.acc.roles.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: fields}},
			options.UpdateOne().SetHint(idIndex))
		if err != nil {
			return m.base.translateWrite(ctx, "update", err, v, id)
		}
		if res.MatchedCount == 0 {
			return datamodel.ErrNotFound
		}
		return nil
	})
}

// Delete removes the role with id; a built-in role is refused.
func (m *RoleModel) Delete(ctx context.Context, id string) error {
	return deleteOne(ctx, id, m.remove)
}

// DeleteMany removes the roles with ids, or none when one is built in.
func (m *RoleModel) DeleteMany(ctx context.Context, ids []string) (int, error) {
	list := uniqueIDs(ids)
	if len(list) == 0 {
		return 0, nil
	}
	return m.remove(ctx, list)
}

// remove deletes the roles with ids: their holders lose them first, and
// with them their sessions, then the roles go.
func (m *RoleModel) remove(ctx context.Context, ids []bson.ObjectID) (int, error) {
	defer m.base.st.lockAccounts()()
	n, err := m.acc.roles.CountDocuments(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}},
		{Key: nameKey, Value: bson.D{{Key: "$in", Value: builtinRoles}}}}, options.Count().SetHint(idIndex))
	if err != nil {
		return 0, translate("find built-in roles", err)
	}
	if n > 0 {
		return 0, &datamodel.RefusedError{Message: "The built-in roles Admin and ReadOnly cannot be deleted."}
	}
	holders := bson.D{{Key: "roles", Value: bson.D{{Key: "$in", Value: ids}}}}
	cur, err := m.acc.users.Find(ctx, holders, options.Find().SetHint(ixUserRoles).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, translate("find the holders of roles", err)
	}
	var users []struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := cur.All(ctx, &users); err != nil {
		return 0, translate("find the holders of roles", err)
	}
	m.base.st.invalidateMarks()
	defer m.base.st.invalidateMarks()
	if len(users) > 0 {
		_, err := m.acc.users.UpdateMany(ctx, holders,
			bson.D{{Key: "$pullAll", Value: bson.D{{Key: "roles", Value: ids}}}},
			options.UpdateMany().SetHint(ixUserRoles))
		if err != nil {
			return 0, translate("take roles from their holders", err)
		}
		held := make([]bson.ObjectID, len(users))
		for i, u := range users {
			held[i] = u.ID
		}
		if err := m.acc.endSessions(ctx, held); err != nil {
			return 0, err
		}
	}
	var deleted int
	err = m.base.auditedMany(ctx, ids, func() error {
		res, err := m.acc.roles.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
			options.DeleteMany().SetHint(idIndex))
		if err != nil {
			return translate("delete roles", err)
		}
		deleted = int(res.DeletedCount)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}

// deleteOne removes the document with id through remove, the model's
// delete of several: datamodel.ErrNotFound when it removed none.
func deleteOne(ctx context.Context, id string, remove func(ctx context.Context, ids []bson.ObjectID) (int, error)) error {
	oid, ok := parseID(id)
	if !ok {
		return datamodel.ErrNotFound
	}
	n, err := remove(ctx, []bson.ObjectID{oid})
	if err != nil {
		return err
	}
	if n == 0 {
		return datamodel.ErrNotFound
	}
	return nil
}

// uniqueIDs returns the ids that can be a document's, each once.
func uniqueIDs(ids []string) []bson.ObjectID {
	var list []bson.ObjectID
	for _, id := range ids {
		if oid, ok := parseID(id); ok && !slices.Contains(list, oid) {
			list = append(list, oid)
		}
	}
	return list
}
