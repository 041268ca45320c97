package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/auth/authtest"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/store"
)

// TestAccounts runs the contract of auth.Store on the GORM implementation,
// on each SQL backend.
func TestAccounts(t *testing.T) {
	apptest.ForEachSQLBackend(t, func(t *testing.T, b apptest.Backend) {
		authtest.Run(t, func(t *testing.T) authtest.Fixture {
			db, _ := apptest.OpenMigrated(t, b)
			return authtest.Fixture{
				Store: store.NewAccounts(db),
				Roles: func(ctx context.Context) ([]string, error) {
					var names []string
					err := db.WithContext(ctx).Model(&store.Role{}).Pluck("name", &names).Error
					return names, err
				},
				UserRoles: func(ctx context.Context, userID string) ([]string, error) {
					var names []string
					err := db.WithContext(ctx).Model(&store.Role{}).Joins("JOIN user_roles ON user_roles.role_id = roles.id").
						Where("user_roles.user_id = ?", userID).Pluck("roles.name", &names).Error
					return names, err
				},
			}
		})
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
	if _, err := accounts.LoginFailures(ctx, "192.0.2.1", time.Now(), 10); !errors.Is(err, datamodel.ErrUnavailable) {
		t.Errorf("LoginFailures past the deadline: %v, want ErrUnavailable", err)
	}
	if _, err := accounts.AddLoginFailure(ctx, "192.0.2.1", time.Now()); !errors.Is(err, datamodel.ErrUnavailable) {
		t.Errorf("AddLoginFailure past the deadline: %v, want ErrUnavailable", err)
	}
}
