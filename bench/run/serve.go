package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// servers are the apps, one per database, and the floor on the SQLite
// database, all started on loopback.
type servers struct {
	apps      []*server // in the order of the databases
	appBases  []string  // http://host:port
	floor     *server
	floorBase string
}

// startServers starts an app on each of dbs and the floor (with --plain-sql
// if o.plainFloor) on dbs[0], SQLite's file, each on a free loopback port
// and logging to its database's directory, and waits until all answer 200.
// On an error it stops what it started.
func startServers(ctx context.Context, o options, dbs []database, appBin, floorBin string) (srv servers, err error) {
	defer func() {
		if err != nil {
			srv.stop()
		}
	}()
	for _, db := range dbs {
		addr, err := freeAddr()
		if err != nil {
			return srv, err
		}
		app, err := startServer(filepath.Join(db.dir, "app.log"), nil, appBin, "--config", db.configPath, "run", "--addr", addr)
		if err != nil {
			return srv, fmt.Errorf("%s app: %w", db.backend.name, err)
		}
		srv.apps = append(srv.apps, app)
		srv.appBases = append(srv.appBases, "http://"+addr)
	}
	floorAddr, err := freeAddr()
	if err != nil {
		return srv, err
	}
	srv.floorBase = "http://" + floorAddr
	floorArgs := []string{"--db", dbs[0].dsn, "--addr", floorAddr}
	if o.plainFloor {
		floorArgs = append(floorArgs, "--plain-sql")
	}
	srv.floor, err = startServer(filepath.Join(dbs[0].dir, "floor.log"), nil, floorBin, floorArgs...)
	if err != nil {
		return srv, err
	}
	for i, app := range srv.apps {
		if err := waitReady(ctx, app, srv.appBases[i]+"/healthz"); err != nil {
			return srv, fmt.Errorf("%s app: %w (log: %s)", dbs[i].backend.name, err, app.tail())
		}
	}
	if err := waitReady(ctx, srv.floor, srv.floorBase+listPath); err != nil {
		return srv, fmt.Errorf("floor: %w (log: %s)", err, srv.floor.tail())
	}
	return srv, nil
}

// stop stops the floor, then the apps; any may be nil (not started).
func (s servers) stop() {
	if s.floor != nil {
		s.floor.stop()
	}
	for _, app := range s.apps {
		app.stop()
	}
}

// exited describes the servers that have exited, or returns "".
func (s servers) exited(dbs []database) string {
	var out []string
	for i, app := range s.apps {
		if app.exited() {
			out = append(out, fmt.Sprintf("%s app (log: %s)", dbs[i].backend.name, app.tail()))
		}
	}
	if s.floor.exited() {
		out = append(out, fmt.Sprintf("floor (log: %s)", s.floor.tail()))
	}
	return strings.Join(out, "; ")
}

// freeAddr returns a loopback address with a port that was free just now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// waitReady polls u until it answers 200, for up to 30 s, and fails early if
// s exits.
func waitReady(ctx context.Context, s *server, u string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s.exited() {
			return errors.New("exited at start-up")
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("not ready after 30 s")
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// login signs in as the admin through the login form and returns the Cookie
// header of the session.
func login(ctx context.Context, base, password string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/login/", nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfInput.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return "", fmt.Errorf("GET /login/: status %d, csrf token found: %v", resp.StatusCode, m != nil)
	}
	form := url.Values{"username": {username}, "password": {password}, "csrf_token": {string(m[1])}, "next": {"/"}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/login/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("POST /login/: status %d, want 302", resp.StatusCode)
	}
	u, _ := url.Parse(base + "/")
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if len(parts) == 0 {
		return "", errors.New("no session cookie after login")
	}
	return strings.Join(parts, "; "), nil
}

// pageSizes are the sizes comparePages read.
type pageSizes struct {
	first []int          // the body of each target's first page
	plain map[string]int // each page's body on the first target, by name
	// gzip is each page's bytes on the wire from the first target asked
	// as a browser asks (Accept-Encoding: gzip): the body as sent,
	// compressed where the server compressed it.
	gzip  map[string]int
	diffs int // pages that differ from the first target's
}

// comparePages GETs every page once from each target that serves it and
// logs a warning where a target's page differs from the first target's
// (the SQLite app), the CSRF token aside: the floor must serve the same
// list pages, and every backend the same rows, forms, lookup and API
// answers (on MongoDB with ids and versions masked). It GETs each page of
// the first target once more with gzip, for its size on the wire, and
// checks that it decodes to the same page.
func comparePages(ctx context.Context, targets []target, pages []benchPage, size int) (s pageSizes, err error) {
	s.first = make([]int, len(targets))
	s.plain = make(map[string]int, len(pages))
	s.gzip = make(map[string]int, len(pages))
	for i, p := range pages {
		var ref []byte
		for k, t := range targets {
			if !t.serves(p) {
				continue
			}
			body, err := t.get(ctx, p.path)
			if err != nil {
				return s, fmt.Errorf("%s %s: %w", t.name, p.name, err)
			}
			if i == 0 {
				s.first[k] = len(body)
			}
			if k == 0 {
				s.plain[p.name] = len(body)
				ref = normalize(body)
				zbody, wire, err := t.fetch(ctx, p.path, "Accept-Encoding", "gzip")
				if err != nil {
					return s, fmt.Errorf("%s %s with gzip: %w", t.name, p.name, err)
				}
				s.gzip[p.name] = wire
				if d := firstDiff(ref, normalize(zbody)); d != "" {
					logf("size %d %s: WARNING: %s's page with gzip differs from the plain one: %s", size, p.name, t.name, d)
					s.diffs++
				}
				continue
			}
			want, got := ref, normalize(body)
			switch {
			case t.name != mongoBackend.name:
			case p.api():
				want, got = maskJSONIDs(want), maskJSONIDs(got)
			default:
				want, got = maskIDs(want), maskIDs(got)
			}
			if d := firstDiff(want, got); d != "" {
				logf("size %d %s: WARNING: %s's page differs from %s's: %s", size, p.name, t.name, targets[0].name, d)
				s.diffs++
			}
		}
	}
	return s, nil
}

// normalize blanks the CSRF token, the one part of a page the floor cannot
// match.
func normalize(b []byte) []byte {
	return csrfInput.ReplaceAll(b, []byte(`name="csrf_token" value="CSRF"`))
}

// firstDiff describes where a and b first differ, or returns "".
func firstDiff(a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	excerpt := func(s []byte) string {
		return strconv.Quote(string(s[max(0, i-40):min(len(s), i+60)]))
	}
	return fmt.Sprintf("at byte %d (%d bytes against %d): %s against %s", i, len(b), len(a), excerpt(b), excerpt(a))
}
