package auth

import "sync/atomic"

// Counters of this process, for /metrics.
var (
	loginFailures    atomic.Uint64
	throttleRefusals atomic.Uint64
)

// LoginFailures is the number of logins refused for a wrong user name or
// password.
func LoginFailures() uint64 { return loginFailures.Load() }

// ThrottleRefusals is the number of logins and API requests refused by the
// login throttle (429).
func ThrottleRefusals() uint64 { return throttleRefusals.Load() }
