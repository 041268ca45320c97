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

	"musicadmin/internal/access"
	"musicadmin/internal/accounts"
	"musicadmin/internal/admin"
	"musicadmin/internal/api"
	"musicadmin/internal/apidocs"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/catalog"
	"musicadmin/internal/config"
	"musicadmin/internal/metrics"
	"musicadmin/internal/security"
	"musicadmin/internal/sso"
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
	// TOTPClock, when not nil, is the clock second factors' codes are
	// checked at, for tests whose codes must not cross a 30 s step;
	// time.Now otherwise.
	TOTPClock func() time.Time
	// Metrics, when not nil, observes every request (route pattern,
	// method, status, duration).
	Metrics *metrics.Metrics
}

// Data is what the server serves: an open database with the catalogue and
// the accounts declared on it (internal/app assembles it).
type Data interface {
	backend.Backend
	Catalog() *catalog.Models
	AccountModels() accounts.Models
}

// App is the assembled web application.
type App struct {
	Handler http.Handler
	Users   *auth.Users
	// Routes is the route table: every route behind a login, with the
	// permission it checks.
	Routes []access.Route
	// APIRoutes is the JSON API's route table, each behind a token and
	// the permission it checks.
	APIRoutes []access.Route
	// Probes answers /healthz and /readyz; Serve drains through it.
	Probes *Probes
}

// syncTimeout bounds the start-up's permission sync.
const syncTimeout = 30 * time.Second

// New builds the application over an open backend at the latest schema.
func New(cfg config.Config, db Data, log *slog.Logger, opts Options) (*App, error) {
	accounts := db.Accounts()
	users, err := auth.NewUsers(accounts, opts.bcryptCost())
	if err != nil {
		return nil, err
	}
	sessions := auth.NewSessions(accounts, cfg.SecretKey, cfg.Server.SecureCookies, log)
	// One throttle for the login and the current password of the password
	// page: a guess is a guess wherever it is typed.
	limit, window := opts.loginLimit()
	throttle := auth.NewLoginThrottle(accounts, limit, window, log)
	sec, err := serviceOf(db, users)
	if err != nil {
		return nil, err
	}
	sec.TOTP.Configure(cfg.SecretKey, cfg.Auth.TOTP.RequiredForRoles)
	twoFactor := security.NewTwoFactor(sec, sessions, throttle, log, cfg.AppName, opts.TOTPClock)
	adm, err := newAdmin(log, db, sec, security.Deps{Sessions: sessions, Throttle: throttle, TwoFactor: twoFactor})
	if err != nil {
		return nil, err
	}
	syncAtStart(log, accounts, adm)
	ui, err := view.New(cfg.AppName, log, append(adm.Menu(), apidocs.Menu()), commonData(sessions))
	if err != nil {
		return nil, err
	}
	login := &auth.Handlers{Users: users, Sessions: sessions, UI: ui, Log: log, Throttle: throttle, Audit: db.Audit(),
		SecondStep: twoFactor.SecondStep, PasswordOff: !cfg.Auth.PasswordLogin}
	var signOn *sso.Flow
	if cfg.Auth.OIDC.Enabled() {
		login.SignOnButton = cfg.Auth.OIDC.Button
		signOn = sso.New(cfg.Auth.OIDC, cfg.Server.SecureCookies, sec.Identities, accounts, sessions, login, db.Audit(), log)
	}
	// The request's language is chosen before anything renders, for
	// nobody first; once the session has told who the user is, locale
	// chooses again with the user's own setting and sets their time zone.
	locale := userLocale(ui.Catalogue(), sec.Users, log)
	r := newRouter(log, ui, opts.Metrics, withSession(accounts, sessions, ui, locale))
	r.Use(ui.Catalogue().Middleware(cfg.AppLanguage, cfg.Server.SecureCookies))
	probes := &Probes{db: db}
	r.Get("/healthz", probes.Live)
	r.Get("/readyz", probes.Ready)
	r.Handle("/static/*", http.StripPrefix("/static/", staticFiles()))
	apiRoutes := api.New(api.Config{Admin: adm, Tokens: sec.Tokens, Grants: accounts, Throttle: throttle, Log: log,
		AppName: cfg.AppName}).Mount(r)
	routes := mountPages(r, accounts, sessions, ui, login, signOn, twoFactor.LoginStep(ui, login), adm, locale)
	return &App{Handler: r, Users: users, Routes: routes, APIRoutes: apiRoutes, Probes: probes}, nil
}

// bcryptCost is the cost of password hashes: BcryptCost, or
// auth.DefaultCost when it is 0.
func (o Options) bcryptCost() int {
	if o.BcryptCost == 0 {
		return auth.DefaultCost
	}
	return o.BcryptCost
}

// loginLimit is the failed logins allowed per window and address:
// LoginLimit per LoginWindow when both are set, the defaults otherwise.
func (o Options) loginLimit() (int, time.Duration) {
	if o.LoginLimit <= 0 || o.LoginWindow <= 0 {
		return auth.DefaultLoginLimit, auth.DefaultLoginWindow
	}
	return o.LoginLimit, o.LoginWindow
}

