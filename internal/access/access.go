// Package access is the permission model of the Flask-AppBuilder kind: a
// permission is an action on a view ("can_add" on "songsview"), a role a
// named set of them, and a user may do what any of their roles allows. It
// also holds the one place every route's permission is checked: Router
// mounts each handler behind its permission and records the route, so the
// route table a test walks is the table the server serves.
package access

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// The actions of a model view's routes, as Flask-AppBuilder names them.
const (
	CanList    = "can_list"
	CanShow    = "can_show"
	CanAdd     = "can_add"
	CanEdit    = "can_edit"
	CanDelete  = "can_delete"
	CanExport  = "can_export"
	CanHistory = "can_history"
	MenuAccess = "menu_access"
)

// The built-in roles, created by create-db.
const (
	// AdminRole holds every permission, always, including those of views
	// added later: it is checked by name, not by its rows.
	AdminRole = "Admin"
	// ReadOnlyRole may list and show the model views and reach their menu.
	ReadOnlyRole = "ReadOnly"
)

// Permission is an action (Name) on a view.
type Permission struct {
	Name string // e.g. "can_list"
	View string // e.g. "albumview"
}

// On returns the permission of action name on view.
func On(view, name string) Permission { return Permission{Name: name, View: view} }

// String is the form a person reads: "can list on albumview".
func (p Permission) String() string {
	return strings.ReplaceAll(p.Name, "_", " ") + " on " + p.View
}

// Key is the form export-roles and the role form use: "can_list:albumview".
func (p Permission) Key() string { return p.Name + ":" + p.View }

// ParseKey reads a Key back.
func ParseKey(s string) (Permission, bool) {
	name, view, ok := strings.Cut(s, ":")
	if !ok || !validName(name) || !validName(view) {
		return Permission{}, false
	}
	return Permission{Name: name, View: view}, true
}

// validName reports whether s is a permission or view name: 1 to 64
// lower-case letters, digits, "_" and "-".
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Compare orders permissions by view, then action.
func Compare(a, b Permission) int {
	if c := strings.Compare(a.View, b.View); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// Grants is what one user may do: the union of their roles' permissions,
// or everything when one of the roles is Admin.
type Grants struct {
	Roles []string
	admin bool
	perms map[Permission]struct{}
}

// NewGrants returns the grants of a user with roles holding perms.
func NewGrants(roles []string, perms []Permission) *Grants {
	g := &Grants{Roles: roles, admin: slices.Contains(roles, AdminRole), perms: make(map[Permission]struct{}, len(perms))}
	for _, p := range perms {
		g.perms[p] = struct{}{}
	}
	return g
}

// Can reports whether the grants allow p. Nil grants (nobody logged in)
// allow nothing.
func (g *Grants) Can(p Permission) bool {
	if g == nil {
		return false
	}
	if g.admin {
		return true
	}
	_, ok := g.perms[p]
	return ok
}

// Admin reports whether one of the roles is Admin.
func (g *Grants) Admin() bool { return g != nil && g.admin }

// Covers reports whether the grants allow every permission in perms: a
// user may hand out, or act on someone holding, only what they hold
// themselves.
func (g *Grants) Covers(perms []Permission) bool {
	for _, p := range perms {
		if !g.Can(p) {
			return false
		}
	}
	return true
}

type ctxKey struct{}

// WithGrants returns ctx carrying g.
func WithGrants(ctx context.Context, g *Grants) context.Context {
	return context.WithValue(ctx, ctxKey{}, g)
}

// GrantsOf returns the grants of the request's user, nil when anonymous.
func GrantsOf(r *http.Request) *Grants {
	g, _ := r.Context().Value(ctxKey{}).(*Grants)
	return g
}

// Can reports whether the request's user holds p.
func Can(r *http.Request, p Permission) bool { return GrantsOf(r).Can(p) }

// Store keeps permissions and who holds them. Errors of a busy or
// unreachable database wrap datamodel.ErrUnavailable.
type Store interface {
	// UserGrants returns the names of the roles of the user with userID
	// and the permissions those roles hold. Those of the Admin role may be
	// left out: it holds every permission by its name (Grants.Can), and
	// every request reads the grants.
	UserGrants(ctx context.Context, userID string) (roles []string, perms []Permission, err error)
	// SyncPermissions makes every permission in perms exist, and the
	// built-in roles: Admin holds every permission; ReadOnly is given
	// those of readOnly that did not exist before (a new view's), or all of
	// them when ReadOnly itself is new. A permission an Admin took away
	// from ReadOnly stays away.
	SyncPermissions(ctx context.Context, perms, readOnly []Permission) error
}
