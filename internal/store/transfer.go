package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"musicadmin/internal/auth"
)

// What app dump and app load need of the accounts beyond auth.Store: every
// role and user as stored, and writing them back with their hashes and
// creation times. Users and roles are few (people who run the catalogue),
// so they are read whole.

// ExportRoles returns every role, in id order.
func (a *Accounts) ExportRoles(ctx context.Context) ([]auth.Role, error) {
	var rows []Role
	if err := a.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, accountsErr("export roles", err)
	}
	out := make([]auth.Role, len(rows))
	for i, r := range rows {
		out[i] = auth.Role{ID: strconv.FormatInt(r.ID, 10), Name: r.Name}
	}
	return out, nil
}

// ExportAccounts calls fn with every user, in id order.
func (a *Accounts) ExportAccounts(ctx context.Context, fn func(auth.Account) error) error {
	var rows []User
	if err := a.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return accountsErr("export users", err)
	}
	var links []UserRole
	if err := a.db.WithContext(ctx).Order("user_id, role_id").Find(&links).Error; err != nil {
		return accountsErr("export user roles", err)
	}
	roles := map[int64][]string{}
	for _, l := range links {
		roles[l.UserID] = append(roles[l.UserID], strconv.FormatInt(l.RoleID, 10))
	}
	for _, r := range rows {
		acc := auth.Account{User: r.toAuth(), RoleIDs: roles[r.ID], CreatedAt: time.Unix(r.CreatedAt, 0).UTC()}
		if acc.RoleIDs == nil {
			acc.RoleIDs = []string{}
		}
		if err := fn(acc); err != nil {
			return err
		}
	}
	return nil
}

// RolesPerUser is 0, no limit: user_roles holds any number.
func (a *Accounts) RolesPerUser() int { return 0 }

// ImportRole returns the id of the role named name, creating it when the
// database has none by that name (create-db's built-in roles are kept).
func (a *Accounts) ImportRole(ctx context.Context, name string) (string, error) {
	var r Role
	if err := a.db.WithContext(ctx).Where(Role{Name: name}).FirstOrCreate(&r).Error; err != nil {
		return "", accountsErr("import role", err)
	}
	return strconv.FormatInt(r.ID, 10), nil
}

// ImportAccount stores acc as it is (hash, active flag, creation time to
// the second, which is what the column keeps) with the roles of its role
// ids, ids of this database, and returns the new user's id. A taken
// username is auth.ErrUserExists.
func (a *Accounts) ImportAccount(ctx context.Context, acc auth.Account) (string, error) {
	row := User{Username: acc.Username, FirstName: acc.FirstName, LastName: acc.LastName, Email: acc.Email,
		PasswordHash: acc.PasswordHash, Active: acc.Active, CreatedAt: acc.CreatedAt.Unix()}
	roleIDs := make([]int64, len(acc.RoleIDs))
	for i, s := range acc.RoleIDs {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", fmt.Errorf("store: user %q: role id %q is not this database's", acc.Username, s)
		}
		roleIDs[i] = id
	}
	if row.CreatedAt == 0 {
		// autoCreateTime fills a zero value with now: 0 is written after.
		row.CreatedAt = -1
	}
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		for _, id := range roleIDs {
			if err := tx.Create(&UserRole{UserID: row.ID, RoleID: id}).Error; err != nil {
				return err
			}
		}
		fix := map[string]any{}
		if !acc.Active {
			// GORM writes the column's default (true) in place of false.
			fix["active"] = false
		}
		if row.CreatedAt == -1 {
			fix["created_at"] = 0
		}
		if len(fix) == 0 {
			return nil
		}
		return tx.Model(&row).Updates(fix).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return "", auth.ErrUserExists
	}
	if err != nil {
		return "", accountsErr("import user", err)
	}
	return strconv.FormatInt(row.ID, 10), nil
}
