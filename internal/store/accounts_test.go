package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/store"
)

// TestAccounts drives the GORM implementation of auth.Store through the
// interface alone, as auth does: users, roles, sessions and their expiry,
// and the errors auth relies on.
func TestAccounts(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		db, _ := apptest.OpenMigrated(t, b)
		var accounts auth.Store = store.NewAccounts(db)

		if _, err := accounts.UserByUsername(ctx, "ada"); !errors.Is(err, datamodel.ErrNotFound) {
			t.Fatalf("unknown user: %v, want ErrNotFound", err)
		}
		ada, err := accounts.CreateUser(ctx, auth.User{Username: "ada", FirstName: "Ada", LastName: "Lovelace",
			Email: "ada@example.com", PasswordHash: "hash-1", Active: true}, auth.AdminRole)
		if err != nil {
			t.Fatal(err)
		}
		if ada.ID == "" {
			t.Fatal("created user has no ID")
		}
		// A second user with the same role reuses the role row.
		bob, err := accounts.CreateUser(ctx, auth.User{Username: "bob", FirstName: "Bob", LastName: "B",
			Email: "bob@example.com", PasswordHash: "hash-2"}, auth.AdminRole)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := accounts.CreateUser(ctx, auth.User{Username: "ada", FirstName: "A", LastName: "B",
			Email: "a@example.com", PasswordHash: "x"}, auth.AdminRole); !errors.Is(err, auth.ErrUserExists) {
			t.Errorf("duplicate username: %v, want ErrUserExists", err)
		}
		if n, err := accounts.CountUsers(ctx); err != nil || n != 2 {
			t.Errorf("CountUsers = %d, %v; want 2", n, err)
		}
		var roles int64
		if err := db.Model(&store.Role{}).Where("name = ?", auth.AdminRole).Count(&roles).Error; err != nil || roles != 1 {
			t.Errorf("%d Admin roles (%v), want 1", roles, err)
		}

		got, err := accounts.UserByUsername(ctx, "ada")
		if err != nil || got != ada {
			t.Errorf("UserByUsername = %+v, %v; want %+v", got, err, ada)
		}
		if got, _ := accounts.UserByUsername(ctx, "bob"); got.Active {
			t.Error("bob was created inactive and reads back active")
		}

		now := time.Unix(1_800_000_000, 0)
		for _, s := range []auth.Session{
			{TokenHash: "live", UserID: ada.ID, AuthTag: "tag-live", CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
			{TokenHash: "expired", UserID: ada.ID, AuthTag: "tag-old", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now},
			{TokenHash: "bobs-expired", UserID: bob.ID, AuthTag: "tag-bob", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now},
		} {
			if err := accounts.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		user, tag, err := accounts.SessionUser(ctx, "live", now)
		if err != nil || user != ada || tag != "tag-live" {
			t.Errorf("SessionUser(live) = %+v, %q, %v", user, tag, err)
		}
		// Expiry is exclusive: a session expiring at now is over.
		if _, _, err := accounts.SessionUser(ctx, "expired", now); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("expired session: %v, want ErrNotFound", err)
		}
		if _, _, err := accounts.SessionUser(ctx, "nope", now); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("unknown session: %v, want ErrNotFound", err)
		}

		if err := accounts.DeleteExpiredSessions(ctx, ada.ID, now); err != nil {
			t.Fatal(err)
		}
		var left []string
		if err := db.Model(&store.Session{}).Order("id").Pluck("id", &left).Error; err != nil {
			t.Fatal(err)
		}
		if len(left) != 2 || left[0] != "bobs-expired" || left[1] != "live" {
			t.Errorf("sessions after deleting ada's expired ones: %q, want bob's and ada's live one", left)
		}

		if err := accounts.DeleteSession(ctx, "live"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := accounts.SessionUser(ctx, "live", now); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("deleted session: %v, want ErrNotFound", err)
		}
		if err := accounts.DeleteSession(ctx, "live"); err != nil {
			t.Errorf("deleting a session twice: %v", err)
		}

		// An ID this store never made names nobody.
		err = accounts.CreateSession(ctx, auth.Session{TokenHash: "x", UserID: "65f0c0ffee", ExpiresAt: now})
		if !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("session for a foreign user id: %v, want ErrNotFound", err)
		}
	})
}

// TestAccountsUnavailable: a database that does not answer in time is
// datamodel.ErrUnavailable to auth, never a driver error it must classify.
func TestAccountsUnavailable(t *testing.T) {
	db, _ := apptest.OpenMigrated(t, apptest.SQLite)
	accounts := store.NewAccounts(db)
	// A deadline already past: what a database too busy to answer within
	// the request's time looks like to the caller.
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := accounts.UserByUsername(ctx, "ada"); !errors.Is(err, datamodel.ErrUnavailable) {
		t.Errorf("UserByUsername past the deadline: %v, want ErrUnavailable", err)
	}
	if _, _, err := accounts.SessionUser(ctx, "x", time.Now()); !errors.Is(err, datamodel.ErrUnavailable) {
		t.Errorf("SessionUser past the deadline: %v, want ErrUnavailable", err)
	}
	if _, err := accounts.CountUsers(ctx); !errors.Is(err, datamodel.ErrUnavailable) {
		t.Errorf("CountUsers past the deadline: %v, want ErrUnavailable", err)
	}
}
