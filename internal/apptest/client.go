package apptest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// Site is an http.Handler served by an httptest server for the length of a
// test: the app, or any handler a test builds (an admin router alone, a
// second app over the same database).
type Site struct {
	t      testing.TB
	URL    string
	Server *httptest.Server
	strict bool // its clients apply the oracle (Strict)
}

// Serve serves h until the test ends.
func Serve(t testing.TB, h http.Handler) *Site {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Site{t: t, URL: srv.URL, Server: srv}
}

// Client is a browser-like client of a Site: it keeps cookies and does not
// follow redirects.
type Client struct {
	t      testing.TB
	url    string // the site's
	strict bool   // Do applies the oracle (Strict)
	HTTP   *http.Client
}

// Response is a read response with its body parsed as HTML.
type Response struct {
	Status int
	Header http.Header
	Body   string
	Doc    *goquery.Document
}

// Location returns the redirect target.
func (r *Response) Location() string { return r.Header.Get("Location") }

// Client returns a new anonymous client.
func (s *Site) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: s.t, url: s.URL, strict: s.strict, HTTP: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// ClientWith returns a new anonymous client holding copies of cookies: a
// replayed or stolen session.
func (s *Site) ClientWith(cookies []*http.Cookie) *Client {
	c := s.Client()
	c.SetCookies(cookies)
	return c
}

// LoggedIn returns a client logged in as the admin.
func (a *App) LoggedIn() *Client {
	c := a.Client()
	c.Login(AdminUser, AdminPassword)
	return c
}

// Do sends req and reads the response; on a Strict app the answer must
// pass the oracle.
func (c *Client) Do(req *http.Request) *Response {
	c.t.Helper()
	r, err := c.Send(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.check(req, r)
	return r
}

// check applies the oracle to r, the answer to req, on a Strict app.
func (c *Client) check(req *http.Request, r *Response) {
	c.t.Helper()
	if c.strict {
		CheckAnswer(c.t, req.Method+" "+req.URL.RequestURI(), r.Status, r.Body)
	}
}

// Send is Do for any goroutine: it returns the error instead of failing
// the test, and applies no oracle.
func (c *Client) Send(req *http.Request) (*Response, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", req.Method, req.URL, err)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Doc: doc}, nil
}

// Request sends method to path with body and headers (name, value pairs).
// Unlike Post it adds no header of its own.
func (c *Client) Request(method, path string, body io.Reader, headers ...string) *Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.Do(req)
}

// URL returns the absolute URL of path on the client's site.
func (c *Client) URL(path string) string { return c.url + path }

// Cookies returns the client's cookies for its site.
func (c *Client) Cookies() []*http.Cookie {
	u, _ := url.Parse(c.url)
	return c.HTTP.Jar.Cookies(u)
}

// SetCookies adds cookies to the client's jar for its site.
func (c *Client) SetCookies(cookies []*http.Cookie) {
	u, _ := url.Parse(c.url)
	c.HTTP.Jar.SetCookies(u, cookies)
}

// Get requests path.
func (c *Client) Get(path string) *Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.url+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.Do(req)
}

// Post sends form to path, urlencoded, as a same-origin browser would.
func (c *Client) Post(path string, form url.Values) *Response {
	c.t.Helper()
	return c.Do(c.PostRequest(path, form))
}

