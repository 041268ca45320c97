// Package faults is the fault suite: the app's real binary, run as an
// operator runs it (internal/opstest), under the faults it must survive:
// SIGKILL during concurrent writes, its database stopped and started under
// load, a full disk, a SQLite file it may not write, slow clients and many
// connections, and malformed requests. It holds tests only.
//
// The fast tests run in every go test (make test); the slow ones (a
// database server of the test's own stopped and started, a full tmpfs, a
// SIGKILL on each server backend) only with APP_FAULTS=all or -faults,
// which make faults sets. Tests that need root (a tmpfs, an immutable
// file, a private server) skip loudly elsewhere and fail under CI=true.
// docs/testing.md ("Fault suite") lists them and what they assert.
package faults
