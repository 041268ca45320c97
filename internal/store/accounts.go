package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"musicadmin/internal/access"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// Role is the row of a named set of permissions; every user created by
// create-admin has the Admin role.
type Role struct {
	ID   int64  `gorm:"primaryKey"`
	Name string `gorm:"size:64;not null;uniqueIndex:ux_roles_name"`
}

// User is the row of someone who can log in.
type User struct {
	ID           int64  `gorm:"primaryKey"`
	Username     string `gorm:"size:64;not null;uniqueIndex:ux_users_username"`
	FirstName    string `gorm:"size:64;not null"`
	LastName     string `gorm:"size:64;not null"`
	Email        string `gorm:"size:254;not null"`
	PasswordHash string `gorm:"size:255;not null"`
	Active       bool   `gorm:"not null;default:true"`
	// RoleID is the single role of before migration 00006, which moved it
	// into user_roles; it is no longer read or written, and stays only
	// because dropping it would rebuild the table on SQLite.
	RoleID    *int64 `gorm:"index:ix_users_role_id"`
	Role      *Role  `gorm:"constraint:OnDelete:SET NULL"`
	CreatedAt int64  `gorm:"not null;autoCreateTime"`
	// Language and TimeZone are the user's own settings (migration
	// 00014): "" for none.
	Language string `gorm:"size:16;not null;default:''"`
	TimeZone string `gorm:"size:64;not null;default:''"`
}

// UserRole is a row of user_roles: user UserID holds role RoleID.
type UserRole struct {
	UserID int64 `gorm:"primaryKey;autoIncrement:false"`
	User   *User `gorm:"constraint:OnDelete:CASCADE"`
	RoleID int64 `gorm:"primaryKey;autoIncrement:false;index:ix_user_roles_role_id"`
	Role   *Role `gorm:"constraint:OnDelete:CASCADE"`
}

// Permission is a row of permissions: action Name on view ViewName.
type Permission struct {
	ID       int64  `gorm:"primaryKey"`
	Name     string `gorm:"size:64;not null;uniqueIndex:ux_permissions_view_name,priority:2"`
	ViewName string `gorm:"size:64;not null;uniqueIndex:ux_permissions_view_name,priority:1"`
	Label    string `gorm:"size:200;not null;default:''"` // "can list on songsview" (migration 00009)
}

// RolePermission is a row of role_permissions: role RoleID holds
// permission PermissionID.
type RolePermission struct {
	RoleID       int64       `gorm:"primaryKey;autoIncrement:false"`
	Role         *Role       `gorm:"constraint:OnDelete:CASCADE"`
	PermissionID int64       `gorm:"primaryKey;autoIncrement:false;index:ix_role_permissions_permission_id"`
	Permission   *Permission `gorm:"constraint:OnDelete:CASCADE"`
}

// Session is the row of a login (auth.Session): ID is the SHA-256 of the
// cookie's token.
type Session struct {
	ID        string `gorm:"primaryKey;size:64"`
	UserID    int64  `gorm:"not null;index:ix_user_sessions_user_id"`
	User      *User  `gorm:"constraint:OnDelete:CASCADE"`
	AuthTag   string `gorm:"size:64;not null"`
	CreatedAt int64  `gorm:"not null;autoCreateTime"`
	ExpiresAt int64  `gorm:"not null"`
}

// TableName keeps the table name explicit: "sessions" is too generic.
func (Session) TableName() string { return "user_sessions" }

// Accounts keeps users, roles, sessions and failed logins in the SQL database: the GORM
// implementation of auth.Store.
type Accounts struct {
	db  *gorm.DB
	gen generationRead // the last read of the generation (generation.go)
}

var _ auth.Store = (*Accounts)(nil)

// NewAccounts returns the accounts kept in db, which must come from Open
// (its errors are translated).
func NewAccounts(db *gorm.DB) *Accounts {
	return &Accounts{db: db, gen: generationRead{window: GenerationWindow}}
}

// Together runs fn holding the lock called name: see Store.Together.
func (a *Accounts) Together(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return together(ctx, a.db, name, fn)
}

