package mongostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// The collections of Accounts, named as the SQL tables are.
const (
	usersColl    = "users"
	rolesColl    = "roles"
	sessionsColl = "user_sessions"
)

// The indexes of Accounts, named as on SQL where SQL has the same one.
const (
	ixUsername        = "ux_users_username"
	ixRoleName        = "ux_roles_name"
	ixSessionsExpired = "ix_user_sessions_user_id_expires_at"
	ixSessionsTTL     = "ttl_user_sessions_expires_at"
)

// Accounts keeps sessions and failed logins in MongoDB, and reads and
// makes users and roles for logins, create-admin and app load: the
// document store's implementation of auth.Store, so that a MongoDB
// deployment needs no SQL database. Users, roles and permissions are
// otherwise models of a Store like any other (declared by the backend from
// accounts.Schemas), whose documents these are; they mirror the SQL
// tables, with ObjectIds for ids and dates for times:
//
//	roles          { _id: ObjectId, name, permissions: [ObjectId…] }
//	users          { _id: ObjectId, username, first_name, last_name, email,
//	                 password_hash, active, roles: [ObjectId…], created_at: Date }
//	user_sessions  { _id: SHA-256 of the token (hex), user_id: ObjectId,
//	                 auth_tag, created_at: Date, expires_at: Date }
//	login_failures { _id: ObjectId, addr, failed_at: Date }
//
// (A role create-admin or the permission sync made has no permissions key
// until it is granted one; a read takes that as none.) Every find, count,
// update and delete names in its hint an index that EnsureIndexes creates,
// as Store's queries do.
type Accounts struct {
	users, roles, sessions *mongo.Collection
	locks                  *leases // Together's (together.go)
}

var _ auth.Store = (*Accounts)(nil)

// NewAccounts returns the accounts kept in db. It does no I/O; call
// EnsureIndexes once (create-db) before use.
func NewAccounts(db *mongo.Database) *Accounts {
	return &Accounts{users: db.Collection(usersColl), roles: db.Collection(rolesColl),
		sessions: db.Collection(sessionsColl), locks: newLeases(db, &txProbe{})}
}

// Indexes lists the indexes EnsureIndexes creates, besides _id's. The TTL
// index is listed too, though a server may refuse it (see EnsureIndexes).
func (a *Accounts) Indexes() []Index {
	return append([]Index{
		{Collection: rolesColl, Name: ixRoleName, Keys: bson.D{{Key: "name", Value: 1}}, Unique: true},
		// One document per permission, which its model cannot say: its
		// unique key is two fields.
		{Collection: permissionsColl, Name: ixPermissionView, Keys: bson.D{{Key: "view_name", Value: 1}, {Key: "name", Value: 1}}, Unique: true},
		{Collection: usersColl, Name: ixUsername, Keys: bson.D{{Key: "username", Value: 1}}, Unique: true},
		// A user's expired sessions, as DeleteExpiredSessions asks.
		{Collection: sessionsColl, Name: ixSessionsExpired, Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "expires_at", Value: 1}}},
		{Collection: sessionsColl, Name: ixSessionsTTL, Keys: bson.D{{Key: "expires_at", Value: 1}}, TTL: true},
	}, failureIndexes()...)
}

// codeNotImplemented is the server's answer to an option it does not have:
// FerretDB v1.24 answers a TTL index so.
const codeNotImplemented = 238

