package mongostore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/auth"
	"musicadmin/internal/auth/authtest"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/mongostore"
	"musicadmin/internal/mongostore/mongotest"
)

// newAccounts returns accounts with their indexes on a fresh database of
// client.
func newAccounts(t *testing.T, client *mongo.Client) (*mongostore.Accounts, *mongo.Database) {
	t.Helper()
	db := mongotest.Database(t, client)
	a := mongostore.NewAccounts(db)
	if _, err := a.EnsureIndexes(context.Background()); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	return a, db
}

// TestAccounts runs the contract of auth.Store on MongoDB, and checks that
// every query it sent named one of the indexes EnsureIndexes creates.
func TestAccounts(t *testing.T) {
	t.Parallel()
	cmds := &commands{}
	client := mongotest.Connect(t, options.Client().SetMonitor(cmds.monitor()))
	// The fixture looks past the interface through a client of its own, so
	// that its unhinted reads are not taken for the store's.
	peek := mongotest.Connect(t)
	authtest.Run(t, func(t *testing.T) authtest.Fixture {
		a, db := newAccounts(t, client)
		raw := peek.Database(db.Name())
		roleNames := func(ctx context.Context, filter bson.D) ([]string, error) {
			cur, err := raw.Collection("roles").Find(ctx, filter)
			if err != nil {
				return nil, err
			}
			var docs []struct {
				Name string `bson:"name"`
			}
			if err := cur.All(ctx, &docs); err != nil {
				return nil, err
			}
			var out []string
			for _, d := range docs {
				out = append(out, d.Name)
			}
			return out, nil
		}
		return authtest.Fixture{
			Store: a,
			Roles: func(ctx context.Context) ([]string, error) { return roleNames(ctx, bson.D{}) },
			UserRoles: func(ctx context.Context, userID string) ([]string, error) {
				oid, err := bson.ObjectIDFromHex(userID)
				if err != nil {
					return nil, err
				}
				var u struct {
					Roles []bson.ObjectID `bson:"roles"`
				}
				if err := raw.Collection("users").FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Decode(&u); err != nil {
					return nil, err
				}
				return roleNames(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: u.Roles}}}})
			},
		}
	})
	if t.Failed() {
		return
	}
	_, db := newAccounts(t, peek)
	if checked := checkHints(t, cmds.take(), serverIndexes(t, db)); checked < 40 {
		t.Errorf("only %d hints checked", checked)
	}
}

// TestAccountsDocuments: the documents are the SQL rows' columns under the
// same names, with ObjectIds for ids, a list of role ids, and BSON dates
// (what a TTL index needs) for times.
func TestAccountsDocuments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, db := newAccounts(t, mongotest.Connect(t))
	u, err := a.CreateUser(ctx, auth.User{Username: "ada", FirstName: "Ada", LastName: "Lovelace",
		Email: "ada@example.com", PasswordHash: "hash", Active: true}, auth.AdminRole)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if err := a.CreateSession(ctx, auth.Session{TokenHash: "deadbeef", UserID: u.ID, AuthTag: "tag",
		CreatedAt: now.Add(-time.Minute), ExpiresAt: now}); err != nil {
		t.Fatal(err)
	}
	one := func(coll string) bson.Raw {
		t.Helper()
		var doc bson.Raw
		if err := db.Collection(coll).FindOne(ctx, bson.D{}).Decode(&doc); err != nil {
			t.Fatalf("read %s: %v", coll, err)
		}
		return doc
	}
	shape := func(doc bson.Raw) string {
		elems, _ := doc.Elements()
		var parts []string
		for _, e := range elems {
			parts = append(parts, e.Key()+":"+e.Value().Type.String())
		}
		return strings.Join(parts, " ")
	}

	role, user, sess := one("roles"), one("users"), one("user_sessions")
	for _, c := range []struct {
		coll string
		doc  bson.Raw
		want string
	}{
		{"roles", role, "_id:objectID name:string"},
		{"users", user, "_id:objectID username:string first_name:string last_name:string email:string " +
			"password_hash:string active:boolean roles:array created_at:UTC datetime language:string time_zone:string"},
		{"user_sessions", sess, "_id:string user_id:objectID auth_tag:string created_at:UTC datetime expires_at:UTC datetime"},
	} {
		if got := shape(c.doc); got != c.want {
			t.Errorf("%s document %s\n shape %s\n  want %s", c.coll, c.doc, got, c.want)
		}
	}
	if got := user.Lookup("_id").ObjectID().Hex(); got != u.ID {
		t.Errorf("user _id %s, auth ID %s", got, u.ID)
	}
	roles, _ := user.Lookup("roles").Array().Values()
	if len(roles) != 1 || roles[0].ObjectID() != role.Lookup("_id").ObjectID() {
		t.Errorf("user roles %v, want [%v]", roles, role.Lookup("_id"))
	}
	if name := role.Lookup("name").StringValue(); name != auth.AdminRole {
		t.Errorf("role name %q", name)
	}
	if got := sess.Lookup("user_id").ObjectID().Hex(); got != u.ID {
		t.Errorf("session user_id %s, want %s", got, u.ID)
	}
	if got := sess.Lookup("_id").StringValue(); got != "deadbeef" {
		t.Errorf("session _id %q, want the token hash", got)
	}
	if got := sess.Lookup("expires_at").Time(); !got.Equal(now) {
		t.Errorf("session expires_at %s, want %s", got, now)
	}
}

