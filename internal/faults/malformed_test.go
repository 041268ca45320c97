package faults

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"musicadmin/internal/apptest"
)

// mutations is how many mutated requests TestMalformedRequests sends
// besides its fixed corpus.
const mutations = 400

// TestMalformedRequests sends a corpus of malformed requests over raw
// connections, a fixed list and mutations of valid requests (bytes flipped,
// inserted, cut; headers doubled; lengths wrong), seeded so a failure
// repeats: none is answered with a 5xx (but net/http's own 501 and 505 to
// a transfer coding or an HTTP version it does not speak), the app's log
// shows no 500 and no panic, and it still serves afterwards.
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	s := newSite(t, apptest.NewDatabase(t, apptest.SQLite), nil)
	corpus := append(fixedCorpus(s.token), mutated(s.token, mutations)...)

	type failure struct {
		req    string
		status int
	}
	var mu sync.Mutex
	var failures []failure
	answered := map[int]int{}
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for req := range jobs {
				status := sendRaw(s.addr, req)
				mu.Lock()
				answered[status]++
				if status >= 500 && !protocolRefusal[status] {
					failures = append(failures, failure{req, status})
				}
				mu.Unlock()
			}
		}()
	}
	for _, req := range corpus {
		jobs <- req
	}
	close(jobs)
	wg.Wait()

	t.Logf("%d malformed requests: answers by status %v (0: connection closed without an answer)", len(corpus), answered)
	for i, f := range failures {
		if i == 5 {
			t.Errorf("and %d more", len(failures)-5)
			break
		}
		t.Errorf("answered %d to %q", f.status, f.req)
	}
	if code := s.status("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the corpus: %d", code)
	}
	if code, _, body := s.api(http.MethodPost, "/api/v1/albumview/", map[string]string{"name": "after the corpus"}); code != http.StatusCreated {
		t.Errorf("a write after the corpus: %d %s", code, body)
	}
	checkNoServerErrors(t, s.Log())
	s.Stop()
}

// protocolRefusal are the 5xx statuses net/http itself answers to a
// request it does not speak (an HTTP version, a transfer coding): they
// name the client's request, not a failure of the server.
var protocolRefusal = map[int]bool{
	http.StatusNotImplemented:          true,
	http.StatusHTTPVersionNotSupported: true,
}