// EnsureIndexes creates the collections of the accounts and their indexes,
// idempotently (only the missing ones are created, as Store.EnsureIndexes
// does). ttl reports whether the server keeps the TTL index on the
// sessions' expires_at, by which it removes expired sessions by itself.
// FerretDB v1.24 refuses TTL indexes ("not implemented"): then ttl is false
// and no error is returned, because nothing depends on it: SessionUser
// checks expires_at itself, and every login removes the user's expired
// sessions (DeleteExpiredSessions), as on SQL, which has no TTL either.
// What stays without it are the expired sessions of users who never log in
// again.
func (a *Accounts) EnsureIndexes(ctx context.Context) (ttl bool, err error) {
	byColl := map[string][]Index{}
	var ttlIndex Index
	for _, ix := range a.Indexes() {
		if ix.TTL {
			ttlIndex = ix
			continue
		}
		byColl[ix.Collection] = append(byColl[ix.Collection], ix)
	}
	for _, coll := range []*mongo.Collection{a.roles, a.permissions(), a.users, a.sessions, a.failures()} {
		if err := ensureIndexes(ctx, coll, byColl[coll.Name()]); err != nil {
			return false, err
		}
	}
	// The TTL index on its own, after the others: a server that refuses it
	// must not refuse the others with it.
	err = ensureIndexes(ctx, a.sessions, []Index{ttlIndex})
	var se mongo.ServerError
	if errors.As(err, &se) && se.HasErrorCode(codeNotImplemented) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// userDoc is a document of users.
type userDoc struct {
	ID           bson.ObjectID   `bson:"_id"`
	Username     string          `bson:"username"`
	FirstName    string          `bson:"first_name"`
	LastName     string          `bson:"last_name"`
	Email        string          `bson:"email"`
	PasswordHash string          `bson:"password_hash"`
	Active       bool            `bson:"active"`
	Roles        []bson.ObjectID `bson:"roles"`
	CreatedAt    time.Time       `bson:"created_at"`
	// Language and TimeZone are the user's own settings: "" for none, as
	// a document written before they were (schema version 9) reads.
	Language string `bson:"language"`
	TimeZone string `bson:"time_zone"`
}

func (u *userDoc) toAuth() auth.User {
	return auth.User{ID: u.ID.Hex(), Username: u.Username, FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, PasswordHash: u.PasswordHash, Active: u.Active, Language: u.Language, TimeZone: u.TimeZone}
}

// sessionDoc is a document of user_sessions.
type sessionDoc struct {
	TokenHash string        `bson:"_id"`
	UserID    bson.ObjectID `bson:"user_id"`
	AuthTag   string        `bson:"auth_tag"`
	CreatedAt time.Time     `bson:"created_at"`
	ExpiresAt time.Time     `bson:"expires_at"`
}

// parseUserID parses an auth.User's ID; an ID that is not ours names no
// user.
func parseUserID(id string) (bson.ObjectID, error) {
	oid, ok := parseID(id)
	if !ok {
		return bson.ObjectID{}, fmt.Errorf("mongostore: user id %q: %w", id, datamodel.ErrNotFound)
	}
	return oid, nil
}

// UserByUsername implements auth.Store.
func (a *Accounts) UserByUsername(ctx context.Context, username string) (auth.User, error) {
	var u userDoc
	err := a.users.FindOne(ctx, bson.D{{Key: "username", Value: username}}, options.FindOne().SetHint(ixUsername)).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return auth.User{}, datamodel.ErrNotFound
	}
	if err != nil {
		return auth.User{}, translate("find user", err)
	}
	return u.toAuth(), nil
}

// userExists reports whether a user has _id oid.
func (a *Accounts) userExists(ctx context.Context, oid bson.ObjectID) (bool, error) {
	err := a.users.FindOne(ctx, bson.D{{Key: "_id", Value: oid}},
		options.FindOne().SetHint(idIndex).SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, translate("find user", err)
	}
	return true, nil
}

// roleID returns the _id of the role named name, creating the role when it
// does not exist. Two callers creating the same role at once both end with
// the one document the unique index let in.
func (a *Accounts) roleID(ctx context.Context, name string) (bson.ObjectID, error) {
	find := func() (bson.ObjectID, error) {
		var r struct {
			ID bson.ObjectID `bson:"_id"`
		}
		err := a.roles.FindOne(ctx, bson.D{{Key: "name", Value: name}},
			options.FindOne().SetHint(ixRoleName).SetProjection(bson.D{{Key: "_id", Value: 1}})).Decode(&r)
		return r.ID, err
	}
	id, err := find()
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return bson.ObjectID{}, translate("find role", err)
	}
	id = bson.NewObjectID()
	_, err = a.roles.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "name", Value: name}})
	if err == nil {
		return id, nil
	}
	// Refused: most likely another caller created it first. Ask the
	// database rather than read the error, whose form differs by server.
	if refusedByServer(err) {
		if id, ferr := find(); ferr == nil {
			return id, nil
		}
	}
	return bson.ObjectID{}, translate("create role", err)
}

// refusedByServer reports whether err is the server refusing a write (a
// duplicate key, say), as opposed to not answering.
func refusedByServer(err error) bool {
	var se mongo.ServerError
	return mongo.IsDuplicateKeyError(err) || errors.As(err, &se) && !Unavailable(err)
}

