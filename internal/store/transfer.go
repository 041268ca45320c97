package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
)

// What app dump and app load need of the accounts beyond auth.Store: every
// role and user as stored, and writing them back with their hashes and
// creation times. Users and roles are few (people who run the catalogue),
// so they are read whole.
//
// The exports read through conn, as the models do, so that a dump inside
// a ReadSnapshot reads the accounts in the snapshot of the records.

// ExportRoles returns every role, in id order.
func (a *Accounts) ExportRoles(ctx context.Context) ([]auth.Role, error) {
	var rows []Role
	if err := conn(ctx, a.db).Order("id").Find(&rows).Error; err != nil {
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
	if err := conn(ctx, a.db).Order("id").Find(&rows).Error; err != nil {
		return accountsErr("export users", err)
	}
	var links []UserRole
	if err := conn(ctx, a.db).Order("user_id, role_id").Find(&links).Error; err != nil {
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
		PasswordHash: acc.PasswordHash, Active: acc.Active, CreatedAt: acc.CreatedAt.Unix(),
		Language: acc.Language, TimeZone: acc.TimeZone}
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

// ExportRolePermissions returns the permissions each role holds, by role
// id, each list in access.Compare order.
func (a *Accounts) ExportRolePermissions(ctx context.Context) (map[string][]access.Permission, error) {
	var rows []struct {
		RoleID   int64
		Name     string
		ViewName string
	}
	err := conn(ctx, a.db).Raw(`SELECT role_permissions.role_id, permissions.name, permissions.view_name
FROM role_permissions JOIN permissions ON permissions.id = role_permissions.permission_id
ORDER BY role_permissions.role_id, permissions.view_name, permissions.name`).Scan(&rows).Error
	if err != nil {
		return nil, accountsErr("export role permissions", err)
	}
	out := map[string][]access.Permission{}
	for _, r := range rows {
		id := strconv.FormatInt(r.RoleID, 10)
		out[id] = append(out[id], access.Permission{Name: r.Name, View: r.ViewName})
	}
	return out, nil
}

// ImportPermissions makes the role with id roleID hold, on each view of
// views, exactly the permissions of perms (all of which are on those
// views), creating the permissions this database does not have yet; its
// permissions on other views stay. One transaction.
func (a *Accounts) ImportPermissions(ctx context.Context, roleID string, perms []access.Permission, views []string) error {
	rid, err := strconv.ParseInt(roleID, 10, 64)
	if err != nil {
		return fmt.Errorf("store: role id %q is not this database's", roleID)
	}
	err = a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		want := map[int64]bool{}
		for _, p := range perms {
			row := Permission{Name: p.Name, ViewName: p.View}
			if err := tx.Where("view_name = ? AND name = ?", p.View, p.Name).FirstOrCreate(&row).Error; err != nil {
				return err
			}
			want[row.ID] = true
		}
		if len(views) > 0 {
			// What the role held on those views and the file does not
			// give it: create-db's grants to a built-in role that the
			// source's Admin had taken away.
			var drop []int64
			err := tx.Raw(`SELECT role_permissions.permission_id FROM role_permissions
JOIN permissions ON permissions.id = role_permissions.permission_id
WHERE role_permissions.role_id = ? AND permissions.view_name IN ?`, rid, views).Scan(&drop).Error
			if err != nil {
				return err
			}
			drop = slices.DeleteFunc(drop, func(id int64) bool { return want[id] })
			if len(drop) > 0 {
				if err := tx.Where("role_id = ? AND permission_id IN ?", rid, drop).Delete(&RolePermission{}).Error; err != nil {
					return err
				}
			}
		}
		if len(want) == 0 {
			return nil
		}
		grants := make([]RolePermission, 0, len(want))
		for id := range want {
			grants = append(grants, RolePermission{RoleID: rid, PermissionID: id})
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(grants, 200).Error
	})
	if err != nil {
		return accountsErr("import role permissions", err)
	}
	return nil
}

// ImportEntries appends entries to the audit log as they are (their time,
// user, action, view, record and changes), in their order, in one
// transaction: written all, or none and n is 0. The triggers of migration
// 00007 refuse updates and deletes only, so this is the log's own kind of
// write.
func (l *AuditLog) ImportEntries(ctx context.Context, entries []audit.Entry) (n int, err error) {
	rows := make([]*AuditEntry, len(entries))
	for i, e := range entries {
		if rows[i], err = auditRow(e); err != nil {
			return 0, err
		}
	}
	if err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.CreateInBatches(rows, 100).Error
	}); err != nil {
		return 0, accountsErr("import audit entries", err)
	}
	return len(rows), nil
}
