package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// Failed logins on MongoDB, for the login throttle, as SQL's login_failures
// table:
//
//	login_failures { _id: ObjectId, addr, failed_at: Date }
//
// A BSON date holds milliseconds, what auth.FailureStore keeps. No TTL
// index removes old documents (FerretDB refuses them, and the window is the
// throttle's to choose): the throttle prunes them, through ixFailuresAt.
const (
	failuresColl     = "login_failures"
	ixFailuresAddrAt = "ix_login_failures_addr_failed_at"
	ixFailuresAt     = "ix_login_failures_failed_at"
)

var _ auth.FailureStore = (*Accounts)(nil)

func (a *Accounts) failures() *mongo.Collection {
	return a.users.Database().Collection(failuresColl)
}

// failureIndexes are the indexes of login_failures.
func failureIndexes() []Index {
	return []Index{
		{Collection: failuresColl, Name: ixFailuresAddrAt, Keys: bson.D{{Key: "addr", Value: 1}, {Key: "failed_at", Value: 1}}},
		{Collection: failuresColl, Name: ixFailuresAt, Keys: bson.D{{Key: "failed_at", Value: 1}}},
	}
}

// AddLoginFailure implements auth.FailureStore.
func (a *Accounts) AddLoginFailure(ctx context.Context, addr string, at time.Time) (string, error) {
	id := bson.NewObjectID()
	_, err := a.failures().InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "addr", Value: addr},
		{Key: "failed_at", Value: at}})
	if err != nil {
		return "", translate("add login failure", err)
	}
	return id.Hex(), nil
}

// DeleteLoginFailure implements auth.FailureStore.
func (a *Accounts) DeleteLoginFailure(ctx context.Context, id string) error {
	oid, ok := parseID(id)
	if !ok {
		return datamodel.ErrNotFound
	}
	_, err := a.failures().DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}}, options.DeleteOne().SetHint(idIndex))
	if err != nil {
		return translate("delete login failure", err)
	}
	return nil
}

// LoginFailures implements auth.FailureStore: one range of
// ixFailuresAddrAt, walked from its end.
func (a *Accounts) LoginFailures(ctx context.Context, addr string, since time.Time, n int) ([]time.Time, error) {
	cur, err := a.failures().Find(ctx,
		bson.D{{Key: "addr", Value: addr}, {Key: "failed_at", Value: bson.D{{Key: "$gt", Value: since}}}},
		options.Find().SetHint(ixFailuresAddrAt).SetSort(bson.D{{Key: "failed_at", Value: -1}}).
			SetLimit(int64(n)).SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "failed_at", Value: 1}}))
	if err != nil {
		return nil, translate("read login failures", err)
	}
	var docs []struct {
		FailedAt time.Time `bson:"failed_at"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("read login failures", err)
	}
	out := make([]time.Time, len(docs))
	for i, d := range docs {
		out[i] = d.FailedAt
	}
	return out, nil
}

// PruneLoginFailures implements auth.FailureStore: one range of
// ixFailuresAt.
func (a *Accounts) PruneLoginFailures(ctx context.Context, before time.Time) error {
	_, err := a.failures().DeleteMany(ctx, bson.D{{Key: "failed_at", Value: bson.D{{Key: "$lt", Value: before}}}},
		options.DeleteMany().SetHint(ixFailuresAt))
	if err != nil {
		return translate("prune login failures", err)
	}
	return nil
}
