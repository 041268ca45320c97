package view_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"musicadmin/internal/access"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/view"
)

// records is a slog handler that keeps every record, for tests that assert
// what was logged and at which level.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

func (h *records) levels() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		out = append(out, r.Level.String()+" "+r.Message)
	}
	return out
}

func newEngine(t *testing.T) (*view.Engine, *records) {
	t.Helper()
	logs := &records{}
	menu := []view.MenuCategory{{Name: "Model Views", Items: []view.MenuItem{{Title: "Album View", URL: "/albumview/list/", View: "albumview"}}}}
	ui, err := view.New("Test Admin", slog.New(logs), menu, func(http.ResponseWriter, *http.Request) view.Common {
		return view.Common{User: "tester", CSRF: "token", Grants: access.NewGrants([]string{access.AdminRole}, nil)}
	})
	if err != nil {
		t.Fatal(err)
	}
	return ui, logs
}

// TestFail: every error maps to one status, one text and one log level; no
// detail of the error reaches the page.
func TestFail(t *testing.T) {
	secret := "dial tcp 10.0.0.1:3306: secret detail"
	for _, c := range []struct {
		name       string
		err        error
		status     int
		text       string
		retryAfter string
		logged     string // "" for nothing logged
	}{
		{"not found", fmt.Errorf("get: %w", datamodel.ErrNotFound), 404, "There is no such record.", "", ""},
		{"unavailable", fmt.Errorf("store: %w: %s", datamodel.ErrUnavailable, secret), 503,
			"The database is busy, try again in a moment.", "5", "WARN database unavailable"},
		{"csrf", view.ErrCSRF, 403, "The form has expired or did not come from this site. Reload the page and try again.", "", ""},
		{"too large", view.ErrTooLarge, 413, "The request is too large.", "", ""},
		{"bad form", view.ErrBadForm, 400, "The form could not be read.", "", ""},
		{"not a form", view.ErrNotForm, 415, "The request is not a form.", "", ""},
		{"wrapped request error", fmt.Errorf("parse: %w", view.ErrCSRF), 403, "The form has expired", "", ""},
		{"unknown route", view.StatusError(404), 404, "Not Found", "", ""},
		{"method", view.StatusError(405), 405, "Method Not Allowed", "", ""},
		{"anything else", errors.New(secret), 500, "Internal error.", "", "ERROR request failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ui, logs := newEngine(t)
			w := httptest.NewRecorder()
			ui.Fail(w, httptest.NewRequest("GET", "/albumview/show/1", nil), c.err)
			body := html.UnescapeString(w.Body.String())
			if w.Code != c.status || !strings.Contains(body, c.text) {
				t.Errorf("status %d, want %d with %q:\n%s", w.Code, c.status, c.text, body)
			}
			if got := w.Header().Get("Retry-After"); got != c.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, c.retryAfter)
			}
			if strings.Contains(body, "secret detail") {
				t.Error("the page shows the error's detail")
			}
			if !strings.Contains(body, "Album View") {
				t.Error("the error page lacks the menu the engine was built with")
			}
			var want []string
			if c.logged != "" {
				want = []string{c.logged}
			}
			if got := logs.levels(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("logged %q, want %q", got, want)
			}
		})
	}
}

// TestFailClientGone: a request whose client went away is one INFO line,
// never an error page or an ERROR, whatever error the cancelled work
// returned (the driver may report its own error for an interrupted query).
func TestFailClientGone(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("store: list: %w", context.Canceled),
		fmt.Errorf("store: list: %w: driver: bad connection", datamodel.ErrUnavailable),
		errors.New("interrupted"),
	} {
		ui, logs := newEngine(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		w := httptest.NewRecorder()
		ui.Fail(w, httptest.NewRequest("GET", "/albumview/list/", nil).WithContext(ctx), err)
		if w.Code != view.StatusClientClosedRequest || w.Body.Len() != 0 {
			t.Errorf("%v: status %d with %d bytes, want %d and no page", err, w.Code, w.Body.Len(), view.StatusClientClosedRequest)
		}
		if got := logs.levels(); len(got) != 1 || got[0] != "INFO client went away" {
			t.Errorf("%v: logged %q, want one INFO client abort", err, got)
		}
	}
}

func TestRedirect(t *testing.T) {
	for target, want := range map[string]string{
		"/login?next=%2Fx": "/login/?next=%2Fx",
		"/login":           "/login/",
	} {
		w := httptest.NewRecorder()
		view.Redirect("/login/")(w, httptest.NewRequest("GET", target, nil))
		if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != want {
			t.Errorf("GET %s: %d %q, want 301 %q", target, w.Code, w.Header().Get("Location"), want)
		}
	}
}