// EndSessions removes every session of the users with ids, in the
// transaction of a Together when ctx is in one, else in one of its own
// (of the accounts' lock: the generation moves).
func (a *Accounts) EndSessions(ctx context.Context, ids []string) error {
	ns := parseIDs(ids)
	if len(ns) == 0 {
		return nil
	}
	err := together(ctx, a.db, auth.AccountsLock, func(ctx context.Context) error {
		return conn(ctx, a.db).Where("user_id IN ?", ns).Delete(&Session{}).Error
	})
	if err != nil {
		return accountsErr("end sessions", err)
	}
	return nil
}

// accountsErr wraps err with what failed, and with datamodel.ErrUnavailable
// when the database is busy or away, so auth and the error pages need no
// SQL error of their own.
func accountsErr(op string, err error) error {
	if Unavailable(err) {
		return fmt.Errorf("store: %s: %w: %w", op, datamodel.ErrUnavailable, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func (u *User) toAuth() auth.User {
	return auth.User{ID: strconv.FormatInt(u.ID, 10), Username: u.Username, FirstName: u.FirstName,
		LastName: u.LastName, Email: u.Email, PasswordHash: u.PasswordHash, Active: u.Active,
		Language: u.Language, TimeZone: u.TimeZone}
}

// parseUserID parses an auth.User's ID; an ID that is not ours names no user.
func parseUserID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store: user id %q: %w", id, datamodel.ErrNotFound)
	}
	return n, nil
}

// UserByUsername implements auth.Store.
func (a *Accounts) UserByUsername(ctx context.Context, username string) (auth.User, error) {
	var row User
	res := conn(ctx, a.db).Where("username = ?", username).Limit(1).Find(&row)
	if res.Error != nil {
		return auth.User{}, accountsErr("find user", res.Error)
	}
	if res.RowsAffected == 0 {
		return auth.User{}, datamodel.ErrNotFound
	}
	return row.toAuth(), nil
}

// CreateUser implements auth.Store: the role and the user are written in one
// transaction.
func (a *Accounts) CreateUser(ctx context.Context, u auth.User, role string) (auth.User, error) {
	row := User{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		PasswordHash: u.PasswordHash, Active: u.Active, Language: u.Language, TimeZone: u.TimeZone}
	err := conn(ctx, a.db).Transaction(func(tx *gorm.DB) error {
		var r Role
		if err := tx.Where(Role{Name: role}).FirstOrCreate(&r).Error; err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := tx.Create(&UserRole{UserID: row.ID, RoleID: r.ID}).Error; err != nil {
			return err
		}
		if !u.Active {
			// GORM writes a column's default in place of a zero value, so
			// false became the schema's true: write it after.
			row.Active = false
			return tx.Model(&row).Update("active", false).Error
		}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return auth.User{}, auth.ErrUserExists
	}
	if err != nil {
		return auth.User{}, accountsErr("create user", err)
	}
	return row.toAuth(), nil
}

// CountUsers implements auth.Store.
func (a *Accounts) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := conn(ctx, a.db).Model(&User{}).Count(&n).Error; err != nil {
		return 0, accountsErr("count users", err)
	}
	return n, nil
}

// CreateSession implements auth.Store.
func (a *Accounts) CreateSession(ctx context.Context, s auth.Session) error {
	uid, err := parseUserID(s.UserID)
	if err != nil {
		return err
	}
	row := Session{ID: s.TokenHash, UserID: uid, AuthTag: s.AuthTag,
		CreatedAt: s.CreatedAt.Unix(), ExpiresAt: s.ExpiresAt.Unix()}
	if err := conn(ctx, a.db).Create(&row).Error; err != nil {
		return accountsErr("create session", err)
	}
	return nil
}

// keyedStatement is a statement that reads by a text key (a session's id,
// a username) in a join, in each dialect's spelling of the key's
// placeholder. On SQLite a bare ? compared with the key there had the
// statement compiled again on every run, inside sqlite3_step (perf: its
// parser under the step; SQLite does so when it takes a plan to depend on
// a bound value): the session's statement ran in 40 µs, 11 µs with the
// value cast, which changes neither the value nor the plan (the key's
// index is searched as before). Elsewhere the placeholder stays bare: a
// cast could keep PostgreSQL from its char(64) key's index.
type keyedStatement struct{ bare, cast string }

// keyed makes a keyedStatement of format, whose %s is the key's
// placeholder.
func keyed(format string) keyedStatement {
	return keyedStatement{bare: fmt.Sprintf(format, "?"), cast: fmt.Sprintf(format, "CAST(? AS TEXT)")}
}

// in returns the statement in db's dialect.
func (k keyedStatement) in(db *gorm.DB) string {
	if db.Dialector.Name() == "sqlite" {
		return k.cast
	}
	return k.bare
}

// sessionUserSQL reads a live session and its user in one statement: it
// runs on every request, where GORM's Preload took two and read them
// through reflection.
var sessionUserSQL = keyed(`SELECT users.id, users.username, users.first_name, users.last_name, users.email,
users.password_hash, users.active, users.language, users.time_zone, user_sessions.auth_tag
FROM user_sessions JOIN users ON users.id = user_sessions.user_id
WHERE user_sessions.id = %s AND user_sessions.expires_at > ?`)

// SessionUser implements auth.Store.
func (a *Accounts) SessionUser(ctx context.Context, tokenHash string, now time.Time) (auth.User, string, error) {
	var u User
	var tag string
	err := queryRowByKey(ctx, a.db, sessionUserSQL.in(a.db), tokenHash, now.Unix()).
		Scan(&u.ID, &u.Username, &u.FirstName, &u.LastName, &u.Email, &u.PasswordHash, &u.Active, &u.Language, &u.TimeZone, &tag)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.User{}, "", datamodel.ErrNotFound
	case err != nil:
		return auth.User{}, "", accountsErr("find session", err)
	}
	return u.toAuth(), tag, nil
}

