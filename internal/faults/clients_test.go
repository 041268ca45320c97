package faults

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/server"
)

// slowClients is how many slowloris connections TestSlowClients opens.
const slowClients = 200

// TestSlowClients: connections that send their headers a byte at a time
// (slowloris) neither starve other clients, who are answered while they
// hang on, nor stay open: the server closes each once its header timeout
// is over.
func TestSlowClients(t *testing.T) {
	t.Parallel()
	s := newSite(t, apptest.NewDatabase(t, apptest.SQLite), nil)

	conns := make([]net.Conn, 0, slowClients)
	for i := range slowClients {
		c, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
		if err != nil {
			t.Fatalf("slow connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := fmt.Fprintf(c, "GET /api/v1/albumview/ HTTP/1.1\r\nHost: %s\r\nX-Slow: ", s.addr); err != nil {
			t.Fatalf("slow connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	opened := time.Now()
	// Trickle a byte per connection every 500 ms: each stays busy, none
	// ever ends its headers.
	stop := make(chan struct{})
	var trickle sync.WaitGroup
	trickle.Add(1)
	go func() {
		defer trickle.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			for _, c := range conns {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = c.Write([]byte("a"))
			}
		}
	}()

	// Meanwhile, others are served: a read and a write, several times.
	for i := range 5 {
		if code, _, body := s.api(http.MethodGet, "/api/v1/albumview/", nil); code != http.StatusOK {
			t.Errorf("a read while %d slow clients hang on: %d %s", slowClients, code, body)
		}
		if code, _, body := s.api(http.MethodPost, "/api/v1/albumview/", map[string]string{"name": fmt.Sprint("among slow clients ", i)}); code != http.StatusCreated {
			t.Errorf("a write while %d slow clients hang on: %d %s", slowClients, code, body)
		}
	}
	close(stop)
	trickle.Wait()

	// Each slow connection is closed by the server after its header
	// timeout (a 408 may come first); the bound is generous.
	deadline := opened.Add(server.ReadHeaderTimeout + 20*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := 0
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(deadline)
			_, err := io.Copy(io.Discard, c)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				mu.Lock()
				open++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if open > 0 {
		t.Errorf("%d of %d slowloris connections still open %v after they opened (header timeout %v)",
			open, slowClients, time.Since(opened).Round(time.Second), server.ReadHeaderTimeout)
	}
	if code := s.status("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the slow clients: %d", code)
	}
	checkNoServerErrors(t, s.Log())
	s.Stop()
}

// manyConnections is how many clients TestManyConnections runs at once.
const manyConnections = 256

// TestManyConnections: 256 clients, each on its own connection, all open
// at once, read and write: every one is answered (a 503 with Retry-After
// at worst, never a 5xx else or a refused or cut connection), and every
// write answered 201 is stored.
func TestManyConnections(t *testing.T) {
	t.Parallel()
	db := apptest.NewDatabase(t, apptest.SQLite)
	s := newSite(t, db, nil)

	type result struct {
		statuses []int
		ack      string // the album written, when its answer was 201
		err      error
	}
	results := make([]result, manyConnections)
	var connected, done sync.WaitGroup
	connected.Add(manyConnections)
	done.Add(manyConnections)
	release := make(chan struct{})
	for i := range manyConnections {
		go func() {
			defer done.Done()
			r := &results[i]
			c, err := net.DialTimeout("tcp", s.addr, 30*time.Second)
			connected.Done()
			if err != nil {
				r.err = err
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
			in := bufio.NewReader(c)
			// The first request when all are connected: 256 open at once.
			<-release
			name := fmt.Sprintf("connection %d", i)
			body := fmt.Sprintf(`{"name": %q}`, name)
			for _, req := range []string{
				"GET /api/v1/albumview/?page_size=10 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.token + "\r\n\r\n",
				fmt.Sprintf("POST /api/v1/albumview/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
					"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", s.token, len(body), body),
				"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
			} {
				if _, err := io.WriteString(c, req); err != nil {
					r.err = err
					return
				}
				resp, err := http.ReadResponse(in, nil)
				if err != nil {
					r.err = err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch {
				case strings.HasPrefix(req, "GET /healthz") && resp.StatusCode != http.StatusOK:
					// Liveness: no database call, so no 503 under load.
					r.err = fmt.Errorf("/healthz answered %d", resp.StatusCode)
				case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "":
					r.err = fmt.Errorf("503 without Retry-After")
				}
				r.statuses = append(r.statuses, resp.StatusCode)
				if resp.StatusCode == http.StatusCreated {
					r.ack = name
				}
			}
		}()
	}
	connected.Wait()
	close(release)
	done.Wait()

	counts := map[int]int{}
	var acked []string
	failed := 0
	for i, r := range results {
		if r.err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("connection %d: %v (statuses %v)", i, r.err, r.statuses)
			}
		}
		for _, st := range r.statuses {
			counts[st]++
		}
		if r.ack != "" {
			acked = append(acked, r.ack)
		}
	}
	t.Logf("%d connections: statuses %v, %d writes acknowledged", manyConnections, counts, len(acked))
	for st, n := range counts {
		if st != http.StatusOK && st != http.StatusCreated && st != http.StatusServiceUnavailable {
			t.Errorf("%d answers %d", n, st)
		}
	}
	stored := apptest.Stored(t, db)
	for _, name := range acked {
		if _, ok := stored.Album(name); !ok {
			t.Errorf("acknowledged write lost: %q", name)
		}
	}
	checkNoServerErrors(t, s.Log())
	s.Stop()
}
