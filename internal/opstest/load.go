package opstest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Ack is a write the app acknowledged: an album it answered 201 to, with
// the id it gave.
type Ack struct {
	ID, Name string
	At       time.Time
}

// LoadConfig says what a Load sends.
type LoadConfig struct {
	// URL returns the app's base URL, asked before every request (an app
	// restarted on another port is followed).
	URL func() string
	// Token is an API token of a user who may add albums.
	Token string
	// Writers create albums through the API, one after another each;
	// Readers read the album list. At least one of them.
	Writers, Readers int
	// Pause is the wait after an answer that was not a success (a 503, a
	// refused connection), so a worker does not spin: 50 ms when 0.
	Pause time.Duration
}

// Load is a load on an app: writers creating albums through the JSON API
// and readers reading its list, until Stop. It records every acknowledged
// write and counts the answers by status (0: no answer: a refused or cut
// connection, a timeout).
type Load struct {
	cfg    LoadConfig
	run    string // this load's part of each album name
	client *http.Client
	stop   chan struct{}
	wg     sync.WaitGroup
	acked  atomic.Int64

	mu  sync.Mutex
	res LoadResult
}

// LoadResult is what a Load saw.
type LoadResult struct {
	// Acked are the writes answered 201, in the order answered.
	Acked []Ack
	// Writes and Reads count the answers by status; 0 counts requests
	// that got no answer.
	Writes, Reads map[int]int
	// NoRetryAfter counts 503 answers without a Retry-After header.
	NoRetryAfter int
	// Samples holds the first few unexpected answers and errors, for
	// messages.
	Samples []string
}

// StartLoad starts a load on the app; it stops when the test ends, if Stop
// was not called.
func StartLoad(t testing.TB, cfg LoadConfig) *Load {
	t.Helper()
	if cfg.Writers+cfg.Readers == 0 {
		t.Fatal("opstest: a load with no worker")
	}
	if cfg.Pause == 0 {
		cfg.Pause = 50 * time.Millisecond
	}
	l := &Load{cfg: cfg, run: randomHex(4), stop: make(chan struct{}),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		res:    LoadResult{Writes: map[int]int{}, Reads: map[int]int{}}}
	for i := range cfg.Writers {
		l.wg.Add(1)
		go l.writer(i)
	}
	for range cfg.Readers {
		l.wg.Add(1)
		go l.reader()
	}
	t.Cleanup(func() { l.Stop() })
	return l
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (l *Load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *Load) writer(w int) {
	defer l.wg.Done()
	for seq := 0; !l.stopped(); seq++ {
		name := fmt.Sprintf("load %s w%d #%d", l.run, w, seq)
		body, _ := json.Marshal(map[string]string{"name": name})
		status, resp, err := l.do(http.MethodPost, "/api/v1/albumview/", body)
		var id string
		if status == http.StatusCreated {
			var created struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(resp, &created) != nil || created.ID == "" {
				err = fmt.Errorf("201 without an id: %.200s", resp)
			}
			id = created.ID
		}
		l.note(true, status, err, name, id)
		if status != http.StatusCreated {
			l.pause()
		}
	}
}

func (l *Load) reader() {
	defer l.wg.Done()
	for !l.stopped() {
		status, _, err := l.do(http.MethodGet, "/api/v1/albumview/?page_size=20&sort=-name", nil)
		l.note(false, status, err, "", "")
		if status != http.StatusOK {
			l.pause()
		}
	}
}

func (l *Load) pause() {
	select {
	case <-l.stop:
	case <-time.After(l.cfg.Pause):
	}
}

// do sends one API request; status 0 means no answer.
func (l *Load) do(method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, l.cfg.URL()+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+l.cfg.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		l.mu.Lock()
		l.res.NoRetryAfter++
		l.mu.Unlock()
	}
	return resp.StatusCode, b, nil
}

func (l *Load) note(write bool, status int, err error, name, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	counts := l.res.Reads
	if write {
		counts = l.res.Writes
	}
	counts[status]++
	if err == nil && status == http.StatusCreated {
		l.res.Acked = append(l.res.Acked, Ack{ID: id, Name: name, At: time.Now()})
		l.acked.Add(1)
		return
	}
	if (err != nil || status != http.StatusOK && status != http.StatusServiceUnavailable) && len(l.res.Samples) < 10 {
		l.res.Samples = append(l.res.Samples, fmt.Sprintf("status %d: %v", status, err))
	}
}