// syncAtStart creates the permissions of every view before the first
// request: a new view's appear at start-up, with no migration by hand. A
// database that takes no writes (read-only, busy) still serves: Admins hold
// every permission by their role's name, and the next start syncs.
func syncAtStart(log *slog.Logger, accounts auth.Store, adm *admin.Admin) {
	ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
	defer cancel()
	// No one waits for a start's sync: it need not wait out the
	// generation's window (auth.EndsNoLogin).
	if err := syncPermissions(auth.EndsNoLogin(ctx), accounts, adm); err != nil {
		log.Warn("permissions not synced: new views' permissions are missing until the next start", "err", err)
	}
}

// commonData is what every page shows besides its own data: the CSRF
// token, what the user may do, and for a logged-in user the name and the
// flash messages.
func commonData(sessions *auth.Sessions) view.CommonFunc {
	return func(w http.ResponseWriter, r *http.Request) view.Common {
		c := view.Common{CSRF: sessions.CSRFToken(w, r), Grants: access.GrantsOf(r)}
		if u := auth.CurrentUser(r); u != nil {
			c.User = u.Username
			c.Flashes = sessions.PopFlashes(w, r)
		}
		return c
	}
}

// newRouter is the router with the middleware every request passes
// through, answering an unknown route 404 and an unknown method 405 with
// the error page, in the layout of the request's session (session: its
// menu and user bar for a logged-in user, nothing of anyone's for others).
func newRouter(log *slog.Logger, ui *view.Engine, m *metrics.Metrics, session func(http.Handler) http.Handler) *chi.Mux {
	status := func(err error) http.HandlerFunc {
		return session(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ui.Fail(w, r, err) })).ServeHTTP
	}
	r := chi.NewRouter()
	// compress sits inside the request log, so the log's duration counts
	// the compression and its statusRecorder sees the status as sent.
	r.Use(recoverPanics(log), logRequests(log, m), compress(), securityHeaders, limitBody(MaxBodyBytes),
		limitQuery(MaxQueryParams), allowMethods)
	// HEAD is allowed above, so it must reach the GET handlers rather than
	// end in a 405 (chi routes HEAD only where it is declared).
	r.Use(middleware.GetHead)
	r.Use(crossOrigin(func(w http.ResponseWriter, r *http.Request) { ui.Fail(w, r, view.ErrCSRF) }))
	r.NotFound(status(view.ErrNoPage))
	r.MethodNotAllowed(status(view.StatusError(http.StatusMethodNotAllowed)))
	return r
}

// withSession loads the request's session and grants, as the pages behind
// a login do (the user's language and time zone too, with locale), unless
// a page's middleware has already: an error page then shows a logged-in
// user their menu, in their language. It never asks for a login, and a
// request without a session is answered as before, with an empty menu.
func withSession(accounts auth.Store, sessions *auth.Sessions, ui *view.Engine, locale func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		load := noStore(sessions.Load(ui.Fail)(locale(access.Load(accounts, currentUserID, ui.Fail)(next))))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if auth.CurrentUser(r) != nil {
				next.ServeHTTP(w, r)
				return
			}
			load.ServeHTTP(w, r)
		})
	}
}

// mountPages mounts the pages of a session on r: the login and logout
// pages, then, behind a login, the home page and the admin's views. It
// returns the route table of the pages behind the login.
func mountPages(r chi.Router, accounts auth.Store, sessions *auth.Sessions, ui *view.Engine,
	login *auth.Handlers, signOn *sso.Flow, step *security.LoginStep, adm *admin.Admin,
	locale func(http.Handler) http.Handler) []access.Route {
	var routes []access.Route
	r.Group(func(r chi.Router) {
		// Every state-changing request from here on carries the session's
		// CSRF token, the login and logout forms included.
		r.Use(noStore, sessions.Load(ui.Fail), locale, access.Load(accounts, currentUserID, ui.Fail), withActor,
			sessions.CheckCSRF(login.RefuseForm))
		r.Get("/login/", login.ShowLogin)
		r.Post("/login/", login.Login)
		r.Get("/login", view.Redirect("/login/"))
		// Single sign-on, when configured: off to the provider and back.
		if signOn != nil {
			r.Get(auth.SignOnURL, signOn.Start)
			r.Get(sso.CallbackPath, signOn.Callback)
		}
		// The login's second step: a code, or the enrollment a role
		// requires, before any session exists.
		r.Get(auth.SecondStepURL, step.ShowStep)
		r.Post(auth.SecondStepURL, step.Step)
		r.Get("/logout/", login.Logout)
		r.Post("/logout/", login.Logout)
		r.Get("/logout", view.Redirect("/logout/"))
		r.Group(func(r chi.Router) {
			r.Use(auth.RequireLogin)
			guarded := access.NewRouter(r, func(w http.ResponseWriter, r *http.Request) { ui.Fail(w, r, view.ErrForbidden) })
			guarded.Get("/", access.LoggedIn, func(w http.ResponseWriter, r *http.Request) {
				ui.Render(w, r, http.StatusOK, "index", "Home", nil)
			})
			guarded.Get(apidocs.PageURL, access.LoggedIn, apidocs.Page(ui))
			r.Get("/api/docs", view.Redirect(apidocs.PageURL))
			adm.Mount(guarded, ui, sessions.AddFlash)
			routes = guarded.Routes()
		})
	})
	return routes
}

