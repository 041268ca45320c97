// Package mongotest gives tests a fresh MongoDB database on the server named
// by APP_TEST_MONGODB_URI (default mongodb://127.0.0.1:27017; .ci/ferretdb.sh
// starts one there). Tests skip, loudly, when no server answers, except
// under CI=true, where that fails them. It is imported only by tests.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// DefaultURI is the server the tests use when APP_TEST_MONGODB_URI is unset.
const DefaultURI = "mongodb://127.0.0.1:27017"

// URI returns the server's connection string.
func URI() string {
	if uri := os.Getenv("APP_TEST_MONGODB_URI"); uri != "" {
		return uri
	}
	return DefaultURI
}

var (
	probeOnce  sync.Once
	probeError error
	warnOnce   sync.Once
)

func reachable() error {
	probeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := mongo.Connect(options.Client().ApplyURI(URI()).SetServerSelectionTimeout(3 * time.Second))
		if err != nil {
			probeError = err
			return
		}
		defer func() { _ = c.Disconnect(ctx) }()
		probeError = c.Ping(ctx, nil)
	})
	return probeError
}

// Reachable returns nil when the server answers, and why not otherwise.
func Reachable() error { return reachable() }

// RedactedURI is URI without its password, to print.
func RedactedURI() string { return redact(URI()) }

// DatabaseURI returns URI with its path naming the database name: the DSN
// of that database for the app's config.
func DatabaseURI(name string) (string, error) {
	u, err := url.Parse(URI())
	if err != nil {
		return "", fmt.Errorf("APP_TEST_MONGODB_URI: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// NewName returns a random database name, as Database uses.
func NewName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "test_" + hex.EncodeToString(b)
}

// Require skips t when no MongoDB server answers, or fails it under CI=true.
func Require(t testing.TB) {
	t.Helper()
	err := reachable()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("MongoDB is required under CI=true and does not answer at %s: %v (.ci/ferretdb.sh start runs one)", redact(URI()), err)
	}
	warnOnce.Do(func() {
		fmt.Fprintf(os.Stderr, "\n*** MongoDB tests SKIPPED: no server at %s (%v). Set APP_TEST_MONGODB_URI or run .ci/ferretdb.sh start. ***\n\n",
			redact(URI()), err)
	})
	t.Skipf("MongoDB not reachable: %v", err)
}

// redact drops a password from the URI before it is printed.
func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparsable URI)"
	}
	return u.Redacted()
}

// Connect returns a client of the server, with opts applied after the URI
// (a command monitor, say), disconnected when t ends. It calls Require.
func Connect(t testing.TB, opts ...*options.ClientOptions) *mongo.Client {
	t.Helper()
	Require(t)
	all := append([]*options.ClientOptions{options.Client().ApplyURI(URI())}, opts...)
	c, err := mongo.Connect(all...)
	if err != nil {
		t.Fatalf("connect to MongoDB: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// Database returns a fresh database of client c under a random name,
// dropped when t ends.
func Database(t testing.TB, c *mongo.Client) *mongo.Database {
	t.Helper()
	db := c.Database(NewName())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Logf("drop test database %s: %v", db.Name(), err)
		}
	})
	return db
}
