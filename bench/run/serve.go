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
	"regexp"
	"strconv"
	"strings"
	"time"
)

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

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

// fetch GETs u and returns the body of a 200.
func fetch(ctx context.Context, c *http.Client, u string, h http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	maps(req.Header, h)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d (location %q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	return body, nil
}

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
