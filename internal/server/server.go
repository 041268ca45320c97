// Package server assembles the web application: the chi router, the
// middleware stack, the login pages, the admin views and /healthz, and the
// http.Server with its timeouts.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"musicadmin/internal/admin"
	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/catalog"
	"musicadmin/internal/config"
	"musicadmin/internal/view"
	"musicadmin/web"
)

// Limits of the HTTP server. ReadHeaderTimeout closes slow-header (slowloris)
// connections; ReadTimeout bounds a slow body; the busy timeout of SQLite
// (5 s) fits well inside WriteTimeout.
const (
	MaxBodyBytes      = 1 << 20
	MaxQueryParams    = 1000
	MaxHeaderBytes    = 64 << 10
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 60 * time.Second
	// ShutdownGrace is how long SIGINT/SIGTERM waits for requests in flight.
	ShutdownGrace = 10 * time.Second
)

// Options tune the application for tests.
type Options struct {
	// BcryptCost is the cost of password hashes; 0 means auth.DefaultCost.
	BcryptCost int
	// LoginLimit failed logins per LoginWindow and address are allowed
	// before 429; 0 means auth.DefaultLoginLimit and DefaultLoginWindow.
	LoginLimit  int
	LoginWindow time.Duration
}

// App is the assembled web application.
type App struct {
	Handler http.Handler
	Users   *auth.Users
}

// New builds the application over an open backend at the latest schema.
func New(cfg config.Config, db backend.Backend, log *slog.Logger, opts Options) (*App, error) {
	cost := opts.BcryptCost
	if cost == 0 {
		cost = auth.DefaultCost
	}
	accounts := db.Accounts()
	users, err := auth.NewUsers(accounts, cost)
	if err != nil {
		return nil, err
	}
	sessions := auth.NewSessions(accounts, cfg.SecretKey, cfg.Server.SecureCookies, log)
	adm, err := admin.New(log, catalog.Views(db.Catalog())...)
	if err != nil {
		return nil, err
	}
	ui, err := view.New(cfg.AppName, log, adm.Menu(), func(w http.ResponseWriter, r *http.Request) view.Common {
		c := view.Common{CSRF: sessions.CSRFToken(w, r)}
		if u := auth.CurrentUser(r); u != nil {
			c.User = u.Username
			c.Flashes = sessions.PopFlashes(w, r)
		}
		return c
	})
	if err != nil {
		return nil, err
	}

	limit, window := opts.LoginLimit, opts.LoginWindow
	if limit <= 0 || window <= 0 {
		limit, window = auth.DefaultLoginLimit, auth.DefaultLoginWindow
	}
	login := &auth.Handlers{Users: users, Sessions: sessions, UI: ui, Log: log,
		Throttle: auth.NewLoginThrottle(limit, window)}
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { ui.Fail(w, r, view.StatusError(code)) }
	}

	r := chi.NewRouter()
	r.Use(recoverPanics(log), logRequests(log), securityHeaders, limitBody(MaxBodyBytes),
		limitQuery(MaxQueryParams), allowMethods)
	// HEAD is allowed above, so it must reach the GET handlers rather than
	// end in a 405 (chi routes HEAD only where it is declared).
	r.Use(middleware.GetHead)
	r.Use(crossOrigin(func(w http.ResponseWriter, r *http.Request) { ui.Fail(w, r, view.ErrCSRF) }))
	r.NotFound(status(http.StatusNotFound))
	r.MethodNotAllowed(status(http.StatusMethodNotAllowed))

	r.Get("/healthz", health(db))
	r.Handle("/static/*", http.StripPrefix("/static/", staticFiles()))

	r.Group(func(r chi.Router) {
		// Every state-changing request from here on carries the session's
		// CSRF token, the login and logout forms included.
		r.Use(noStore, sessions.Load(ui.Fail), sessions.CheckCSRF(login.RefuseForm))
		r.Get("/login/", login.ShowLogin)
		r.Post("/login/", login.Login)
		r.Get("/login", view.Redirect("/login/"))
		r.Get("/logout/", login.Logout)
		r.Post("/logout/", login.Logout)
		r.Get("/logout", view.Redirect("/logout/"))
		r.Group(func(r chi.Router) {
			r.Use(auth.RequireLogin)
			r.Get("/", func(w http.ResponseWriter, r *http.Request) {
				ui.Render(w, r, http.StatusOK, "index", "Home", nil)
			})
			adm.Mount(r, ui, sessions.AddFlash)
		})
	})
	return &App{Handler: r, Users: users}, nil
}

// health answers 200 "ok" when the database answers and takes writes
// within 2 s, and 503 otherwise, with no detail about the database.
func health(db backend.Backend) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Healthy(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "unavailable")
			return
		}
		fmt.Fprintln(w, "ok")
	}
}

// staticFiles serves web/static without directory listings.
func staticFiles() http.Handler {
	sub, err := fs.Sub(web.FS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		info, err := fs.Stat(sub, name)
		if name == "" || err != nil || info.IsDir() || strings.HasPrefix(path.Base(name), ".") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintln(w, "not found")
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, sub, name)
	})
}

// NewHTTPServer returns the http.Server for handler with every timeout set.
func NewHTTPServer(addr string, handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Serve serves on ln until ctx is cancelled, then drains requests in flight
// for up to ShutdownGrace and returns nil.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown grace period over: closing remaining connections", "err", err)
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
