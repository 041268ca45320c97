// Package api is the JSON API of the model views, the analog of
// Flask-AppBuilder's ModelRestApi: for every view the admin declares,
// /api/v1/{view}/ lists, gets, creates, replaces (PUT), patches (PATCH,
// JSON merge patch) and deletes its records, and /api/v1/{view}/_info
// describes it, all from the same declaration as the HTML pages. It reads
// the list parameters through the view's allow-lists (admin.ListQuery) and
// writes through the same validation (admin.Validate), guard, store calls
// and audit entries as the forms, so a rule of either holds on both.
//
// A caller signs in with a token (Authorization: Bearer), never a session
// cookie, so the API is no CSRF surface; and it acts with its user's
// permissions, checked per route by access.Router as the pages' are.
// Every answer is JSON, errors included: {"message": .., "errors": {..}}.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// RetryAfter is what a 503 asks a client to wait, in seconds.
const RetryAfter = 5

// Tokens checks API tokens: accounts.Tokens.
type Tokens interface {
	// AuthenticateGrants returns the active user a token belongs to, and
	// their grants when it read them with the user (nil otherwise), or
	// accounts.ErrTokenInvalid, or an error wrapping
	// datamodel.ErrUnavailable.
	AuthenticateGrants(ctx context.Context, plain string, now time.Time) (auth.User, *access.Grants, error)
}

// Config is what the API is built from.
type Config struct {
	Admin    *admin.Admin
	Tokens   Tokens
	Grants   access.Store        // the permissions of the token's user
	Throttle *auth.LoginThrottle // failed tokens count as failed logins
	Log      *slog.Logger
	// AppName and Version title the OpenAPI document.
	AppName, Version string
}

// API serves the JSON API.
type API struct {
	cfg   Config
	views []*view
	// byModel finds the view of a model, for a reference's target.
	byModel map[string]*view
	docCache
}

// view is the API of one model view.
type view struct {
	api *API
	mv  *admin.ModelView
	// fields are the model's readable fields, read once: every answer
	// walks them, per record.
	fields []*datamodel.Field
}

// New builds the API of every view of cfg.Admin.
func New(cfg Config) *API {
	a := &API{cfg: cfg, byModel: map[string]*view{}}
	for _, mv := range cfg.Admin.Views() {
		v := &view{api: a, mv: mv, fields: mv.Schema().Readable()}
		a.views = append(a.views, v)
		a.byModel[mv.Schema().Name] = v
	}
	return a
}

// Mount mounts the API on r under Prefix and returns its routes, each with
// the permission it checks. The OpenAPI document needs no token: it says
// what the declarations say, nothing of the data.
func (a *API) Mount(r chi.Router) []access.Route {
	r.Get(Prefix+"/_openapi", a.handleOpenAPI)
	var routes []access.Route
	r.Route(Prefix, func(r chi.Router) {
		r.Use(noStore, a.authenticate)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) { a.fail(w, r, errNoRoute) })
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { a.fail(w, r, errMethod) })
		guarded := access.NewRouter(r, func(w http.ResponseWriter, r *http.Request) { a.fail(w, r, errForbidden) })
		for _, v := range a.views {
			guarded.Route("/"+v.mv.Name, v.mount)
		}
		routes = guarded.Routes()
	})
	for i := range routes {
		routes[i].Pattern = Prefix + routes[i].Pattern
	}
	return routes
}

// mount mounts the routes of one view; a list-only view (the audit log)
// has no route that writes.
func (v *view) mount(r *access.Router) {
	can := func(action string) access.Permission { return access.On(v.mv.Name, action) }
	r.Get("/", can(access.CanList), v.handleList)
	r.Get("/_info", can(access.CanList), v.handleInfo)
	r.Get("/{id}", can(access.CanShow), v.handleGet)
	if v.mv.ListOnly {
		return
	}
	r.Post("/", can(access.CanAdd), v.handleCreate)
	r.Put("/{id}", can(access.CanEdit), v.handleReplace)
	r.Patch("/{id}", can(access.CanEdit), v.handlePatch)
	r.Delete("/{id}", can(access.CanDelete), v.handleDelete)
}

// noStore keeps every answer, which holds a user's data, out of caches.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// Problem is the body of every error answer.
type Problem struct {
	Message string            `json:"message"`
	Errors  map[string]string `json:"errors,omitempty"`
}

// apiError is a refusal with its status and body.
type apiError struct {
	status int
	Problem
	retryAfter time.Duration
}

func (e *apiError) Error() string { return e.Message }

func refusal(status int, msg string) *apiError {
	return &apiError{status: status, Problem: Problem{Message: msg}}
}

var (
	errNoRoute   = refusal(http.StatusNotFound, "No such route: see /api/v1/_openapi.")
	errMethod    = refusal(http.StatusMethodNotAllowed, "Method not allowed on this route.")
	errForbidden = refusal(http.StatusForbidden, "You do not have permission to do that.")
	errNotFound  = refusal(http.StatusNotFound, "No record with this id.")
	errStale     = refusal(http.StatusConflict, "The record was changed since the version you sent: read it again, then write.")
)

// fail answers err as JSON: a refusal with its status, the data layer's
// errors as what they mean to a client, anything else as a 500 that is
// logged (a fault of the server, never of the request).
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var invalid *admin.InvalidError
	var forbidden *admin.Forbidden
	var refused *datamodel.RefusedError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, context.Canceled) || errors.Is(r.Context().Err(), context.Canceled):
		return // the client is gone
	case errors.As(err, &invalid):
		ae = invalidError(invalid)
	case errors.As(err, &forbidden):
		ae = refusal(http.StatusForbidden, forbidden.Message)
	case errors.As(err, &refused):
		ae = refusal(http.StatusUnprocessableEntity, refused.Message)
		if refused.Field != "" {
			ae.Errors = map[string]string{refused.Field: refused.Message}
		}
	case errors.Is(err, datamodel.ErrNotFound):
		ae = errNotFound
	case errors.Is(err, datamodel.ErrStale):
		ae = errStale
	case errors.Is(err, datamodel.ErrUnavailable):
		a.cfg.Log.Warn("api: database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{status: http.StatusServiceUnavailable, retryAfter: RetryAfter * time.Second,
			Problem: Problem{Message: "The database is busy or unreachable: try again shortly."}}
	default:
		a.cfg.Log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = refusal(http.StatusInternalServerError, "Internal error: it is logged on the server.")
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((ae.retryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, ae.status, ae.Problem)
}

// invalidError is a 422 with the message beside each field, as the form
// shows them.
func invalidError(e *admin.InvalidError) *apiError {
	msg := e.Form
	if msg == "" {
		msg = "Some fields are not valid: see errors."
	}
	ae := refusal(http.StatusUnprocessableEntity, msg)
	if len(e.Fields) > 0 {
		ae.Errors = e.Fields
	}
	return ae
}

// writeJSON answers v as JSON with status. Text is written as it is ("<"
// stays "<"): the Content-Type and nosniff keep a browser from reading it
// as HTML.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		http.Error(w, `{"message":"Internal error."}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
