package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// Single sign-on's accounts: a user of an OpenID provider is known here by
// the pair (issuer, subject), which the provider never reassigns, and never
// by a name or an e-mail address, which a user may change at the provider
// (and so take over another's account). Each pair names one user in the
// identities model; a sign-in finds the user by it, registers a new one
// when the configuration allows, and syncs the user's roles with what the
// provider's groups map to. The rules are here, once, for every backend.

// Field names and model of the identities.
const (
	IdentitiesModel = "identities"
	FieldIssuer     = "issuer"
	FieldSubject    = "subject"
)

// The audit log's actions of single sign-on besides a record's create and
// update (a registration, a roles sync).
const (
	ActionLoginSSO     = audit.ActionLoginSSO
	ActionLoginRefused = audit.ActionLoginRefused
)

// IdentitySchema is the identities': a user's (issuer, subject) at an
// OpenID provider, linked at a time (RFC 3339, UTC).
var IdentitySchema = datamodel.Schema{Name: IdentitiesModel, Label: FieldSubject, Fields: []datamodel.Field{
	{Name: FieldUser, Label: "User", Kind: datamodel.Reference{Model: UsersModel}, Required: true},
	{Name: FieldIssuer, Label: "Issuer", Kind: datamodel.Text{MaxRunes: 255}, Required: true},
	{Name: FieldSubject, Label: "Subject", Kind: datamodel.Text{MaxRunes: 255}, Required: true},
	// The hex SHA-256 of issuer and subject: unique, so that one
	// provider's subject names one user, whatever their lengths.
	{Name: FieldDigest, Label: "Digest", Kind: datamodel.Text{MaxRunes: 64}, Required: true, Unique: true, Hidden: true},
	{Name: FieldCreatedAt, Label: "Linked", Kind: datamodel.Text{MaxRunes: 32}, Required: true},
}}

// Errors of a single sign-on.
var (
	// ErrUnknownIdentity is a subject no user has, with registration off.
	ErrUnknownIdentity = errors.New("accounts: no user has this identity")
	// ErrInactive is a subject whose user is deactivated.
	ErrInactive = errors.New("accounts: the user of this identity is inactive")
	// ErrNoRole is a sign-in that would leave the user with no role.
	ErrNoRole = errors.New("accounts: no role for this identity")
	// ErrIncomplete is a registration the provider's claims cannot fill
	// (no e-mail address).
	ErrIncomplete = errors.New("accounts: the provider's claims lack what a user needs")
)

// Identities are the users' identities at OpenID providers with the
// sign-in's rules.
type Identities struct {
	base  datamodel.Interface
	users *Users
	roles *Roles
	st    Store
	log   audit.Log
}

// Model returns the identities' model as stored: what dump and load copy.
func (i *Identities) Model() datamodel.Interface { return i.base }

// ExternalSignIn is what a provider said of a user, checked already (the
// ID token's signature, issuer, audience, expiry and nonce), and what the
// configuration makes of it.
type ExternalSignIn struct {
	Issuer, Subject string
	// PreferredUsername, Email and the names fill a registered user.
	PreferredUsername, Email, FirstName, LastName string
	// Roles are the role names the provider's groups map to.
	Roles []string
	// Sync sets the user's roles to Roles at every sign-in.
	Sync bool
	// Register creates a user for an unknown subject, with Roles and
	// RegistrationRole; at a sync, RegistrationRole is given too.
	Register         bool
	RegistrationRole string
}

// Outcome is a single sign-on's user and what it changed.
type Outcome struct {
	UserID, Username string
	Registered       bool
	// RolesChanged: the sync gave the user other roles.
	RolesChanged bool
}

// roleNames are the roles in gives: the mapped ones and, with
// registration on, the registration role (as Flask-AppBuilder's
// AUTH_USER_REGISTRATION_ROLE, at a registration and at a sync alike).
func (in ExternalSignIn) roleNames() []string {
	names := append([]string(nil), in.Roles...)
	if in.Register && in.RegistrationRole != "" {
		names = append(names, in.RegistrationRole)
	}
	return names
}

// identityKey is the unique key of issuer's subject.
func identityKey(issuer, subject string) string {
	sum := sha256.Sum256([]byte(issuer + "\x00" + subject))
	return hex.EncodeToString(sum[:])
}

