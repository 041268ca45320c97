package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"musicadmin/internal/access"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/textutil"
)

// Lifetime is how long a login lasts. The cookie's Max-Age, securecookie's
// signed timestamp and the session row all expire after it.
const Lifetime = 12 * time.Hour

// Session cookie keys.
const (
	keySessionToken = "sid"
	keyCSRF         = "csrf"
	// The second step of a login: the user whose password was right and
	// who owes a code (or an enrollment), bound to their password hash as
	// a session is, until a time; where to go after; whether they must
	// enroll first. No session exists meanwhile.
	keyPendingUser   = "2fa_user"
	keyPendingName   = "2fa_name"
	keyPendingTag    = "2fa_tag"
	keyPendingUntil  = "2fa_until"
	keyPendingNext   = "2fa_next"
	keyPendingEnroll = "2fa_enroll"
	// A single sign-on begun: what the provider's answer must match, and
	// where to go after, until a time. Taken (and so removed) by the
	// callback: a replayed callback finds nothing.
	keySignOnState    = "sso_state"
	keySignOnNonce    = "sso_nonce"
	keySignOnVerifier = "sso_verifier"
	keySignOnNext     = "sso_next"
	keySignOnUntil    = "sso_until"
)

// SignOnLifetime is how long a single sign-on begun waits for the
// provider's answer.
const SignOnLifetime = 10 * time.Minute

// SignOnNote is a single sign-on begun: the state and nonce the
// provider's answer must carry back, the PKCE verifier of its code, and
// where the user was going.
type SignOnNote struct {
	State, Nonce, Verifier, Next string
}

// BeginSignOn keeps n in the cookie (signed and encrypted) for
// SignOnLifetime, in place of any earlier one; the rest of the cookie
// (a CSRF token, flashes) stays.
func (s *Sessions) BeginSignOn(w http.ResponseWriter, r *http.Request, n SignOnNote) {
	sess := s.session(r)
	sess.Values[keySignOnState] = n.State
	sess.Values[keySignOnNonce] = n.Nonce
	sess.Values[keySignOnVerifier] = n.Verifier
	sess.Values[keySignOnNext] = SafeNext(n.Next)
	sess.Values[keySignOnUntil] = time.Now().Add(SignOnLifetime).UTC().Format(time.RFC3339)
	s.save(w, r, sess)
}

// TakeSignOn returns the request's single sign-on begun and removes it
// from the cookie, so that it is used once; ok is false when there is
// none, or it expired.
func (s *Sessions) TakeSignOn(w http.ResponseWriter, r *http.Request) (n SignOnNote, ok bool) {
	sess := s.session(r)
	str := func(k string) string { v, _ := sess.Values[k].(string); return v }
	n = SignOnNote{State: str(keySignOnState), Nonce: str(keySignOnNonce), Verifier: str(keySignOnVerifier),
		Next: SafeNext(str(keySignOnNext))}
	until, err := time.Parse(time.RFC3339, str(keySignOnUntil))
	if n.State == "" && until.IsZero() {
		return SignOnNote{}, false
	}
	for _, k := range []string{keySignOnState, keySignOnNonce, keySignOnVerifier, keySignOnNext, keySignOnUntil} {
		delete(sess.Values, k)
	}
	s.save(w, r, sess)
	if err != nil || !time.Now().Before(until) || n.State == "" || n.Nonce == "" || n.Verifier == "" {
		return SignOnNote{}, false
	}
	return n, true
}

// PendingLifetime is how long the second step of a login waits for its
// code, or for the enrollment a role requires, after the password.
const PendingLifetime = 10 * time.Minute

// maxFlashes and maxFlashRunes keep the cookie far below the 4 KB browsers
// accept, however many flashes pile up unread.
const (
	maxFlashes    = 3
	maxFlashRunes = 160
)

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
	pendingKey
)

// Pending is a login whose password was right and whose second step is
// owed: the user, where they were going, and whether they must enroll a
// second factor first.
type Pending struct {
	User   *User
	Next   string
	Enroll bool
}

// Sessions keeps logins: a signed and encrypted cookie carries a random
// token, the CSRF token and flash messages; the token's hash names a session
// in the Store, so a logout, a password change or a deleted user ends the
// session on the server whatever copy of the cookie is replayed.
type Sessions struct {
	accounts   Store
	store      *sessions.CookieStore
	cookieName string
	tagKey     []byte
	log        *slog.Logger
	// logins remembers the sessions' logins (lookup).
	logins *Remembered[Login]
}

