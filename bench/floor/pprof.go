//go:build pprof

package main

// A build for profiling the floor beside the app (go build -tags pprof
// ./bench/floor): with FLOOR_PPROF_ADDR set, the process serves
// net/http/pprof there, as the app's pprof build does with APP_PPROF_ADDR.

import (
	"log"
	"net/http"
	_ "net/http/pprof" // registers the profiles on http.DefaultServeMux
	"os"
)

func init() {
	addr := os.Getenv("FLOOR_PPROF_ADDR")
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			log.Printf("floor: pprof listener on %s: %v", addr, err)
		}
	}()
}
