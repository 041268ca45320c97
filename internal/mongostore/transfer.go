package mongostore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
)

// What app dump and app load need of the accounts beyond auth.Store, as on
// SQL (store.Accounts): every role and user as stored, and writing them
// back. Users and roles are few, so they are read whole.

// ExportRoles returns every role, in _id order.
func (a *Accounts) ExportRoles(ctx context.Context) ([]auth.Role, error) {
	cur, err := a.roles.Find(ctx, bson.D{}, options.Find().SetHint(idIndex).SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate("export roles", err)
	}
	var docs []struct {
		ID   bson.ObjectID `bson:"_id"`
		Name string        `bson:"name"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("export roles", err)
	}
	out := make([]auth.Role, len(docs))
	for i, d := range docs {
		out[i] = auth.Role{ID: d.ID.Hex(), Name: d.Name}
	}
	return out, nil
}

// ExportAccounts calls fn with every user, in _id order.
func (a *Accounts) ExportAccounts(ctx context.Context, fn func(auth.Account) error) error {
	cur, err := a.users.Find(ctx, bson.D{}, options.Find().SetHint(idIndex).SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return translate("export users", err)
	}
	var docs []userDoc
	if err := cur.All(ctx, &docs); err != nil {
		return translate("export users", err)
	}
	for _, d := range docs {
		acc := auth.Account{User: d.toAuth(), RoleIDs: make([]string, len(d.Roles)), CreatedAt: d.CreatedAt.UTC()}
		for i, r := range d.Roles {
			acc.RoleIDs[i] = r.Hex()
		}
		if err := fn(acc); err != nil {
			return err
		}
	}
	return nil
}

// RolesPerUser is 0, no limit: a user document holds a list of roles.
func (a *Accounts) RolesPerUser() int { return 0 }

// ImportRole returns the id of the role named name, creating it when the
// database has none by that name (create-db's built-in roles are kept).
func (a *Accounts) ImportRole(ctx context.Context, name string) (string, error) {
	id, err := a.roleID(ctx, name)
	if err != nil {
		return "", err
	}
	return id.Hex(), nil
}

// ImportAccount stores acc as it is (hash, active flag, creation time to
// the millisecond, which is what a BSON date keeps) with its roles, ids of
// this database, and returns the new user's id. A taken username is
// auth.ErrUserExists.
func (a *Accounts) ImportAccount(ctx context.Context, acc auth.Account) (string, error) {
	roles := make([]bson.ObjectID, len(acc.RoleIDs))
	for i, id := range acc.RoleIDs {
		oid, ok := parseID(id)
		if !ok {
			return "", fmt.Errorf("mongostore: user %q: role id %q is not this database's", acc.Username, id)
		}
		roles[i] = oid
	}
	doc := userDoc{ID: bson.NewObjectID(), Username: acc.Username, FirstName: acc.FirstName, LastName: acc.LastName,
		Email: acc.Email, PasswordHash: acc.PasswordHash, Active: acc.Active, Roles: roles, CreatedAt: acc.CreatedAt,
		Language: acc.Language, TimeZone: acc.TimeZone}
	if _, err := a.users.InsertOne(ctx, doc); err != nil {
		if refusedByServer(err) {
			if _, ferr := a.UserByUsername(ctx, acc.Username); ferr == nil {
				return "", auth.ErrUserExists
			}
		}
		return "", translate("import user", err)
	}
	return doc.ID.Hex(), nil
}

// ExportRolePermissions returns the permissions each role holds, by role
// id, each list in access.Compare order.
func (a *Accounts) ExportRolePermissions(ctx context.Context) (map[string][]access.Permission, error) {
	_, byID, err := a.allPermissions(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := a.roles.Find(ctx, bson.D{}, options.Find().SetHint(idIndex).
		SetProjection(bson.D{{Key: "permissions", Value: 1}}))
	if err != nil {
		return nil, translate("export role permissions", err)
	}
	var docs []struct {
		ID          bson.ObjectID   `bson:"_id"`
		Permissions []bson.ObjectID `bson:"permissions"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("export role permissions", err)
	}
	out := map[string][]access.Permission{}
	for _, d := range docs {
		var perms []access.Permission
		for _, id := range d.Permissions {
			if p, ok := byID[id]; ok { // one deleted meanwhile is none
				perms = append(perms, p)
			}
		}
		if len(perms) == 0 {
			continue
		}
		slices.SortFunc(perms, access.Compare)
		out[d.ID.Hex()] = slices.Compact(perms)
	}
	return out, nil
}

