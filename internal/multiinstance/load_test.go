package multiinstance_test

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// load is a few clients writing and reading songs through the balancer
// with the admin's token, as fast as the instances answer, each request
// remembered with when it started and ended.
type load struct {
	base, token, prefix string

	stop chan struct{}
	wg   sync.WaitGroup

	mu   sync.Mutex
	reqs []request
}

// request is one request of the load and how it ended.
type request struct {
	method, title string // title: of the song a POST creates
	start, end    time.Time
	status        int   // 0 when none came
	err           error // the transport's, or a status the request must not get
}

// startLoad starts workers clients on base; titles start with prefix.
func startLoad(base, token, prefix string, workers int) *load {
	l := &load{base: base, token: token, prefix: prefix, stop: make(chan struct{})}
	for w := range workers {
		l.wg.Add(1)
		go l.worker(w)
	}
	return l
}

func (l *load) worker(w int) {
	defer l.wg.Done()
	// Its own connections to the balancer, kept alive as a browser's.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer hc.CloseIdleConnections()
	for i := 0; ; i++ {
		select {
		case <-l.stop:
			return
		default:
		}
		title := fmt.Sprintf("%s w%d n%d", l.prefix, w, i)
		l.do(hc, http.MethodPost, "/api/v1/songsview/", map[string]any{"title": title, "rating": i % 10}, title, http.StatusCreated)
		l.do(hc, http.MethodGet, "/api/v1/songsview/?page_size=5&sort=-title", nil, "", http.StatusOK)
	}
}

func (l *load) do(hc *http.Client, method, path string, body any, title string, want int) {
	r := request{method: method, title: title, start: time.Now()}
	a, err := api(hc, l.base, l.token, method, path, body)
	r.end = time.Now()
	switch {
	case err != nil:
		r.err = err
	case a.Status != want:
		r.status, r.err = a.Status, fmt.Errorf("%s %s: status %d, want %d: %.200s", method, path, a.Status, want, a.Body)
	default:
		r.status = a.Status
	}
	l.mu.Lock()
	l.reqs = append(l.reqs, r)
	l.mu.Unlock()
}

// halt stops the clients and returns every request they made.
func (l *load) halt() []request {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reqs
}

// waitRequests waits until the load has made at least n requests more
// than it had, or fails t after d.
func (l *load) waitRequests(t *testing.T, n int, d time.Duration) {
	t.Helper()
	l.mu.Lock()
	goal := len(l.reqs) + n
	l.mu.Unlock()
	deadline := time.Now().Add(d)
	for {
		l.mu.Lock()
		got := len(l.reqs)
		l.mu.Unlock()
		if got >= goal {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the load made %d of %d requests in %v", got, goal, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tally sums up reqs: the failed ones, and the titles of the songs whose
// creation was acknowledged (201).
func tally(reqs []request) (failed []request, acked []string) {
	for _, r := range reqs {
		switch {
		case r.err != nil:
			failed = append(failed, r)
		case r.method == http.MethodPost:
			acked = append(acked, r.title)
		}
	}
	return failed, acked
}

// inFlightAt returns the requests of reqs in flight at some instant from
// from to to: started before to, ended after from.
func inFlightAt(reqs []request, from, to time.Time) []request {
	var out []request
	for _, r := range reqs {
		if r.start.Before(to) && r.end.After(from) {
			out = append(out, r)
		}
	}
	return out
}

// checkAcked fails t unless every song in acked is stored, and returns how
// many of the failed creations were stored all the same (done, but their
// answer lost).
func (c *cluster) checkAcked(t *testing.T, acked []string, failed []request) (doneAnyway int) {
	t.Helper()
	stored := map[string]bool{}
	for _, s := range c.stored.Songs() {
		stored[s.Title] = true
	}
	for _, title := range acked {
		if !stored[title] {
			t.Errorf("song %q was acknowledged (201) and is not stored", title)
		}
	}
	for _, r := range failed {
		if r.method == http.MethodPost && stored[r.title] {
			doneAnyway++
		}
	}
	return doneAnyway
}

// errorsOf joins the errors of reqs, for a message.
func errorsOf(reqs []request) error {
	var errs []error
	for _, r := range reqs {
		errs = append(errs, fmt.Errorf("%s at +%v: %w", r.method, r.end.Sub(r.start).Round(time.Millisecond), r.err))
	}
	return errors.Join(errs...)
}