// newAdmin declares every view of the app over db: the catalogue's, then
// the Security menu's (users and roles through sec, with deps; the audit
// log).
func newAdmin(log *slog.Logger, db Data, sec *security.Service, deps security.Deps) (*admin.Admin, error) {
	logView := auditLogView(db.Audit())
	catalogue := catalog.Views(db.Catalog())
	views := append(catalogue, security.Views(sec, deps)...)
	views = append(views, logView)
	adm, err := admin.New(log, views...)
	if err != nil {
		return nil, err
	}
	if err := adm.AddCharts(catalog.Charts(catalogue)...); err != nil {
		return nil, err
	}
	adm.SetHistory(db.Audit().Entries(), logView.Name)
	// A role's permissions name their views as the menu does.
	sec.Roles.NameViews(adm.ViewTitle)
	return adm, nil
}

// auditLogView is the Audit Log of the Security menu: the entries, newest
// first, with the list's paging, search and filters, and no route that
// writes.
func auditLogView(l audit.Log) *admin.ModelView {
	return &admin.ModelView{
		Name: "auditlog", Title: "Audit Log", Category: "Security", Singular: "Audit entry", Plural: "Audit entries",
		Data: l.Entries(), ListColumns: []string{"at", "username", "action", "view_name", "record_id", "record_label"},
		SearchColumns: []string{"record_label"}, OrderColumns: []string{"at"}, DefaultSort: "-at",
		FilterColumns: []string{"username", "action", "view_name", "record_id"},
		Restricted:    true, ListOnly: true,
	}
}

func syncPermissions(ctx context.Context, accounts access.Store, adm *admin.Admin) error {
	if err := accounts.SyncPermissions(ctx, adm.Permissions(), adm.ReadOnlyPermissions()); err != nil {
		return fmt.Errorf("server: sync permissions: %w", err)
	}
	return nil
}

// serviceOf returns the accounts of db, passwords hashed by users.
func serviceOf(db Data, users *auth.Users) (*security.Service, error) {
	return security.NewService(db.AccountModels(), db.Accounts(), db.Audit(), users)
}

// SyncPermissions creates the permissions of every view and the built-in
// roles, as create-db does after its migrations.
func SyncPermissions(ctx context.Context, db Data) error {
	// The views are declared for their permissions only: nothing is
	// served, hashed or renewed.
	sec, err := serviceOf(db, nil)
	if err != nil {
		return err
	}
	adm, err := newAdmin(slog.New(slog.DiscardHandler), db, sec, security.Deps{})
	if err != nil {
		return err
	}
	return syncPermissions(ctx, db.Accounts(), adm)
}

// withActor makes the logged-in user the actor of the request's writes:
// the store records them in the audit log under that name.
func withActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := auth.CurrentUser(r); u != nil {
			r = r.WithContext(audit.With(r.Context(), audit.Actor{Username: u.Username}))
		}
		next.ServeHTTP(w, r)
	})
}

// currentUserID returns the id of the request's logged-in user.
func currentUserID(r *http.Request) (string, bool) {
	if u := auth.CurrentUser(r); u != nil {
		return u.ID, true
	}
	return "", false
}

// Cache-Control of the static files: a content-hashed name never changes
// its content, so a browser keeps it for a year without asking again; a
// plain name may change with the next release, so a browser revalidates it
// (a 304 while its ETag holds).
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "public, no-cache"
)

// staticFiles serves web/static by content-hashed name (web.StaticURL,
// what the pages link) and by plain name, without directory listings.
func staticFiles() http.Handler {
	sub, err := fs.Sub(web.FS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		f, immutable, ok := web.LookupStatic(name)
		if !ok || strings.HasPrefix(path.Base(name), ".") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintln(w, "not found")
			return
		}
		if immutable {
			w.Header().Set("Cache-Control", cacheImmutable)
		} else {
			w.Header().Set("Cache-Control", cacheRevalidate)
		}
		w.Header().Set("ETag", f.ETag)
		http.ServeFileFS(w, r, sub, f.Name)
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

// Drain is how Serve stops: Begin is called as soon as ctx ends (the app
// reports itself not ready), then Serve goes on serving for Delay, so that
// a load balancer's health check takes the instance out before its port
// closes, and only then stops accepting and waits for requests in flight.
type Drain struct {
	Begin func()
	Delay time.Duration
}

// Serve serves on ln until ctx is cancelled, then drains as drain says:
// not ready at once, still serving for drain.Delay, then no new
// connection, and requests in flight given up to ShutdownGrace. It returns
// nil after a drain. A second signal during the delay ends it early (the
// caller's signal handling exits the process).
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger, drain Drain) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if drain.Begin != nil {
		drain.Begin()
	}
	if drain.Delay > 0 {
		log.Info("stopping: not ready, still serving while load balancers take this instance out", "delay", drain.Delay)
		time.Sleep(drain.Delay)
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