// NewSessions derives the cookie keys from secret. secure marks cookies
// Secure and gives them the __Host- prefix, which browsers accept only over
// HTTPS.
func NewSessions(accounts Store, secret string, secure bool, log *slog.Logger) *Sessions {
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(purpose))
		return m.Sum(nil)
	}
	cs := sessions.NewCookieStore(derive("cookie-hash"), derive("cookie-block"))
	for _, c := range cs.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(cookieSerializer{})
		}
	}
	// gorilla/sessions defaults to Secure, SameSite=None and 30 days: set
	// every option explicitly.
	cs.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(Lifetime.Seconds()),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	cs.MaxAge(int(Lifetime.Seconds()))
	name := "session"
	if secure {
		name = "__Host-session"
	}
	return &Sessions{accounts: accounts, store: cs, cookieName: name, tagKey: derive("auth-tag"), log: log,
		logins: NewRemembered[Login]()}
}

// session returns the request's cookie session, loaded once per request.
// A cookie that does not decode (tampered, expired, other key) starts a new
// empty session rather than failing the request.
func (s *Sessions) session(r *http.Request) *sessions.Session {
	if sess, ok := r.Context().Value(sessionKey).(*sessions.Session); ok {
		return sess
	}
	sess, err := s.store.Get(r, s.cookieName)
	if err != nil {
		sess, _ = s.store.New(r, s.cookieName)
		sess.Values = map[any]any{}
		sess.IsNew = true
	}
	return sess
}

func (s *Sessions) save(w http.ResponseWriter, r *http.Request, sess *sessions.Session) {
	if err := sess.Save(r, w); err != nil {
		s.log.Error("save session cookie", "err", err)
	}
}

