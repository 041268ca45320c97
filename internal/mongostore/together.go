package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/datamodel"
)

// Together's lock is a lease, one document per lock name in the locks
// collection, shared by every process on the database:
//
//	locks { _id: name, owner: random token, until: Date }
//
// It is taken by an update that matches only a lease that has run out,
// with upsert, so that a missing lease is inserted: when another holder's
// lease is current, the update matches nothing and its insert meets the
// unique _id, and the taker waits a little and tries again, until
// lockWait has passed (then ErrUnavailable). It is given back by deleting
// it where owner is still this taker's token. A holder renews its lease
// every leaseTime/3 while fn runs, so only a process that died or hangs
// lets it run out, and another process takes it leaseTime after.
//
// The lease's times are the app's clock: processes whose clocks differ by
// a good part of leaseTime could take it over early. FerretDB v1 matches
// an update's filter and writes in two steps (see UpdateIf), so two
// processes taking over the same run-out lease at the same instant could
// both get it; a current lease, or none, is taken by one only (its insert
// is one write, against the unique _id).
const (
	locksColl = "locks"
	leaseTime = 30 * time.Second
	lockWait  = 20 * time.Second
)

// togetherKey marks the context of a Together's fn: a Together inside it
// joins it.
type togetherKey struct{}

var (
	_ datamodel.Together = (*Store)(nil)
	_ datamodel.Together = (*Accounts)(nil)
)

// Together runs fn holding the lease called name (see above). Where the
// server runs transactions (a replica set, mongos), fn also runs in one,
// its ctx carrying the session: the writes of the store's models and of
// Accounts made with it commit together, or none of them when fn fails.
// Elsewhere (a standalone server, FerretDB) there is none to run: fn's
// writes are made one by one as fn makes them, and the lease is what
// keeps every other Together of the name out meanwhile. A Together
// inside another one (fn's ctx) joins it, whatever its name.
func (s *Store) Together(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return s.locks.together(ctx, name, fn)
}

// Together runs fn holding the lease called name, as Store.Together does.
func (a *Accounts) Together(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return a.locks.together(ctx, name, fn)
}

// leases are the Together locks of one database, as seen by one store.
// Within the process the takers of a name queue on a channel first, so
// that they wait their turn rather than poll the database.
type leases struct {
	db    *mongo.Database
	tx    *txProbe
	wait  time.Duration // lockWait, lowered by tests
	mu    sync.Mutex
	turns map[string]chan struct{}
}

func newLeases(db *mongo.Database, tx *txProbe) *leases {
	return &leases{db: db, tx: tx, wait: lockWait, turns: map[string]chan struct{}{}}
}

func (l *leases) together(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	if ctx.Value(togetherKey{}) != nil {
		return fn(ctx)
	}
	release, err := l.take(ctx, name)
	if err != nil {
		return err
	}
	defer release()
	ctx = context.WithValue(ctx, togetherKey{}, name)
	tx, err := l.tx.transactions(ctx, l.db)
	if err != nil {
		return translate("ask for transactions", err)
	}
	if !tx {
		return fn(ctx)
	}
	return runTransaction(ctx, l.db.Client(), fn)
}

// turn returns the in-process queue of the lock name.
func (l *leases) turn(name string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.turns[name]
	if t == nil {
		t = make(chan struct{}, 1)
		l.turns[name] = t
	}
	return t
}

// take waits for the lease name, at most lockWait, and returns its release.
func (l *leases) take(ctx context.Context, name string) (release func(), err error) {
	deadline := time.NewTimer(l.wait)
	defer deadline.Stop()
	busy := fmt.Errorf("mongostore: the lock %s is held elsewhere: %w", name, datamodel.ErrUnavailable)
	turn := l.turn(name)
	select {
	case turn <- struct{}{}:
	case <-ctx.Done():
		return nil, translate("wait for the lock "+name, ctx.Err())
	case <-deadline.C:
		return nil, busy
	}
	token, err := newToken()
	if err != nil {
		<-turn
		return nil, err
	}
	locks := l.db.Collection(locksColl)
	for pause := 2 * time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		held, err := l.lease(ctx, locks, name, token)
		if err != nil {
			<-turn
			return nil, err
		}
		if !held {
			break
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			<-turn
			return nil, translate("wait for the lock "+name, ctx.Err())
		case <-deadline.C:
			<-turn
			return nil, busy
		}
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go l.renew(locks, name, token, stop, stopped)
	return func() {
		close(stop)
		<-stopped
		// Given back even when ctx is done: its caller has stopped
		// waiting, the lease has not.
		_, _ = locks.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: name}, {Key: "owner", Value: token}},
			options.DeleteOne().SetHint(idIndex))
		<-turn
	}, nil
}

// lease tries once to take the lease name for token: it reports held when
// another holder's lease is current.
func (l *leases) lease(ctx context.Context, locks *mongo.Collection, name, token string) (held bool, err error) {
	now := time.Now()
	_, err = locks.UpdateOne(ctx, bson.D{{Key: "_id", Value: name}, {Key: "until", Value: bson.D{{Key: "$lt", Value: now}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: token}, {Key: "until", Value: now.Add(leaseTime)}}}},
		options.UpdateOne().SetUpsert(true).SetHint(idIndex))
	if err == nil {
		return false, nil
	}
	if !refusedByServer(err) {
		return false, translate("take the lock "+name, err)
	}
	// Refused, most likely the duplicate _id of a current lease; asked of
	// the database rather than read from the error, whose form differs by
	// server.
	n, cerr := locks.CountDocuments(ctx, bson.D{{Key: "_id", Value: name}}, options.Count().SetHint(idIndex))
	if cerr != nil || n == 0 && !mongo.IsDuplicateKeyError(err) {
		return false, translate("take the lock "+name, errors.Join(err, cerr))
	}
	return true, nil
}

// renew extends the lease name of token every leaseTime/3 until stop is
// closed. A renewal that fails is tried again at the next tick: the lease
// has two more before it runs out.
func (l *leases) renew(locks *mongo.Collection, name, token string, stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	tick := time.NewTicker(leaseTime / 3)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), leaseTime/3)
			_, _ = locks.UpdateOne(ctx, bson.D{{Key: "_id", Value: name}, {Key: "owner", Value: token}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: time.Now().Add(leaseTime)}}}},
				options.UpdateOne().SetHint(idIndex))
			cancel()
		}
	}
}

// newToken returns a random owner token.
func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("mongostore: lock token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
