package accounts

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// The second factor (TOTP, RFC 6238): a user's record of the
// second_factors model holds the shared secret, sealed with a key derived
// from the app's secret_key (AES-256-GCM), so that a reader of the
// database alone (a stolen dump, a backup, a replica) cannot make codes;
// the time step of the last code accepted, so that a code is refused when
// used again; and the SHA-256 of each unused recovery code. The secret and
// the recovery codes are Hidden fields: no list, filter, export, API
// answer or audit entry holds them; app dump carries them as stored
// (sealed, hashed), as it carries password hashes.

// Field names of the second factors model.
const (
	FieldSecret     = "secret"
	FieldEnrolledAt = "enrolled_at"
	FieldLastStep   = "last_step"
	FieldRecovery   = "recovery"
)

// SecondFactorsModel is the name of the second factors' model.
const SecondFactorsModel = "second_factors"

// The audit log's actions of the second factor.
const (
	ActionEnroll2FA   = audit.ActionEnroll2FA
	ActionDisable2FA  = audit.ActionDisable2FA
	ActionRecovery2FA = audit.ActionRecovery2FA
	ActionReset2FA    = audit.ActionReset2FA
)

// SecondFactorSchema is the second factors': one record per user, at most
// (user is Unique). enrolled_at is "" while an enrollment waits for its
// first code, RFC 3339 in UTC once confirmed.
var SecondFactorSchema = datamodel.Schema{Name: SecondFactorsModel, Label: FieldEnrolledAt, Fields: []datamodel.Field{
	{Name: FieldUser, Label: "User", Kind: datamodel.Reference{Model: UsersModel}, Required: true, Unique: true},
	{Name: FieldEnrolledAt, Label: "Enrolled", Kind: datamodel.Text{MaxRunes: 32}},
	{Name: FieldLastStep, Label: "Last step", Kind: datamodel.Int{}},
	{Name: FieldSecret, Label: "Secret", Kind: datamodel.Text{MaxRunes: 200}, Required: true, Hidden: true},
	{Name: FieldRecovery, Label: "Recovery codes", Kind: datamodel.Text{MaxRunes: 1000}, Hidden: true},
}}

const (
	// RecoveryCodes is how many recovery codes an enrollment gives.
	RecoveryCodes = 10
	// recoveryLen is a recovery code's characters, base32 without its
	// digits' look-alikes: 10 characters of 32, 50 bits each code.
	recoveryLen = 10
	// totpPeriod and totpSkew: a code of 30 seconds, accepted one step
	// early or late (a clock a little off, a code typed at the turn).
	totpPeriod = 30
	totpSkew   = 1
	// sealPrefix marks the sealing's version, for a later change of it.
	sealPrefix = "v1:"
)

