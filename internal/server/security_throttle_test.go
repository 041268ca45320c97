package server_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/auth"
	"musicadmin/internal/server"
)

// Test 3: the login throttle is wired in: failed logins are throttled per
// address with 429 and Retry-After, before any password is checked, and a
// spoofed X-Forwarded-For does not reset the count. The window is an hour,
// so no run is slow enough to see a failure forgiven; how the block ends,
// to the second, is auth's TestLoginThrottle, on a virtual clock.
func TestSecLoginThrottle(t *testing.T) {
	if auth.DefaultLoginLimit != 10 || auth.DefaultLoginWindow != 20*time.Second {
		t.Errorf("default throttle %d per %s, want 10 per 20s", auth.DefaultLoginLimit, auth.DefaultLoginWindow)
	}
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		a := newSecApp(t, b)
		const limit, window = 5, time.Hour
		app := a.siblingWith(nil, server.Options{LoginLimit: limit, LoginWindow: window})
		c := secWrap(t, app, app.Client())
		attempt := func(password, forwardedFor string) *apptest.Response {
			t.Helper()
			token := c.CSRF("/login/")
			form := url.Values{"username": {apptest.AdminUser}, "password": {password}, "csrf_token": {token}}
			req := c.postForm("/login/", form)
			if forwardedFor != "" {
				req.Header.Set("X-Forwarded-For", forwardedFor)
			}
			return c.Do(req)
		}

		for i := range limit {
			if r := attempt("wrong-"+strconv.Itoa(i), ""); r.Status != http.StatusOK || r.Text(".alert") != auth.MsgInvalidLogin {
				t.Fatalf("failure %d: status %d, alert %q", i+1, r.Status, r.Text(".alert"))
			}
		}
		r := attempt("wrong-again", "")
		if r.Status != http.StatusTooManyRequests {
			t.Fatalf("failure %d: status %d, want 429", limit+1, r.Status)
		}
		retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || retry < 1 || retry > int(window/limit/time.Second) {
			t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		for i := range 3 {
			if r := attempt("wrong-spoofed", "10.0.0."+strconv.Itoa(i+1)); r.Status != http.StatusTooManyRequests {
				t.Errorf("with X-Forwarded-For 10.0.0.%d: status %d, want 429", i+1, r.Status)
			}
		}
		// While blocked even the right password is refused: the guess is
		// not checked at all.
		if r := attempt(apptest.AdminPassword, ""); r.Status != http.StatusTooManyRequests {
			t.Errorf("right password while blocked: status %d, want 429", r.Status)
		}
		if c.loggedIn() {
			t.Error("logged in while blocked")
		}
	})
}
