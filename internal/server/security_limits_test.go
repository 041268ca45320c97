package server_test

// Sections H (headers) and I (limits) of shared/SECURITY-TESTS.md.

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/apptest/slow"
)

// Test 41 and 42: security headers on every answer; no caching of pages
// with user data.
func TestHeaders(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		album := a.InsertAlbum("Header Album")
		c := a.LoggedIn()
		token := c.CSRF("/albumview/add")
		big := "name=" + strings.Repeat("a", 2<<20) + "&csrf_token=" + token
		cases := []struct {
			name    string
			do      func() *apptest.Response
			status  int
			private bool // shows user data or the login form: no-store
		}{
			{"login", func() *apptest.Response { return a.Client().Get("/login/") }, 200, true},
			{"index", func() *apptest.Response { return c.Get("/") }, 200, true},
			{"list", func() *apptest.Response { return c.Get("/albumview/list/") }, 200, true},
			{"show", func() *apptest.Response { return c.Get("/albumview/show/" + album) }, 200, true},
			{"edit", func() *apptest.Response { return c.Get("/albumview/edit/" + album) }, 200, true},
			{"delete", func() *apptest.Response { return c.Get("/albumview/delete/" + album) }, 200, true},
			{"404 record", func() *apptest.Response { return c.Get("/albumview/show/" + a.UnknownID()) }, 404, true},
			{"404 route", func() *apptest.Response { return c.Get("/no/such/page") }, 404, false},
			{"403 csrf", func() *apptest.Response { return c.Post("/albumview/add", url.Values{"name": {"x"}}) }, 403, true},
			{"403 cross-origin", func() *apptest.Response {
				return c.Request(http.MethodPost, "/albumview/add", strings.NewReader("name=x"),
					"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site")
			}, 403, false},
			{"422", func() *apptest.Response {
				return c.Post("/albumview/add", url.Values{"name": {""}, "csrf_token": {token}})
			}, 422, true},
			{"413", func() *apptest.Response { return c.PostRaw("/albumview/add", big) }, 413, false},
			{"405", func() *apptest.Response { return c.Request(http.MethodPut, "/albumview/list/", nil) }, 405, false},
			{"static css", func() *apptest.Response { return a.Client().Get("/static/app.css") }, 200, false},
			{"static svg", func() *apptest.Response { return a.Client().Get("/static/favicon.svg") }, 200, false},
			{"healthz", func() *apptest.Response { return a.Client().Get("/healthz") }, 200, false},
			{"anonymous redirect", func() *apptest.Response { return a.Client().Get("/albumview/list/") }, 302, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.do()
				h := r.Header
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d", r.Status, tc.status)
				}
				if h.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("X-Content-Type-Options = %q", h.Get("X-Content-Type-Options"))
				}
				ct := h.Get("Content-Type")
				if (strings.HasPrefix(ct, "text/") || r.Body != "") && !strings.Contains(strings.ToLower(ct), "charset=utf-8") &&
					!strings.HasPrefix(ct, "image/") {
					t.Errorf("Content-Type = %q, want a utf-8 charset", ct)
				}
				for _, name := range []string{"Server", "X-Powered-By", "X-AspNet-Version"} {
					if v := h.Get(name); v != "" {
						t.Errorf("%s: %q", name, v)
					}
				}
				if strings.HasPrefix(ct, "text/html") {
					csp := h.Get("Content-Security-Policy")
					for _, want := range []string{"default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
						if !strings.Contains(csp, want) {
							t.Errorf("CSP %q lacks %q", csp, want)
						}
					}
					if !strings.Contains(csp, "base-uri 'none'") && !strings.Contains(csp, "base-uri 'self'") {
						t.Errorf("CSP %q lacks base-uri", csp)
					}
					if strings.Contains(csp, "'unsafe-inline'") || strings.Contains(csp, "'unsafe-eval'") {
						t.Errorf("CSP %q allows inline or eval", csp)
					}
					if h.Get("X-Frame-Options") != "DENY" {
						t.Errorf("X-Frame-Options = %q", h.Get("X-Frame-Options"))
					}
					switch h.Get("Referrer-Policy") {
					case "same-origin", "no-referrer", "strict-origin-when-cross-origin":
					default:
						t.Errorf("Referrer-Policy = %q", h.Get("Referrer-Policy"))
					}
					if h.Get("Cross-Origin-Opener-Policy") != "same-origin" {
						t.Errorf("Cross-Origin-Opener-Policy = %q", h.Get("Cross-Origin-Opener-Policy"))
					}
					// The pages carry no inline script or style the CSP would block.
					if r.Doc.Find("script:not([src]), style, [style]").Length() > 0 {
						t.Error("inline script or style in the page")
					}
				}
				if tc.private && !strings.Contains(h.Get("Cache-Control"), "no-store") {
					t.Errorf("Cache-Control = %q, want no-store", h.Get("Cache-Control"))
				}
			})
		}
	})
}