// TestAccountsIndexes: EnsureIndexes is idempotent, sends only the indexes
// that are missing, and refuses an index of the same name with another
// definition. The TTL index is there unless the server refuses it
// (FerretDB v1.24 does).
func TestAccountsIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cmds := &commands{}
	client := mongotest.Connect(t, options.Client().SetMonitor(cmds.monitor()))
	db := mongotest.Database(t, client)
	a := mongostore.NewAccounts(db)
	ttl, err := a.EnsureIndexes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ttl {
		t.Log("the server refused the TTL index on user_sessions.expires_at: expired sessions go at their user's next login")
	}
	indexes := serverIndexes(t, db)
	for _, ix := range a.Indexes() {
		if has := slices.Contains(indexes[ix.Collection], ix.Name); has != (ttl || !ix.TTL) {
			t.Errorf("index %s of %s: present %v, TTL kept %v", ix.Name, ix.Collection, has, ttl)
		}
	}
	// Again: nothing is created (but the refused TTL index, asked again).
	cmds.take()
	if again, err := a.EnsureIndexes(ctx); err != nil || again != ttl {
		t.Fatalf("EnsureIndexes again: %v, %v; want %v", again, err, ttl)
	}
	for _, e := range cmds.take() {
		if e.CommandName != "createIndexes" {
			continue
		}
		created, _ := e.Command.Lookup("indexes").Array().Values()
		if ttl || len(created) != 1 || created[0].Document().Lookup("name").StringValue() != "ttl_user_sessions_expires_at" {
			t.Errorf("EnsureIndexes again sent %s", e.Command)
		}
	}

	// A username index that is not unique would let duplicates in: refused.
	other := mongotest.Database(t, client)
	if _, err := other.Collection("users").Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "username", Value: 1}}, Options: options.Index().SetName("ux_users_username")}); err != nil {
		t.Fatal(err)
	}
	if _, err := mongostore.NewAccounts(other).EnsureIndexes(ctx); err == nil || !strings.Contains(err.Error(), "another definition") {
		t.Errorf("EnsureIndexes over a non-unique ux_users_username: %v, want refused", err)
	}
}

