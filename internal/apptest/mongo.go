package apptest

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	mongooptions "go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/apptest/slow"
	"musicadmin/internal/config"
	"musicadmin/internal/mongostore/mongotest"
)

// MongoDB databases of the tests: each test gets a database of its own
// under a random name on the server of APP_TEST_MONGODB_URI, dropped when
// the test ends. Creating one is cheap (the server makes it at the first
// write), so there is no template to copy: a migrated database is a new one
// on which create-db's Schema().Up has run.

// mongoDatabase returns the configuration of a new, empty MongoDB database,
// dropped when the test ends.
func mongoDatabase(t testing.TB) config.Database {
	t.Helper()
	name := mongotest.NewName()
	dsn, err := mongotest.DatabaseURI(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), slow.ServerTimeout)
		defer cancel()
		c, err := mongo.Connect(mongooptions.Client().ApplyURI(dsn))
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer func() { _ = c.Disconnect(ctx) }()
		if err := c.Database(name).Drop(ctx); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return config.Database{Driver: config.DriverMongoDB, DSN: dsn}
}

// migratedMongoDatabase is mongoDatabase after create-db.
func migratedMongoDatabase(t testing.TB) config.Database {
	t.Helper()
	cfg := mongoDatabase(t)
	b, err := openBackend(cfg)
	if err != nil {
		t.Fatalf("open mongodb: %v", err)
	}
	defer b.Close()
	if _, err := b.Schema().Up(context.Background()); err != nil {
		t.Fatalf("create the mongodb schema: %v", err)
	}
	return cfg
}
