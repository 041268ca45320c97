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
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"musicadmin/internal/apptest/slow"
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

// reachable waits for the server once per process (slow.Server): a
// FerretDB that is still starting, or slow on a busy machine, is waited
// for; when nothing listens the tests skip at once.
func reachable() error {
	probeOnce.Do(func() { probeError = slow.Server(probe) })
	return probeError
}

// probe dials the server's hosts, so that a refused connection shows as
// one (the driver would only time out selecting a server), then pings it.
func probe(ctx context.Context) error {
	cs, err := connstring.ParseAndValidate(URI())
	if err != nil {
		return fmt.Errorf("APP_TEST_MONGODB_URI: %w", err)
	}
	if cs.Scheme == connstring.SchemeMongoDB {
		for _, host := range cs.Hosts {
			conn, err := new(net.Dialer).DialContext(ctx, "tcp", host)
			if err != nil {
				return err
			}
			conn.Close()
		}
	}
	c, err := mongo.Connect(clientOptions())
	if err != nil {
		return err
	}
	defer func() { _ = c.Disconnect(context.Background()) }()
	return c.Ping(ctx, nil)
}

// clientOptions are the options of the tests' clients: the URI, after
// timeouts generous enough for a busy machine (slow.ServerTimeout) where
// the URI sets none.
func clientOptions() *options.ClientOptions {
	return options.Client().SetServerSelectionTimeout(slow.ServerTimeout).SetConnectTimeout(slow.ServerTimeout).
		ApplyURI(URI())
}

// Reachable returns nil when the server answers, and why not otherwise.
func Reachable() error { return reachable() }

// RedactedURI is URI without its password, to print.
func RedactedURI() string { return redact(URI()) }

// DatabaseURI returns URI with its path naming the database name, and
// generous timeouts (slow.ServerTimeout) where the URI sets none: the DSN of
// that database for the app's config.
func DatabaseURI(name string) (string, error) {
	u, err := url.Parse(URI())
	if err != nil {
		return "", fmt.Errorf("APP_TEST_MONGODB_URI: %w", err)
	}
	u.Path = "/" + name
	// The app's own bound (backend's mongoConnectTimeout) is for users; a
	// test on a busy machine waits longer rather than fail.
	q := u.Query()
	for _, key := range []string{"serverSelectionTimeoutMS", "connectTimeoutMS"} {
		if !q.Has(key) {
			q.Set(key, strconv.FormatInt(slow.ServerTimeout.Milliseconds(), 10))
		}
	}
	u.RawQuery = q.Encode()
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
	all := append([]*options.ClientOptions{clientOptions()}, opts...)
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
