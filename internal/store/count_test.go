package store

import (
	"sync"
	"testing"
)

// TestCountFlightsShareOnlyWithinAnEpoch checks the rule that keeps shared
// counts as fresh as counts run alone: a request joins a count in flight
// only if no write began since that count started.
func TestCountFlightsShareOnlyWithinAnEpoch(t *testing.T) {
	var c countCache
	lead, leader := c.join("k", 1)
	if !leader {
		t.Fatal("the first request does not lead")
	}
	same, leader := c.join("k", 1)
	if leader || same != lead {
		t.Fatal("a request in the same epoch does not join the count in flight")
	}
	if _, leader := c.join("k", 2); !leader {
		t.Fatal("a request after a write joined a count that may predate it")
	}
	if _, leader := c.join("other", 1); !leader {
		t.Fatal("a request for another list joined the count in flight")
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-same.done
		if same.c.n != 42 {
			t.Errorf("the waiter got %d, want the leader's 42", same.c.n)
		}
	}()
	lead.c.n = 42
	c.land("k", 1, lead)
	wg.Wait()
	if _, leader := c.join("k", 1); !leader {
		t.Fatal("a landed count is still in flight")
	}
}
