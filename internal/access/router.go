package access

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"
)

// LoggedIn is the permission of a route every logged-in user may use, such
// as the index or their own password page.
var LoggedIn = Permission{}

// Route is one route the server serves behind a permission.
type Route struct {
	Method     string
	Pattern    string     // chi's pattern, e.g. "/songsview/edit/{id}"
	Permission Permission // LoggedIn: any logged-in user
	// Or are further permissions, any one of which allows the route too
	// (the lookup of a related field serves the list's filter and the
	// add and edit forms alike).
	Or []Permission
}

// Allows reports whether grants g may use the route.
func (r Route) Allows(g *Grants) bool {
	if r.Permission == LoggedIn || g.Can(r.Permission) {
		return true
	}
	for _, p := range r.Or {
		if g.Can(p) {
			return true
		}
	}
	return false
}

// Router mounts handlers on a chi router, each behind the permission it is
// given, and records them in a route table. It is the only way the app
// mounts a page that needs a login, so every such route checks exactly one
// permission, here, and the table lists them all.
type Router struct {
	mux    chi.Router
	prefix string
	routes *[]Route
	deny   func(w http.ResponseWriter, r *http.Request)
}

// NewRouter returns a Router mounting on mux, answering a request without
// the permission with deny (a 403 page).
func NewRouter(mux chi.Router, deny func(w http.ResponseWriter, r *http.Request)) *Router {
	return &Router{mux: mux, routes: new([]Route), deny: deny}
}

// Routes returns the route table: every route mounted so far.
func (rt *Router) Routes() []Route { return append([]Route(nil), *rt.routes...) }

// Route mounts fn's routes under prefix.
func (rt *Router) Route(prefix string, fn func(rt *Router)) {
	rt.mux.Route(prefix, func(sub chi.Router) {
		fn(&Router{mux: sub, prefix: rt.prefix + prefix, routes: rt.routes, deny: rt.deny})
	})
}

// Denying returns a Router on the same routes that answers a missing
// permission with deny: a JSON answer for a route a script reads.
func (rt *Router) Denying(deny func(w http.ResponseWriter, r *http.Request)) *Router {
	c := *rt
	c.deny = deny
	return &c
}

// Get mounts h for GET (and so HEAD) requests to pattern behind p.
func (rt *Router) Get(pattern string, p Permission, h http.HandlerFunc) {
	rt.handle(http.MethodGet, pattern, p, h)
}

// GetAny mounts h for GET requests to pattern behind any one of perms.
func (rt *Router) GetAny(pattern string, perms []Permission, h http.HandlerFunc) {
	rt.mount(Route{Method: http.MethodGet, Pattern: pattern, Permission: perms[0], Or: perms[1:]}, h)
}

// Post mounts h for POST requests to pattern behind p.
func (rt *Router) Post(pattern string, p Permission, h http.HandlerFunc) {
	rt.handle(http.MethodPost, pattern, p, h)
}

// Put, Patch and Delete mount h for those methods (the JSON API's
// writes) to pattern behind p.
func (rt *Router) Put(pattern string, p Permission, h http.HandlerFunc) {
	rt.handle(http.MethodPut, pattern, p, h)
}

func (rt *Router) Patch(pattern string, p Permission, h http.HandlerFunc) {
	rt.handle(http.MethodPatch, pattern, p, h)
}

func (rt *Router) Delete(pattern string, p Permission, h http.HandlerFunc) {
	rt.handle(http.MethodDelete, pattern, p, h)
}

func (rt *Router) handle(method, pattern string, p Permission, h http.HandlerFunc) {
	rt.mount(Route{Method: method, Pattern: pattern, Permission: p}, h)
}

// mount mounts h behind route's permissions and records the route, its
// pattern under the router's prefix.
func (rt *Router) mount(route Route, h http.HandlerFunc) {
	pattern := route.Pattern
	route.Pattern = rt.prefix + pattern
	*rt.routes = append(*rt.routes, route)
	guarded := rt.guard(route, h)
	rt.mux.Method(route.Method, pattern, guarded)
	if route.Method == http.MethodGet {
		// HEAD is GET without the body (net/http drops it); said here,
		// because chi's GetHead misses a sub-router's "/" route.
		rt.mux.Method(http.MethodHead, pattern, guarded)
	}
}

// guard is the permission check of every route: the request's user must
// hold its permission, or one of its Or (any logged-in user passes
// LoggedIn; the middleware in front has sent anonymous requests to the
// login page already).
func (rt *Router) guard(route Route, h http.HandlerFunc) http.HandlerFunc {
	if route.Permission == LoggedIn {
		return h
	}
	deny := rt.deny
	return func(w http.ResponseWriter, r *http.Request) {
		if !route.Allows(GrantsOf(r)) {
			deny(w, r)
			return
		}
		h(w, r)
	}
}

// Load is middleware that puts the grants of the request's user in its
// context: user returns the logged-in user's id, false when anonymous. A
// lookup that fails goes to fail.
func Load(store Store, user func(r *http.Request) (string, bool),
	fail func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := user(r)
			if !ok || GrantsOf(r) != nil {
				// Nobody logged in, or the grants were read with the
				// session (auth.SessionGrantsReader).
				next.ServeHTTP(w, r)
				return
			}
			roles, perms, err := store.UserGrants(r.Context(), id)
			if err != nil {
				fail(w, r, fmt.Errorf("access: load grants: %w", err))
				return
			}
			next.ServeHTTP(w, r.WithContext(WithGrants(r.Context(), NewGrants(roles, perms))))
		})
	}
}