// DeleteSession implements auth.Store: in a Together of the accounts'
// lock, whose taking moves the generation (Generations).
func (a *Accounts) DeleteSession(ctx context.Context, tokenHash string) error {
	err := together(ctx, a.db, auth.AccountsLock, func(ctx context.Context) error {
		return conn(ctx, a.db).Where("id = ?", tokenHash).Delete(&Session{}).Error
	})
	if err != nil {
		return accountsErr("delete session", err)
	}
	return nil
}

// DeleteExpiredSessions implements auth.Store.
func (a *Accounts) DeleteExpiredSessions(ctx context.Context, userID string, now time.Time) error {
	uid, err := parseUserID(userID)
	if err != nil {
		return err
	}
	err = conn(ctx, a.db).Where("user_id = ? AND expires_at <= ?", uid, now.Unix()).Delete(&Session{}).Error
	if err != nil {
		return accountsErr("delete expired sessions", err)
	}
	return nil
}

// userGrantsJoins joins a user's roles and their permissions to a query of
// users, but the Admin role's (held by its name; its name is the first
// argument): one row a permission.
const userGrantsJoins = `
LEFT JOIN user_roles ON user_roles.user_id = users.id
LEFT JOIN roles ON roles.id = user_roles.role_id
LEFT JOIN role_permissions ON role_permissions.role_id = roles.id AND roles.name <> ?
LEFT JOIN permissions ON permissions.id = role_permissions.permission_id`

// generationSQL reads the accounts' generation: how often the row of the
// accounts' lock in app_locks (migration 00009) was taken, which every
// Together of the lock does in its transaction (lockRow).
const generationSQL = `SELECT taken FROM app_locks WHERE name = '` + auth.AccountsLock + `'`

// sessionGrantsSQL is sessionUserSQL with the user's grants, the
// session's expiry and the accounts' generation: what a page's request
// needs to know of its user, in one statement rather than two, and what
// it needs to remember it (auth.Remembered).
var sessionGrantsSQL = keyed(`SELECT users.id, users.username, users.first_name, users.last_name, users.email,
users.password_hash, users.active, users.language, users.time_zone, roles.name, permissions.name, permissions.view_name,
user_sessions.auth_tag, user_sessions.expires_at, COALESCE((` + generationSQL + `), 0)
FROM user_sessions JOIN users ON users.id = user_sessions.user_id` + userGrantsJoins + `
WHERE user_sessions.id = %s AND user_sessions.expires_at > ?`)