// TestAccountsRaces: users created at once with a new role share one role
// document, and of two users created at once with one username exactly one
// is stored.
func TestAccountsRaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, db := newAccounts(t, mongotest.Connect(t))
	const n = 8
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = a.CreateUser(ctx, auth.User{Username: fmt.Sprintf("user%d", i), Active: true}, "Racers")
		})
		wg.Go(func() {
			_, errs[n+i] = a.CreateUser(ctx, auth.User{Username: "same", Active: true}, auth.AdminRole)
		})
	}
	wg.Wait()
	same := 0
	for i, err := range errs {
		switch {
		case i >= n && err == nil:
			same++
		case i >= n && errors.Is(err, auth.ErrUserExists):
		case err != nil:
			t.Errorf("CreateUser #%d: %v", i, err)
		}
	}
	if same != 1 {
		t.Errorf("%d users named same stored, want 1", same)
	}
	for _, role := range []string{"Racers", auth.AdminRole} {
		if k, err := db.Collection("roles").CountDocuments(ctx, bson.D{{Key: "name", Value: role}}); err != nil || k != 1 {
			t.Errorf("%d %s roles (%v), want 1", k, role, err)
		}
	}
	if k, err := a.CountUsers(ctx); err != nil || k != n+1 {
		t.Errorf("CountUsers = %d, %v; want %d", k, err, n+1)
	}
}

// TestAccountsMissingUser: a well-formed id that names no user gets no
// session, and a session whose user is gone names nobody.
func TestAccountsMissingUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, db := newAccounts(t, mongotest.Connect(t))
	now := time.Now()
	err := a.CreateSession(ctx, auth.Session{TokenHash: "x", UserID: bson.NewObjectID().Hex(), ExpiresAt: now.Add(time.Hour)})
	if !errors.Is(err, datamodel.ErrNotFound) {
		t.Errorf("session for a missing user: %v, want ErrNotFound", err)
	}
	if k, _ := db.Collection("user_sessions").CountDocuments(ctx, bson.D{}); k != 0 {
		t.Errorf("%d sessions stored for a missing user", k)
	}

	u, err := a.CreateUser(ctx, auth.User{Username: "ada", Active: true}, auth.AdminRole)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CreateSession(ctx, auth.Session{TokenHash: "y", UserID: u.ID, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	oid, _ := bson.ObjectIDFromHex(u.ID)
	if _, err := db.Collection("users").DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.SessionUser(ctx, "y", now); !errors.Is(err, datamodel.ErrNotFound) {
		t.Errorf("session of a deleted user: %v, want ErrNotFound", err)
	}
}

// TestAccountsUnavailable: a server that does not answer is
// datamodel.ErrUnavailable to auth, from every method.
func TestAccountsUnavailable(t *testing.T) {
	t.Parallel()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1").
		SetServerSelectionTimeout(200 * time.Millisecond).SetConnectTimeout(200 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	a := mongostore.NewAccounts(client.Database("nowhere"))
	ctx := context.Background()
	now := time.Now()
	id := bson.NewObjectID().Hex()
	_, ensureErr := a.EnsureIndexes(ctx)
	_, byNameErr := a.UserByUsername(ctx, "ada")
	_, createErr := a.CreateUser(ctx, auth.User{Username: "ada"}, auth.AdminRole)
	_, countErr := a.CountUsers(ctx)
	_, _, sessionErr := a.SessionUser(ctx, "x", now)
	_, addFailureErr := a.AddLoginFailure(ctx, "192.0.2.1", now)
	_, failuresErr := a.LoginFailures(ctx, "192.0.2.1", now, 10)
	for what, err := range map[string]error{
		"EnsureIndexes": ensureErr, "UserByUsername": byNameErr, "CreateUser": createErr, "CountUsers": countErr,
		"SessionUser":           sessionErr,
		"CreateSession":         a.CreateSession(ctx, auth.Session{TokenHash: "x", UserID: id, ExpiresAt: now}),
		"DeleteSession":         a.DeleteSession(ctx, "x"),
		"DeleteExpiredSessions": a.DeleteExpiredSessions(ctx, id, now),
		"AddLoginFailure":       addFailureErr,
		"LoginFailures":         failuresErr,
		"DeleteLoginFailure":    a.DeleteLoginFailure(ctx, id),
		"PruneLoginFailures":    a.PruneLoginFailures(ctx, now),
	} {
		if !errors.Is(err, datamodel.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", what, err)
		}
	}
}
