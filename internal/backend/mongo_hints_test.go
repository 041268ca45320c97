package backend_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/access"
	"musicadmin/internal/app"
	"musicadmin/internal/audit"
	"musicadmin/internal/backend"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/mongostore/mongotest"
	"musicadmin/internal/security"
)

// TestMongoAccountsQueriesNameAnIndex: what the accounts layer asks of
// users, roles and permissions as the backend declares them (lists,
// filters on a set, choices, writes, deletes that pull an option from its
// holders) names in every hint an index create-db made. FerretDB ignores
// hints; MongoDB refuses one that names no index.
func TestMongoAccountsQueriesNameAnIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	var sent []*event.CommandStartedEvent
	monitor := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, e)
	}}
	db := mongotest.Database(t, mongotest.Connect(t, options.Client().SetMonitor(monitor)))
	mb, err := backend.NewMongo(db)
	if err != nil {
		t.Fatal(err)
	}
	b, err := app.Declare(ctx, mb)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Schema().Up(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncPermissions(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := b.Security(nil)
	if err != nil {
		t.Fatal(err)
	}
	actx := audit.With(ctx, audit.Actor{Username: "root", View: "users"})
	admin, err := svc.RoleByName(ctx, access.AdminRole)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := svc.Roles.Create(actx, datamodel.Values{security.FieldName: "Editor",
		security.FieldPermissions: []datamodel.Ref{{ID: "can_list:songsview"}}})
	if err != nil {
		t.Fatal(err)
	}
	users := svc.Users
	f := users.Schema().Field
	var ids []string
	for _, name := range []string{"ann", "bob"} {
		id, err := users.Create(actx, datamodel.Values{security.FieldUsername: name, "first_name": "F", "last_name": "L",
			"email": name + "@example.com", security.FieldActive: true,
			security.FieldRoles: []datamodel.Ref{{ID: admin.ID}, {ID: ed}}, security.FieldPassword: datamodel.Hash("$2a$04$x")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	holds := datamodel.Filter{Field: f(security.FieldRoles), Op: datamodel.OpEq, Value: []datamodel.Ref{{ID: ed}}}
	for _, sort := range []*datamodel.Field{nil, f(security.FieldUsername), f("email"), f(security.FieldActive)} {
		for _, q := range []datamodel.Query{{Sort: sort, Limit: 25}, {Filters: []datamodel.Filter{holds}, Sort: sort, Limit: 25},
			{Search: "an", SearchFields: []*datamodel.Field{f(security.FieldUsername), f("email")}, Sort: sort, Limit: 25}} {
			if _, err := users.List(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, field := range []*datamodel.Field{f(security.FieldRoles)} {
		if _, err := users.Choices(ctx, field); err != nil {
			t.Fatal(err)
		}
	}
	perms := svc.Roles.Schema().Field(security.FieldPermissions)
	if _, err := svc.Roles.List(ctx, datamodel.Query{Filters: []datamodel.Filter{{Field: perms, Op: datamodel.OpEq,
		Value: []datamodel.Ref{{ID: "can_list:songsview"}}}}, Limit: 25}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AccountModels().Roles.Choices(ctx, perms); err != nil {
		t.Fatal(err)
	}
	if err := users.Update(actx, ids[0], datamodel.Values{security.FieldActive: false}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Roles.Delete(actx, ed); err != nil {
		t.Fatal(err)
	}
	pid := ""
	err = b.AccountModels().Permissions.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		pid = r.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AccountModels().Permissions.Delete(ctx, pid); err != nil {
		t.Fatal(err)
	}
	if _, err := users.DeleteMany(actx, ids[:1]); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	cmds := slices.Clone(sent)
	mu.Unlock()
	indexes := map[string][]string{}
	colls, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, coll := range colls {
		specs, err := db.Collection(coll).Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range specs {
			indexes[coll] = append(indexes[coll], s.Name)
		}
	}
	checked := 0
	for _, e := range cmds {
		coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
		var hints []bson.RawValue
		switch e.CommandName {
		case "find", "aggregate":
			hints = []bson.RawValue{e.Command.Lookup("hint")}
		case "update", "delete":
			docs, _ := e.Command.Lookup(e.CommandName + "s").Array().Values()
			for _, d := range docs {
				hints = append(hints, d.Document().Lookup("hint"))
			}
		}
		for _, h := range hints {
			name, ok := h.StringValueOK()
			if !ok || !slices.Contains(indexes[coll], name) {
				t.Errorf("%s on %s: hint %v is not one of its indexes %v\n%s", e.CommandName, coll, h, indexes[coll], e.Command)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Errorf("only %d hints checked", checked)
	}
}
