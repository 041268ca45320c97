//go:build race

package cli_test

// Under -race the app binary is built with -race too: it then reuses the
// packages the test build compiled instead of compiling all of them again
// (on a cold cache, the SQLite driver's C code alone takes a minute), and
// the signal tests run the real process with the race detector on.
func init() { buildFlags = append(buildFlags, "-race") }