// CreateUser implements auth.Store. Without transactions (FerretDB, a
// standalone server) the role and the user are two writes: a failure
// between them, or a taken username, leaves the role created and unused,
// which is harmless (the next user of that role takes it) and what SQL
// leaves too once a role's last user is deleted.
func (a *Accounts) CreateUser(ctx context.Context, u auth.User, role string) (auth.User, error) {
	rid, err := a.roleID(ctx, role)
	if err != nil {
		return auth.User{}, err
	}
	doc := userDoc{ID: bson.NewObjectID(), Username: u.Username, FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, PasswordHash: u.PasswordHash, Active: u.Active, Roles: []bson.ObjectID{rid},
		CreatedAt: time.Now(), Language: u.Language, TimeZone: u.TimeZone}
	if _, err := a.users.InsertOne(ctx, doc); err != nil {
		// A taken username is found by asking the database, not by
		// reading the error, whose form differs between servers.
		if refusedByServer(err) {
			if _, ferr := a.UserByUsername(ctx, u.Username); ferr == nil {
				return auth.User{}, auth.ErrUserExists
			}
		}
		return auth.User{}, translate("create user", err)
	}
	return doc.toAuth(), nil
}

// CountUsers implements auth.Store: an exact count, walking the _id index;
// users are few, and the count decides whether to ask for a first one.
func (a *Accounts) CountUsers(ctx context.Context) (int64, error) {
	n, err := a.users.CountDocuments(ctx, bson.D{}, options.Count().SetHint(idIndex))
	if err != nil {
		return 0, translate("count users", err)
	}
	return n, nil
}

// CreateSession implements auth.Store. A session for a user id that names
// no user is refused with datamodel.ErrNotFound, where SQL's foreign key
// refuses it: no session document points at nobody.
func (a *Accounts) CreateSession(ctx context.Context, s auth.Session) error {
	uid, err := parseUserID(s.UserID)
	if err != nil {
		return err
	}
	ok, err := a.userExists(ctx, uid)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("mongostore: create session: user %s: %w", s.UserID, datamodel.ErrNotFound)
	}
	doc := sessionDoc{TokenHash: s.TokenHash, UserID: uid, AuthTag: s.AuthTag, CreatedAt: s.CreatedAt,
		ExpiresAt: s.ExpiresAt}
	if _, err := a.sessions.InsertOne(ctx, doc); err != nil {
		return translate("create session", err)
	}
	return nil
}

// SessionUser implements auth.Store: two reads by _id, the session and then
// its user. A session whose user is gone names nobody.
func (a *Accounts) SessionUser(ctx context.Context, tokenHash string, now time.Time) (auth.User, string, error) {
	var s sessionDoc
	err := a.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: tokenHash}, {Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now}}}},
		options.FindOne().SetHint(idIndex)).Decode(&s)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return auth.User{}, "", datamodel.ErrNotFound
	}
	if err != nil {
		return auth.User{}, "", translate("find session", err)
	}
	var u userDoc
	err = a.users.FindOne(ctx, bson.D{{Key: "_id", Value: s.UserID}}, options.FindOne().SetHint(idIndex)).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return auth.User{}, "", datamodel.ErrNotFound
	}
	if err != nil {
		return auth.User{}, "", translate("find user of session", err)
	}
	return u.toAuth(), s.AuthTag, nil
}

// DeleteSession implements auth.Store.
func (a *Accounts) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := a.sessions.DeleteOne(ctx, bson.D{{Key: "_id", Value: tokenHash}}, options.DeleteOne().SetHint(idIndex))
	if err != nil {
		return translate("delete session", err)
	}
	return nil
}

// DeleteExpiredSessions implements auth.Store.
func (a *Accounts) DeleteExpiredSessions(ctx context.Context, userID string, now time.Time) error {
	uid, err := parseUserID(userID)
	if err != nil {
		return err
	}
	_, err = a.sessions.DeleteMany(ctx,
		bson.D{{Key: "user_id", Value: uid}, {Key: "expires_at", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.DeleteMany().SetHint(ixSessionsExpired))
	if err != nil {
		return translate("delete expired sessions", err)
	}
	return nil
}

// EndSessions removes every session of the users with ids: with a
// Together's ctx, in its transaction where the server has them.
func (a *Accounts) EndSessions(ctx context.Context, ids []string) error {
	oids := uniqueIDs(ids)
	if len(oids) == 0 {
		return nil
	}
	_, err := a.sessions.DeleteMany(ctx, bson.D{{Key: "user_id", Value: bson.D{{Key: "$in", Value: oids}}}},
		options.DeleteMany().SetHint(ixSessionsExpired))
	if err != nil {
		return translate("end sessions", err)
	}
	return nil
}

// uniqueIDs returns the ids that can be a document's, each once.
func uniqueIDs(ids []string) []bson.ObjectID {
	var list []bson.ObjectID
	for _, id := range ids {
		if oid, ok := parseID(id); ok && !slices.Contains(list, oid) {
			list = append(list, oid)
		}
	}
	return list
}
