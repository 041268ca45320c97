package backend

import (
	"context"
	"fmt"

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
}

var (
	_ TransferAccounts = (*store.Accounts)(nil)
	_ TransferAccounts = (*mongostore.Accounts)(nil)
)

// Transfer returns the accounts of b for app dump and app load.
func Transfer(b Backend) (TransferAccounts, error) {
	switch b := b.(type) {
	case *SQL:
		return b.accounts, nil
	case *Mongo:
		return b.accounts, nil
	}
	return nil, fmt.Errorf("backend: %T cannot dump or load its accounts", b)
}
