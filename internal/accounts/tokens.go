package accounts

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"musicadmin/internal/access"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// TokenPrefix starts every token, so secret scanners can spot one.
const TokenPrefix = "mat_"

// ErrTokenInvalid is a token that is malformed, unknown, expired, or whose
// user is inactive or gone.
var ErrTokenInvalid = errors.New("token invalid")

// TokensView is the view an audit entry of a token's write names.
const TokensView = "tokens"

const (
	// tokenBytes is the token's randomness: 256 bits.
	tokenBytes = 32
	// tokenLen is a token's length: the prefix and the bytes in
	// unpadded base64url.
	tokenLen = len(TokenPrefix) + (tokenBytes*8+5)/6
	// usedEvery is how often a token's last use is written at most: a
	// request authenticated by it otherwise writes nothing.
	usedEvery = time.Minute
	// timeLayout is how the tokens' times are kept: RFC 3339 in UTC, to
	// the second, as the audit log's "at".
	timeLayout = time.RFC3339
)

// Refusals of a token's values.
const (
	msgTokenName    = "This field is required."
	msgTokenBadText = "Contains characters that are not allowed (NUL or invalid UTF-8)."
	msgTokenExpired = "The expiry must be in the future."
)

// Tokens are the users' API tokens with their rules: a token is shown
// once, when made, and only its SHA-256 is stored (the Hidden digest
// field); it stops working when it expires, is revoked, or its user is
// deactivated or deleted (their tokens go with them). Its writes are the
// model's own, so they are audited as any record's (view "tokens"), the
// digest never in an entry; a use is written as an update of its
// last_used_at, at most once a minute.
type Tokens struct {
	base  datamodel.Interface
	users datamodel.Interface // the users as stored, without their rules
	st    Store

	mu      sync.Mutex
	written map[string]time.Time // token id -> its last use this process wrote

	// logins remembers the tokens' logins by digest (AuthenticateGrants).
	logins *auth.Remembered[tokenLogin]
}

// tokenLogin is a token's login as remembered: its user and grants, and
// the token's record, whose last use a request may have to write.
type tokenLogin struct {
	auth.Login
	rec datamodel.Record
}

func newTokens(base, users datamodel.Interface, st Store) *Tokens {
	return &Tokens{base: base, users: users, st: st, written: map[string]time.Time{},
		logins: auth.NewRemembered[tokenLogin]()}
}

// Model returns the tokens' model as stored: what dump and load copy.
func (t *Tokens) Model() datamodel.Interface { return t.base }

// withView returns ctx with its audit actor, if any, acting in the tokens'
// view.
func withView(ctx context.Context) context.Context {
	if a, ok := audit.From(ctx); ok {
		a.View = TokensView
		return audit.With(ctx, a)
	}
	return ctx
}