// Errors of the second factor.
var (
	// ErrCodeInvalid is a code that is wrong, out of its window, used
	// before, or a recovery code that is unknown or used.
	ErrCodeInvalid = errors.New("accounts: the code is not valid")
	// ErrNotEnrolled is a user without a confirmed second factor.
	ErrNotEnrolled = errors.New("accounts: no second factor enrolled")
	// ErrEnrolled is an enrollment of a user who has one.
	ErrEnrolled = errors.New("accounts: a second factor is enrolled already")
	// ErrNoKey is the second factor used before Configure gave it a key.
	ErrNoKey = errors.New("accounts: the second factor has no key (secret_key)")
	// ErrUnsealed is a stored secret that the key does not open: sealed
	// with another secret_key.
	ErrUnsealed = errors.New("accounts: the stored TOTP secret does not open with this secret_key")
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: totpSkew, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// SecondFactors are the users' TOTP second factors with their rules.
type SecondFactors struct {
	base  datamodel.Interface
	users datamodel.Interface
	roles datamodel.Interface
	st    Store
	log   audit.Log

	aead     cipher.AEAD
	required []string // role names whose holders must enroll
}

func newSecondFactors(base, users, roles datamodel.Interface, st Store, log audit.Log) *SecondFactors {
	return &SecondFactors{base: base, users: users, roles: roles, st: st, log: log}
}

// Model returns the second factors' model as stored: what dump and load
// copy.
func (s *SecondFactors) Model() datamodel.Interface { return s.base }

// Configure gives the secrets' key, derived from secretKey, and the roles
// whose holders must enroll. Until called, enrolling and checking codes
// fail with ErrNoKey (a reset works without it).
func (s *SecondFactors) Configure(secretKey string, requiredForRoles []string) {
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write([]byte("totp-secret"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	s.aead = aead
	s.required = slices.Clone(requiredForRoles)
}

// seal returns the base32 secret sealed for the store.
func (s *SecondFactors) seal(secret string) (string, error) {
	if s.aead == nil {
		return "", ErrNoKey
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("accounts: seal: %w", err)
	}
	return sealPrefix + base64.RawStdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(secret), nil)), nil
}

// open returns the base32 secret of a stored one.
func (s *SecondFactors) open(stored string) (string, error) {
	if s.aead == nil {
		return "", ErrNoKey
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(stored, sealPrefix))
	if !strings.HasPrefix(stored, sealPrefix) || err != nil || len(raw) < s.aead.NonceSize() {
		return "", ErrUnsealed
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", ErrUnsealed
	}
	return string(plain), nil
}

// of returns the second factor record of the user with userID, or
// datamodel.ErrNotFound.
func (s *SecondFactors) of(ctx context.Context, userID string) (datamodel.Record, error) {
	if !s.users.ValidID(userID) {
		return datamodel.Record{}, datamodel.ErrNotFound
	}
	page, err := s.base.List(ctx, datamodel.Query{Filters: []datamodel.Filter{
		{Field: s.base.Schema().Field(FieldUser), Op: datamodel.OpEq, Value: &datamodel.Ref{ID: userID}}}, Limit: 1, NoCount: true})
	if err != nil {
		return datamodel.Record{}, fmt.Errorf("accounts: read a second factor: %w", err)
	}
	if len(page.Records) == 0 {
		return datamodel.Record{}, datamodel.ErrNotFound
	}
	return page.Records[0], nil
}

func enrolled(rec datamodel.Record) bool {
	at, _ := rec.Values[FieldEnrolledAt].(string)
	return at != ""
}

// Enrolled reports whether the user with userID has a confirmed second
// factor.
func (s *SecondFactors) Enrolled(ctx context.Context, userID string) (bool, error) {
	rec, err := s.of(ctx, userID)
	if errors.Is(err, datamodel.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return enrolled(rec), nil
}

// Required reports whether the user with userID holds a role whose holders
// must enroll (Configure).
func (s *SecondFactors) Required(ctx context.Context, userID string) (bool, error) {
	if len(s.required) == 0 {
		return false, nil
	}
	rec, err := s.users.Get(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("accounts: a user's roles: %w", err)
	}
	for _, id := range datamodel.IDs(rec.Values[FieldRoles]) {
		role, err := s.roles.Get(ctx, id)
		if errors.Is(err, datamodel.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("accounts: a user's roles: %w", err)
		}
		if name, _ := role.Values[FieldName].(string); slices.Contains(s.required, name) {
			return true, nil
		}
	}
	return false, nil
}

// Start returns the key the user with userID is to enroll, for the QR
// code and the text shown: the one of an enrollment begun and not yet
// confirmed, else a new one, stored unconfirmed. A user enrolled already
// is ErrEnrolled.
func (s *SecondFactors) Start(ctx context.Context, userID, username, issuer string) (*otp.Key, error) {
	var key *otp.Key
	// An enrollment begun ends no login (auth.EndsNoLogin).
	err := s.st.Together(auth.EndsNoLogin(ctx), lockName, func(ctx context.Context) error {
		rec, err := s.of(ctx, userID)
		switch {
		case err == nil && enrolled(rec):
			return ErrEnrolled
		case err == nil:
			secret, err := s.open(text(rec.Values[FieldSecret]))
			if err == nil {
				key, err = keyOf(secret, username, issuer)
				return err
			}
			if !errors.Is(err, ErrUnsealed) {
				return err
			}
			// Sealed with a key no longer in use: begin anew.
			if err := s.base.Delete(audit.Without(ctx), rec.ID); err != nil {
				return err
			}
		case !errors.Is(err, datamodel.ErrNotFound):
			return err
		}
		if _, err := s.users.Get(ctx, userID); err != nil {
			return err
		}
		if key, err = totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: username}); err != nil {
			return fmt.Errorf("accounts: a TOTP key: %w", err)
		}
		sealed, err := s.seal(key.Secret())
		if err != nil {
			return err
		}
		_, err = s.base.Create(audit.Without(ctx), datamodel.Values{FieldUser: &datamodel.Ref{ID: userID},
			FieldEnrolledAt: "", FieldLastStep: int64(0), FieldSecret: sealed, FieldRecovery: ""})
		return err
	})
	return key, err
}