// authTag binds a session to the user's current password hash: changing the
// password changes the tag and so ends every existing session.
func (s *Sessions) authTag(passwordHash string) string {
	m := hmac.New(sha256.New, s.tagKey)
	m.Write([]byte(passwordHash))
	return hex.EncodeToString(m.Sum(nil))
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Load is middleware that puts the logged-in user, if any, in the request
// context. A lookup that fails goes to fail (a database that does not answer
// wraps datamodel.ErrUnavailable).
func (s *Sessions) Load(fail func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sess := s.session(r)
			ctx := context.WithValue(r.Context(), sessionKey, sess)
			if token, ok := sess.Values[keySessionToken].(string); ok && token != "" {
				user, grants, err := s.lookup(ctx, token)
				switch {
				case err != nil:
					fail(w, r, err)
					return
				case user != nil:
					ctx = context.WithValue(ctx, userKey, user)
					if grants != nil {
						ctx = access.WithGrants(ctx, grants)
					}
				default:
					// The server no longer knows this login: forget it.
					delete(sess.Values, keySessionToken)
				}
			} else if _, ok := sess.Values[keyPendingUser].(string); ok {
				p, err := s.pending(ctx, sess)
				if err != nil {
					fail(w, r, err)
					return
				}
				if p != nil {
					ctx = context.WithValue(ctx, pendingKey, p)
				}
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// SessionGrantsReader is a Store that can read a live session's user
// together with what their roles allow, in one round trip: every page's
// request needs both. Sessions.Load then puts the grants in the request's
// context, where access.Load finds them and reads nothing. A Store without
// it has the grants read by access.Load.
type SessionGrantsReader interface {
	// SessionUserGrants is SessionUser, and the user's grants, the
	// session's expiry and the accounts' generation (Generations; 0 from a
	// store without them) as the same read saw them.
	SessionUserGrants(ctx context.Context, tokenHash string, now time.Time) (SessionGrants, error)
}

// SessionGrants is what SessionGrantsReader reads of a live session.
type SessionGrants struct {
	User       User
	Tag        string // the session's auth tag
	Grants     *access.Grants
	ExpiresAt  time.Time
	Generation int64
}

// AccountsLock is the name of the datamodel.Together lock that every write
// to users, roles, their permissions, tokens and sessions takes (the
// accounts layer's writes, a logout): the store counts its takings, and
// that count is the accounts' generation (Generations).
const AccountsLock = "accounts"

// Generations is a Store that numbers the states of its accounts: the
// generation moves whenever a write that can end a login, or change its
// user or what they may do, commits (a Together of AccountsLock, on every
// instance of the app sharing the database), and reading it is one read
// by key. Sessions and API tokens remember a login's user and grants for
// as long as it has not moved (Remembered), so a request reads the
// generation alone rather than its session, user and grants.
type Generations interface {
	AccountsGeneration(ctx context.Context) (int64, error)
}

type endsNoLoginKey struct{}

// EndsNoLogin marks ctx for a write to the accounts that ends no login
// and changes no login's user or grants (a new token, a second factor
// begun or used), or that no one waits for (the permissions synced at a
// start): a store with Generations, which holds a write's return until
// every instance's read of the generation begun before it is stale (so
// that a logout holds everywhere once it has returned), need not hold
// this one.
func EndsNoLogin(ctx context.Context) context.Context {
	return context.WithValue(ctx, endsNoLoginKey{}, true)
}

// EndsNoLoginIn reports whether ctx was marked by EndsNoLogin.
func EndsNoLoginIn(ctx context.Context) bool {
	v, _ := ctx.Value(endsNoLoginKey{}).(bool)
	return v
}

// LoginGrantsReader is a Store that can read a user by username together
// with what their roles allow, in one round trip: an API token's check,
// on every API request.
type LoginGrantsReader interface {
	// UserGrantsByUsername is UserByUsername, and the user's grants.
	UserGrantsByUsername(ctx context.Context, username string) (User, *access.Grants, error)
}

// lookup returns the active user of a live session, or nil, and the
// user's grants when the store reads them with the session. A login read
// once is remembered (s.logins) while the accounts' generation stays where
// it was: the request then reads the generation only.
func (s *Sessions) lookup(ctx context.Context, token string) (*User, *access.Grants, error) {
	hash := hashToken(token)
	now := time.Now()
	sg, withGrants := s.accounts.(SessionGrantsReader)
	gens, counted := s.accounts.(Generations)
	if withGrants && counted && s.logins.Fresh(hash, now) {
		gen, err := gens.AccountsGeneration(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("auth: find session: %w", err)
		}
		if l, ok := s.logins.Get(hash, gen, now); ok {
			user := l.User // a copy: a request may change its own
			return &user, l.Grants, nil
		}
	}
	var (
		read SessionGrants
		err  error
	)
	if withGrants {
		read, err = sg.SessionUserGrants(ctx, hash, now)
	} else {
		read.User, read.Tag, err = s.accounts.SessionUser(ctx, hash, now)
	}
	if errors.Is(err, datamodel.ErrNotFound) {
		s.logins.Forget(hash)
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: find session: %w", err)
	}
	user := read.User
	if !user.Active || subtle.ConstantTimeCompare([]byte(read.Tag), []byte(s.authTag(user.PasswordHash))) != 1 {
		s.logins.Forget(hash)
		return nil, nil, nil
	}
	if withGrants && counted {
		s.logins.Put(hash, Login{User: user, Grants: read.Grants}, read.Generation, now, read.ExpiresAt)
	}
	return &user, read.Grants, nil
}

// pending returns the second step of sess, if it is still owed: unexpired,
// its user still active, with the password of then.
func (s *Sessions) pending(ctx context.Context, sess *sessions.Session) (*Pending, error) {
	str := func(k string) string { v, _ := sess.Values[k].(string); return v }
	until, err := time.Parse(time.RFC3339, str(keyPendingUntil))
	if err != nil || !time.Now().Before(until) {
		return nil, nil
	}
	user, err := s.accounts.UserByUsername(ctx, str(keyPendingName))
	if errors.Is(err, datamodel.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: the user of a login's second step: %w", err)
	}
	if user.ID != str(keyPendingUser) || !user.Active ||
		subtle.ConstantTimeCompare([]byte(str(keyPendingTag)), []byte(s.authTag(user.PasswordHash))) != 1 {
		return nil, nil
	}
	return &Pending{User: &user, Next: SafeNext(str(keyPendingNext)), Enroll: str(keyPendingEnroll) != ""}, nil
}

// BeginPending starts the second step of user's login, whose password was
// right: no session yet, only a signed and encrypted note in the cookie
// (any session of before is ended, a new CSRF token made), which lets
// /login/2fa and /logout/ answer and sends every other page there
// (RequireLogin), for PendingLifetime.
func (s *Sessions) BeginPending(w http.ResponseWriter, r *http.Request, user *User, next string, enroll bool) error {
	sess := s.session(r)
	if token, ok := sess.Values[keySessionToken].(string); ok && token != "" {
		if err := s.endSession(r.Context(), token); err != nil {
			return fmt.Errorf("auth: end the old session: %w", err)
		}
	}
	flag := ""
	if enroll {
		flag = "1"
	}
	sess.Values = map[any]any{keyCSRF: rand.Text(), keyPendingUser: user.ID, keyPendingName: user.Username,
		keyPendingTag: s.authTag(user.PasswordHash), keyPendingUntil: time.Now().Add(PendingLifetime).UTC().Format(time.RFC3339),
		keyPendingNext: SafeNext(next), keyPendingEnroll: flag}
	s.save(w, r, sess)
	return nil
}

// PendingOf returns the request's owed second step of a login, or nil.
func PendingOf(r *http.Request) *Pending {
	p, _ := r.Context().Value(pendingKey).(*Pending)
	return p
}

// Login starts a session for user: a new token and a new CSRF token, so
// nothing from before the login (fixation, a leaked token) carries over.
func (s *Sessions) Login(w http.ResponseWriter, r *http.Request, user *User) error {
	token := rand.Text()
	now := time.Now()
	err := s.accounts.CreateSession(r.Context(), Session{TokenHash: hashToken(token), UserID: user.ID,
		AuthTag: s.authTag(user.PasswordHash), CreatedAt: now, ExpiresAt: now.Add(Lifetime)})
	if err != nil {
		return fmt.Errorf("auth: create session: %w", err)
	}
	// Expired sessions of this user go now; no background job is needed. A
	// failure leaves them for the next login: the login itself succeeded.
	if err := s.accounts.DeleteExpiredSessions(r.Context(), user.ID, now); err != nil {
		s.log.Warn("delete expired sessions", "err", err)
	}
	sess := s.session(r)
	sess.Values = map[any]any{keySessionToken: token, keyCSRF: rand.Text()}
	s.save(w, r, sess)
	return nil
}

// Renew ends the request's session, if any, and starts a new one for
// user: after a change that ends a user's sessions (a new password, a role
// taken away), the user who made it stays logged in, on a new token bound
// to the new password hash, while every other session of theirs is over.
func (s *Sessions) Renew(w http.ResponseWriter, r *http.Request, user *User) error {
	sess := s.session(r)
	if token, ok := sess.Values[keySessionToken].(string); ok && token != "" {
		if err := s.endSession(r.Context(), token); err != nil {
			return fmt.Errorf("auth: end the old session: %w", err)
		}
	}
	// The flashes queued so far survive the new cookie.
	flashes := sess.Flashes()
	if err := s.Login(w, r, user); err != nil {
		return err
	}
	if len(flashes) > 0 {
		for _, f := range flashes {
			sess.AddFlash(f)
		}
		s.save(w, r, sess)
	}
	return nil
}

// endSession deletes the session of token, and forgets its login here at
// once (the store's delete moves the accounts' generation, which ends it
// on the other instances).
func (s *Sessions) endSession(ctx context.Context, token string) error {
	hash := hashToken(token)
	s.logins.Forget(hash)
	return s.accounts.DeleteSession(ctx, hash)
}

// Logout ends the request's session on the server and clears the cookie.
func (s *Sessions) Logout(w http.ResponseWriter, r *http.Request) error {
	sess := s.session(r)
	var err error
	if token, ok := sess.Values[keySessionToken].(string); ok && token != "" {
		err = s.endSession(r.Context(), token)
	}
	sess.Values = map[any]any{}
	sess.Options.MaxAge = -1
	s.save(w, r, sess)
	sess.Options.MaxAge = int(Lifetime.Seconds())
	if err != nil {
		return fmt.Errorf("auth: delete session: %w", err)
	}
	return nil
}

// WithUser returns ctx with u as the request's user: the JSON API's, who
// signed in with a token rather than a session.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey, u)
}

// CurrentUser returns the logged-in user, or nil.
func CurrentUser(r *http.Request) *User {
	u, _ := r.Context().Value(userKey).(*User)
	return u
}

// CSRFToken returns the session's CSRF token as a form carries it, masked
// afresh on every call (maskCSRF), creating the session's token (and
// setting the cookie) on first use.
func (s *Sessions) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	sess := s.session(r)
	if t, ok := sess.Values[keyCSRF].(string); ok && t != "" {
		return maskCSRF(t)
	}
	t := rand.Text()
	sess.Values[keyCSRF] = t
	s.save(w, r, sess)
	return maskCSRF(t)
}

// AddFlash queues a message for the next page. Only the newest maxFlashes
// messages are kept, each cut to maxFlashRunes: the cookie must stay far
// below the 4 KB browsers accept, however many flashes pile up unread.
func (s *Sessions) AddFlash(w http.ResponseWriter, r *http.Request, msg string) {
	if utf8.RuneCountInString(msg) > maxFlashRunes {
		msg = textutil.Truncate(msg, maxFlashRunes-1) + "…"
	}
	sess := s.session(r)
	queued := sess.Flashes()
	for _, f := range queued[max(0, len(queued)-(maxFlashes-1)):] {
		sess.AddFlash(f)
	}
	sess.AddFlash(msg)
	s.save(w, r, sess)
}

// PopFlashes returns and clears the queued messages.
func (s *Sessions) PopFlashes(w http.ResponseWriter, r *http.Request) []string {
	sess := s.session(r)
	queued := sess.Flashes()
	if len(queued) == 0 {
		return nil
	}
	s.save(w, r, sess)
	flashes := make([]string, 0, len(queued))
	for _, f := range queued {
		if msg, ok := f.(string); ok {
			flashes = append(flashes, msg)
		}
	}
	return flashes
}
