package apptest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Client is a browser-like client of an App: it keeps cookies and does not
// follow redirects.
type Client struct {
	t    testing.TB
	app  *App
	HTTP *http.Client
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
func (a *App) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: a.t, app: a, HTTP: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// LoggedIn returns a client logged in as the admin.
func (a *App) LoggedIn() *Client {
	c := a.Client()
	c.Login(AdminUser, AdminPassword)
	return c
}

// Do sends req and reads the response.
func (c *Client) Do(req *http.Request) *Response {
	c.t.Helper()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read %s %s: %v", req.Method, req.URL, err)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Doc: doc}
}

// Get requests path.
func (c *Client) Get(path string) *Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.app.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.Do(req)
}

// Post sends form to path, urlencoded, as a same-origin browser would.
func (c *Client) Post(path string, form url.Values) *Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.app.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.app.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.Do(req)
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