// SignIn finds the user of in's issuer and subject and, as the
// configuration in says, registers them or syncs their roles, under the
// accounts' lock: a registration and a role change are audited as any
// record's create and update, by the user signing in. It refuses an
// unknown subject with registration off (ErrUnknownIdentity), an inactive
// user (ErrInactive), and a user who would hold no role (ErrNoRole); a
// sync that would take the last active Admin away is refused as an Admin's
// edit is (a *datamodel.RefusedError).
func (i *Identities) SignIn(ctx context.Context, in ExternalSignIn, now time.Time) (Outcome, error) {
	var out Outcome
	if in.Issuer == "" || in.Subject == "" || utf8.RuneCountInString(in.Subject) > 255 || utf8.RuneCountInString(in.Issuer) > 255 {
		return out, ErrUnknownIdentity
	}
	err := i.st.Together(ctx, lockName, func(ctx context.Context) error {
		out = Outcome{}
		userID, err := i.userOf(ctx, identityKey(in.Issuer, in.Subject))
		if errors.Is(err, datamodel.ErrNotFound) {
			if !in.Register {
				return ErrUnknownIdentity
			}
			return i.register(ctx, in, now, &out)
		}
		if err != nil {
			return err
		}
		user, err := i.users.base.Get(ctx, userID)
		if err != nil {
			return fmt.Errorf("accounts: the user of an identity: %w", err)
		}
		out.UserID, out.Username = user.ID, text(user.Values[FieldUsername])
		if active, _ := user.Values[FieldActive].(bool); !active {
			return ErrInactive
		}
		held := datamodel.IDs(user.Values[FieldRoles])
		if !in.Sync {
			if len(held) == 0 {
				return ErrNoRole
			}
			return nil
		}
		want, err := i.roleIDs(ctx, in.roleNames())
		if err != nil {
			return err
		}
		if len(want) == 0 {
			return ErrNoRole
		}
		if sameSet(held, want) {
			return nil
		}
		refs := make([]datamodel.Ref, len(want))
		for k, id := range want {
			refs[k] = datamodel.Ref{ID: id}
		}
		ctx = audit.With(ctx, audit.Actor{Username: out.Username, View: "sso"})
		if err := i.users.updateLocked(ctx, userID, nil, datamodel.Values{FieldRoles: refs}); err != nil {
			return err
		}
		out.RolesChanged = true
		return nil
	})
	return out, err
}

// userOf returns the id of the user whose identity has key.
func (i *Identities) userOf(ctx context.Context, key string) (string, error) {
	page, err := i.base.List(ctx, datamodel.Query{Filters: []datamodel.Filter{
		{Field: i.base.Schema().Field(FieldDigest), Op: datamodel.OpEq, Value: key}}, Limit: 1, NoCount: true})
	if err != nil {
		return "", fmt.Errorf("accounts: find an identity: %w", err)
	}
	if len(page.Records) == 0 {
		return "", datamodel.ErrNotFound
	}
	ref, _ := page.Records[0].Values[FieldUser].(*datamodel.Ref)
	if ref == nil {
		return "", datamodel.ErrNotFound
	}
	return ref.ID, nil
}

// roleIDs returns the ids of the roles named names that exist, each once,
// in the order of names. A mapping to a role that does not exist maps to
// nothing.
func (i *Identities) roleIDs(ctx context.Context, names []string) ([]string, error) {
	var ids []string
	for _, name := range names {
		rec, err := byLabel(ctx, i.roles.base, name)
		if errors.Is(err, datamodel.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("accounts: the role %q: %w", name, err)
		}
		if !slices.Contains(ids, rec.ID) {
			ids = append(ids, rec.ID)
		}
	}
	return ids, nil
}

// sameSet reports whether a and b hold the same ids.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, id := range a {
		if !slices.Contains(b, id) {
			return false
		}
	}
	return true
}

