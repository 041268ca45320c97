package datamodel

import "context"

// Together is a store's "these writes together": what a rule that spans
// several records needs (the last active Admin stays, whichever users and
// roles change). The accounts layer checks such a rule on what is stored
// and then writes, inside one Together, so no other writer can slip in
// between the check and the write, in this process or another one on the
// same database.
type Together interface {
	// Together runs fn holding the lock called name, which every other
	// Together of that name waits for, in any process on the same
	// database; writes through the models of this store made with fn's
	// ctx are fn's. On a store with transactions they commit together
	// when fn returns nil, and none of them when it returns an error. On
	// one without (MongoDB without a replica set), they are made one by
	// one as fn makes them, and fn orders them so that a failure midway
	// leaves the safer state; the store's comment says what guards the
	// lock there. fn's error is returned as it is. A lock not got in time
	// is an error wrapping ErrUnavailable.
	Together(ctx context.Context, name string, fn func(ctx context.Context) error) error
}
