package admin_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/memstore"
	"musicadmin/internal/view"
)

// scriptedEach is an instrument model whose Each is a script: rows made-up
// records, an error instead of record failAt, a wait for pause before
// record pauseAt, a sleep before record sleepAt (-1: none of each).
// Everything else is the real model's.
type scriptedEach struct {
	datamodel.Interface
	rows    int
	failAt  int
	err     error
	pauseAt int
	pause   chan struct{}
	sleepAt int
	sleep   time.Duration
	given   atomic.Int64 // records fn took
	done    chan struct{}
	makers  datamodel.Interface
}

func newScripted(t *testing.T, rows int) *scriptedEach {
	t.Helper()
	st := memstore.New()
	makers, err := st.Declare(makerSchema)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Declare(instrumentSchema)
	if err != nil {
		t.Fatal(err)
	}
	return &scriptedEach{Interface: m, rows: rows, failAt: -1, pauseAt: -1, sleepAt: -1, done: make(chan struct{}),
		makers: makers}
}

func (s *scriptedEach) Each(ctx context.Context, _ datamodel.Query, fn func(datamodel.Record) error) error {
	defer close(s.done)
	for i := range s.rows {
		switch i {
		case s.failAt:
			return s.err
		case s.pauseAt:
			select {
			case <-s.pause:
			case <-ctx.Done():
				return ctx.Err()
			}
		case s.sleepAt:
			time.Sleep(s.sleep)
		}
		rec := datamodel.Record{ID: fmt.Sprintf("%024x", i), Values: map[string]any{
			"name": fmt.Sprintf("Instrument %07d of the scripted store", i), "strings": int64(i % 20),
			"maker": (*datamodel.Ref)(nil)}}
		if err := fn(rec); err != nil {
			return err
		}
		s.given.Add(1)
	}
	return nil
}

// wait waits for Each to return, for up to 10 s.
func (s *scriptedEach) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Each is still running 10 s on")
	}
}

// exportRig serves the admin of the makers and the scripted instruments
// with server (an unstarted httptest server, so a test may set its
// timeouts), and returns the export URL and the admin's log.
func exportRig(t *testing.T, instruments *scriptedEach, server *httptest.Server) (string, *apptest.SyncBuffer) {
	t.Helper()
	makerView, instrumentView := declare(instruments.makers, instruments)
	logs := &apptest.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	adm, err := admin.New(log, makerView, instrumentView)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := view.New("Test Admin", log, adm.Menu(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(asAdmin)
	adm.Mount(access.NewRouter(r, forbidden), ui, func(http.ResponseWriter, *http.Request, string) {})
	server.Config.Handler = r
	server.Start()
	t.Cleanup(server.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("admin log:\n%s", logs.String())
		}
	})
	return server.URL + "/instrumentview/export.csv", logs
}

// TestExportErrorBeforeFirstByte: while nothing has left the server, a
// failing database is the usual error page: 503 with Retry-After, HTML,
// no download header; even after the first rows, as long as they sit in
// the export's buffer.
func TestExportErrorBeforeFirstByte(t *testing.T) {
	for _, failAt := range []int{0, 10} {
		t.Run(fmt.Sprint("after ", failAt, " rows"), func(t *testing.T) {
			inst := newScripted(t, 100)
			inst.failAt, inst.err = failAt, fmt.Errorf("read songs: %w", datamodel.ErrUnavailable)
			u, logs := exportRig(t, inst, httptest.NewUnstartedServer(nil))
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Errorf("status %d, Retry-After %q: want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); !strings.HasPrefix(ct, "text/html") || cd != "" {
				t.Errorf("Content-Type %q, Content-Disposition %q: want the HTML error page", ct, cd)
			}
			if strings.Contains(string(body), "Instrument") || !strings.Contains(string(body), "The database is busy") {
				t.Errorf("body is not the error page:\n%s", body)
			}
			if !logs.Contains("database unavailable") {
				t.Errorf("no log line for the failure")
			}
		})
	}
}

