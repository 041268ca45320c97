package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"musicadmin/internal/app"
	"musicadmin/internal/apptest"
	"musicadmin/internal/backend"
	"musicadmin/internal/opstest"
	"musicadmin/internal/server"
)

// TestSQLiteReadOnlyAtStart: an app started while its SQLite file was not
// writable says so on /readyz (not ready; /healthz, liveness, stays 200)
// and answers 503 to writes; once the file is writable again, writes
// succeed and /readyz is 200, without a restart.
// Pooled connections opened read-only must not stay in the pool.
func TestSQLiteReadOnlyAtStart(t *testing.T) {
	a := apptest.NewApp(t, apptest.SQLite)
	token := a.APIToken(t, apptest.AdminUser)
	path := a.Config.Database.DSN
	// Close the first app's pool: its connections checkpoint and remove the
	// WAL, as a stopped app leaves the file.
	if sqlDB, err := a.DB.DB(); err != nil || sqlDB.Close() != nil {
		t.Fatalf("close the first app's database: %v", err)
	}
	opstest.SetWritable(t, path, false)

	db, err := app.Open(context.Background(), a.Config.Database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logs := &apptest.SyncBuffer{}
	web, err := server.New(a.Config, db, slog.New(slog.NewTextHandler(logs, nil)), server.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	app := *a
	app.URL, app.Server, app.Web, app.Data, app.DB, app.Log = srv.URL, srv, web, db, db.Backend.(*backend.SQL).DB(), logs

	probe := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body))
	}

	if code, body := probe("/readyz"); code != http.StatusServiceUnavailable || body != "unavailable" {
		t.Errorf("/readyz with a read-only database: %d %q, want 503 unavailable", code, body)
	}
	if code, body := probe("/healthz"); code != http.StatusOK || body != "ok" {
		t.Errorf("/healthz (liveness) with a read-only database: %d %q, want 200 ok", code, body)
	}
	c := app.Client()
	r := c.Submit("/login/", url.Values{"username": {apptest.AdminUser}, "password": {apptest.AdminPassword}})
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("login with a read-only database: %d (Retry-After %q), want 503 with Retry-After",
			r.Status, r.Header.Get("Retry-After"))
	}

	api := app.API(token)
	if r := api.Do(t, "POST", "/api/v1/albumview/", map[string]any{"name": "Not written"}); r.Status != http.StatusServiceUnavailable ||
		r.Header.Get("Retry-After") == "" || r.Str("message") == "" {
		t.Errorf("API create with a read-only database: %d (Retry-After %q) %s, want a JSON 503 with Retry-After",
			r.Status, r.Header.Get("Retry-After"), r.Body)
	}

	opstest.SetWritable(t, path, true)
	if code, body := probe("/readyz"); code != http.StatusOK || body != "ok" {
		t.Errorf("/readyz once the file is writable: %d %q, want 200 ok", code, body)
	}
	c.Login(apptest.AdminUser, apptest.AdminPassword)
	if r := c.Submit("/albumview/add", url.Values{"name": {"Written at last"}}); r.Status != http.StatusFound {
		t.Errorf("add an album once the file is writable: %d, want 302", r.Status)
	}
	api.Do(t, "POST", "/api/v1/albumview/", map[string]any{"name": "Written by the API"}).Expect(t, "API create once writable", 201)
	var n int64
	if err := app.DB.Table("albums").Where("name = ?", "Written at last").Count(&n).Error; err != nil || n != 1 {
		t.Errorf("%d albums written (%v), want 1", n, err)
	}
}
