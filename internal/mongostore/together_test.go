package mongostore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/datamodel"
	"musicadmin/internal/mongostore"
	"musicadmin/internal/mongostore/mongotest"
)

// TestTogetherAcrossProcesses: two stores on one database through two
// clients, as two processes have, never run fn of the same lock at once:
// a read-then-write of a counter, with a pause between, loses no
// increment. A Together inside another joins it, and the lease is given
// back after each.
func TestTogetherAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mongotest.Database(t, mongotest.Connect(t))
	other := mongotest.Connect(t).Database(db.Name())
	sides := []datamodel.Together{mongostore.New(db), mongostore.NewAccounts(other)}
	counter := db.Collection("counter")
	if _, err := counter.InsertOne(ctx, bson.D{{Key: "_id", Value: "n"}, {Key: "n", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	bump := func(ctx context.Context) error {
		var doc struct{ N int }
		if err := counter.FindOne(ctx, bson.D{{Key: "_id", Value: "n"}}).Decode(&doc); err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
		_, err := counter.UpdateOne(ctx, bson.D{{Key: "_id", Value: "n"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: doc.N + 1}}}})
		return err
	}
	const rounds = 15
	var wg sync.WaitGroup
	errs := make(chan error, 4*rounds)
	for i := range 4 {
		side := sides[i%2]
		wg.Go(func() {
			for range rounds {
				errs <- side.Together(ctx, "counter", func(ctx context.Context) error {
					// Joins: the same lock again would wait for itself.
					return side.Together(ctx, "counter", bump)
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var doc struct{ N int }
	if err := counter.FindOne(ctx, bson.D{{Key: "_id", Value: "n"}}).Decode(&doc); err != nil || doc.N != 4*rounds {
		t.Errorf("counter %d (%v), want %d: two sides ran at once", doc.N, err, 4*rounds)
	}
	if n, err := db.Collection("locks").CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
		t.Errorf("%d leases left (%v), want none", n, err)
	}
}

// TestTogetherLeases: a lease another process holds is waited for, and
// past the wait is ErrUnavailable, fn not run; a lease run out (its holder
// died) is taken over; fn's error is returned as it is.
func TestTogetherLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mongotest.Database(t, mongotest.Connect(t))
	st := mongostore.New(db)
	mongostore.SetLockWait(st, 300*time.Millisecond)
	locks := db.Collection("locks")
	held := func(until time.Time) {
		t.Helper()
		_, err := locks.UpdateOne(ctx, bson.D{{Key: "_id", Value: "accounts"}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: "someone else"}, {Key: "until", Value: until}}}},
			options.UpdateOne().SetUpsert(true))
		if err != nil {
			t.Fatal(err)
		}
	}
	held(time.Now().Add(time.Minute))
	ran := false
	start := time.Now()
	err := st.Together(ctx, "accounts", func(context.Context) error { ran = true; return nil })
	if !errors.Is(err, datamodel.ErrUnavailable) || ran || time.Since(start) < 300*time.Millisecond {
		t.Errorf("held elsewhere: %v after %s, ran %v; want ErrUnavailable after the wait, fn not run", err, time.Since(start), ran)
	}
	// Given back meanwhile: the waiter gets it.
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _ = locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: "accounts"}})
	}()
	if err := st.Together(ctx, "accounts", func(context.Context) error { return nil }); err != nil {
		t.Errorf("lease given back while waiting: %v", err)
	}
	held(time.Now().Add(-time.Second))
	var owner string
	err = st.Together(ctx, "accounts", func(ctx context.Context) error {
		var doc struct{ Owner string }
		err := locks.FindOne(ctx, bson.D{{Key: "_id", Value: "accounts"}}).Decode(&doc)
		owner = doc.Owner
		return err
	})
	if err != nil || owner == "" || owner == "someone else" {
		t.Errorf("run-out lease: %v, owner %q; want it taken over", err, owner)
	}
	mine := errors.New("mine")
	if err := st.Together(ctx, "accounts", func(context.Context) error { return mine }); err != mine {
		t.Errorf("fn's error came back as %v", err)
	}
	if err := locks.FindOne(ctx, bson.D{}).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("a lease is left: %v", err)
	}
}
