package backend

import (
	"context"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/mongostore"
	"musicadmin/internal/store"
)

// TransferAccounts is what app dump and app load need of a backend's
// accounts beyond auth.Store, which stays the small interface login needs:
// every role and user as stored, and writing them back into another
// database. Sessions are left out on purpose (see auth.Account).
type TransferAccounts interface {
	// CountUsers returns the number of users.
	CountUsers(ctx context.Context) (int64, error)
	// ExportRoles returns every role, in id order.
	ExportRoles(ctx context.Context) ([]auth.Role, error)
	// ExportAccounts calls fn with every user, in id order; fn's error
	// stops it and is returned as it is.
	ExportAccounts(ctx context.Context, fn func(auth.Account) error) error
	// RolesPerUser is how many roles a user may hold here (0: any number).
	RolesPerUser() int
	// ImportRole returns the id of the role called name, creating it when
	// there is none.
	ImportRole(ctx context.Context, name string) (string, error)
	// ImportAccount stores acc, whose RoleIDs are ids of this database, and
	// returns its id; a taken username is auth.ErrUserExists.
	ImportAccount(ctx context.Context, acc auth.Account) (string, error)
	// ExportRolePermissions returns the permissions each role holds, by
	// role id, each list in access.Compare order; a role holding none is
	// absent.
	ExportRolePermissions(ctx context.Context) (map[string][]access.Permission, error)
	// ImportPermissions makes the role with roleID (an id of this
	// database) hold, on each view of views, exactly the permissions of
	// perms, which are all on those views; permissions this database does
	// not have yet are created. The role's permissions on other views
	// stay.
	ImportPermissions(ctx context.Context, roleID string, perms []access.Permission, views []string) error
}

// TransferAudit is what app load needs of a backend's audit log beyond
// audit.Log, whose Append writes one entry at a time.
type TransferAudit interface {
	// ImportEntries appends entries as they are, in their order, and
	// returns how many it wrote: all, or on error those before the one
	// that failed (none, where a batch is one transaction).
	ImportEntries(ctx context.Context, entries []audit.Entry) (int, error)
}

var (
	_ TransferAccounts = (*store.Accounts)(nil)
	_ TransferAccounts = (*mongostore.Accounts)(nil)
	_ TransferAudit    = (*store.AuditLog)(nil)
	_ TransferAudit    = (*mongostore.AuditLog)(nil)
)
