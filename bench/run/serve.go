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

// servers are the app and the floor, started on loopback over one database.
type servers struct {
	app, floor         *server
	appBase, floorBase string // http://host:port
}

// startServers starts the app and the floor (with --plain-sql if
// o.plainFloor) on free loopback ports over db, logging to db.dir, and waits
// until both answer 200. On an error it stops what it started.
func startServers(ctx context.Context, o options, db database, appBin, floorBin string) (srv servers, err error) {
	appAddr, err := freeAddr()
	if err != nil {
		return srv, err
	}
	floorAddr, err := freeAddr()
	if err != nil {
		return srv, err
	}
	srv.appBase, srv.floorBase = "http://"+appAddr, "http://"+floorAddr
	srv.app, err = startServer(filepath.Join(db.dir, "app.log"), appBin, "--config", db.configPath, "run", "--addr", appAddr)
	if err != nil {
		return srv, err
	}
	defer func() {
		if err != nil {
			srv.stop()
		}
	}()
	floorArgs := []string{"--db", db.path, "--addr", floorAddr}
	if o.plainFloor {
		floorArgs = append(floorArgs, "--plain-sql")
	}
	srv.floor, err = startServer(filepath.Join(db.dir, "floor.log"), floorBin, floorArgs...)
	if err != nil {
		return srv, err
	}
	if err := waitReady(ctx, srv.app, srv.appBase+"/healthz"); err != nil {
		return srv, fmt.Errorf("app: %w (log: %s)", err, srv.app.tail())
	}
	if err := waitReady(ctx, srv.floor, srv.floorBase+listPath); err != nil {
		return srv, fmt.Errorf("floor: %w (log: %s)", err, srv.floor.tail())
	}
	return srv, nil
}

// stop stops the floor, then the app; either may be nil (not started).
func (s servers) stop() {
	if s.floor != nil {
		s.floor.stop()
	}
	if s.app != nil {
		s.app.stop()
	}
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

// compareFloor GETs every page once from each server and logs a warning
// where the floor's page differs from the app's, the CSRF token aside: the
// floor must serve the same page. It returns the body sizes of the first page.
func compareFloor(ctx context.Context, ours, floor target, pages []listPage, size int) (appBytes, floorBytes int, err error) {
	for i, p := range pages {
		a, err := ours.get(ctx, p.query)
		if err != nil {
			return 0, 0, fmt.Errorf("app %s: %w", p.name, err)
		}
		f, err := floor.get(ctx, p.query)
		if err != nil {
			return 0, 0, fmt.Errorf("floor %s: %w", p.name, err)
		}
		if i == 0 {
			appBytes, floorBytes = len(a), len(f)
		}
		if d := firstDiff(normalize(a), normalize(f)); d != "" {
			logf("size %d %s: WARNING: the floor's page differs from the app's: %s", size, p.name, d)
		}
	}
	return appBytes, floorBytes, nil
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
	return fmt.Sprintf("at byte %d (app %d bytes, floor %d): app %s, floor %s", i, len(a), len(b), excerpt(a), excerpt(b))
}
