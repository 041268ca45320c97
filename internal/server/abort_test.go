package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/view"
)

// TestClientAbortIsNotAServerError: a request whose client went away
// (its context cancelled before the database answered) is one INFO line
// saying so, never an ERROR or WARN, and never logged as a 500 or 503.
func TestClientAbortIsNotAServerError(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b)
		loggedIn := a.LoggedIn()
		base, _ := url.Parse(a.URL)
		anon := a.Client()
		token := anon.CSRF("/login/")

		for _, c := range []struct {
			name string
			req  func() *http.Request
		}{
			// The session lookup is the first query of a logged-in page.
			{"page of a logged-in user", func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/albumview/list/", nil)
				for _, ck := range loggedIn.HTTP.Jar.Cookies(base) {
					r.AddCookie(ck)
				}
				return r
			}},
			// The user lookup is the first query of a login.
			{"login", func() *http.Request {
				form := url.Values{"username": {apptest.AdminUser}, "password": {"wrong"}, "csrf_token": {token}}
				r := httptest.NewRequest(http.MethodPost, "/login/", strings.NewReader(form.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				for _, ck := range anon.HTTP.Jar.Cookies(base) {
					r.AddCookie(ck)
				}
				return r
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := len(a.Log.String())
				ctx, cancel := context.WithCancel(context.Background())
				cancel() // the client is gone before the server reads the database
				w := httptest.NewRecorder()
				a.Web.Handler.ServeHTTP(w, c.req().WithContext(ctx))
				log := a.Log.String()[before:]
				if w.Code != view.StatusClientClosedRequest {
					t.Errorf("status %d, want %d", w.Code, view.StatusClientClosedRequest)
				}
				for _, bad := range []string{"level=ERROR", "level=WARN", "status=500", "status=503"} {
					if strings.Contains(log, bad) {
						t.Errorf("log holds %q:\n%s", bad, log)
					}
				}
				if n := strings.Count(log, `level=INFO msg="client went away"`); n != 1 {
					t.Errorf("%d client-abort lines at INFO, want 1:\n%s", n, log)
				}
			})
		}
	})
}