// PostRaw posts an urlencoded body exactly as given, as a same-origin
// browser would.
func (c *Client) PostRaw(path, body string) *Response {
	c.t.Helper()
	return c.Request(http.MethodPost, path, strings.NewReader(body),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", c.url, "Sec-Fetch-Site", "same-origin")
}

// Parallel sends every request at once (after all are built) and returns
// the answers in order. A transport error fails the test; on a Strict app
// every answer must pass the oracle.
func (c *Client) Parallel(reqs []*http.Request) []*Response {
	c.t.Helper()
	out := make([]*Response, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, req := range reqs {
		wg.Go(func() {
			<-start
			out[i], errs[i] = c.Send(req)
		})
	}
	close(start)
	wg.Wait()
	for i, r := range out {
		if errs[i] != nil {
			c.t.Fatalf("request %d: %v", i, errs[i])
		}
		c.check(reqs[i], r)
	}
	return out
}

// PostRequest builds the request Post sends, for a test that changes it or
// sends it later (Send).
func (c *Client) PostRequest(path string, form url.Values) *http.Request {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return req
}

// CSRF loads the page at path and returns the csrf_token of its main form.
func (c *Client) CSRF(path string) string {
	c.t.Helper()
	r := c.Get(path)
	token := CSRFOf(r)
	if token == "" {
		c.t.Fatalf("no csrf_token on %s (status %d)", path, r.Status)
	}
	return token
}

// CSRFOf returns the csrf_token of the page's main form.
func CSRFOf(r *Response) string {
	if r.Doc == nil {
		return ""
	}
	token, _ := r.Doc.Find("main input[name=csrf_token]").First().Attr("value")
	if token == "" {
		token, _ = r.Doc.Find("input[name=csrf_token]").First().Attr("value")
	}
	return token
}

// Submit loads the form at path, adds its token to values and posts them
// back to path, as a user filling the form does.
func (c *Client) Submit(path string, values url.Values) *Response {
	c.t.Helper()
	form := url.Values{}
	for k, v := range values {
		form[k] = v
	}
	form.Set("csrf_token", c.CSRF(path))
	return c.Post(path, form)
}

// Login logs in and fails the test unless the login succeeds.
func (c *Client) Login(username, password string) {
	c.t.Helper()
	r := c.Submit("/login/", url.Values{"username": {username}, "password": {password}})
	if r.Status != http.StatusFound {
		c.t.Fatalf("login as %q: status %d, want 302", username, r.Status)
	}
}

// IsLoggedIn reports whether the client's session is a login: "/" answers
// 200 rather than a redirect to the login page. Any other answer fails the
// test.
func (c *Client) IsLoggedIn() bool {
	c.t.Helper()
	r := c.Get("/")
	switch {
	case r.Status == http.StatusOK:
		return true
	case r.Status == http.StatusFound && strings.HasPrefix(r.Location(), "/login/"):
		return false
	}
	c.t.Fatalf("GET /: unexpected %d %q", r.Status, r.Location())
	return false
}

// Raw sends one request with an exact request-target over a new TCP
// connection (http.Client would clean or re-encode paths such as
// "//evil.example/" or "/\evil.example/") and returns the response and its
// body; on a Strict app the answer must pass the oracle. headers are name,
// value pairs.
func (s *Site) Raw(method, target string, headers ...string) (*http.Response, string) {
	s.t.Helper()
	// Bounds against a hang only: generous for a busy machine.
	conn, err := net.DialTimeout("tcp", s.Server.Listener.Addr().String(), time.Minute)
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, s.Server.Listener.Addr())
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		s.t.Fatalf("%s %q: %v", method, target, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		s.t.Fatalf("%s %q: read answer: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if s.strict {
		CheckAnswer(s.t, fmt.Sprintf("%s %q", method, target), resp.StatusCode, string(body))
	}
	return resp, string(body)
}

// Text returns the trimmed text of the first element matching selector.
func (r *Response) Text(selector string) string {
	if r.Doc == nil {
		return ""
	}
	return strings.TrimSpace(r.Doc.Find(selector).First().Text())
}

// Texts returns the trimmed texts of every element matching selector.
func (r *Response) Texts(selector string) []string {
	var out []string
	if r.Doc == nil {
		return out
	}
	r.Doc.Find(selector).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

// Rows returns the cells of a list page's rows, without the checkbox and actions columns
// and without the "No records found." row.
func (r *Response) Rows() [][]string {
	out := [][]string{}
	if r.Doc == nil {
		return out
	}
	r.Doc.Find("table.table tbody tr").Each(func(_ int, tr *goquery.Selection) {
		if tr.Find("td.empty").Length() > 0 {
			return
		}
		var cells []string
		tr.Find("td:not(.actions):not(.select)").Each(func(_ int, td *goquery.Selection) {
			cells = append(cells, strings.TrimSpace(td.Text()))
		})
		out = append(out, cells)
	})
	return out
}

// FirstColumn returns the first cell of every row of a list page.
func (r *Response) FirstColumn() []string {
	out := []string{}
	for _, row := range r.Rows() {
		if len(row) > 0 {
			out = append(out, row[0])
		}
	}
	return out
}

// FieldError returns the message shown beside the form field name.
func (r *Response) FieldError(name string) string {
	if r.Doc == nil {
		return ""
	}
	return strings.TrimSpace(r.Doc.Find("#f-" + name).Closest(".field").Find(".error").Text())
}

// InputValue returns the value of the form's input name.
func (r *Response) InputValue(name string) string {
	if r.Doc == nil {
		return ""
	}
	v, _ := r.Doc.Find("input#f-" + name).Attr("value")
	return v
}

// Selected returns the value of the selected option of the form's select
// name.
func (r *Response) Selected(name string) string {
	if r.Doc == nil {
		return ""
	}
	v, _ := r.Doc.Find("select#f-" + name + " option[selected]").Attr("value")
	return v
}

// Flashes returns the flash messages shown on the page.
func (r *Response) Flashes() []string { return r.Texts(".flash") }

// ExpectStatus fails the test unless the response has status want; what
// names the request in the message.
func (r *Response) ExpectStatus(t testing.TB, what string, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d\n%s", what, r.Status, want, r.Body)
	}
}

// ExpectRedirect fails the test unless the response is a 302 to to.
func (r *Response) ExpectRedirect(t testing.TB, what, to string) {
	t.Helper()
	if r.Status != http.StatusFound || r.Location() != to {
		t.Fatalf("%s: status %d to %q, want 302 to %q\n%s", what, r.Status, r.Location(), to, r.Body)
	}
}

// FormValues are the values the form of the page r posts as a browser
// would, as it stands: its inputs, ticked boxes and selected options (the
// password and the CSRF token left out; Submit adds the token).
func FormValues(r *Response) url.Values {
	out := url.Values{}
	r.Doc.Find("main form input, main form select").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		typ, _ := s.Attr("type")
		_, disabled := s.Attr("disabled")
		switch {
		case name == "" || name == "csrf_token" || typ == "password" || disabled:
		case goquery.NodeName(s) == "select":
			s.Find("option[selected]").Each(func(_ int, o *goquery.Selection) {
				v, _ := o.Attr("value")
				out.Add(name, v)
			})
		case typ == "checkbox" || typ == "radio":
			if _, on := s.Attr("checked"); on {
				v, _ := s.Attr("value")
				out.Add(name, v)
			}
		default:
			v, _ := s.Attr("value")
			out.Add(name, v)
		}
	})
	return out
}