// sendRaw writes req on a new connection and returns the status of the
// answer, 0 when the server closed the connection without one. When no
// answer starts within a second (a body shorter than its Content-Length,
// headers never ended), it closes its writing half, which the server reads
// as the end of the request, rather than waiting for the server's read
// timeout; the server may then take the client for gone (499).
func sendRaw(addr, req string) int {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return -1
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		return 0
	}
	in := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := in.Peek(1); err != nil {
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			return 0
		}
		_ = c.(*net.TCPConn).CloseWrite()
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(in, nil)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// request builds a raw HTTP/1.1 request with a body and its length.
func request(method, target, token, contentType, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n", method, target)
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	if body != "" || method == http.MethodPost {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	return b.String()
}

// seeds are valid requests over the app's surfaces: the API (reads and
// writes), the pages, the login form, the lookup and the export.
func seeds(token string) []string {
	const js = "application/json"
	return []string{
		request("GET", "/api/v1/albumview/?page=1&page_size=20&sort=-name&q=a&name__contains=b", token, "", ""),
		request("GET", "/api/v1/songsview/?rating__gte=5&album=1&include=album", token, "", ""),
		request("POST", "/api/v1/albumview/", token, js, `{"name": "seeded album"}`),
		request("POST", "/api/v1/songsview/", token, js, `{"title": "seeded song", "rating": 5, "album": "1"}`),
		request("PATCH", "/api/v1/albumview/1", token, "application/merge-patch+json", `{"name": "patched"}`),
		request("PUT", "/api/v1/songsview/1", token, js, `{"title": "put", "rating": 1, "version": 1}`),
		request("GET", "/api/v1/albumview/_info", token, "", ""),
		request("GET", "/albumview/list/?page=2&page_size=50&sort=name&q=x&name__contains=y", "", "", ""),
		request("GET", "/songsview/lookup/album?q=ab", "", "", ""),
		request("GET", "/songsview/export.csv?rating__lte=3", "", "", ""),
		request("POST", "/login/", "", "application/x-www-form-urlencoded",
			"username=admin&password=wrong-password&csrf_token=abc&next=%2Falbumview%2Flist%2F"),
		request("GET", "/healthz", "", "", ""),
	}
}

// fixedCorpus is a list of known-bad requests: broken request lines and
// headers, encodings, lengths, bodies and parameters.
func fixedCorpus(token string) []string {
	const js = "application/json"
	long := strings.Repeat("a", 70000)
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	return []string{
		"\r\n\r\n",
		"GARBAGE\r\n\r\n",
		"GET\r\n\r\n",
		"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n", // no Host
		"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /static/..%2f..%2fgo.mod HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET //evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET http://evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT app.test:443 HTTP/1.1\r\nHost: x\r\n\r\n",
		"BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /" + long + " HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + long + "\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n: novalue\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
		"GET / HTTP/1.1\nHost: x\n\n",
		"POST /api/v1/albumview/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
		"POST /api/v1/albumview/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
		"POST /api/v1/albumview/ HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"POST /api/v1/albumview/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nzz\r\n",
		"POST /api/v1/albumview/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
		"POST /api/v1/albumview/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
		"POST /api/v1/albumview/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
			"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\": \"short",
		request("POST", "/api/v1/albumview/", token, js, deep),
		request("POST", "/api/v1/albumview/", token, js, `{"name": "`+strings.Repeat("x", 1<<20)+`"}`),
		request("POST", "/api/v1/albumview/", token, js, `{"name": "a", "name": "b"}`),
		request("POST", "/api/v1/albumview/", token, js, `{"name": null}`),
		request("POST", "/api/v1/albumview/", token, js, `{"name": 1e999}`),
		request("POST", "/api/v1/albumview/", token, js, "{\"name\": \"\xff\xfe\"}"),
		request("POST", "/api/v1/albumview/", token, js, `{"name": "\ud800"}`),
		request("POST", "/api/v1/albumview/", token, js, `{"name": {"$ne": ""}}`),
		request("POST", "/api/v1/albumview/", token, js, `[]`),
		request("POST", "/api/v1/albumview/", token, "text/plain", `name=x`),
		request("POST", "/api/v1/songsview/", token, js, `{"title": "t", "rating": 99999999999999999999}`),
		request("POST", "/api/v1/songsview/", token, js, `{"title": "t", "album": "../1"}`),
		request("GET", "/api/v1/albumview/99999999999999999999999", token, "", ""),
		request("GET", "/api/v1/albumview/-1", token, "", ""),
		request("GET", "/api/v1/albumview/%00", token, "", ""),
		request("GET", "/api/v1/albumview/?page=-1&page_size=0", token, "", ""),
		request("GET", "/api/v1/albumview/?page=99999999999999999999", token, "", ""),
		request("GET", "/api/v1/albumview/?sort=name;DROP%20TABLE%20albums", token, "", ""),
		request("GET", "/api/v1/albumview/?name__regex=(a%2B)%2B$", token, "", ""),
		request("GET", "/api/v1/albumview/?q="+strings.Repeat("%F0%9F%98%80", 2000), token, "", ""),
		request("GET", "/api/v1/albumview/?"+strings.Repeat("a=1&", 5000), token, "", ""),
		request("GET", "/api/v1/albumview/", "not-a-token", "", ""),
		request("GET", "/api/v1/albumview/", strings.Repeat("x", 10000), "", ""),
		request("DELETE", "/api/v1/albumview/", token, "", ""),
		request("GET", "/albumview/show/abc", "", "", ""),
		request("GET", "/songsview/lookup/album?q=%ff", "", "", ""),
		request("POST", "/login/", "", "application/x-www-form-urlencoded", "%zz=%zz&username="+long),
		request("POST", "/login/", "", "multipart/form-data; boundary=x", "--x\r\nbroken"),
		request("POST", "/login/", "", "application/json", `{"username": "admin"}`),
		request("POST", "/logout/", "", "application/x-www-form-urlencoded", "csrf_token="),
	}
}

// mutated returns n mutations of the seeds, from a fixed seed.
func mutated(token string, n int) []string {
	r := rand.New(rand.NewPCG(18, 1))
	base := seeds(token)
	junk := []string{"\x00", "\xff", "%", "%0", "\r\n", "\n", "\"", "{", "}", "[", "\\", "'", ";", "&", "=", "?", "#",
		"..", "/", " ", "\t", "\u202e", "\ud7ff", "9999999999999999999999", "-1", "null", "true", "1e309"}
	out := make([]string, 0, n)
	for range n {
		b := []byte(base[r.IntN(len(base))])
		for range 1 + r.IntN(3) {
			if len(b) == 0 {
				break
			}
			i := r.IntN(len(b))
			switch r.IntN(6) {
			case 0: // flip a byte
				b[i] ^= byte(1 << r.IntN(8))
			case 1: // insert junk
				j := junk[r.IntN(len(junk))]
				b = append(b[:i], append([]byte(j), b[i:]...)...)
			case 2: // cut the rest
				b = b[:i]
			case 3: // drop a byte
				b = append(b[:i], b[i+1:]...)
			case 4: // double a header line
				s := string(b)
				if k := strings.Index(s, "\r\n"); k > 0 {
					if e := strings.Index(s[k+2:], "\r\n"); e > 0 {
						line := s[k+2 : k+2+e+2]
						s = s[:k+2] + line + s[k+2:]
					}
				}
				b = []byte(s)
			case 5: // a wrong Content-Length
				s := string(b)
				if k := strings.Index(s, "Content-Length: "); k >= 0 {
					e := strings.Index(s[k:], "\r\n")
					if e > 0 {
						s = s[:k] + fmt.Sprintf("Content-Length: %d", r.IntN(200)) + s[k+e:]
					}
				}
				b = []byte(s)
			}
		}
		out = append(out, string(b))
	}
	return out
}
