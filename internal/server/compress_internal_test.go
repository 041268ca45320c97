package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// decoder opens a reader of body in encoding.
func decoder(t *testing.T, encoding string, body io.Reader) io.Reader {
	t.Helper()
	switch encoding {
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			t.Fatal(err)
		}
		return zr
	case "zstd":
		zr, err := zstd.NewReader(body)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(zr.Close)
		return zr
	}
	t.Fatalf("no decoder for %q", encoding)
	return nil
}

// TestCompressedAnswerStreams: behind the request log and the compressing
// writer, an answer that streams as the CSV export does (a flush through
// http.ResponseController, then a new write deadline) reaches the client
// while the handler is still at work, compressed, and the request log
// records its status.
func TestCompressedAnswerStreams(t *testing.T) {
	for _, encoding := range []string{"gzip", "zstd"} {
		t.Run(encoding, func(t *testing.T) {
			var logs strings.Builder
			log := slog.New(slog.NewTextHandler(&logs, nil))
			first := strings.Repeat("first,row\r\n", 400) // over the minimum size
			release := make(chan struct{})
			done := make(chan error, 1)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				w.Header().Set("Content-Type", "text/csv; charset=utf-8")
				w.WriteHeader(http.StatusAccepted)
				_, _ = io.WriteString(w, first)
				if err := rc.Flush(); err != nil {
					done <- err
					return
				}
				if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
					done <- err
					return
				}
				<-release // until the client has read the first rows
				_, _ = io.WriteString(w, "last,row\r\n")
				done <- nil
			})
			srv := httptest.NewServer(logRequests(log, nil)(compress()(h)))
			defer srv.Close()
			defer func() {
				select {
				case <-release:
				default:
					close(release)
				}
			}()

			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("Accept-Encoding", encoding)
			resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Content-Encoding") != encoding {
				t.Fatalf("status %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
			}
			// The handler waits for release: these rows can only come
			// from the flush. (The bound is against a hang, not a
			// measure: without the flush they never come.)
			rows := make(chan *bufio.Reader, 1)
			go func() {
				rd := bufio.NewReader(decoder(t, encoding, resp.Body))
				got := make([]byte, len(first))
				if _, err := io.ReadFull(rd, got); err != nil || string(got) != first {
					t.Errorf("the first rows before the end: %v (%d bytes)", err, len(got))
				}
				rows <- rd
			}()
			var rd *bufio.Reader
			select {
			case rd = <-rows:
			case <-time.After(time.Minute):
				t.Fatal("no rows while the handler works: the flush did not reach the client")
			}
			close(release)
			rest, err := io.ReadAll(rd)
			if err != nil || string(rest) != "last,row\r\n" {
				t.Errorf("the rest: %q, %v", rest, err)
			}
			if err := <-done; err != nil {
				t.Errorf("the handler's flush or deadline: %v", err)
			}
			srv.Close() // the log line is written once the handler returns
			if !strings.Contains(logs.String(), "status=202") {
				t.Errorf("the request log did not record the status:\n%s", logs.String())
			}
		})
	}
}

// TestCompressSkipsCompressedTypes: an image (already compressed) passes
// as it is, however large; text of the same size is compressed.
func TestCompressSkipsCompressedTypes(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1024)
	for _, tc := range []struct{ ctype, want string }{
		{"image/png", ""}, {"font/woff2", ""}, {"application/zip", ""},
		{"text/css; charset=utf-8", "gzip"}, {"text/javascript; charset=utf-8", "gzip"}, {"image/svg+xml", "gzip"},
	} {
		h := compress()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", tc.ctype)
			_, _ = w.Write(body)
		}))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Encoding", "gzip")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("Content-Encoding"); got != tc.want {
			t.Errorf("%s: Content-Encoding %q, want %q", tc.ctype, got, tc.want)
		}
		if tc.want == "" && !bytes.Equal(w.Body.Bytes(), body) {
			t.Errorf("%s: the body changed", tc.ctype)
		}
	}
}
