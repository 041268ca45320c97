//go:build pprof

package main

// A build for profiling only (go build -tags pprof ./cmd/app): with
// APP_PPROF_ADDR set (a loopback address), the process serves
// net/http/pprof there, apart from the app's own address. The app built
// without the tag, the one make build and make run make, has no profiler.

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers the profiles on http.DefaultServeMux
	"os"
)

func init() {
	addr := os.Getenv("APP_PPROF_ADDR")
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			slog.Error("pprof listener", "addr", addr, "err", err)
		}
	}()
}
