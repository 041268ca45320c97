package transfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"musicadmin/internal/access"
	"musicadmin/internal/accounts"
	"musicadmin/internal/auth"
)

// parseRole reads a role and its permissions: none in a version 1 file,
// a list in later ones.
func parseRole(raw json.RawMessage, r *roleFields, version int) ([]access.Permission, error) {
	if err := strictJSON(raw, r); err != nil {
		return nil, err
	}
	if err := limit("name", r.Name, 64, true); err != nil {
		return nil, err
	}
	switch {
	case version < 2 && r.Permissions != nil:
		return nil, fmt.Errorf("permissions: a version %d dump has none", version)
	case version < 2:
		return nil, nil
	case r.Permissions == nil:
		return nil, errors.New("permissions is missing")
	}
	perms := make([]access.Permission, 0, len(*r.Permissions))
	for _, key := range *r.Permissions {
		p, ok := access.ParseKey(key)
		if !ok {
			return nil, fmt.Errorf("permission %q is not action:view (lower-case letters, digits, _ and -)", key)
		}
		if slices.Contains(perms, p) {
			return nil, fmt.Errorf("permission %q is listed twice", key)
		}
		perms = append(perms, p)
	}
	return perms, nil
}

func parseUser(raw json.RawMessage, u *userFields) error {
	if err := strictJSON(raw, u); err != nil {
		return err
	}
	for _, c := range []struct {
		field, value string
		max          int
		required     bool
	}{
		{"username", u.Username, 64, true}, {"first_name", u.FirstName, 64, false},
		{"last_name", u.LastName, 64, false}, {"email", u.Email, 254, false},
	} {
		if err := limit(c.field, c.value, c.max, c.required); err != nil {
			return err
		}
	}
	if !isBcrypt(u.PasswordHash) {
		// Most likely a file edited to set a password: load writes
		// hashes only, and the app logs in against bcrypt's alone.
		return errors.New("password_hash is not a bcrypt hash (a password in clear?): a dump holds password hashes only")
	}
	if u.Active == nil {
		return errors.New("active is required")
	}
	if u.CreatedAt.IsZero() {
		return errors.New("created_at is required")
	}
	// The settings as the settings page takes them: a language this app
	// speaks, a time zone it knows.
	problems := accounts.Settings{Language: u.Language, TimeZone: u.TimeZone}.Problems()
	if _, bad := problems[accounts.FieldLanguage]; bad {
		return fmt.Errorf("language %q is not one this app speaks", u.Language)
	}
	if _, bad := problems[accounts.FieldTimeZone]; bad {
		return fmt.Errorf("time_zone %q is not a time zone this app knows", u.TimeZone)
	}
	return nil
}

// writeRole writes a role, or finds the target's of that name, and gives
// it the file's permissions on the views the file names (loader.views);
// a version 1 file's role keeps the target's. It returns the role's id.
func (l *loader) writeRole(ctx context.Context, it item) (string, error) {
	id, err := l.accounts.ImportRole(ctx, it.role.Name)
	if err != nil || it.perms == nil {
		return id, err
	}
	return id, l.accounts.ImportPermissions(ctx, id, it.perms, l.views)
}

// writeUser writes a user, its roles mapped to their new ids, and returns
// its new id.
func (l *loader) writeUser(ctx context.Context, it item, newIDs idMap) (string, error) {
	u := it.user
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = newIDs[modelRole][r]
	}
	return l.accounts.ImportAccount(ctx, auth.Account{User: auth.User{Username: u.Username, FirstName: u.FirstName,
		LastName: u.LastName, Email: u.Email, PasswordHash: u.PasswordHash, Active: *u.Active,
		Language: u.Language, TimeZone: u.TimeZone},
		RoleIDs: roles, CreatedAt: u.CreatedAt})
}