// ImportPermissions makes the role with id roleID hold, on each view of
// views, exactly the permissions of perms (all of which are on those
// views), adding the documents the permissions collection does not have
// yet; its permissions on other views stay. The role's set is read, then
// written: a load is the database's only writer.
func (a *Accounts) ImportPermissions(ctx context.Context, roleID string, perms []access.Permission, views []string) error {
	rid, ok := parseID(roleID)
	if !ok {
		return fmt.Errorf("mongostore: role id %q is not this database's", roleID)
	}
	ids, _, err := a.ensurePermissions(ctx, perms)
	if err != nil {
		return err
	}
	byID := make(map[bson.ObjectID]access.Permission, len(ids))
	for p, id := range ids {
		byID[id] = p
	}
	var role struct {
		Permissions []bson.ObjectID `bson:"permissions"`
	}
	err = a.roles.FindOne(ctx, bson.D{{Key: "_id", Value: rid}},
		options.FindOne().SetHint(idIndex).SetProjection(bson.D{{Key: "permissions", Value: 1}})).Decode(&role)
	if err != nil {
		return translate("find role", err)
	}
	held := make([]bson.ObjectID, 0, len(role.Permissions)+len(perms))
	for _, id := range role.Permissions {
		if p, ok := byID[id]; ok && !slices.Contains(views, p.View) {
			held = append(held, id)
		}
	}
	for _, p := range perms {
		held = append(held, ids[p])
	}
	// Sorted and each once, as the roles model writes a set.
	slices.SortFunc(held, func(x, y bson.ObjectID) int { return bytes.Compare(x[:], y[:]) })
	held = slices.Compact(held)
	_, err = a.roles.UpdateOne(ctx, bson.D{{Key: "_id", Value: rid}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "permissions", Value: held}}}}, options.UpdateOne().SetHint(idIndex))
	if err != nil {
		return translate("grant permissions", err)
	}
	return nil
}

// ImportEntries appends entries to the audit log as they are (their time,
// user, action, view, record and changes), in their order, with one
// ordered insertMany, and returns how many it wrote: all, or those before
// the one that failed. Nothing is undone: the log is append-only.
//
// The _ids ascend in the entries' order, so that the log's order (by _id,
// as Each and the list's ties read it) is the file's. bson.NewObjectID
// alone does not promise that: its counter starts at random and wraps
// every 2^24 ids, and two ids of the same second either side of the wrap
// would sort backwards. So the first _id of a batch is a new one, and the
// others count up from it in its last eight bytes. One load at a time: it
// is the database's only writer.
func (l *AuditLog) ImportEntries(ctx context.Context, entries []audit.Entry) (int, error) {
	docs := make([]any, len(entries))
	id := l.nextImportID()
	for i, e := range entries {
		doc, err := auditDoc(id, e)
		if err != nil {
			return 0, err
		}
		docs[i] = doc
		id = succ(id)
	}
	l.lastImport = id
	if len(docs) == 0 {
		return 0, nil
	}
	_, err := l.st.db.Collection(auditColl).InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	if err != nil {
		written := 0
		var bwe mongo.BulkWriteException
		if errors.As(err, &bwe) && len(bwe.WriteErrors) > 0 {
			written = bwe.WriteErrors[0].Index
		}
		return written, translate("import audit entries", err)
	}
	return len(docs), nil
}

// nextImportID returns the first _id of a batch of ImportEntries: after
// the last batch's, and never before now's second.
func (l *AuditLog) nextImportID() bson.ObjectID {
	fresh := bson.NewObjectID()
	if l.lastImport.IsZero() || l.lastImport.Timestamp().Before(time.Unix(fresh.Timestamp().Unix(), 0)) {
		return fresh
	}
	return l.lastImport
}

// succ returns the ObjectId after id: its last eight bytes, read as a
// big-endian number, plus one (the first four, the time, stay).
func succ(id bson.ObjectID) bson.ObjectID {
	n := binary.BigEndian.Uint64(id[4:]) + 1
	binary.BigEndian.PutUint64(id[4:], n)
	return id
}
