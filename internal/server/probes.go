package server

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"musicadmin/internal/backend"
)

// readyTimeout bounds the readiness probe's write.
const readyTimeout = 2 * time.Second

// Probes answers a load balancer's and an orchestrator's questions:
// /healthz, is the process alive (no database call: a database outage must
// not get every instance restarted), and /readyz, should it be sent
// requests (the database takes a write, and the process is not draining).
// The bodies say "ok" or "unavailable" and nothing more: no version, DSN
// or error text reaches whoever can reach the port.
type Probes struct {
	db       backend.Backend
	draining atomic.Bool
}

// Drain makes /readyz answer 503 from now on: the process is stopping.
func (p *Probes) Drain() { p.draining.Store(true) }

// Live answers GET /healthz.
func (p *Probes) Live(w http.ResponseWriter, r *http.Request) {
	probeAnswer(w, true)
}

// Ready answers GET /readyz.
func (p *Probes) Ready(w http.ResponseWriter, r *http.Request) {
	probeAnswer(w, p.ready(r.Context()))
}

func (p *Probes) ready(ctx context.Context) bool {
	if p.draining.Load() {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	return p.db.Healthy(ctx) == nil
}

func probeAnswer(w http.ResponseWriter, ok bool) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "unavailable")
		return
	}
	fmt.Fprintln(w, "ok")
}