// digestOf is what is stored of a token: its SHA-256 in hex.
func digestOf(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether plain has a token's shape: the prefix and 32
// bytes in unpadded base64url, canonical.
func wellFormed(plain string) bool {
	if len(plain) != tokenLen || !strings.HasPrefix(plain, TokenPrefix) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(plain[len(TokenPrefix):])
	return err == nil && len(b) == tokenBytes
}

// Create makes a token named name for the user with userID, valid until
// expires (the zero time: never), and returns it in plain, which is never
// stored nor shown again, with its record. A name that is empty once
// trimmed or longer than 100 characters is a RefusedError of "name", an
// expiry not in the future one of "expires_at"; a user that does not
// exist is an InvalidRefError. The audit actor of ctx, if any, writes the
// entry, in the tokens' view.
func (t *Tokens) Create(ctx context.Context, userID, name string, expires time.Time) (plain string, rec datamodel.Record, err error) {
	name = strings.TrimSpace(name)
	switch {
	case !utf8.ValidString(name) || strings.ContainsRune(name, 0):
		return "", rec, &datamodel.RefusedError{Field: FieldName, Message: msgTokenBadText}
	case name == "":
		return "", rec, &datamodel.RefusedError{Field: FieldName, Message: msgTokenName}
	}
	if err := t.base.Schema().Field(FieldName).Kind.Validate(name); err != nil {
		return "", rec, &datamodel.RefusedError{Field: FieldName, Message: err.Error()}
	}
	now := time.Now()
	if !expires.IsZero() && !expires.After(now) {
		return "", rec, &datamodel.RefusedError{Field: FieldExpiresAt, Message: msgTokenExpired}
	}
	if !t.users.ValidID(userID) {
		return "", rec, &datamodel.InvalidRefError{Field: FieldUser}
	}
	var raw [tokenBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", rec, fmt.Errorf("accounts: token: %w", err)
	}
	plain = TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	v := datamodel.Values{FieldName: name, FieldUser: &datamodel.Ref{ID: userID}, FieldCreatedAt: stamp(now),
		FieldExpiresAt: "", FieldLastUsedAt: "", FieldDigest: digestOf(plain)}
	if !expires.IsZero() {
		v[FieldExpiresAt] = stamp(expires)
	}
	// Under the accounts' lock: a user deleted meanwhile takes their
	// tokens with them (Users.DeleteMany), never leaves one behind.
	// A new token ends no login (auth.EndsNoLogin).
	err = t.st.Together(auth.EndsNoLogin(ctx), lockName, func(ctx context.Context) error {
		if _, err := t.users.Get(ctx, userID); errors.Is(err, datamodel.ErrNotFound) {
			return &datamodel.InvalidRefError{Field: FieldUser}
		} else if err != nil {
			return err
		}
		id, err := t.base.Create(withView(ctx), v)
		if err != nil {
			return err
		}
		rec, err = t.base.Get(ctx, id)
		return err
	})
	if err != nil {
		return "", datamodel.Record{}, err
	}
	return plain, rec, nil
}

// stamp writes a token's time: RFC 3339 in UTC, to the second.
func stamp(at time.Time) string { return at.UTC().Truncate(time.Second).Format(timeLayout) }

// Authenticate returns the user whose token plain is, at now: one that is
// well formed, stored, unexpired, and whose user exists and is active;
// otherwise ErrTokenInvalid. A malformed token is refused without asking
// the store. A busy or unreachable database is an error wrapping
// datamodel.ErrUnavailable. The token's last use is written (and audited,
// as an update of the token by its user) when the last one written is a
// minute old or more: a request pays for no write otherwise.
func (t *Tokens) Authenticate(ctx context.Context, plain string, now time.Time) (auth.User, error) {
	u, _, err := t.AuthenticateGrants(ctx, plain, now)
	return u, err
}

// AuthenticateGrants is Authenticate, and the user's grants when the
// store reads them with the user (auth.LoginGrantsReader): nil otherwise,
// for the caller to read. A *LastUseError comes with the user and grants:
// the token is good, only its last use was not written.
//
// On a store that numbers its accounts' states (auth.Generations), a
// token's login is remembered: the next request with it reads the
// generation alone, and the token, its user and their grants again only
// when a write to the accounts (a revocation, a deactivation, a role's
// change: all take the accounts' lock) has moved it since.
func (t *Tokens) AuthenticateGrants(ctx context.Context, plain string, now time.Time) (auth.User, *access.Grants, error) {
	if !wellFormed(plain) {
		return auth.User{}, nil, ErrTokenInvalid
	}
	digest := digestOf(plain)
	gens, counted := t.st.(auth.Generations)
	var gen int64
	if counted {
		// Read before the token: a write that commits between the two
		// reads leaves what they found remembered at the older number.
		var err error
		if gen, err = gens.AccountsGeneration(ctx); err != nil {
			return auth.User{}, nil, fmt.Errorf("accounts: check a token: %w", err)
		}
		if l, ok := t.logins.Get(digest, gen, now); ok {
			return t.usedBy(ctx, digest, l.rec, l.User, l.Grants, now)
		}
	}
	u, grants, rec, expires, err := t.read(ctx, digest, now)
	if err != nil {
		t.logins.Forget(digest)
		return auth.User{}, nil, err
	}
	if counted && grants != nil {
		t.logins.Put(digest, tokenLogin{Login: auth.Login{User: u, Grants: grants}, rec: rec}, gen, now, expires)
	}
	return t.usedBy(ctx, digest, rec, u, grants, now)
}

// usedBy writes the use of the token rec, with digest, by u at now when
// it is due (used), and returns u and their grants, with a *LastUseError
// when the use was not written: the token is good.
func (t *Tokens) usedBy(ctx context.Context, digest string, rec datamodel.Record, u auth.User, grants *access.Grants, now time.Time) (auth.User, *access.Grants, error) {
	if err := t.used(ctx, rec, u, now); err != nil {
		var lu *LastUseError
		if errors.As(err, &lu) {
			// The token is good: the request goes on, its caller logs.
			return u, grants, err
		}
		t.logins.Forget(digest)
		return auth.User{}, nil, err
	}
	return u, grants, nil
}

// read reads the token with digest and its user: the user, their grants
// (nil when the store does not read them with the user), the token's
// record and when it expires (zero: never); ErrTokenInvalid when the
// token is unknown, expired at now, or its user gone or inactive.
func (t *Tokens) read(ctx context.Context, digest string, now time.Time) (u auth.User, grants *access.Grants, rec datamodel.Record, expires time.Time, err error) {
	page, err := t.base.List(ctx, datamodel.Query{Filters: []datamodel.Filter{
		{Field: t.base.Schema().Field(FieldDigest), Op: datamodel.OpEq, Value: digest}}, Limit: 1, NoCount: true})
	if err != nil {
		return auth.User{}, nil, rec, expires, fmt.Errorf("accounts: find a token: %w", err)
	}
	if len(page.Records) == 0 {
		return auth.User{}, nil, rec, expires, ErrTokenInvalid
	}
	rec = page.Records[0]
	stored, _ := rec.Values[FieldDigest].(string)
	if subtle.ConstantTimeCompare([]byte(stored), []byte(digest)) != 1 {
		return auth.User{}, nil, rec, expires, ErrTokenInvalid
	}
	if exp, _ := rec.Values[FieldExpiresAt].(string); exp != "" {
		at, err := time.Parse(timeLayout, exp)
		if err != nil || !now.Before(at) {
			return auth.User{}, nil, rec, expires, ErrTokenInvalid
		}
		expires = at
	}
	ref, _ := rec.Values[FieldUser].(*datamodel.Ref)
	if ref == nil {
		return auth.User{}, nil, rec, expires, ErrTokenInvalid
	}
	u, grants, err = t.userOf(ctx, ref)
	if errors.Is(err, datamodel.ErrNotFound) {
		return auth.User{}, nil, rec, expires, ErrTokenInvalid
	}
	if err != nil {
		return auth.User{}, nil, rec, expires, fmt.Errorf("accounts: a token's user: %w", err)
	}
	if !u.Active {
		return auth.User{}, nil, rec, expires, ErrTokenInvalid
	}
	return u, grants, rec, expires, nil
}

// LastUseError is AuthenticateGrants's error when the token is good but
// its last use could not be written (a database that refuses writes: a
// full disk, a read-only file). The user and grants come with it: a
// token's bookkeeping must not fail a read that needs no write.
type LastUseError struct{ Err error }

func (e *LastUseError) Error() string {
	return "accounts: a token's last use not written: " + e.Err.Error()
}
func (e *LastUseError) Unwrap() error { return e.Err }

// loginReader is a Store that reads a user's login (auth.Store's lookup):
// one indexed read, where the users model's Get also reads their roles,
// which a token's check does not need, on every API request.
type loginReader interface {
	UserByUsername(ctx context.Context, username string) (auth.User, error)
}

// userOf reads the user a token's reference names: by the username the
// reference carries, through the store's login lookup when it has one
// (the same user only if the id agrees: a name can be reused after a
// delete), with the user's grants when the store reads them together,
// else through the users model.
func (t *Tokens) userOf(ctx context.Context, ref *datamodel.Ref) (auth.User, *access.Grants, error) {
	var (
		u      auth.User
		grants *access.Grants
		err    error
	)
	lr, isLogin := t.st.(loginReader)
	lgr, isLoginGrants := t.st.(auth.LoginGrantsReader)
	switch {
	case ref.Label != "" && isLoginGrants:
		u, grants, err = lgr.UserGrantsByUsername(ctx, ref.Label)
	case ref.Label != "" && isLogin:
		u, err = lr.UserByUsername(ctx, ref.Label)
	default:
		rec, err := t.users.Get(ctx, ref.ID)
		if err != nil {
			return auth.User{}, nil, err
		}
		return userOf(rec), nil, nil
	}
	if err != nil {
		return auth.User{}, nil, err
	}
	if u.ID != ref.ID {
		return auth.User{}, nil, datamodel.ErrNotFound
	}
	u.PasswordHash = "" // no caller of a token's check needs it
	return u, grants, nil
}

// userOf returns the user of a users record (no password hash: a read
// holds none).
func userOf(rec datamodel.Record) auth.User {
	text := func(name string) string { s, _ := rec.Values[name].(string); return s }
	active, _ := rec.Values[FieldActive].(bool)
	return auth.User{ID: rec.ID, Username: text(FieldUsername), FirstName: text("first_name"),
		LastName: text("last_name"), Email: text("email"), Active: active}
}

// used writes now as the last use of the token rec by u, unless the last
// use stored, or the one this process wrote, is less than a minute old.
// A token revoked meanwhile is ErrTokenInvalid.
func (t *Tokens) used(ctx context.Context, rec datamodel.Record, u auth.User, now time.Time) error {
	last, _ := rec.Values[FieldLastUsedAt].(string)
	if at, err := time.Parse(timeLayout, last); err == nil && now.Sub(at) < usedEvery {
		return nil
	}
	t.mu.Lock()
	if at, ok := t.written[rec.ID]; ok && now.Sub(at) < usedEvery {
		t.mu.Unlock()
		return nil // another request is writing it, or just did
	}
	t.written[rec.ID] = now
	if len(t.written) > 10000 {
		for id, at := range t.written { // forget the old ones
			if now.Sub(at) >= usedEvery {
				delete(t.written, id)
			}
		}
	}
	t.mu.Unlock()
	ctx = audit.With(ctx, audit.Actor{Username: u.Username, View: TokensView})
	err := t.base.Update(ctx, rec.ID, datamodel.Values{FieldLastUsedAt: stamp(now)})
	if errors.Is(err, datamodel.ErrNotFound) {
		return ErrTokenInvalid
	}
	if err != nil {
		t.mu.Lock()
		delete(t.written, rec.ID) // the next request tries again
		t.mu.Unlock()
		return &LastUseError{Err: err}
	}
	return nil
}

// Of returns the tokens of the user with userID, newest first (by their
// creation, then by their id as the store orders them, the latest first).
func (t *Tokens) Of(ctx context.Context, userID string) ([]datamodel.Record, error) {
	if !t.users.ValidID(userID) {
		return nil, nil
	}
	var out []datamodel.Record
	q := datamodel.Query{Filters: []datamodel.Filter{t.ofUser(userID)}}
	if err := t.base.Each(ctx, q, func(rec datamodel.Record) error {
		out = append(out, rec)
		return nil
	}); err != nil {
		return nil, err
	}
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b datamodel.Record) int {
		at, _ := a.Values[FieldCreatedAt].(string)
		bt, _ := b.Values[FieldCreatedAt].(string)
		return cmp.Compare(bt, at) // RFC 3339 in UTC sorts as text
	})
	return out, nil
}

