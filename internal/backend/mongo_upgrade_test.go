package backend_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/accounts"
	"musicadmin/internal/apptest"
	"musicadmin/internal/backend"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/mongostore"
)

// TestMongoUpgradeToAccounts: a database at version 4, whose permissions
// are {name, view} under a unique index on (view, name) and whose roles
// hold {name, view} pairs, is brought to version 5 by create-db: each
// permission named by view_name with its label, the index rebuilt on
// (view_name, name), each role holding its permissions' ObjectIds, which
// the accounts layer reads back by key. Running the upgrade again changes
// nothing.
func TestMongoUpgradeToAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := apptest.OpenBackend(t, apptest.NewDatabase(t, apptest.MongoDB))
	b := a.Backend.(*backend.Mongo)
	db := b.Database()
	perms := db.Collection("permissions")
	if _, err := perms.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "view", Value: 1}, {Key: "name", Value: 1}},
		Options: options.Index().SetName("ux_permissions_view_name").SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]string{{"can_list", "songsview"}, {"can_add", "songsview"}, {"can_list", "albumview"}} {
		if _, err := perms.InsertOne(ctx, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "name", Value: p[0]}, {Key: "view", Value: p[1]}}); err != nil {
			t.Fatal(err)
		}
	}
	pair := func(name, view string) bson.D { return bson.D{{Key: "name", Value: name}, {Key: "view", Value: view}} }
	roles := db.Collection("roles")
	for _, r := range []bson.D{
		{{Key: "name", Value: "Admin"}, {Key: "permissions", Value: bson.A{pair("can_list", "songsview"), pair("can_add", "songsview"), pair("can_list", "albumview")}}},
		{{Key: "name", Value: "ReadOnly"}, {Key: "permissions", Value: bson.A{pair("can_list", "songsview"), pair("can_list", "albumview")}}},
		// A pair whose permission has no document (a hand edit): it gets one.
		{{Key: "name", Value: "Editor"}, {Key: "permissions", Value: bson.A{pair("can_add", "songsview"), pair("can_delete", "songsview")}}},
		{{Key: "name", Value: "Nobody"}},
	} {
		if _, err := roles.InsertOne(ctx, append(bson.D{{Key: "_id", Value: bson.NewObjectID()}}, r...)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Store().MarkSchema(ctx, 4); err != nil {
		t.Fatal(err)
	}

	if n, err := b.Schema().Up(ctx); err != nil || n != 5 {
		t.Fatalf("Up from 4: %d, %v; want 5 applied (accounts, tokens, second_factors, identities, user_settings)", n, err)
	}
	check := func(when string) {
		t.Helper()
		var docs []bson.M
		cur, err := perms.Find(ctx, bson.D{})
		if err == nil {
			err = cur.All(ctx, &docs)
		}
		if err != nil || len(docs) != 4 {
			t.Fatalf("%s: %d permissions, %v; want 4", when, len(docs), err)
		}
		for _, d := range docs {
			if _, old := d["view"]; old || d["label"] == "" || d["label"] == nil ||
				d["label"] != strings.ReplaceAll(d["name"].(string), "_", " ")+" on "+d["view_name"].(string) {
				t.Errorf("%s: permission %v, want view_name and label, no view", when, d)
			}
		}
		specs, err := perms.Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range specs {
			if sp.Name != "ux_permissions_view_name" {
				continue
			}
			elems, _ := sp.KeysDocument.Elements()
			var keys []string
			for _, e := range elems {
				keys = append(keys, e.Key())
			}
			if !slices.Equal(keys, []string{"view_name", "name"}) || sp.Unique == nil || !*sp.Unique {
				t.Errorf("%s: index %s on %v, want unique on view_name, name", when, sp.Name, keys)
			}
		}
		svc, err := accounts.New(a.AccountModels(), b.Accounts(), b.Audit(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string][]string{
			"ReadOnly": {"can_list:albumview", "can_list:songsview"},
			"Editor":   {"can_add:songsview", "can_delete:songsview"},
			"Nobody":   {},
		} {
			rec, err := svc.RoleByName(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if got := datamodel.IDs(rec.Values[accounts.FieldPermissions]); !slices.Equal(got, want) {
				t.Errorf("%s: role %s holds %v, want %v", when, name, got, want)
			}
		}
		var raw struct {
			Permissions []bson.ObjectID `bson:"permissions"`
		}
		if err := roles.FindOne(ctx, bson.D{{Key: "name", Value: "Admin"}}).Decode(&raw); err != nil || len(raw.Permissions) != 3 {
			t.Errorf("%s: Admin holds %v (%v), want the 3 ids", when, raw.Permissions, err)
		}
	}
	check("after Up")
	if err := mongostore.NewAccounts(db).UpgradePermissions(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a second run")
	if n, err := b.Schema().Up(ctx); err != nil || n != 0 {
		t.Errorf("Up at 5: %d, %v", n, err)
	}
}
