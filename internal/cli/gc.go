package cli

import (
	"runtime/debug"
	"strconv"
)

// servingGCPercent is the collector's target (GOGC) while the server runs,
// unless the environment sets GOGC. The runtime's default, 100, starts a
// cycle whenever the heap has grown by its live size since the last: the
// server's live heap (its parsed pages, the catalogue, the pools, and the
// requests in flight: 5-7 MB) is marked every 20-odd list pages, and
// while a cycle runs every request pays the write barrier and its share
// of the marking. At 200 a cycle comes half as often, for one live heap
// more of garbage held. Measured at 100k songs, the song list at 8
// connections, five rounds of 3 s interleaved: 1,080 pages/s at 100 and
// 1,228 at 200 (gctrace: 6% and 3% of the CPU in the collector itself);
// peak RSS 58 and 64 MiB. See docs/benchmarks.md.
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
