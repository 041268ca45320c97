package main

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFetchWireBytes: fetch returns the page decoded and its size as
// sent: the compressed size when the server gzipped it because the
// request asked, the plain size otherwise.
func TestFetchWireBytes(t *testing.T) {
	page := strings.Repeat("<tr><td>Song</td></tr>\n", 200)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte(page))
	_ = zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(zipped.Bytes())
			return
		}
		_, _ = w.Write([]byte(page))
	}))
	defer srv.Close()
	tg := newTarget("sqlite", srv.URL, nil, 1)
	for _, tc := range []struct {
		name  string
		extra []string
		wire  int
	}{
		{"plain", nil, len(page)},
		{"gzip", []string{"Accept-Encoding", "gzip"}, zipped.Len()},
	} {
		body, wire, err := tg.fetch(t.Context(), "/", tc.extra...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(body) != page || wire != tc.wire {
			t.Errorf("%s: body of %d bytes on %d on the wire, want %d on %d", tc.name, len(body), wire, len(page), tc.wire)
		}
	}
	if zipped.Len() >= len(page) {
		t.Fatalf("the test page does not compress: %d bytes of %d", zipped.Len(), len(page))
	}
}
