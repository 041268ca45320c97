package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

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
		Email: acc.Email, PasswordHash: acc.PasswordHash, Active: acc.Active, Roles: roles, CreatedAt: acc.CreatedAt}
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
