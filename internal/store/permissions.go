package store

import (
	"context"
	"database/sql"
	"errors"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"musicadmin/internal/access"
	"musicadmin/internal/auth"
)

var _ access.Store = (*Accounts)(nil)

// UserGrants implements access.Store: one query, the user's roles joined to
// their permissions, but for the Admin role's, which it holds by name (a
// request of an Admin reads one row, not one per permission).
func (a *Accounts) UserGrants(ctx context.Context, userID string) ([]string, []access.Permission, error) {
	uid, err := parseUserID(userID)
	if err != nil {
		return nil, nil, err
	}
	rows, err := queryByKey(ctx, a.db, `SELECT roles.name, permissions.name, permissions.view_name
FROM user_roles
JOIN roles ON roles.id = user_roles.role_id
LEFT JOIN role_permissions ON role_permissions.role_id = roles.id AND roles.name <> ?
LEFT JOIN permissions ON permissions.id = role_permissions.permission_id
WHERE user_roles.user_id = ?`, access.AdminRole, uid)
	if err != nil {
		return nil, nil, accountsErr("find grants", err)
	}
	defer rows.Close()
	var roles []string
	var perms []access.Permission
	for rows.Next() {
		var role string
		var name, view sql.NullString
		if err := rows.Scan(&role, &name, &view); err != nil {
			return nil, nil, accountsErr("read grants", err)
		}
		roles = appendNew(roles, role)
		if name.Valid {
			perms = append(perms, access.Permission{Name: name.String, View: view.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, accountsErr("read grants", err)
	}
	return roles, perms, nil
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// SyncPermissions implements access.Store in one transaction. Inserts skip
// rows that exist, so two instances starting at once both succeed.
func (a *Accounts) SyncPermissions(ctx context.Context, perms, readOnly []access.Permission) error {
	// In a Together of the accounts' lock: the roles' permissions may
	// change, and other instances must then read their users' grants again
	// (auth.Generations).
	return together(ctx, a.db, auth.AccountsLock, func(ctx context.Context) error {
		return a.syncPermissions(ctx, perms, readOnly)
	})
}

func (a *Accounts) syncPermissions(ctx context.Context, perms, readOnly []access.Permission) error {
	err := conn(ctx, a.db).Transaction(func(tx *gorm.DB) error {
		admin, _, err := ensureRole(tx, access.AdminRole)
		if err != nil {
			return err
		}
		ro, roCreated, err := ensureRole(tx, access.ReadOnlyRole)
		if err != nil {
			return err
		}
		var existing []Permission
		if err := tx.Find(&existing).Error; err != nil {
			return err
		}
		have := map[access.Permission]int64{}
		for _, p := range existing {
			have[access.Permission{Name: p.Name, View: p.ViewName}] = p.ID
		}
		fresh := map[access.Permission]bool{}
		for _, p := range perms {
			if _, ok := have[p]; ok {
				continue
			}
			row := Permission{Name: p.Name, ViewName: p.View, Label: p.String()}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
				return err
			}
			if row.ID == 0 { // another instance inserted it meanwhile
				if err := tx.Where("view_name = ? AND name = ?", p.View, p.Name).Take(&row).Error; err != nil {
					return err
				}
			}
			have[p], fresh[p] = row.ID, true
		}
		// Admin's rows hold every permission, so its role page lists
		// them; the check itself goes by the role's name.
		grants := make([]RolePermission, 0, len(have))
		for _, id := range have {
			grants = append(grants, RolePermission{RoleID: admin, PermissionID: id})
		}
		for _, p := range readOnly {
			if id, ok := have[p]; ok && (fresh[p] || roCreated) {
				grants = append(grants, RolePermission{RoleID: ro, PermissionID: id})
			}
		}
		if len(grants) == 0 {
			return nil
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(grants, 200).Error
	})
	if err != nil {
		return accountsErr("sync permissions", err)
	}
	return nil
}

// ensureRole returns the id of the role named name, creating it when
// missing, and whether it did.
func ensureRole(tx *gorm.DB, name string) (int64, bool, error) {
	var r Role
	err := tx.Where("name = ?", name).Take(&r).Error
	if err == nil {
		return r.ID, false, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, false, err
	}
	r = Role{Name: name}
	if err := tx.Create(&r).Error; err != nil {
		return 0, false, err
	}
	return r.ID, true, nil
}
