package mongostore

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/access"
)

// Permissions on MongoDB: the catalogue of permissions is a collection,
// the documents of the permissions model (accounts.PermissionSchema),
//
//	permissions { _id: ObjectId, name, view_name, label }
//
// where label is the permission as people read it ("can list on
// songsview"), and a role holds its permissions as a set, the array of
// their ObjectIds: roles { _id, name, permissions: [ObjectId…] }.
const (
	permissionsColl  = "permissions"
	ixPermissionView = "ux_permissions_view_name"
)

var _ access.Store = (*Accounts)(nil)

// permDoc is a document of permissions.
type permDoc struct {
	ID    bson.ObjectID `bson:"_id"`
	Name  string        `bson:"name"`
	View  string        `bson:"view_name"`
	Label string        `bson:"label"`
}

func (d permDoc) permission() access.Permission { return access.On(d.View, d.Name) }

func (a *Accounts) permissions() *mongo.Collection {
	return a.users.Database().Collection(permissionsColl)
}

// allPermissions reads every permission document, by permission and by id:
// a few dozen documents.
func (a *Accounts) allPermissions(ctx context.Context) (map[access.Permission]bson.ObjectID, map[bson.ObjectID]access.Permission, error) {
	cur, err := a.permissions().Find(ctx, bson.D{}, options.Find().SetHint(idIndex))
	if err != nil {
		return nil, nil, translate("find permissions", err)
	}
	var docs []permDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, nil, translate("read permissions", err)
	}
	ids := make(map[access.Permission]bson.ObjectID, len(docs))
	byID := make(map[bson.ObjectID]access.Permission, len(docs))
	for _, d := range docs {
		ids[d.permission()], byID[d.ID] = d.ID, d.permission()
	}
	return ids, byID, nil
}

// ensurePermissions returns the ids of every permission document, with
// those of perms it lacked inserted first (view_name, name and label), and
// which of perms it inserted. An insert that meets the unique index is
// another writer's insert of the same permission: its document is read.
func (a *Accounts) ensurePermissions(ctx context.Context, perms []access.Permission) (map[access.Permission]bson.ObjectID, map[access.Permission]bool, error) {
	ids, _, err := a.allPermissions(ctx)
	if err != nil {
		return nil, nil, err
	}
	fresh := map[access.Permission]bool{}
	raced := false
	for _, p := range perms {
		if _, ok := ids[p]; ok {
			continue
		}
		oid := bson.NewObjectID()
		_, err := a.permissions().InsertOne(ctx, permDoc{ID: oid, Name: p.Name, View: p.View, Label: p.String()})
		switch {
		case err == nil:
			ids[p], fresh[p] = oid, true
		case refusedByServer(err):
			raced = true
		default:
			return nil, nil, translate("create permission", err)
		}
	}
	if raced {
		if ids, _, err = a.allPermissions(ctx); err != nil {
			return nil, nil, err
		}
		for _, p := range perms {
			if _, ok := ids[p]; !ok {
				return nil, nil, translate("create permission "+p.Key(), errors.New("refused, and no other writer made it"))
			}
		}
	}
	return ids, fresh, nil
}

// UserGrants implements access.Store: the user's role ids, their roles,
// then the permissions those hold.
func (a *Accounts) UserGrants(ctx context.Context, userID string) ([]string, []access.Permission, error) {
	uid, err := parseUserID(userID)
	if err != nil {
		return nil, nil, err
	}
	var u struct {
		Roles []bson.ObjectID `bson:"roles"`
	}
	err = a.users.FindOne(ctx, bson.D{{Key: "_id", Value: uid}},
		options.FindOne().SetHint(idIndex).SetProjection(bson.D{{Key: "roles", Value: 1}})).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) || err == nil && len(u.Roles) == 0 {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, translate("find user roles", err)
	}
	cur, err := a.roles.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: u.Roles}}}},
		options.Find().SetHint(idIndex).SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, nil, translate("find roles", err)
	}
	var docs []struct {
		Name        string          `bson:"name"`
		Permissions []bson.ObjectID `bson:"permissions"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, nil, translate("read roles", err)
	}
	var roles []string
	var held bson.A
	for _, d := range docs {
		roles = append(roles, d.Name)
		if d.Name == access.AdminRole {
			continue // it holds every permission by its name
		}
		for _, p := range d.Permissions {
			held = append(held, p)
		}
	}
	if len(held) == 0 {
		return roles, nil, nil
	}
	cur, err = a.permissions().Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: held}}}},
		options.Find().SetHint(idIndex))
	if err != nil {
		return nil, nil, translate("find permissions", err)
	}
	var perms []permDoc
	if err := cur.All(ctx, &perms); err != nil {
		return nil, nil, translate("read permissions", err)
	}
	out := make([]access.Permission, len(perms))
	for i, p := range perms {
		out[i] = p.permission()
	}
	return roles, out, nil
}

// SyncPermissions implements access.Store: the built-in roles, a document
// for each permission of perms, Admin granted every permission, ReadOnly
// those of readOnly that are new (or all, when ReadOnly is). Each write is
// idempotent (inserts that meet the unique index are read instead, grants
// are $addToSet), so two instances starting at once, or a start
// interrupted half way, end in the same state once one start completes.
func (a *Accounts) SyncPermissions(ctx context.Context, perms, readOnly []access.Permission) error {
	roCreated, err := a.roleMissing(ctx, access.ReadOnlyRole)
	if err != nil {
		return err
	}
	adminID, err := a.roleID(ctx, access.AdminRole)
	if err != nil {
		return err
	}
	roID, err := a.roleID(ctx, access.ReadOnlyRole)
	if err != nil {
		return err
	}
	ids, fresh, err := a.ensurePermissions(ctx, perms)
	if err != nil {
		return err
	}
	// Admin's set holds every permission, so its role page lists them;
	// the check itself goes by the role's name.
	all := make(bson.A, 0, len(ids))
	for _, id := range ids {
		all = append(all, id)
	}
	if err := a.grant(ctx, adminID, all); err != nil {
		return err
	}
	var ro bson.A
	for _, p := range readOnly {
		if id, ok := ids[p]; ok && (fresh[p] || roCreated) {
			ro = append(ro, id)
		}
	}
	return a.grant(ctx, roID, ro)
}

// grant adds the permissions with ids to the set of the role.
func (a *Accounts) grant(ctx context.Context, role bson.ObjectID, ids bson.A) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := a.roles.UpdateOne(ctx, bson.D{{Key: "_id", Value: role}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "permissions", Value: bson.D{{Key: "$each", Value: ids}}}}}},
		options.UpdateOne().SetHint(idIndex))
	if err != nil {
		return translate("grant permissions", err)
	}
	return nil
}

// roleMissing reports whether no role is named name.
func (a *Accounts) roleMissing(ctx context.Context, name string) (bool, error) {
	err := a.roles.FindOne(ctx, bson.D{{Key: "name", Value: name}},
		options.FindOne().SetHint(ixRoleName).SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return true, nil
	}
	if err != nil {
		return false, translate("find role", err)
	}
	return false, nil
}
