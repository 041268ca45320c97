package mongostore

import (
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// txProbe remembers whether a server runs multi-document transactions: a
// replica set member or a mongos. A standalone mongod, and FerretDB v1,
// do not. The answer is asked once.
type txProbe struct {
	mu    sync.Mutex
	known bool
	ok    bool
}

func (p *txProbe) transactions(ctx context.Context, db *mongo.Database) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.known {
		return p.ok, nil
	}
	var hello struct {
		SetName string `bson:"setName"`
		Msg     string `bson:"msg"`
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return false, err
	}
	p.ok, p.known = hello.SetName != "" || hello.Msg == "isdbgrid", true
	return p.ok, nil
}

// transactions reports whether the store's server runs multi-document
// transactions.
func (s *Store) transactions(ctx context.Context) (bool, error) {
	return s.tx.transactions(ctx, s.db)
}

// inTransaction runs fn in one transaction, on a server that has them:
// the transaction ctx is in already (a Together's), which fn's writes
// join, or a new one.
func (s *Store) inTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	return runTransaction(ctx, s.db.Client(), fn)
}

func runTransaction(ctx context.Context, client *mongo.Client, fn func(ctx context.Context) error) error {
	if mongo.SessionFromContext(ctx) != nil {
		return fn(ctx)
	}
	return client.UseSession(ctx, func(ctx context.Context) error {
		_, err := mongo.SessionFromContext(ctx).WithTransaction(ctx, func(ctx context.Context) (any, error) {
			return nil, fn(ctx)
		})
		return err
	})
}

// outside returns ctx without its transaction, if any, for the reads that
// explain a refused write: a server aborts a transaction whose write it
// refused, and answers nothing more in it.
func outside(ctx context.Context) context.Context {
	if mongo.SessionFromContext(ctx) == nil {
		return ctx
	}
	return mongo.NewSessionContext(ctx, nil)
}
