package security

import (
	"log/slog"
	"net/http"

	"musicadmin/internal/admin"
	"musicadmin/internal/auth"
)

// The Security views' names, their menu category, and the permission of
// the password reset of another user.
const (
	UsersView          = "users"
	RolesView          = "roles"
	Category           = "Security"
	CanResetPassword   = "can_reset_password"
	passwordPattern    = "/password"
	resetPattern       = "/resetpassword/{id}"
	resetPath          = "/resetpassword/"
	ownPasswordHeading = "Change your password"
)

// Deps are what the views need of the server besides the models; both
// may be nil where nothing is served (create-db's permission sync).
type Deps struct {
	// Sessions renews the session of a user who changed their own
	// password or account.
	Sessions *auth.Sessions
	// Throttle counts a wrong current password on the password page as a
	// failed login of the client's address, and refuses (429) an address
	// that has had too many.
	Throttle *auth.LoginThrottle
	// TwoFactor serves the own page of the second factor, /users/2fa.
	TwoFactor *TwoFactor
}

// Views declares List Users and List Roles, and the password, settings and
// tokens pages of the users view. Both views are Restricted: the ReadOnly role is not given
// them.
func Views(s *Service, deps Deps) []*admin.ModelView {
	sessions := deps.Sessions
	roles := &admin.ModelView{
		Name: RolesView, Title: "List Roles", Category: Category, Singular: "Role", Data: s.Roles,
		ListColumns: []string{FieldName, FieldPermissions}, SearchColumns: []string{FieldName},
		OrderColumns: []string{FieldName}, DefaultSort: FieldName, Restricted: true,
		Guard: &roleGuard{roles: s.Roles},
	}
	users := &admin.ModelView{
		Name: UsersView, Title: "List Users", Category: Category, Singular: "User", Data: s.Users,
		ListColumns:   []string{FieldUsername, "first_name", "last_name", "email", FieldActive, FieldRoles},
		SearchColumns: []string{FieldUsername, "first_name", "last_name", "email"},
		OrderColumns:  []string{FieldUsername, "first_name", "last_name", "email", FieldActive},
		DefaultSort:   FieldUsername, Restricted: true,
		Guard: &userGuard{users: s.Users, roles: s.Roles, sessions: sessions},
	}
	p := &passwords{svc: s, sessions: sessions, throttle: deps.Throttle, view: users, guard: users.Guard}
	t := &tokensPage{svc: s, view: users}
	f := &ownPage{t: deps.TwoFactor, view: users}
	st := &settingsPage{svc: s, view: users}
	users.Pages = []admin.Page{
		// Every logged-in user changes their own password: no permission
		// but the login.
		{Method: http.MethodGet, Pattern: passwordPattern, Handler: p.showOwn},
		{Method: http.MethodPost, Pattern: passwordPattern, Handler: p.changeOwn},
		// Every logged-in user chooses their own language and time zone.
		{Method: http.MethodGet, Pattern: settingsPattern, Handler: st.show},
		{Method: http.MethodPost, Pattern: settingsPattern, Handler: st.save},
		// Every logged-in user keeps their own API tokens, and only them.
		{Method: http.MethodGet, Pattern: tokensPattern, Handler: t.show},
		{Method: http.MethodPost, Pattern: tokensPattern, Handler: t.create},
		{Method: http.MethodPost, Pattern: revokePattern, Handler: t.revoke},
		// Every logged-in user keeps their own second factor.
		{Method: http.MethodGet, Pattern: twoFactorPattern, Handler: f.show},
		{Method: http.MethodPost, Pattern: twoFactorPattern, Handler: f.confirm},
		{Method: http.MethodPost, Pattern: disablePattern, Handler: f.disable},
		{Method: http.MethodGet, Pattern: resetPattern, Permission: CanResetPassword, Handler: p.showReset},
		{Method: http.MethodPost, Pattern: resetPattern, Permission: CanResetPassword, Handler: p.reset},
	}
	users.ShowLinks = []admin.ShowLink{{Label: "Reset password", Permission: CanResetPassword,
		URL: func(id string) string { return users.PathOf(resetPath + id) }}}
	return []*admin.ModelView{users, roles}
}

// Resolved returns the views of s checked as the server checks them, for
// the command line, which validates its input through them (the forms'
// rules) but serves nothing.
func Resolved(s *Service) (users, roles *admin.ModelView, err error) {
	views := Views(s, Deps{})
	if _, err := admin.New(slog.New(slog.DiscardHandler), views...); err != nil {
		return nil, nil, err
	}
	return views[0], views[1], nil
}
