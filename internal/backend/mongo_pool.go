package backend

import (
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/event"
)

// mongoPool counts the MongoDB driver's connections from its pool events,
// for /metrics: the driver keeps its pool's numbers to itself.
type mongoPool struct {
	maxOpen            int
	open, inUse, waits atomic.Int64
}

// monitor is the driver's hook for pool events.
func (p *mongoPool) monitor() *event.PoolMonitor {
	return &event.PoolMonitor{Event: func(e *event.PoolEvent) {
		switch e.Type {
		case event.ConnectionCreated:
			p.open.Add(1)
		case event.ConnectionClosed:
			p.open.Add(-1)
		case event.ConnectionCheckedOut:
			p.inUse.Add(1)
		case event.ConnectionCheckedIn:
			p.inUse.Add(-1)
		case event.ConnectionCheckOutFailed:
			p.waits.Add(1)
		}
	}}
}

func (p *mongoPool) stats() PoolStats {
	if p == nil {
		return PoolStats{}
	}
	open, inUse := int(p.open.Load()), int(p.inUse.Load())
	return PoolStats{MaxOpen: p.maxOpen, Open: open, InUse: inUse, Idle: max(open-inUse, 0), WaitCount: p.waits.Load()}
}
