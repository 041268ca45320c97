package server_test

// Compressed answers: pages, JSON and the CSV export come gzip- or
// zstd-encoded when the client asks, decode to the identity answer, and
// stay plain when it does not ask or the body is small; error answers
// keep their status.

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"musicadmin/internal/apptest"
	"musicadmin/internal/view"
)

// rawAnswer is an answer as it came over the wire.
type rawAnswer struct {
	status   int
	header   http.Header
	body     []byte // decoded
	wire     int    // bytes of the body as sent
	encoding string
}

// getEncoded GETs path with the cookies of c (and headers, name, value
// pairs), asking for encoding ("" asks for none: Go's transport would
// otherwise ask for gzip), and decodes the body by its Content-Encoding.
func getEncoded(t *testing.T, c *apptest.Client, path, encoding string, headers ...string) rawAnswer {
	t.Helper()
	hc := &http.Client{Jar: c.HTTP.Jar, Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, c.URL(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := rawAnswer{status: resp.StatusCode, header: resp.Header, wire: len(raw), encoding: resp.Header.Get("Content-Encoding")}
	switch a.encoding {
	case "":
		a.body = raw
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("GET %s: gzip: %v", path, err)
		}
		if a.body, err = io.ReadAll(zr); err != nil {
			t.Fatalf("GET %s: gzip: %v", path, err)
		}
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("GET %s: zstd: %v", path, err)
		}
		defer zr.Close()
		if a.body, err = io.ReadAll(zr); err != nil {
			t.Fatalf("GET %s: zstd: %v", path, err)
		}
	default:
		t.Fatalf("GET %s: Content-Encoding %q", path, a.encoding)
	}
	return a
}

// csrfValue is a CSRF token in a page: masked afresh on every render.
var csrfValue = regexp.MustCompile(`name="csrf_token" value="[^"]*"`)

// TestCompressedAnswers: a page, a JSON answer and the CSV export come
// back gzip- or zstd-encoded as asked (zstd when both are taken alike),
// decode to the identity answer (the page's CSRF tokens aside), are much
// smaller on the wire, and say Vary: Accept-Encoding; without the asking
// they come plain.
func TestCompressedAnswers(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b)
		album := a.InsertAlbum("Compressed Album")
		var songs []apptest.SongRow
		for i := range 60 {
			songs = append(songs, apptest.SongRow{Title: fmt.Sprintf("Compressed Song %02d", i), Rating: i % 10, Album: album})
		}
		a.InsertSongs(songs)
		c := a.LoggedIn()
		token := a.APIToken(t, apptest.AdminUser)
		for _, tc := range []struct {
			name, path, ctype string
			headers           []string
		}{
			{"page", "/songsview/list/", "text/html", nil},
			{"JSON", "/api/v1/songsview/?page_size=50", "application/json", []string{"Authorization", "Bearer " + token}},
			{"CSV export", "/songsview/export.csv", "text/csv", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				plain := getEncoded(t, c, tc.path, "", tc.headers...)
				if plain.status != http.StatusOK || plain.encoding != "" || !strings.HasPrefix(plain.header.Get("Content-Type"), tc.ctype) {
					t.Fatalf("plain: status %d, Content-Encoding %q, Content-Type %q", plain.status, plain.encoding, plain.header.Get("Content-Type"))
				}
				if !strings.Contains(string(plain.body), "Compressed Song 0") {
					t.Fatalf("plain: the answer holds no song:\n%s", plain.body)
				}
				want := csrfValue.ReplaceAll(plain.body, []byte("CSRF"))
				for _, ask := range []struct{ accept, want string }{
					{"gzip", "gzip"}, {"zstd", "zstd"}, {"gzip, deflate, br, zstd", "zstd"}, {"gzip;q=1, zstd;q=0.5", "gzip"},
					{"identity", ""}, {"br", ""},
				} {
					got := getEncoded(t, c, tc.path, ask.accept, tc.headers...)
					if got.status != http.StatusOK || got.encoding != ask.want {
						t.Errorf("Accept-Encoding %q: status %d, Content-Encoding %q, want 200 and %q", ask.accept, got.status, got.encoding, ask.want)
					}
					if !strings.Contains(got.header.Get("Vary"), "Accept-Encoding") {
						t.Errorf("Accept-Encoding %q: Vary %q", ask.accept, got.header.Values("Vary"))
					}
					if !bytes.Equal(csrfValue.ReplaceAll(got.body, []byte("CSRF")), want) {
						t.Errorf("Accept-Encoding %q: the answer decodes to another than the plain one:\n%s\n----\n%s", ask.accept, got.body, plain.body)
					}
					if ask.want != "" && got.wire*2 > len(got.body) {
						t.Errorf("Accept-Encoding %q: %d bytes on the wire for %d", ask.accept, got.wire, len(got.body))
					}
				}
			})
		}
	})
}

