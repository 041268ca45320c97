package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EndSessions removes every session of the users with ids.
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

// Together runs fn holding the lock called name.
// TODO(mongo): a lease lock document shared by every process, and a
// transaction where the server has them.
func (a *Accounts) Together(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return fn(ctx)
}