// loginGrantsSQL reads a user by username with their grants: an API
// token's check, in one statement rather than two.
var loginGrantsSQL = keyed(`SELECT users.id, users.username, users.first_name, users.last_name, users.email,
users.password_hash, users.active, users.language, users.time_zone, roles.name, permissions.name, permissions.view_name
FROM users` + userGrantsJoins + `
WHERE users.username = %s`)

var (
	_ auth.SessionGrantsReader = (*Accounts)(nil)
	_ auth.LoginGrantsReader   = (*Accounts)(nil)
	_ auth.Generations         = (*Accounts)(nil)
)

// AccountsGeneration implements auth.Generations: from the read of it
// begun within GenerationWindow, if there is one, else read now. Inside a
// transaction it is read in it.
func (a *Accounts) AccountsGeneration(ctx context.Context) (int64, error) {
	_, inside := ctx.Value(txKey{}).(*gorm.DB)
	began, writes := time.Now(), accountsWrites.Load()
	if !inside {
		if n, ok := a.gen.get(began, writes); ok {
			return n, nil
		}
	}
	var n int64
	err := queryRowByKey(ctx, a.db, generationSQL).Scan(&n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		n = 0 // the lock was never taken: nothing was written
	case err != nil:
		return 0, accountsErr("read the accounts' generation", err)
	}
	if !inside {
		a.gen.put(n, began, writes)
	}
	return n, nil
}

// SessionUserGrants implements auth.SessionGrantsReader.
func (a *Accounts) SessionUserGrants(ctx context.Context, tokenHash string, now time.Time) (auth.SessionGrants, error) {
	var (
		s       auth.SessionGrants
		expires int64
		err     error
	)
	s.User, s.Grants, err = a.userGrants(ctx, "find session", []any{&s.Tag, &expires, &s.Generation},
		sessionGrantsSQL.in(a.db), access.AdminRole, tokenHash, now.Unix())
	s.ExpiresAt = time.Unix(expires, 0)
	return s, err
}

// UserGrantsByUsername implements auth.LoginGrantsReader.
func (a *Accounts) UserGrantsByUsername(ctx context.Context, username string) (auth.User, *access.Grants, error) {
	return a.userGrants(ctx, "find user", nil, loginGrantsSQL.in(a.db), access.AdminRole, username)
}

// userGrants runs q, a query of one user's columns joined to their grants
// (userGrantsJoins), then the columns read into more (the same on every
// row), and returns the user and the grants; datamodel.ErrNotFound when q
// finds no user.
func (a *Accounts) userGrants(ctx context.Context, op string, more []any, q string, args ...any) (auth.User, *access.Grants, error) {
	rows, err := queryByKey(ctx, a.db, q, args...)
	if err != nil {
		return auth.User{}, nil, accountsErr(op, err)
	}
	defer rows.Close()
	var (
		u          User
		found      bool
		roles      []string
		perms      []access.Permission
		role       sql.NullString
		name, view sql.NullString
		skip       sql.RawBytes
	)
	for rows.Next() {
		// The user's columns repeat on every row: read them once.
		dest := []any{&skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &role, &name, &view}
		if !found {
			dest = []any{&u.ID, &u.Username, &u.FirstName, &u.LastName, &u.Email, &u.PasswordHash, &u.Active,
				&u.Language, &u.TimeZone, &role, &name, &view}
		}
		dest = append(dest, more...)
		if err := rows.Scan(dest...); err != nil {
			return auth.User{}, nil, accountsErr(op, err)
		}
		found = true
		if role.Valid {
			roles = appendNew(roles, role.String)
		}
		if name.Valid {
			perms = append(perms, access.Permission{Name: name.String, View: view.String})
		}
	}
	if err := rows.Err(); err != nil {
		return auth.User{}, nil, accountsErr(op, err)
	}
	if !found {
		return auth.User{}, nil, datamodel.ErrNotFound
	}
	return u.toAuth(), access.NewGrants(roles, perms), nil
}