// TestExportCutShort: a database failure after rows were sent aborts the
// connection, so the client gets an error rather than a short file that
// looks whole, and the server logs it once, without the detail reaching
// the client.
func TestExportCutShort(t *testing.T) {
	inst := newScripted(t, 20000)
	inst.failAt, inst.err = 15000, errors.New("disk on fire")
	u, logs := exportRig(t, inst, httptest.NewUnstartedServer(nil))
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") == "" {
		t.Errorf("status %d, Content-Disposition %q: want the download begun", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading the body: %v, want io.ErrUnexpectedEOF (the body has %d bytes)", err, len(body))
	}
	if !strings.HasPrefix(string(body), "Name,Strings,Maker\r\nInstrument 0000000") || strings.Contains(string(body), "fire") {
		t.Errorf("body starts %q", body[:min(len(body), 60)])
	}
	inst.wait(t)
	if n := strings.Count(logs.String(), `level=ERROR msg="export cut short"`); n != 1 {
		t.Errorf("%d ERROR lines for the cut, want 1", n)
	}
}

// TestExportStreams: rows reach the client while Each is still reading,
// so an export needs no memory for the rows before them: with Each held
// after 5000 rows, the client reads the header and the first rows.
func TestExportStreams(t *testing.T) {
	inst := newScripted(t, 10000)
	inst.pauseAt, inst.pause = 5000, make(chan struct{})
	u, _ := exportRig(t, inst, httptest.NewUnstartedServer(nil))
	released := false
	release := func() {
		if !released {
			released = true
			close(inst.pause)
		}
	}
	defer release()
	type answer struct {
		resp *http.Response
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Get(u)
		got <- answer{resp, err}
	}()
	var a answer
	select {
	case a = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no response while Each is held: the export does not stream")
	}
	if a.err != nil {
		t.Fatal(a.err)
	}
	defer a.resp.Body.Close()
	rd := bufio.NewReader(a.resp.Body)
	for i := range 100 {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if i > 0 && !strings.HasPrefix(line, fmt.Sprintf("Instrument %07d", i-1)) {
			t.Fatalf("line %d = %q", i, line)
		}
	}
	select {
	case <-inst.done:
		t.Fatal("Each returned while held")
	default:
	}
	release()
	rest, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	if n := 100 + strings.Count(string(rest), "\r\n"); n != 10001 {
		t.Errorf("%d lines in all, want 10001 (the header and every row)", n)
	}
}

// TestExportClientGone: a client that goes away mid-download stops the
// walk (Each returns, long before its end) and is one INFO line, not an
// error.
func TestExportClientGone(t *testing.T) {
	inst := newScripted(t, 1_000_000)
	inst.pauseAt, inst.pause = 5000, make(chan struct{})
	u, logs := exportRig(t, inst, httptest.NewUnstartedServer(nil))
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // the connection with it: the rest is not read
	close(inst.pause)
	inst.wait(t)
	if n := inst.given.Load(); n >= int64(inst.rows) {
		t.Errorf("Each gave all %d records to a client that had gone", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !logs.Contains("export stopped: client went away") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	log := logs.String()
	if !strings.Contains(log, `level=INFO msg="export stopped: client went away"`) {
		t.Errorf("no INFO line for the client that went away")
	}
	if strings.Contains(log, "level=ERROR") || strings.Contains(log, "level=WARN") {
		t.Errorf("a client that went away is logged as a server problem")
	}
}

// TestExportOutlivesWriteTimeout: the server's WriteTimeout, counted from
// the request, does not cut an export whose rows keep flowing: here a
// 300 ms timeout and an export that takes over a second.
func TestExportOutlivesWriteTimeout(t *testing.T) {
	inst := newScripted(t, 30000)
	inst.sleepAt, inst.sleep = 10000, 1200*time.Millisecond
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.WriteTimeout = 300 * time.Millisecond
	u, _ := exportRig(t, inst, srv)
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("after %d bytes: %v", len(body), err)
	}
	if n := strings.Count(string(body), "\r\n"); n != 30001 {
		t.Errorf("%d lines, want 30001", n)
	}
}
