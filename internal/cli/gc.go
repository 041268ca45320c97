package cli

import (
	"runtime/debug"
	"strconv"
)

// servingGCPercent is the collector's target (GOGC) while the server runs,
// unless the environment sets GOGC. The runtime's default, 100, starts a
// cycle whenever the heap has grown by its live size since the last; the
// server's live heap (its parsed pages, the catalogue, the pools: about
// 4 MB, and 7 with 8 requests in flight) is what every cycle marks, so
// at 100 the song list spent about 400 µs of CPU a page collecting at 8
// connections, where the floor, whose live heap is under the runtime's
// 4 MB minimum, spent a tenth of that. At 200 a cycle comes half as
// often, for one live heap more of garbage held (measured at 100k songs:
// 1,042 to 1,349-1,394 pages/s at 8 connections, peak RSS 58 to 64 MiB);
// see docs/benchmarks.md.
const servingGCPercent = 200

// paceCollector sets the collector's target for serving, unless the
// environment sets GOGC (which the runtime has read already), and returns
// the target in force, for the log.
func paceCollector(env Env) string {
	if v, ok := env.LookupEnv("GOGC"); ok && v != "" {
		return v
	}
	debug.SetGCPercent(servingGCPercent)
	return strconv.Itoa(servingGCPercent)
}