// TestEngineIsImmutable: the engine keeps its own copy of the menu, so
// nothing done to the caller's slice after New shows on a page.
func TestEngineIsImmutable(t *testing.T) {
	menu := []view.MenuCategory{{Name: "Model Views", Items: []view.MenuItem{{Title: "Album View", URL: "/albumview/list/", View: "albumview"}}}}
	ui, err := view.New("Test Admin", slog.New(&records{}), menu, func(http.ResponseWriter, *http.Request) view.Common {
		return view.Common{User: "tester", Grants: access.NewGrants([]string{access.AdminRole}, nil)}
	})
	if err != nil {
		t.Fatal(err)
	}
	menu[0].Name = "Changed"
	w := httptest.NewRecorder()
	ui.Render(w, httptest.NewRequest("GET", "/", nil), http.StatusOK, "index", "Home", nil)
	if body := w.Body.String(); !strings.Contains(body, "Model Views") || strings.Contains(body, "Changed") {
		t.Errorf("the page does not show the menu as given to New:\n%s", body)
	}
}

// TestMenuFollowsGrants: the menu shows only the items the user has
// menu_access to, and no category left empty.
func TestMenuFollowsGrants(t *testing.T) {
	menu := []view.MenuCategory{
		{Name: "Model Views", Items: []view.MenuItem{{Title: "Album View", URL: "/albumview/list/", View: "albumview"},
			{Title: "Song View", URL: "/songsview/list/", View: "songsview"}}},
		{Name: "Security", Items: []view.MenuItem{{Title: "Audit Log", URL: "/auditlog/list/", View: "auditlog"}}},
	}
	grants := access.NewGrants([]string{"Reader"}, []access.Permission{access.On("songsview", access.MenuAccess),
		access.On("auditlog", access.CanList)})
	ui, err := view.New("Test Admin", slog.New(&records{}), menu, func(http.ResponseWriter, *http.Request) view.Common {
		return view.Common{User: "tester", Grants: grants}
	})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	ui.Render(w, httptest.NewRequest("GET", "/", nil), http.StatusOK, "index", "Home", nil)
	body := w.Body.String()
	if !strings.Contains(body, "/songsview/list/") || strings.Contains(body, "/albumview/list/") ||
		strings.Contains(body, "Security") || strings.Contains(body, "/auditlog/list/") {
		t.Errorf("menu for menu_access on songsview only:\n%s", body)
	}
}

// TestMenuItemOfNoView: an item that names no view (the API category's)
// shows to every logged-in user, with no permission at all, beside the
// items their grants allow; never to a request without grants.
func TestMenuItemOfNoView(t *testing.T) {
	menu := []view.MenuCategory{
		{Name: "Model Views", Items: []view.MenuItem{{Title: "Album View", URL: "/albumview/list/", View: "albumview"}}},
		{Name: "API", Items: []view.MenuItem{{Title: "API Docs", URL: "/api/docs/"}, {Title: "API Tokens", URL: "/users/tokens"}}},
	}
	for _, c := range []struct {
		name    string
		grants  *access.Grants
		want    []string
		wantNot []string
	}{
		{"no permission", access.NewGrants(nil, nil), []string{">API<", "/api/docs/", "/users/tokens"},
			[]string{"Model Views", "/albumview/list/"}},
		{"menu access on albumview", access.NewGrants([]string{"Reader"}, []access.Permission{access.On("albumview", access.MenuAccess)}),
			[]string{"Model Views", "/albumview/list/", ">API<", "/api/docs/", "/users/tokens"}, nil},
		{"Admin", access.NewGrants([]string{access.AdminRole}, nil),
			[]string{"Model Views", "/albumview/list/", ">API<", "/api/docs/", "/users/tokens"}, nil},
		{"anonymous (nil grants)", nil, nil, []string{"Model Views", ">API<", "/api/docs/", "/users/tokens"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ui, err := view.New("Test Admin", slog.New(&records{}), menu, func(http.ResponseWriter, *http.Request) view.Common {
				if c.grants == nil {
					return view.Common{} // nobody logged in: no user, no grants
				}
				return view.Common{User: "tester", Grants: c.grants}
			})
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			// The index lists the menu's categories in its body whatever
			// the layout's top bar does, so it shows what menuFor kept.
			ui.Render(w, httptest.NewRequest("GET", "/", nil), http.StatusOK, "index", "Home", nil)
			body := w.Body.String()
			for _, s := range c.want {
				if !strings.Contains(body, s) {
					t.Errorf("the page lacks %q:\n%s", s, body)
				}
			}
			for _, s := range c.wantNot {
				if strings.Contains(body, s) {
					t.Errorf("the page shows %q:\n%s", s, body)
				}
			}
		})
	}
}

// TestNumber: counts read with the language's separator between groups
// of three digits; Arabic in Latin digits.
func TestNumber(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 20010: "20,010",
		1234567: "1,234,567", -1000: "-1,000", -12: "-12"} {
		if got := view.Number("en", n); got != want {
			t.Errorf("Number(en, %d) = %q, want %q", n, got, want)
		}
	}
	for _, tc := range []struct {
		lang string
		n    int64
		want string
	}{{"de", 20010, "20.010"}, {"es", 20010, "20.010"}, {"ar", 20010, "20,010"}, {"de", 1234567, "1.234.567"}} {
		if got := view.Number(tc.lang, tc.n); got != tc.want {
			t.Errorf("Number(%s, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}