// register creates the user of in and links their identity: their roles
// are the mapped ones and the registration role; their password a random
// one nobody knows (an Admin may set one), so that they sign in through
// the provider. The username is the provider's preferred one, else the
// e-mail address, else one made of the identity's key, whichever is free:
// never an existing user's, which would hand their account over.
func (i *Identities) register(ctx context.Context, in ExternalSignIn, now time.Time, out *Outcome) error {
	email := strings.TrimSpace(in.Email)
	if email == "" {
		return ErrIncomplete
	}
	roles, err := i.roleIDs(ctx, in.roleNames())
	if err != nil {
		return err
	}
	if len(roles) == 0 {
		return ErrNoRole
	}
	key := identityKey(in.Issuer, in.Subject)
	username, err := i.freeUsername(ctx, key, in.PreferredUsername, email)
	if err != nil {
		return err
	}
	refs := make([]datamodel.Ref, len(roles))
	for k, id := range roles {
		refs[k] = datamodel.Ref{ID: id}
	}
	first, last := nameOr(in.FirstName, username), nameOr(in.LastName, "-")
	v, err := i.users.hashed(datamodel.Values{FieldUsername: username, "first_name": first, "last_name": last,
		"email": email, FieldActive: true, FieldRoles: refs, FieldPassword: datamodel.Secret(rand.Text() + rand.Text())})
	if err != nil {
		return err
	}
	actx := audit.With(ctx, audit.Actor{Username: username, View: "sso"})
	id, err := i.users.base.Create(actx, v)
	if err != nil {
		return err
	}
	if _, err := i.base.Create(audit.Without(ctx), datamodel.Values{FieldUser: &datamodel.Ref{ID: id},
		FieldIssuer: in.Issuer, FieldSubject: in.Subject, FieldDigest: key, FieldCreatedAt: stamp(now)}); err != nil {
		return err
	}
	*out = Outcome{UserID: id, Username: username, Registered: true}
	return nil
}

// nameOr returns name cleaned to a user's name field (64 characters of
// printable text), or fallback when nothing is left.
func nameOr(name, fallback string) string {
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name))
	if name == "" {
		return fallback
	}
	if utf8.RuneCountInString(name) > 64 {
		name = string([]rune(name)[:64])
	}
	return name
}

// freeUsername returns the first of the candidates that is a valid
// username no user has.
func (i *Identities) freeUsername(ctx context.Context, key string, candidates ...string) (string, error) {
	field := i.users.Schema().Field(FieldUsername)
	for _, c := range append(candidates, "sso-"+key[:12], "sso-"+key[:24]) {
		c = strings.TrimSpace(c)
		if c == "" || utf8.RuneCountInString(c) > 64 || strings.IndexFunc(c, func(r rune) bool {
			return unicode.IsControl(r) || unicode.IsSpace(r)
		}) >= 0 {
			continue
		}
		taken, err := i.users.base.Exists(ctx, field, c, "")
		if err != nil {
			return "", fmt.Errorf("accounts: a free username: %w", err)
		}
		if !taken {
			return c, nil
		}
	}
	return "", fmt.Errorf("accounts: no free username for a new user of single sign-on")
}

// Link links the user with userID to issuer's subject: how an existing
// account (a local one, made before single sign-on) is given its identity,
// from the command line. A subject linked to another user is refused.
func (i *Identities) Link(ctx context.Context, userID, issuer, subject string, now time.Time) error {
	if issuer == "" || subject == "" {
		return &datamodel.RefusedError{Field: FieldSubject, Message: "The issuer and the subject are required."}
	}
	return i.st.Together(ctx, lockName, func(ctx context.Context) error {
		key := identityKey(issuer, subject)
		other, err := i.userOf(ctx, key)
		switch {
		case err == nil && other == userID:
			return nil
		case err == nil:
			return &datamodel.RefusedError{Field: FieldSubject, Message: "This identity is another user's."}
		case !errors.Is(err, datamodel.ErrNotFound):
			return err
		}
		if _, err := i.users.base.Get(ctx, userID); err != nil {
			return err
		}
		_, err = i.base.Create(audit.Without(ctx), datamodel.Values{FieldUser: &datamodel.Ref{ID: userID},
			FieldIssuer: issuer, FieldSubject: subject, FieldDigest: key, FieldCreatedAt: stamp(now)})
		return err
	})
}

// deleteOf deletes the identities of the users with ids, in the Together
// of their delete (see Tokens.deleteOf).
func (i *Identities) deleteOf(ctx context.Context, ids []string) error {
	var gone []string
	for _, id := range ids {
		if !i.users.ValidID(id) {
			continue
		}
		err := i.base.Each(ctx, datamodel.Query{Filters: []datamodel.Filter{
			{Field: i.base.Schema().Field(FieldUser), Op: datamodel.OpEq, Value: &datamodel.Ref{ID: id}}}},
			func(rec datamodel.Record) error {
				gone = append(gone, rec.ID)
				return nil
			})
		if err != nil {
			return err
		}
	}
	if len(gone) == 0 {
		return nil
	}
	_, err := i.base.DeleteMany(audit.Without(ctx), gone)
	return err
}