// TestCompressionLeavesAnswersAlone: asked for gzip, a small body, HEAD,
// a 304 and the error answers (404, 405, 413, a client gone, 499) keep
// their status, and the small ones stay plain.
func TestCompressionLeavesAnswersAlone(t *testing.T) {
	a := apptest.NewApp(t, apptest.SQLite)
	c := a.LoggedIn()
	for _, tc := range []struct {
		name, path string
		status     int
		plain      bool // the body is small: never compressed
		headers    []string
	}{
		{"small body", "/healthz", http.StatusOK, true, nil},
		{"small static file", "/static/favicon.svg", http.StatusOK, true, nil},
		{"unknown route", "/nowhere", http.StatusNotFound, false, nil},
		{"unknown static file", "/static/nothing.css", http.StatusNotFound, true, nil},
		{"too many query parameters", "/songsview/list/?" + strings.Repeat("a=1&", 1000) + "a=1", http.StatusBadRequest, true, nil},
	} {
		got := getEncoded(t, c, tc.path, "gzip", tc.headers...)
		if got.status != tc.status || (tc.plain && got.encoding != "") {
			t.Errorf("%s: status %d, Content-Encoding %q; want %d%s", tc.name, got.status, got.encoding, tc.status,
				map[bool]string{true: ", plain"}[tc.plain])
		}
	}

	// HEAD of a page: the status and no body.
	r := c.Request(http.MethodHead, "/songsview/list/", nil, "Accept-Encoding", "gzip")
	if r.Status != http.StatusOK || r.Body != "" {
		t.Errorf("HEAD: status %d, %d bytes of body", r.Status, len(r.Body))
	}
	// A revalidation of a static file: 304 and no body.
	etag := getEncoded(t, c, "/static/app.css", "gzip").header.Get("ETag")
	if got := getEncoded(t, c, "/static/app.css", "gzip", "If-None-Match", etag); etag == "" || got.status != http.StatusNotModified || len(got.body) != 0 {
		t.Errorf("If-None-Match %q: status %d with %d bytes, want 304 and none", etag, got.status, len(got.body))
	}
	// 405 and 413, plain text and JSON.
	r = c.Request("TRACE", "/songsview/list/", nil, "Accept-Encoding", "gzip")
	if r.Status != http.StatusMethodNotAllowed {
		t.Errorf("TRACE: status %d, want 405", r.Status)
	}
	for _, path := range []string{"/albumview/add", "/api/v1/albumview/"} {
		r = c.Request(http.MethodPost, path, strings.NewReader(strings.Repeat("x", 2<<20)),
			"Accept-Encoding", "gzip", "Content-Type", "application/x-www-form-urlencoded")
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s of 2 MB: status %d, want 413", path, r.Status)
		}
	}
	// A client gone before the answer: 499 in the record, through the
	// compressing writer.
	req := httptest.NewRequest(http.MethodGet, "/albumview/list/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	base, _ := url.Parse(a.URL)
	for _, ck := range c.HTTP.Jar.Cookies(base) {
		req.AddCookie(ck)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	a.Web.Handler.ServeHTTP(w, req.WithContext(ctx))
	if w.Code != view.StatusClientClosedRequest || w.Header().Get("Content-Encoding") != "" {
		t.Errorf("client gone: status %d, Content-Encoding %q; want %d, plain", w.Code, w.Header().Get("Content-Encoding"), view.StatusClientClosedRequest)
	}
	if !strings.Contains(a.Log.String(), fmt.Sprintf("status=%d", view.StatusClientClosedRequest)) {
		t.Errorf("the request log has no status=%d", view.StatusClientClosedRequest)
	}
}
