package mongostore

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/access"
)

// UpgradePermissions turns the permissions of a database made before
// schema version 5 into those of the permissions model: each permission
// document's view becomes view_name and gains its label, the unique index
// on (view, name) goes (EnsureIndexes then makes it on (view_name, name)),
// and each role's {name, view} pairs become the ObjectIds of those
// permissions' documents (a pair with no document gets one). It is
// idempotent, document by document, so a run cut short is finished by the
// next; it is meant to run before EnsureIndexes, which would refuse the
// old index, and with no app writing.
func (a *Accounts) UpgradePermissions(ctx context.Context) error {
	perms := a.permissions()
	specs, err := perms.Indexes().ListSpecifications(ctx)
	if err != nil {
		return translate("list indexes of permissions", err)
	}
	for _, sp := range specs {
		if sp.Name == ixPermissionView && !sameKeys(sp.KeysDocument, bson.D{{Key: "view_name", Value: 1}, {Key: "name", Value: 1}}) {
			if err := perms.Indexes().DropOne(ctx, ixPermissionView); err != nil {
				return translate("drop the old index of permissions", err)
			}
		}
	}
	cur, err := perms.Find(ctx, bson.D{}, options.Find().SetHint(idIndex))
	if err != nil {
		return translate("find permissions", err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return translate("read permissions", err)
	}
	for _, d := range docs {
		name, _ := d["name"].(string)
		view, _ := d["view_name"].(string)
		if old, ok := d["view"].(string); ok {
			view = old
		}
		p := access.On(view, name)
		_, err := perms.UpdateOne(ctx, bson.D{{Key: "_id", Value: d["_id"]}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "view_name", Value: view}, {Key: "label", Value: p.String()}}},
				{Key: "$unset", Value: bson.D{{Key: "view", Value: ""}}}},
			options.UpdateOne().SetHint(idIndex))
		if err != nil {
			return translate("rename a permission's view", err)
		}
	}
	return a.upgradeRoles(ctx)
}

// upgradeRoles makes each role hold its permissions by id.
func (a *Accounts) upgradeRoles(ctx context.Context) error {
	cur, err := a.roles.Find(ctx, bson.D{}, options.Find().SetHint(idIndex).SetProjection(bson.D{{Key: "permissions", Value: 1}}))
	if err != nil {
		return translate("find roles", err)
	}
	var roles []struct {
		ID          bson.ObjectID `bson:"_id"`
		Permissions bson.A        `bson:"permissions"`
	}
	if err := cur.All(ctx, &roles); err != nil {
		return translate("read roles", err)
	}
	for _, r := range roles {
		var pairs []access.Permission
		var held []bson.ObjectID
		for _, e := range r.Permissions {
			switch x := e.(type) {
			case bson.ObjectID:
				held = append(held, x)
			case bson.D:
				var name, view string
				for _, kv := range x {
					switch kv.Key {
					case "name":
						name, _ = kv.Value.(string)
					case "view":
						view, _ = kv.Value.(string)
					}
				}
				pairs = append(pairs, access.On(view, name))
			default:
				return fmt.Errorf("mongostore: role %s holds %T in its permissions", r.ID.Hex(), e)
			}
		}
		if len(pairs) == 0 {
			continue
		}
		ids, _, err := a.ensurePermissions(ctx, pairs)
		if err != nil {
			return err
		}
		for _, p := range pairs {
			held = append(held, ids[p])
		}
		slices.SortFunc(held, func(x, y bson.ObjectID) int { return bytes.Compare(x[:], y[:]) })
		_, err = a.roles.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "permissions", Value: slices.Compact(held)}}}},
			options.UpdateOne().SetHint(idIndex))
		if err != nil {
			return translate("hold a role's permissions by id", err)
		}
	}
	return nil
}
