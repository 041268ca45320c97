// Package multiinstance holds tests only: three app processes (the real
// binary, internal/opstest) on one MySQL, PostgreSQL or MongoDB database,
// behind HAProxy on loopback ports. What the instances share through the
// database (sessions, logouts, permissions, the login and token throttles,
// the audit log) holds across them; list counts are per process and stale
// by at most the stores' count cache life (10 s); a killed instance costs
// only the requests in flight on it, and a rolling restart costs nothing.
// The suite runs with APP_FAULTS=all (make faults) and needs haproxy
// (Debian's package).
package multiinstance