// keyOf returns the key of a base32 secret, for its QR code.
func keyOf(secret, username, issuer string) (*otp.Key, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return nil, ErrUnsealed
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: username, Secret: raw})
	if err != nil {
		return nil, fmt.Errorf("accounts: a TOTP key: %w", err)
	}
	return key, nil
}

// Confirm confirms the enrollment the user with userID began with code,
// one of their app's, and returns their recovery codes, in plain, shown
// once: only their hashes are stored. A wrong code is ErrCodeInvalid; no
// enrollment begun, ErrNotEnrolled; one confirmed already, ErrEnrolled.
// The audit log records it, by the actor of ctx or else by username.
func (s *SecondFactors) Confirm(ctx context.Context, userID, username, code string, now time.Time) ([]string, error) {
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	err = s.st.Together(ctx, lockName, func(ctx context.Context) error {
		rec, err := s.of(ctx, userID)
		if errors.Is(err, datamodel.ErrNotFound) {
			return ErrNotEnrolled
		}
		if err != nil {
			return err
		}
		if enrolled(rec) {
			return ErrEnrolled
		}
		secret, err := s.open(text(rec.Values[FieldSecret]))
		if err != nil {
			return err
		}
		step, ok := matchStep(secret, normalizeCode(code), now, 0)
		if !ok {
			return ErrCodeInvalid
		}
		if err := s.base.Update(audit.Without(ctx), rec.ID, datamodel.Values{FieldEnrolledAt: stamp(now),
			FieldLastStep: step, FieldRecovery: strings.Join(hashes, " ")}); err != nil {
			return err
		}
		return s.record(ctx, ActionEnroll2FA, userID, username, now)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// Verify checks code for the user with userID at now: a 6-digit code of
// their app, in its window (one step of skew) and later than the last one
// accepted, or one of their unused recovery codes, which is used up (and
// the use recorded in the audit log). Anything else is ErrCodeInvalid; a
// user without a confirmed second factor, ErrNotEnrolled. It returns
// whether a recovery code was used and how many are left.
func (s *SecondFactors) Verify(ctx context.Context, userID, username, code string, now time.Time) (recovery bool, left int, err error) {
	// A code used ends no login (auth.EndsNoLogin): what it writes (the
	// code's step, a recovery code spent) is read afresh by every check.
	err = s.st.Together(auth.EndsNoLogin(ctx), lockName, func(ctx context.Context) error {
		rec, err := s.of(ctx, userID)
		if errors.Is(err, datamodel.ErrNotFound) {
			return ErrNotEnrolled
		}
		if err != nil {
			return err
		}
		if !enrolled(rec) {
			return ErrNotEnrolled
		}
		hashes := strings.Fields(text(rec.Values[FieldRecovery]))
		code = normalizeCode(code)
		if isDigits(code) {
			secret, err := s.open(text(rec.Values[FieldSecret]))
			if err != nil {
				return err
			}
			last, _ := rec.Values[FieldLastStep].(int64)
			step, ok := matchStep(secret, code, now, last)
			if !ok {
				return ErrCodeInvalid
			}
			left = len(hashes)
			return s.base.Update(audit.Without(ctx), rec.ID, datamodel.Values{FieldLastStep: step})
		}
		i := recoveryIndex(hashes, code)
		if i < 0 {
			return ErrCodeInvalid
		}
		hashes = slices.Delete(hashes, i, i+1)
		recovery, left = true, len(hashes)
		if err := s.base.Update(audit.Without(ctx), rec.ID, datamodel.Values{FieldRecovery: strings.Join(hashes, " ")}); err != nil {
			return err
		}
		return s.record(ctx, ActionRecovery2FA, userID, username, now)
	})
	return recovery, left, err
}

// Disable removes the second factor of the user with userID, who proves
// they hold it with code (Verify's: a current code or a recovery code).
func (s *SecondFactors) Disable(ctx context.Context, userID, username, code string, now time.Time) error {
	if _, _, err := s.Verify(ctx, userID, username, code, now); err != nil {
		return err
	}
	return s.remove(ctx, userID, username, ActionDisable2FA, now)
}

// Reset removes the second factor of the user with userID, enrolled or
// begun, without a code: an Admin's (the command line's) way back in for
// a user who lost theirs. ErrNotEnrolled when there is none. The audit
// log records it by the actor of ctx.
func (s *SecondFactors) Reset(ctx context.Context, userID, username string) error {
	return s.remove(ctx, userID, username, ActionReset2FA, time.Now())
}

func (s *SecondFactors) remove(ctx context.Context, userID, username, action string, now time.Time) error {
	return s.st.Together(ctx, lockName, func(ctx context.Context) error {
		rec, err := s.of(ctx, userID)
		if errors.Is(err, datamodel.ErrNotFound) {
			return ErrNotEnrolled
		}
		if err != nil {
			return err
		}
		if err := s.base.Delete(audit.Without(ctx), rec.ID); err != nil {
			return err
		}
		return s.record(ctx, action, userID, username, now)
	})
}

// record appends an entry of action on the user's account: by the actor
// of ctx, or by the user (at the login's second step, no one is logged
// in yet). It names the user, never a code or the secret.
func (s *SecondFactors) record(ctx context.Context, action, userID, username string, now time.Time) error {
	if s.log == nil {
		return nil
	}
	actor, ok := audit.From(ctx)
	if !ok || actor.Username == "" {
		actor = audit.Actor{Username: username}
	}
	return s.log.Append(ctx, audit.Entry{Time: now.UTC(), Username: actor.Username, Action: action,
		View: "users", RecordID: userID, RecordLabel: username})
}

// deleteOf deletes the second factors of the users with ids, in the
// Together of their delete (see Tokens.deleteOf).
func (s *SecondFactors) deleteOf(ctx context.Context, ids []string) error {
	var gone []string
	for _, id := range ids {
		rec, err := s.of(ctx, id)
		if errors.Is(err, datamodel.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		gone = append(gone, rec.ID)
	}
	if len(gone) == 0 {
		return nil
	}
	_, err := s.base.DeleteMany(audit.Without(ctx), gone)
	return err
}

// matchStep returns the time step of code for secret at now, within the
// skew and after last (a step used before is refused), and whether there
// is one. totp.ValidateCustom says whether the code is right in the
// window; the step is then found among the window's.
func matchStep(secret, code string, now time.Time, last int64) (int64, bool) {
	if len(code) != 6 || !isDigits(code) {
		return 0, false
	}
	if ok, err := totp.ValidateCustom(code, secret, now, totpOpts); err != nil || !ok {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > last {
			return step, true
		}
	}
	return 0, false
}

// normalizeCode drops the spaces and dashes a code is typed with, and
// lowers a recovery code's letters.
func normalizeCode(code string) string {
	if len(code) > 64 {
		return ""
	}
	return strings.ToLower(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(code))
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// recoveryAlphabet is base32's letters and digits 2-7, lower case.
const recoveryAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// newRecoveryCodes returns RecoveryCodes codes, as shown ("abcde-fghij"),
// and their hashes as stored. A code has 50 random bits: a plain SHA-256
// of it cannot be reversed by trying codes, as a token's cannot, so no
// slow hash is needed.
func newRecoveryCodes() (codes, hashes []string, err error) {
	for range RecoveryCodes {
		var raw [recoveryLen]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return nil, nil, fmt.Errorf("accounts: recovery codes: %w", err)
		}
		var b strings.Builder
		for i, c := range raw {
			if i == recoveryLen/2 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
		}
		codes = append(codes, b.String())
		hashes = append(hashes, recoveryHash(normalizeCode(b.String())))
	}
	return codes, hashes, nil
}

// recoveryHash is what is stored of a recovery code: its SHA-256 in hex.
func recoveryHash(code string) string {
	sum := sha256.Sum256([]byte("recovery:" + code))
	return hex.EncodeToString(sum[:])
}

// recoveryIndex returns the index of code's hash among hashes, or -1.
func recoveryIndex(hashes []string, code string) int {
	if len(code) != recoveryLen {
		return -1
	}
	h := recoveryHash(code)
	found := -1
	for i, stored := range hashes {
		if subtle.ConstantTimeCompare([]byte(stored), []byte(h)) == 1 {
			found = i
		}
	}
	return found
}

// text returns v as a string, "" for anything else.
func text(v any) string { s, _ := v.(string); return s }