// Test 43: bodies over the cap are refused early with 413, however they
// are framed, and nothing is written.
func TestBodySize(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		token := c.CSRF("/albumview/add")
		loginClient := a.Client()
		loginToken := loginClient.CSRF("/login/")
		const size = 12 << 20
		for _, tc := range []struct {
			name    string
			c       *apptest.Client
			path    string
			tail    string
			chunked bool
		}{
			{"add, Content-Length", c, "/albumview/add", "&name=big&csrf_token=" + token, false},
			{"add, chunked", c, "/albumview/add", "&name=big&csrf_token=" + token, true},
			{"login, Content-Length", loginClient, "/login/", "&username=admin&password=x&csrf_token=" + loginToken, false},
			{"login, chunked", loginClient, "/login/", "&username=admin&password=x&csrf_token=" + loginToken, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := a.Snapshot()
				var body io.Reader = io.MultiReader(strings.NewReader("pad="), &repeatReader{b: 'a', n: size},
					strings.NewReader(tc.tail))
				req := tc.c.PostRequest(tc.path, nil)
				req.Body = io.NopCloser(body)
				req.GetBody = nil
				if tc.chunked {
					req.ContentLength = -1
				} else {
					req.ContentLength = int64(len("pad=") + size + len(tc.tail))
				}
				start := time.Now()
				ans, err := tc.c.Send(req)
				d := time.Since(start)
				if err != nil {
					t.Fatalf("no answer: %v", err)
				}
				apptest.CheckAnswer(t, tc.name, ans.Status, ans.Body)
				if ans.Status != http.StatusRequestEntityTooLarge {
					t.Errorf("status %d, want 413", ans.Status)
				}
				if d > slow.Scaled(2*time.Second) {
					t.Errorf("answer took %v", d)
				}
				if !before.Same(a.Snapshot()) {
					t.Error("written")
				}
			})
		}
		// The cap leaves room for any real form.
		if r := c.PostRaw("/albumview/add", "name=fits&pad="+strings.Repeat("a", 512<<10)+"&csrf_token="+token); r.Status != http.StatusFound {
			t.Errorf("a 512 KiB form: %d, want 302", r.Status)
		}
		if r := a.Client().Get("/healthz"); r.Status != http.StatusOK {
			t.Errorf("healthz: %d", r.Status)
		}
	})
}

// repeatReader yields n copies of b.
type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = r.b
	}
	r.n -= k
	return k, nil
}

// Test 44: too many fields, in a body or a query string.
func TestTooManyFields(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		a.InsertAlbum("Many Fields")
		c := a.LoggedIn()
		token := c.CSRF("/albumview/add")
		before := a.Snapshot()
		start := time.Now()
		r := c.PostRaw("/albumview/add", strings.Repeat("a=1&", 200000)+"name=many&csrf_token="+token)
		if r.Status != http.StatusBadRequest && r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("200000 fields: %d, want 400 or 413", r.Status)
		}
		if d := time.Since(start); d > slow.Scaled(2*time.Second) {
			t.Errorf("200000 fields took %v", d)
		}
		if !before.Same(a.Snapshot()) {
			t.Error("written")
		}
		r = c.Get("/albumview/list/?" + strings.Repeat("x=1&", 20000) + "q=Many")
		if r.Status != http.StatusBadRequest && r.Status != http.StatusRequestEntityTooLarge && r.Status != http.StatusRequestURITooLong {
			t.Errorf("20000 query parameters: %d, want 400, 413 or 414", r.Status)
		}
		r = a.Client().Get("/login/?" + strings.Repeat("x=1&", 20000))
		if r.Status != http.StatusBadRequest && r.Status != http.StatusRequestURITooLong {
			t.Errorf("20000 query parameters on /login/: %d, want 400 or 414", r.Status)
		}
		// An ordinary number of parameters still works.
		if rows := c.Get("/albumview/list/?" + strings.Repeat("x=1&", 50) + "q=Many").FirstColumn(); len(rows) != 1 {
			t.Errorf("50 parameters: rows %q", rows)
		}
		if r := a.Client().Get("/healthz"); r.Status != http.StatusOK {
			t.Errorf("healthz: %d", r.Status)
		}
	})
}

// Test 46: oversized headers, query values and paths.
func TestOversizedRequests(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		a.InsertAlbum("Oversized")
		c := a.LoggedIn()
		r := c.Request(http.MethodGet, "/", nil, "Cookie", "big="+strings.Repeat("c", 2<<20))
		if r.Status != http.StatusRequestHeaderFieldsTooLarge && r.Status != http.StatusBadRequest {
			t.Errorf("2 MiB Cookie: %d, want 431 or 400", r.Status)
		}
		r = c.Get("/albumview/list/?q=" + strings.Repeat("q", 100<<10))
		switch r.Status {
		case http.StatusOK:
			if v, _ := r.Doc.Find("input[name=q]").Attr("value"); len([]rune(v)) > 200 {
				t.Errorf("a 100 KB q is kept whole (%d characters)", len([]rune(v)))
			}
		case http.StatusBadRequest, http.StatusRequestURITooLong:
		default:
			t.Errorf("100 KB q: %d", r.Status)
		}
		r = c.Get("/albumview/show/" + strings.Repeat("p", 100<<10))
		if r.Status != http.StatusNotFound && r.Status != http.StatusBadRequest && r.Status != http.StatusRequestURITooLong {
			t.Errorf("100 KB path: %d", r.Status)
		}
		if r := a.Client().Get("/healthz"); r.Status != http.StatusOK {
			t.Errorf("healthz: %d", r.Status)
		}
	})
}
