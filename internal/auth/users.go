// Package auth holds users, password hashing, sessions, CSRF tokens and the
// login and logout handlers.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"musicadmin/internal/datamodel"
)

// AdminRole is the role create-admin gives.
const AdminRole = "Admin"

// MaxPasswordBytes is bcrypt's limit. Longer passwords are refused outright:
// bcrypt.CompareHashAndPassword would silently ignore the extra bytes.
const MaxPasswordBytes = 72

// DefaultCost is the bcrypt cost for new hashes.
const DefaultCost = 12

var (
	// ErrUserExists means the username is taken.
	ErrUserExists = errors.New("a user with this username already exists")
	// ErrInvalidLogin is the one answer to every failed login.
	ErrInvalidLogin = errors.New("invalid login")
)

// Users creates and authenticates users.
type Users struct {
	store Store
	cost  int

	// dummyHash is what failed logins for unknown users are compared
	// against, so they take as long as a wrong password for a real user. It
	// is made on first use: commands that never log anyone in skip its cost.
	dummyOnce sync.Once
	dummyHash []byte
}

// NewUsers returns a user service over store hashing with bcrypt at cost.
func NewUsers(store Store, cost int) (*Users, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("auth: bcrypt cost %d out of range", cost)
	}
	return &Users{store: store, cost: cost}, nil
}

func (u *Users) dummy() []byte {
	u.dummyOnce.Do(func() {
		// GenerateFromPassword fails only for a bad cost, checked above.
		u.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("dummy password for timing"), u.cost)
	})
	return u.dummyHash
}

// NewUser is the input of Create.
type NewUser struct {
	Username, FirstName, LastName, Email, Password string
}

// Validate checks the input and returns the first problem, phrased for a
// user.
func (n *NewUser) Validate() error {
	n.Username = strings.TrimSpace(n.Username)
	n.FirstName = strings.TrimSpace(n.FirstName)
	n.LastName = strings.TrimSpace(n.LastName)
	n.Email = strings.TrimSpace(n.Email)
	for _, f := range []struct{ name, value string }{
		{"username", n.Username}, {"first name", n.FirstName}, {"last name", n.LastName},
	} {
		if f.value == "" {
			return fmt.Errorf("%s is empty", f.name)
		}
		if !utf8.ValidString(f.value) || strings.ContainsRune(f.value, 0) {
			return fmt.Errorf("%s contains invalid characters", f.name)
		}
		if utf8.RuneCountInString(f.value) > 64 {
			return fmt.Errorf("%s is longer than 64 characters", f.name)
		}
	}
	addr, err := mail.ParseAddress(n.Email)
	if err != nil || addr.Address != n.Email || len(n.Email) > 254 {
		return fmt.Errorf("email %q is not a valid address", n.Email)
	}
	return ValidatePassword(n.Password)
}

// ValidatePassword checks a new password.
func ValidatePassword(p string) error {
	switch {
	case p == "":
		return errors.New("password is empty")
	case len(p) > MaxPasswordBytes:
		return fmt.Errorf("password is longer than %d bytes", MaxPasswordBytes)
	}
	return nil
}

// Create adds a user with the Admin role. It returns ErrUserExists when the
// username is taken.
func (u *Users) Create(ctx context.Context, n NewUser) (*User, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(n.Password), u.cost)
	if err != nil {
		return nil, fmt.Errorf("auth: hash password: %w", err)
	}
	user, err := u.store.CreateUser(ctx, User{Username: n.Username, FirstName: n.FirstName, LastName: n.LastName,
		Email: n.Email, PasswordHash: string(hash), Active: true}, AdminRole)
	if errors.Is(err, ErrUserExists) {
		return nil, ErrUserExists
	}
	if err != nil {
		return nil, fmt.Errorf("auth: create user %q: %w", n.Username, err)
	}
	return &user, nil
}

// HashPassword checks a new password against the rules of ValidatePassword
// and returns its bcrypt hash, at the service's cost.
func (u *Users) HashPassword(password string) (string, error) {
	if err := ValidatePassword(password); err != nil {
		return "", err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), u.cost)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return string(hash), nil
}

// Count returns the number of users.
func (u *Users) Count(ctx context.Context) (int64, error) {
	n, err := u.store.CountUsers(ctx)
	if err != nil {
		return 0, fmt.Errorf("auth: count users: %w", err)
	}
	return n, nil
}

// Authenticate returns the active user with username and password, or
// ErrInvalidLogin. Every failure costs one bcrypt comparison, so the time
// taken does not tell an unknown user from a wrong password.
func (u *Users) Authenticate(ctx context.Context, username, password string) (*User, error) {
	username = strings.TrimSpace(username)
	var user User
	found := false
	if username != "" && utf8.ValidString(username) && len(username) <= 256 && !strings.ContainsRune(username, 0) {
		var err error
		user, err = u.store.UserByUsername(ctx, username)
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, datamodel.ErrNotFound):
			return nil, fmt.Errorf("auth: find user: %w", err)
		}
	}
	hash := u.dummy()
	if found {
		hash = []byte(user.PasswordHash)
	}
	// A password over bcrypt's limit is refused, but still costs the
	// comparison of its first 72 bytes: it takes as long as any failure.
	candidate := []byte(password)
	tooLong := len(candidate) > MaxPasswordBytes
	if tooLong {
		candidate = candidate[:MaxPasswordBytes]
	}
	match := bcrypt.CompareHashAndPassword(hash, candidate) == nil
	if !found || !match || tooLong || !user.Active {
		return nil, ErrInvalidLogin
	}
	return &user, nil
}
