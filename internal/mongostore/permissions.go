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
//
//	permissions { _id: ObjectId, name, view }
//
// and a role holds its permissions by value, { name, view } pairs in its
// permissions array, so one find of the user's roles tells what they may
// do, with no join.
const (
	permissionsColl  = "permissions"
	ixPermissionView = "ux_permissions_view_name"
)

var _ access.Store = (*Accounts)(nil)

// permDoc is a permission as roles hold it.
type permDoc struct {
	Name string `bson:"name"`
	View string `bson:"view"`
}

func (a *Accounts) permissions() *mongo.Collection {
	return a.users.Database().Collection(permissionsColl)
}

// UserGrants implements access.Store: the user's role ids, then their
// roles.
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
		Name        string    `bson:"name"`
		Permissions []permDoc `bson:"permissions"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, nil, translate("read roles", err)
	}
	var roles []string
	var perms []access.Permission
	for _, d := range docs {
		roles = append(roles, d.Name)
		for _, p := range d.Permissions {
			perms = append(perms, access.Permission{Name: p.Name, View: p.View})
		}
	}
	return roles, perms, nil
}

// SyncPermissions implements access.Store. Each write is idempotent
// (inserts that meet the unique index are skipped, grants are $addToSet),
// so two instances starting at once, or a start interrupted half way, end
// in the same state once one start completes.
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
	cur, err := a.permissions().Find(ctx, bson.D{}, options.Find().SetHint(idIndex))
	if err != nil {
		return translate("find permissions", err)
	}
	var existing []permDoc
	if err := cur.All(ctx, &existing); err != nil {
		return translate("read permissions", err)
	}
	have := map[access.Permission]bool{}
	for _, p := range existing {
		have[access.Permission{Name: p.Name, View: p.View}] = true
	}
	fresh := map[access.Permission]bool{}
	all := make(bson.A, 0, len(perms))
	for _, p := range perms {
		all = append(all, permDoc{Name: p.Name, View: p.View})
		if have[p] {
			continue
		}
		_, err := a.permissions().InsertOne(ctx, bson.D{{Key: "_id", Value: bson.NewObjectID()},
			{Key: "name", Value: p.Name}, {Key: "view", Value: p.View}})
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return translate("create permission", err)
		}
		fresh[p] = true
	}
	grant := func(role bson.ObjectID, list bson.A) error {
		if len(list) == 0 {
			return nil
		}
		_, err := a.roles.UpdateOne(ctx, bson.D{{Key: "_id", Value: role}},
			bson.D{{Key: "$addToSet", Value: bson.D{{Key: "permissions", Value: bson.D{{Key: "$each", Value: list}}}}}},
			options.UpdateOne().SetHint(idIndex))
		if err != nil {
			return translate("grant permissions", err)
		}
		return nil
	}
	if err := grant(adminID, all); err != nil {
		return err
	}
	var ro bson.A
	for _, p := range readOnly {
		if fresh[p] || roCreated {
			ro = append(ro, permDoc{Name: p.Name, View: p.View})
		}
	}
	return grant(roID, ro)
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
