package backend_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"musicadmin/internal/access"
	"musicadmin/internal/apptest"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/security"
	"musicadmin/internal/server"
)

// TestLastAdminUnderRace: two active Admins deactivated at the same moment,
// each by its own write through the accounts layer, never both go: one
// write is refused as the last Admin's, every round, on every backend (the
// writes take the accounts' Together lock: a row of app_locks on SQL, a
// lease document on MongoDB).
func TestLastAdminUnderRace(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		data := apptest.OpenBackend(t, apptest.NewMigratedDatabase(t, b))
		if err := server.SyncPermissions(ctx, data); err != nil {
			t.Fatal(err)
		}
		svc, err := security.NewService(data.AccountModels(), data.Accounts(), data.Audit(), nil)
		if err != nil {
			t.Fatal(err)
		}
		users := svc.Users
		roles, err := users.Choices(ctx, users.Schema().Field(security.FieldRoles))
		if err != nil {
			t.Fatal(err)
		}
		var adminRole string
		for _, r := range roles {
			if r.Label == access.AdminRole {
				adminRole = r.ID
			}
		}
		var ids []string
		for _, name := range []string{"ann", "bob"} {
			id, err := users.Create(ctx, datamodel.Values{security.FieldUsername: name, "first_name": "F", "last_name": "L",
				"email": name + "@example.com", security.FieldActive: true,
				security.FieldRoles: []datamodel.Ref{{ID: adminRole}}, security.FieldPassword: datamodel.Hash("$2a$04$x")})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		for round := range 8 {
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, id := range ids {
				wg.Go(func() { errs[i] = users.Update(ctx, id, datamodel.Values{security.FieldActive: false}) })
			}
			wg.Wait()
			var refused *datamodel.RefusedError
			ok, no := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.As(err, &refused):
					no++
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			active := 0
			for _, id := range ids {
				rec, err := users.Get(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if rec.Values[security.FieldActive] == true {
					active++
				}
			}
			if ok != 1 || no != 1 || active != 1 {
				t.Fatalf("round %d: %d saved, %d refused, %d active Admins; want 1, 1, 1 (%v)", round, ok, no, active, fmt.Sprint(errs))
			}
			for _, id := range ids {
				if err := users.Update(ctx, id, datamodel.Values{security.FieldActive: true}); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
