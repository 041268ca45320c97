package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// transactions reports whether the server runs multi-document transactions:
// a replica set member or a mongos. A standalone mongod, and FerretDB v1,
// do not. The answer is asked once.
func (s *Store) transactions(ctx context.Context) (bool, error) {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	if s.txKnown {
		return s.txOK, nil
	}
	var hello struct {
		SetName string `bson:"setName"`
		Msg     string `bson:"msg"`
	}
	if err := s.db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return false, err
	}
	s.txOK, s.txKnown = hello.SetName != "" || hello.Msg == "isdbgrid", true
	return s.txOK, nil
}