// Acked returns how many writes were acknowledged so far.
func (l *Load) Acked() int { return int(l.acked.Load()) }

// WaitAcked waits until n more writes than now are acknowledged, or fails t
// after within.
func (l *Load) WaitAcked(t testing.TB, n int, within time.Duration) {
	t.Helper()
	target := l.Acked() + n
	deadline := time.Now().Add(within)
	for l.Acked() < target {
		if time.Now().After(deadline) {
			res := l.Snapshot()
			t.Fatalf("timed out after %v waiting for %d acknowledged writes: %v\n%q", within, n, res, res.Samples)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Snapshot returns a copy of what the load saw so far.
func (l *Load) Snapshot() LoadResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := LoadResult{Acked: append([]Ack(nil), l.res.Acked...), Writes: map[int]int{}, Reads: map[int]int{},
		NoRetryAfter: l.res.NoRetryAfter, Samples: append([]string(nil), l.res.Samples...)}
	for k, v := range l.res.Writes {
		r.Writes[k] = v
	}
	for k, v := range l.res.Reads {
		r.Reads[k] = v
	}
	return r
}

// Stop stops the workers, waits for their requests in flight, and returns
// what the load saw. Calling it again returns the same.
func (l *Load) Stop() LoadResult {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
	l.client.CloseIdleConnections()
	return l.Snapshot()
}

// ServerErrors counts the answers, writes and reads, with a 5xx status
// other than 503: what a client must never see.
func (r LoadResult) ServerErrors() int {
	n := 0
	for _, counts := range []map[int]int{r.Writes, r.Reads} {
		for status, c := range counts {
			if status >= 500 && status != http.StatusServiceUnavailable {
				n += c
			}
		}
	}
	return n
}

// Count returns the writes and reads answered with status.
func (r LoadResult) Count(status int) int { return r.Writes[status] + r.Reads[status] }

// AckedSince returns the first write acknowledged at or after t0.
func (r LoadResult) AckedSince(t0 time.Time) (Ack, bool) {
	for _, a := range r.Acked {
		if !a.At.Before(t0) {
			return a, true
		}
	}
	return Ack{}, false
}

// String sums the result up: acknowledged writes and the statuses seen.
func (r LoadResult) String() string {
	return fmt.Sprintf("%d acknowledged; writes %s; reads %s; 503 without Retry-After: %d",
		len(r.Acked), statusCounts(r.Writes), statusCounts(r.Reads), r.NoRetryAfter)
}

func statusCounts(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// WebClient is a browser-like client of an app: a cookie jar, redirects
// not followed, so every status can be asserted.
type WebClient struct {
	URL  func() string
	HTTP *http.Client
}

// NewWebClient returns an anonymous browser-like client of the app at
// baseURL (asked before every request).
func NewWebClient(baseURL func() string) *WebClient {
	jar, _ := cookiejar.New(nil)
	return &WebClient{URL: baseURL, HTTP: &http.Client{Jar: jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfInput = regexp.MustCompile(`name="csrf_token"\s+value="([^"]+)"|value="([^"]+)"\s+name="csrf_token"`)

// Get fetches path and returns the status and body (status 0 and the
// error when no answer came).
func (c *WebClient) Get(path string) (int, string, error) {
	resp, err := c.HTTP.Get(c.URL() + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// Login loads the login form and posts username and password with its
// CSRF token, as a browser does, and returns the answer's status (302 on
// success) and its Retry-After header. It starts signed out, with an empty
// cookie jar: after a login that succeeded, the form would answer a
// redirect to the index instead (a small write, such as a session's, can
// succeed on a full disk while others fail).
func (c *WebClient) Login(username, password string) (status int, retryAfter string, err error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return 0, "", err
	}
	c.HTTP.Jar = jar
	code, page, err := c.Get("/login/")
	if err != nil {
		return 0, "", err
	}
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		return 0, "", fmt.Errorf("GET /login/: %d without a csrf_token", code)
	}
	token := m[1] + m[2]
	form := url.Values{"username": {username}, "password": {password}, "csrf_token": {token}}
	req, err := http.NewRequest(http.MethodPost, c.URL()+"/login/", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.URL())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}
