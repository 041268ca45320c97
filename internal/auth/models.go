package auth

import (
	"context"
	"time"

	"musicadmin/internal/access"
)

// User is someone who can log in.
type User struct {
	// ID is the store's key of the user, opaque to auth: digits on SQL
	// backends, an ObjectId on a document store.
	ID           string
	Username     string
	FirstName    string
	LastName     string
	Email        string
	PasswordHash string
	Active       bool
	// Language and TimeZone are the user's own settings (accounts,
	// settings.go), read with the rest of the user: "" for none.
	Language string
	TimeZone string
}

// Session is the server-side half of a login: the cookie holds a random
// token whose SHA-256 is TokenHash, so deleting the session ends it for good
// and a stolen database does not reveal live tokens.
type Session struct {
	TokenHash string
	UserID    string
	// AuthTag binds the session to the user's password hash at login.
	AuthTag   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store keeps users, their roles, their sessions and the failed logins. It
// is all auth needs of a database, so a backend implements it without auth
// knowing SQL: each method is one lookup or one write by key, with no join a
// document store could not do. Errors of a busy or unreachable database wrap
// datamodel.ErrUnavailable.
type Store interface {
	access.Store
	FailureStore
	// UserByUsername returns the user named username, or
	// datamodel.ErrNotFound.
	UserByUsername(ctx context.Context, username string) (User, error)
	// CreateUser stores u with the role named role, creating the role when
	// it does not exist, and returns u with its ID. A taken username is
	// ErrUserExists.
	CreateUser(ctx context.Context, u User, role string) (User, error)
	// CountUsers returns the number of users.
	CountUsers(ctx context.Context) (int64, error)
	// CreateSession stores s.
	CreateSession(ctx context.Context, s Session) error
	// SessionUser returns the user of the session with tokenHash and the
	// session's auth tag, when that session expires after now; otherwise
	// datamodel.ErrNotFound.
	SessionUser(ctx context.Context, tokenHash string, now time.Time) (User, string, error)
	// DeleteSession removes the session with tokenHash, if any; a store
	// with Generations moves the generation with it (a Together of
	// AccountsLock), so that no instance goes on taking the session.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteExpiredSessions removes the sessions of the user with userID
	// that expired at or before now.
	DeleteExpiredSessions(ctx context.Context, userID string, now time.Time) error
}

// Role is a role as app dump carries it: its id in the store it was read
// from, and its name, by which app load matches the roles a database
// already has.
type Role struct {
	ID   string
	Name string
}

// Account is a user as app dump and app load carry it between backends:
// every stored field (the password hash as stored, so passwords keep
// working), the ids of its roles in the same store, and when it was
// created. Sessions are not part of it: they are logins to one deployment,
// and after a copy everyone logs in again.
type Account struct {
	User
	RoleIDs   []string
	CreatedAt time.Time
}

// FailureStore keeps the failed logins of every client address for the
// LoginThrottle. They live in the database rather than in the process, so
// that every instance of the app on one database counts the same failures:
// a guesser spreading tries over instances gains nothing. Times are kept
// to the millisecond (truncated); ids are opaque, as users' are.
type FailureStore interface {
	// AddLoginFailure stores a failure of addr at at and returns its id.
	AddLoginFailure(ctx context.Context, addr string, at time.Time) (string, error)
	// DeleteLoginFailure removes the failure with id, if it is still
	// there. An id of the wrong shape for the store is
	// datamodel.ErrNotFound.
	DeleteLoginFailure(ctx context.Context, id string) error
	// LoginFailures returns the times of the newest n failures of addr
	// after since (exclusive), newest first: at most n, read from an index
	// on (addr, time) whatever the table holds.
	LoginFailures(ctx context.Context, addr string, since time.Time, n int) ([]time.Time, error)
	// PruneLoginFailures removes the failures of every address before
	// before (exclusive).
	PruneLoginFailures(ctx context.Context, before time.Time) error
}