// ofUser is the filter of the tokens of the user with id.
func (t *Tokens) ofUser(id string) datamodel.Filter {
	return datamodel.Filter{Field: t.base.Schema().Field(FieldUser), Op: datamodel.OpEq, Value: &datamodel.Ref{ID: id}}
}

// Revoke deletes the token with tokenID of the user with userID;
// datamodel.ErrNotFound unless there is such a token and it is that
// user's. The audit actor of ctx, if any, writes the entry, in the
// tokens' view.
func (t *Tokens) Revoke(ctx context.Context, userID, tokenID string) error {
	if !t.base.ValidID(tokenID) {
		return datamodel.ErrNotFound
	}
	return t.st.Together(ctx, lockName, func(ctx context.Context) error {
		rec, err := t.base.Get(ctx, tokenID)
		if err != nil {
			return err
		}
		if ref, _ := rec.Values[FieldUser].(*datamodel.Ref); ref == nil || ref.ID != userID {
			return datamodel.ErrNotFound
		}
		return t.base.Delete(withView(ctx), tokenID)
	})
}

// deleteOf deletes every token of the users with ids, in the accounts'
// Together of their delete: a store with foreign keys would cascade, the
// others would leave tokens pointing at no one.
func (t *Tokens) deleteOf(ctx context.Context, ids []string) error {
	var tokens []string
	for _, id := range ids {
		if !t.users.ValidID(id) {
			continue
		}
		err := t.base.Each(ctx, datamodel.Query{Filters: []datamodel.Filter{t.ofUser(id)}}, func(rec datamodel.Record) error {
			tokens = append(tokens, rec.ID)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(tokens) == 0 {
		return nil
	}
	_, err := t.base.DeleteMany(withView(ctx), tokens)
	return err
}
