package server_test

// The Security menu's users and roles (issue 9; SECURITY-TESTS 57-60): the
// generic views over users and roles on every backend, the last active
// Admin by every path, escalation by a user who manages users but is no
// Admin, mass assignment and IDOR, and the sessions a password change, a
// reset, a deactivation or a role taken away end.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/access"
	"musicadmin/internal/apptest"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
)

// choiceID returns the value of the option labelled label of the set
// field name on the form at path.
func choiceID(t *testing.T, c *apptest.Client, path, name, label string) string {
	t.Helper()
	r := c.Get(path)
	r.ExpectStatus(t, "GET "+path, http.StatusOK)
	var id string
	r.Doc.Find("fieldset#f-" + name + " label.choice").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Text()) == label {
			id, _ = s.Find("input").Attr("value")
		}
	})
	if id == "" {
		t.Fatalf("no option %q of %s on %s", label, name, path)
	}
	return id
}

// userID returns the id of the user named username, read from the users
// list filtered by it.
func userID(t *testing.T, c *apptest.Client, username string) string {
	t.Helper()
	r := c.Get("/users/list/?" + url.Values{"username": {username}}.Encode())
	r.ExpectStatus(t, "users list", http.StatusOK)
	href, ok := r.Doc.Find(`main table a[href^="/users/show/"]`).First().Attr("href")
	if !ok {
		t.Fatalf("user %q is not in the list", username)
	}
	return strings.TrimPrefix(href, "/users/show/")
}

// roleID returns the id of the role named name.
func roleID(t *testing.T, c *apptest.Client, name string) string {
	t.Helper()
	return choiceID(t, c, "/users/add", "roles", name)
}

// userRow returns the stored user named username.
func userRow(t *testing.T, app *apptest.App, username string) apptest.UserRow {
	t.Helper()
	for _, u := range app.Users() {
		if u.Username == username {
			slices.Sort(u.Roles) // in name order on every backend
			return u
		}
	}
	t.Fatalf("no user %q stored", username)
	return apptest.UserRow{}
}

func hasUser(app *apptest.App, username string) bool {
	return slices.ContainsFunc(app.Users(), func(u apptest.UserRow) bool { return u.Username == username })
}

// newUserForm is the add form of a user with roles (ids) and password.
func newUserForm(username, password string, roles ...string) url.Values {
	return url.Values{"username": {username}, "first_name": {"First"}, "last_name": {"Last"},
		"email": {username + "@example.com"}, "active": {"true"}, "roles": roles,
		"password": {password}, "password_confirm": {password}}
}

// addRole creates the role name with the permission keys perms as c.
func addRole(t *testing.T, c *apptest.Client, name string, perms ...string) {
	t.Helper()
	r := c.Submit("/roles/add", url.Values{"name": {name}, "permissions": perms})
	r.ExpectRedirect(t, "add role "+name, "/roles/list/")
}

// loggedInAs returns a client logged in as username, holding role (see
// roleUser).
func loggedInAs(t *testing.T, a *apptest.App, username, role string) *apptest.Client {
	t.Helper()
	c, _ := roleUser(t, a, username, role)
	return c
}

// TestSecurityUsersAndRolesCRUD: an Admin lists, adds, shows, edits and
// deletes roles and users through the generic pages; the new user logs in
// with the password given; no page, form or export holds a password.
func TestSecurityUsersAndRolesCRUD(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		admin := a.LoggedIn()

		r := admin.Get("/")
		if got := r.Texts("nav .menu summary"); !slices.Contains(got, "Security") {
			t.Errorf("menu categories %q lack Security", got)
		}
		for _, item := range []string{"List Users", "List Roles"} {
			if !slices.Contains(r.Texts("nav .menu a"), item) {
				t.Errorf("menu lacks %q: %q", item, r.Texts("nav .menu a"))
			}
		}
		r = admin.Get("/roles/list/")
		r.ExpectStatus(t, "roles list", http.StatusOK)
		if got := r.FirstColumn(); !slices.Equal(got, []string{"Admin", "ReadOnly"}) {
			t.Errorf("roles %q, want Admin and ReadOnly", got)
		}

		// A role: a name and permissions ticked among every view's.
		r = admin.Get("/roles/add")
		if n := r.Doc.Find(`fieldset#f-permissions input[type=checkbox][value="can_add:songsview"]`).Length(); n != 1 {
			t.Fatalf("the role form offers can_add:songsview %d times", n)
		}
		addRole(t, admin, "Editor", "can_list:songsview", "can_show:songsview", "can_add:songsview", "menu_access:songsview")
		editor := roleID(t, admin, "Editor")
		r = admin.Get("/roles/show/" + editor)
		r.ExpectStatus(t, "role show", http.StatusOK)
		if got := r.Text("dl.details"); !strings.Contains(got, "Song View: can add") || strings.Contains(got, "Album View") {
			t.Errorf("role page: %q", got)
		}
		// A permission no view has is refused, beside the field.
		r = admin.Submit("/roles/add", url.Values{"name": {"Bad"}, "permissions": {"can_fly:songsview"}})
		r.ExpectStatus(t, "unknown permission", http.StatusUnprocessableEntity)
		if r.FieldError("permissions") == "" {
			t.Error("no message beside the permissions")
		}

		// A user: roles ticked, a password twice.
		r = admin.Get("/users/add")
		if r.Doc.Find("input#f-password[type=password]").Length() != 1 || r.Doc.Find("input#f-password_confirm").Length() != 1 {
			t.Error("the add form asks no password twice")
		}
		r = admin.Submit("/users/add", newUserForm("ed", "first-pass", editor))
		r.ExpectRedirect(t, "add user", "/users/list/")
		if u := userRow(t, a, "ed"); !u.Active || !slices.Equal(u.Roles, []string{"Editor"}) || u.Email != "ed@example.com" {
			t.Errorf("stored ed = %+v", u)
		}
		ed := a.Client()
		ed.Login("ed", "first-pass")
		if r := ed.Get("/songsview/add"); r.Status != http.StatusOK {
			t.Errorf("ed may add songs: %d", r.Status)
		}
		if r := ed.Get("/albumview/list/"); r.Status != http.StatusForbidden {
			t.Errorf("ed may not list albums: %d", r.Status)
		}

		// Refused input writes nothing: passwords that differ, a taken
		// username, an email that is none.
		for _, tt := range []struct {
			field string
			form  url.Values
		}{
			{"password", func() url.Values { f := newUserForm("bo", "one"); f.Set("password_confirm", "two"); return f }()},
			{"password", newUserForm("bo", strings.Repeat("x", 73))},
			{"username", newUserForm("ed", "pw")},
			{"email", func() url.Values { f := newUserForm("bo", "pw"); f.Set("email", "not an address"); return f }()},
			{"roles", newUserForm("bo", "pw", a.UnknownID())},
		} {
			r := admin.Submit("/users/add", tt.form)
			r.ExpectStatus(t, "refused "+tt.field, http.StatusUnprocessableEntity)
			if r.FieldError(tt.field) == "" {
				t.Errorf("refused %s: no message beside it", tt.field)
			}
			if r.Doc.Find(`input[type=password][value]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
				v, _ := s.Attr("value")
				return v != ""
			}).Length() > 0 {
				t.Error("a refused form shows a password back")
			}
		}
		if hasUser(a, "bo") {
			t.Error("a refused form created bo")
		}

		// Show, list and edit: no password anywhere.
		id := userID(t, admin, "ed")
		r = admin.Get("/users/show/" + id)
		r.ExpectStatus(t, "user show", http.StatusOK)
		if got := r.Text("dl.details"); !strings.Contains(got, "Editor") || strings.Contains(strings.ToLower(got), "password") {
			t.Errorf("user page: %q", got)
		}
		if n := r.Doc.Find(`a[href="/users/resetpassword/` + id + `"]`).Length(); n != 1 {
			t.Errorf("the user page links to the reset %d times", n)
		}
		r = admin.Get("/users/edit/" + id)
		if n := r.Doc.Find("input[type=password]").Length(); n != 0 {
			t.Errorf("the edit form has %d password inputs", n)
		}
		form := apptest.FormValues(r)
		form.Set("email", "ed@example.org")
		form.Add("roles", roleID(t, admin, access.ReadOnlyRole))
		r = admin.Submit("/users/edit/"+id, form)
		r.ExpectRedirect(t, "edit user", "/users/list/")
		if u := userRow(t, a, "ed"); u.Email != "ed@example.org" || !slices.Equal(u.Roles, []string{"Editor", "ReadOnly"}) {
			t.Errorf("edited ed = %+v", u)
		}
		r = admin.Get("/users/list/")
		for _, row := range r.Rows() {
			if row[0] == "ed" && (!slices.Contains(row, "Editor, ReadOnly") || !slices.Contains(row, "Yes")) {
				t.Errorf("list row of ed: %q", row)
			}
		}

		// The role renamed; then deleted: ed keeps ReadOnly only.
		r = admin.Get("/roles/edit/" + editor)
		form = apptest.FormValues(r)
		form.Set("name", "Song Editor")
		admin.Submit("/roles/edit/"+editor, form).ExpectRedirect(t, "rename role", "/roles/list/")
		if u := userRow(t, a, "ed"); !slices.Contains(u.Roles, "Song Editor") {
			t.Errorf("ed's roles after the rename: %q", u.Roles)
		}
		admin.Submit("/roles/delete/"+editor, url.Values{}).ExpectRedirect(t, "delete role", "/roles/list/")
		if u := userRow(t, a, "ed"); !slices.Equal(u.Roles, []string{"ReadOnly"}) {
			t.Errorf("ed's roles after the delete: %q", u.Roles)
		}
		admin.Submit("/users/delete/"+id, url.Values{}).ExpectRedirect(t, "delete user", "/users/list/")
		if hasUser(a, "ed") {
			t.Error("ed is still stored")
		}
	})
}

// TestSecurityLastAdmin (SECURITY-TESTS 59): the last active Admin cannot
// be deactivated, lose the Admin role or be deleted, by one delete or a
// bulk one; each is refused with a message and writes nothing. With a
// second active Admin the same changes go through; an inactive Admin does
// not count. The built-in roles keep their names and cannot be deleted.
func TestSecurityLastAdmin(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		admin := a.LoggedIn()
		me := userID(t, admin, apptest.AdminUser)
		adminRole := roleID(t, admin, access.AdminRole)
		before := userRow(t, a, apptest.AdminUser)

		edit := apptest.FormValues(admin.Get("/users/edit/" + me))
		deactivate := url.Values{}
		for k, v := range edit {
			if k != "active" {
				deactivate[k] = v
			}
		}
		demote := url.Values{}
		for k, v := range edit {
			demote[k] = v
		}
		demote.Del("roles")
		for _, tt := range []struct {
			what, field string
			form        url.Values
		}{{"deactivate", "active", deactivate}, {"take the Admin role", "roles", demote}} {
			r := admin.Submit("/users/edit/"+me, tt.form)
			r.ExpectStatus(t, tt.what, http.StatusUnprocessableEntity)
			if msg := r.FieldError(tt.field); !strings.Contains(msg, "last active Admin") {
				t.Errorf("%s: message beside %s %q", tt.what, tt.field, msg)
			}
		}
		r := admin.Submit("/users/delete/"+me, url.Values{})
		r.ExpectStatus(t, "delete", http.StatusUnprocessableEntity)
		if !strings.Contains(r.Text(".alert"), "last active Admin") {
			t.Errorf("delete: alert %q", r.Text(".alert"))
		}
		// The bulk delete asks first, then refuses when confirmed.
		r = admin.Post("/users/action/delete", url.Values{"ids": {me}, "csrf_token": {admin.CSRF("/users/list/")}})
		r.ExpectStatus(t, "bulk delete's confirmation", http.StatusOK)
		r = admin.Post("/users/action/delete", url.Values{"ids": {me}, "confirm": {"1"}, "csrf_token": {admin.CSRF("/users/list/")}})
		r.ExpectRedirect(t, "bulk delete", "/users/list/")
		if f := admin.Get("/users/list/").Flashes(); len(f) != 1 || !strings.Contains(f[0], "last active Admin") {
			t.Errorf("bulk delete: flashes %q", f)
		}
		if after := userRow(t, a, apptest.AdminUser); !after.Active || !slices.Equal(after.Roles, before.Roles) {
			t.Fatalf("the refusals wrote: %+v", after)
		}

		// An inactive second Admin does not count; an active one does.
		admin.Submit("/users/add", newUserForm("ada2", "pw-ada2", adminRole)).ExpectRedirect(t, "add ada2", "/users/list/")
		ada2 := userID(t, admin, "ada2")
		f2 := apptest.FormValues(admin.Get("/users/edit/" + ada2))
		f2.Del("active")
		admin.Submit("/users/edit/"+ada2, f2).ExpectRedirect(t, "deactivate ada2", "/users/list/")
		r = admin.Post("/users/action/delete", url.Values{"ids": {me}, "confirm": {"1"}, "csrf_token": {admin.CSRF("/users/list/")}})
		if !hasUser(a, apptest.AdminUser) {
			t.Fatal("the last active Admin was deleted while an inactive one remained")
		}
		f2 = apptest.FormValues(admin.Get("/users/edit/" + ada2)) // its version now
		f2.Set("active", "true")
		admin.Submit("/users/edit/"+ada2, f2).ExpectRedirect(t, "activate ada2", "/users/list/")
		r = admin.Submit("/users/edit/"+me, deactivate)
		r.ExpectRedirect(t, "deactivate with another Admin", "/users/list/")
		if userRow(t, a, apptest.AdminUser).Active {
			t.Error("admin is still active")
		}
		if !!admin.IsLoggedIn() {
			t.Error("the deactivated admin is still logged in")
		}
		// ada2, now the last active Admin, cannot delete herself in bulk
		// either, even together with the inactive admin.
		ada := a.Client()
		ada.Login("ada2", "pw-ada2")
		ada.Post("/users/action/delete", url.Values{"ids": {me, ada2}, "confirm": {"1"}, "csrf_token": {ada.CSRF("/users/list/")}})
		if !hasUser(a, "ada2") || !hasUser(a, apptest.AdminUser) {
			t.Error("a bulk delete of both Admins went through in part or whole")
		}

		// The built-in roles: Admin's form shows its name and permissions
		// fixed, a posted rename is not read, and neither can be deleted.
		r = ada.Get("/roles/edit/" + adminRole)
		if _, ro := r.Doc.Find("input#f-name").Attr("readonly"); !ro {
			t.Error("the Admin role's name is editable")
		}
		if n := r.Doc.Find("fieldset#f-permissions input:not([disabled])").Length(); n != 0 {
			t.Errorf("%d of the Admin role's permissions are editable", n)
		}
		if n := r.Doc.Find("fieldset#f-permissions input:not([checked])").Length(); n != 0 {
			t.Errorf("%d permissions are not ticked for Admin", n)
		}
		ada.Submit("/roles/edit/"+adminRole, url.Values{"name": {"Boss"}})
		if !slices.Contains(userRow(t, a, "ada2").Roles, access.AdminRole) {
			t.Error("the Admin role was renamed")
		}
		for _, role := range []string{access.AdminRole, access.ReadOnlyRole} {
			id := roleID(t, ada, role)
			r := ada.Submit("/roles/delete/"+id, url.Values{})
			r.ExpectStatus(t, "delete "+role, http.StatusUnprocessableEntity)
			ada.Post("/roles/action/delete", url.Values{"ids": {id}, "confirm": {"1"}, "csrf_token": {ada.CSRF("/roles/list/")}})
		}
		if got := ada.Get("/roles/list/").FirstColumn(); !slices.Equal(got, []string{"Admin", "ReadOnly"}) {
			t.Errorf("roles after the refused deletes: %q", got)
		}
	})
}

// TestSecurityNoEscalation (SECURITY-TESTS 58): a user who may manage users
// and roles but is no Admin gives nobody, themselves included, a role or a
// permission they do not hold, touches no user or role above them, and
// sets nothing the form does not show. Each refusal writes nothing.
func TestSecurityNoEscalation(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		admin := a.LoggedIn()
		var perms []string
		for _, view := range []string{"users", "roles"} {
			for _, p := range []string{"can_list", "can_show", "can_add", "can_edit", "can_delete", "menu_access"} {
				perms = append(perms, p+":"+view)
			}
		}
		perms = append(perms, "can_reset_password:users")
		for _, view := range []string{"albumview", "songsview"} {
			for _, p := range []string{"can_list", "can_show", "menu_access"} {
				perms = append(perms, p+":"+view)
			}
		}
		addRole(t, admin, "UserManager", perms...)
		mgr := loggedInAs(t, a, "mgr", "UserManager")
		loggedInAs(t, a, "pleb", access.ReadOnlyRole)
		adminID, mgrID, plebID := userID(t, admin, apptest.AdminUser), userID(t, admin, "mgr"), userID(t, admin, "pleb")
		adminRole, managerRole := roleID(t, admin, access.AdminRole), roleID(t, admin, "UserManager")
		readOnly := roleID(t, admin, access.ReadOnlyRole)
		snapshot := func() string {
			var b strings.Builder
			for _, u := range a.Users() {
				b.WriteString(u.Username + " " + strings.Join(u.Roles, ",") + " " + u.PasswordHash + " " + u.Email + "\n")
			}
			return b.String() + strings.Join(admin.Get("/roles/show/"+managerRole).Texts("dl.details dd"), "|")
		}
		before := snapshot()

		// Users above them: no edit, reset or delete, one or in bulk.
		for _, p := range []string{"/users/edit/" + adminID, "/users/resetpassword/" + adminID, "/users/delete/" + adminID} {
			if r := mgr.Get(p); r.Status != http.StatusForbidden {
				t.Errorf("GET %s: %d, want 403", p, r.Status)
			}
			if r := mgr.Submit(p, url.Values{"email": {"x@example.com"}, "password": {"pw"}, "password_confirm": {"pw"}}); r.Status != http.StatusForbidden {
				t.Errorf("POST %s: %d, want 403", p, r.Status)
			}
		}
		mgr.Post("/users/action/delete", url.Values{"ids": {adminID, plebID}, "confirm": {"1"}, "csrf_token": {mgr.CSRF("/users/list/")}})
		if f := mgr.Get("/users/list/").Flashes(); len(f) != 1 || !strings.Contains(f[0], "permissions you do not have") {
			t.Errorf("bulk delete over an Admin: flashes %q", f)
		}
		if r := mgr.Get("/users/show/" + adminID); r.Doc.Find(`main a[href^="/users/edit/"]`).Length() != 0 {
			t.Error("the Admin's page offers mgr an Edit button")
		}

		// No role holding more than they do, to anyone, themselves first.
		for _, tt := range []struct{ what, path string }{{"themselves", "/users/edit/" + mgrID}, {"pleb", "/users/edit/" + plebID}} {
			form := apptest.FormValues(mgr.Get(tt.path))
			form.Add("roles", adminRole)
			r := mgr.Submit(tt.path, form)
			r.ExpectStatus(t, "give Admin to "+tt.what, http.StatusUnprocessableEntity)
			if !strings.Contains(r.FieldError("roles"), "whose permissions you hold") {
				t.Errorf("give Admin to %s: %q", tt.what, r.FieldError("roles"))
			}
		}
		r := mgr.Submit("/users/add", newUserForm("sneak", "pw", adminRole))
		r.ExpectStatus(t, "create an Admin", http.StatusUnprocessableEntity)

		// No permission they lack onto a role, their own included; no
		// role above them, the Admin role first.
		form := apptest.FormValues(mgr.Get("/roles/edit/" + managerRole))
		form.Add("permissions", "can_delete:albumview")
		r = mgr.Submit("/roles/edit/"+managerRole, form)
		r.ExpectStatus(t, "raise own role", http.StatusUnprocessableEntity)
		if !strings.Contains(r.FieldError("permissions"), "hold yourself") {
			t.Errorf("raise own role: %q", r.FieldError("permissions"))
		}
		r = mgr.Submit("/roles/add", url.Values{"name": {"Deleter"}, "permissions": {"can_delete:songsview"}})
		r.ExpectStatus(t, "a role above them", http.StatusUnprocessableEntity)
		for _, p := range []string{"/roles/edit/" + adminRole, "/roles/delete/" + adminRole} {
			if r := mgr.Get(p); r.Status != http.StatusForbidden {
				t.Errorf("GET %s: %d, want 403", p, r.Status)
			}
		}
		if r := mgr.Submit("/roles/edit/"+adminRole, url.Values{"name": {"Admin"}, "permissions": {"can_list:users"}}); r.Status != http.StatusForbidden {
			t.Errorf("POST the Admin role's form: %d, want 403", r.Status)
		}

		// Mass assignment: fields the form does not show are not read.
		form = apptest.FormValues(mgr.Get("/users/edit/" + plebID))
		form.Set("password_hash", "$2a$04$forgedforgedforgedforgedforgedforgedforgedforgedforge")
		form.Set("password", "forged-password")
		form.Set("password_confirm", "forged-password")
		form.Set("id", adminID)
		form.Set("_id", adminID)
		form.Set("created_at", "0")
		mgr.Submit("/users/edit/"+plebID, form).ExpectRedirect(t, "save pleb", "/users/list/")
		if after := snapshot(); after != before {
			t.Errorf("refused or ignored input wrote:\nbefore %s\nafter  %s", before, after)
		}
		login := a.Client()
		if r := login.Submit("/login/", url.Values{"username": {"pleb"}, "password": {"forged-password"}}); r.Status == http.StatusFound {
			t.Error("the edit form set pleb's password")
		}

		// Within what they hold they may act: a ReadOnly user created, pleb's
		// password reset.
		mgr.Submit("/users/add", newUserForm("newbie", "pw-newbie", readOnly)).ExpectRedirect(t, "add a ReadOnly user", "/users/list/")
		mgr.Submit("/users/resetpassword/"+plebID, url.Values{"password": {"new-pleb"}, "password_confirm": {"new-pleb"}}).
			ExpectRedirect(t, "reset pleb", "/users/show/"+plebID)
		login.Login("pleb", "new-pleb")
	})
}

// TestSecurityNoUsersWithoutPermission (SECURITY-TESTS 57, 58): a user
// without permissions on users reaches no user or role by id, but changes
// their own password.
func TestSecurityNoUsersWithoutPermission(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		admin := a.LoggedIn()
		adminID, readOnly := userID(t, admin, apptest.AdminUser), roleID(t, admin, access.ReadOnlyRole)
		reader := loggedInAs(t, a, "reader", access.ReadOnlyRole)
		for _, p := range []string{"/users/list/", "/users/show/" + adminID, "/users/edit/" + adminID, "/users/add",
			"/users/resetpassword/" + adminID, "/users/export.csv", "/roles/list/", "/roles/show/" + readOnly,
			"/roles/edit/" + readOnly} {
			if r := reader.Get(p); r.Status != http.StatusForbidden || strings.Contains(r.Body, "admin@example.com") {
				t.Errorf("GET %s as ReadOnly: %d, want 403 without the data", p, r.Status)
			}
		}
		if r := reader.Submit("/users/edit/"+adminID, url.Values{"active": {""}, "username": {"admin"}}); r.Status != http.StatusForbidden {
			t.Errorf("POST an Admin's form as ReadOnly: %d", r.Status)
		}
		if r := reader.Get("/"); slices.Contains(r.Texts("nav .menu summary"), "Security") {
			t.Error("a ReadOnly user sees the Security menu")
		}
		if r := reader.Get("/users/password"); r.Status != http.StatusOK {
			t.Errorf("GET /users/password as ReadOnly: %d", r.Status)
		}
		if !userRow(t, a, apptest.AdminUser).Active {
			t.Error("the admin was deactivated")
		}
	})
}

// TestSecuritySessionsEnd (SECURITY-TESTS 60): a password change ends the
// user's other sessions and keeps the one it was made in; an Admin's
// reset, a deactivation and a role taken away end the user's sessions; a
// deactivated user cannot log in. "Ends" is seen by a second client, whose
// cookie then answers as logged out.
func TestSecuritySessionsEnd(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		admin := a.LoggedIn()
		loggedInAs(t, a, "pat", access.ReadOnlyRole)
		pat := userID(t, admin, "pat")
		twoSessions := func(password string) (*apptest.Client, *apptest.Client) {
			c1, c2 := a.Client(), a.Client()
			c1.Login("pat", password)
			c2.Login("pat", password)
			return c1, c2
		}

		// Own change: the current password is required, the new one twice.
		c1, c2 := twoSessions("pw-pat")
		hash := userRow(t, a, "pat").PasswordHash
		for _, tt := range []struct {
			field string
			form  url.Values
		}{
			{"current_password", url.Values{"current_password": {"wrong"}, "password": {"new-pat"}, "password_confirm": {"new-pat"}}},
			{"password", url.Values{"current_password": {"pw-pat"}, "password": {"new-pat"}, "password_confirm": {"new-pax"}}},
			{"password", url.Values{"current_password": {"pw-pat"}, "password": {""}, "password_confirm": {""}}},
			{"password", url.Values{"current_password": {"pw-pat"}, "password": {strings.Repeat("é", 37)}, "password_confirm": {strings.Repeat("é", 37)}}},
		} {
			r := c1.Submit("/users/password", tt.form)
			r.ExpectStatus(t, "refused change", http.StatusUnprocessableEntity)
			if r.FieldError(tt.field) == "" {
				t.Errorf("refused change: no message beside %s", tt.field)
			}
		}
		if userRow(t, a, "pat").PasswordHash != hash || !c2.IsLoggedIn() {
			t.Fatal("a refused change wrote or ended a session")
		}
		r := c1.Submit("/users/password", url.Values{"current_password": {"pw-pat"}, "password": {"new-pat"}, "password_confirm": {"new-pat"}})
		r.ExpectRedirect(t, "change own password", "/")
		if !c1.IsLoggedIn() {
			t.Error("the session the change was made in ended")
		}
		if !!c2.IsLoggedIn() {
			t.Error("pat's other session survived the change")
		}
		if r := a.Client().Submit("/login/", url.Values{"username": {"pat"}, "password": {"pw-pat"}}); r.Status == http.StatusFound {
			t.Error("the old password still logs in")
		}

		// An Admin's reset, from the user's page.
		c1, c2 = twoSessions("new-pat")
		r = admin.Get("/users/resetpassword/" + pat)
		r.ExpectStatus(t, "reset form", http.StatusOK)
		admin.Submit("/users/resetpassword/"+pat, url.Values{"password": {"reset-pat"}, "password_confirm": {"reset-pat"}}).
			ExpectRedirect(t, "reset", "/users/show/"+pat)
		if !!c1.IsLoggedIn() || !!c2.IsLoggedIn() {
			t.Error("pat's sessions survived the reset")
		}
		if !admin.IsLoggedIn() {
			t.Error("the admin's session ended with pat's reset")
		}

		// A role taken away.
		c1, _ = twoSessions("reset-pat")
		form := apptest.FormValues(admin.Get("/users/edit/" + pat))
		form.Del("roles")
		admin.Submit("/users/edit/"+pat, form).ExpectRedirect(t, "take the role", "/users/list/")
		if !!c1.IsLoggedIn() {
			t.Error("pat's session survived losing a role")
		}

		// A deactivation; then no login.
		c1, _ = twoSessions("reset-pat")
		form = apptest.FormValues(admin.Get("/users/edit/" + pat))
		form.Del("active")
		admin.Submit("/users/edit/"+pat, form).ExpectRedirect(t, "deactivate", "/users/list/")
		if !!c1.IsLoggedIn() {
			t.Error("pat's session survived the deactivation")
		}
		if r := a.Client().Submit("/login/", url.Values{"username": {"pat"}, "password": {"reset-pat"}}); r.Status == http.StatusFound {
			t.Error("a deactivated user logged in")
		}

		// An Admin's own change keeps them in, and they may change their
		// own roles (here: add one) without being logged out.
		admin.Submit("/users/password", url.Values{"current_password": {apptest.AdminPassword}, "password": {"admin-new"},
			"password_confirm": {"admin-new"}}).ExpectRedirect(t, "admin's own change", "/")
		if !admin.IsLoggedIn() {
			t.Error("the admin's own change logged them out")
		}
		me := userID(t, admin, apptest.AdminUser)
		form = apptest.FormValues(admin.Get("/users/edit/" + me))
		form.Add("roles", roleID(t, admin, access.ReadOnlyRole))
		admin.Submit("/users/edit/"+me, form).ExpectRedirect(t, "admin edits themselves", "/users/list/")
		if !admin.IsLoggedIn() {
			t.Error("saving their own account logged the admin out")
		}
	})
}

// TestSecurityAudited (SECURITY-TESTS 61): the writes of users and roles
// are in the audit log like any model's, a user's roles by name and id, a
// password change and a reset as their own action with no value at all;
// no entry holds a password or its hash. A refused write has no entry.
func TestSecurityAudited(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		admin := a.LoggedIn()
		addRole(t, admin, "Editor", "can_list:songsview")
		editor := roleID(t, admin, "Editor")
		admin.Submit("/users/add", newUserForm("ed", "secret-ed-pw", editor)).ExpectRedirect(t, "add ed", "/users/list/")
		ed := userID(t, admin, "ed")
		form := apptest.FormValues(admin.Get("/users/edit/" + ed))
		form.Add("roles", roleID(t, admin, access.ReadOnlyRole))
		admin.Submit("/users/edit/"+ed, form).ExpectRedirect(t, "edit ed", "/users/list/")
		admin.Submit("/users/resetpassword/"+ed, url.Values{"password": {"reset-ed-pw"}, "password_confirm": {"reset-ed-pw"}}).
			ExpectRedirect(t, "reset", "/users/show/"+ed)
		edc := a.Client()
		edc.Login("ed", "reset-ed-pw")
		edc.Submit("/users/password", url.Values{"current_password": {"reset-ed-pw"}, "password": {"own-ed-pw"},
			"password_confirm": {"own-ed-pw"}}).ExpectRedirect(t, "own change", "/")
		me := userID(t, admin, apptest.AdminUser)
		admin.Submit("/users/delete/"+me, url.Values{}).ExpectStatus(t, "refused delete", http.StatusUnprocessableEntity)
		admin.Submit("/users/delete/"+ed, url.Values{}).ExpectRedirect(t, "delete ed", "/users/list/")

		all := entries(t, a)
		hash := "$2a$"
		for _, e := range all {
			text := e.RecordLabel
			for _, c := range e.Changes {
				text += "|" + c.Field + "|" + c.Old + "|" + c.New
			}
			for _, secret := range []string{"secret-ed-pw", "reset-ed-pw", "own-ed-pw", hash, "password_hash"} {
				if strings.Contains(text, secret) {
					t.Errorf("entry %+v holds %q", e, secret)
				}
			}
		}
		if got := findEntries(all, "create", editor); len(got) != 1 || got[0].View != "roles" ||
			!slices.Contains(got[0].Changes, audit.Change{Field: "permissions", New: "can list on songsview"}) {
			t.Errorf("the role's create entry: %+v", got)
		}
		created := findEntries(all, "create", ed)
		if len(created) != 1 || created[0].Username != apptest.AdminUser || created[0].View != "users" || created[0].RecordLabel != "ed" {
			t.Fatalf("ed's create entry: %+v", created)
		}
		for _, c := range created[0].Changes {
			if c.Field == "password" {
				t.Errorf("the create entry names the password: %+v", c)
			}
		}
		if !slices.Contains(created[0].Changes, audit.Change{Field: "roles", New: "Editor"}) {
			t.Errorf("the create entry's roles: %+v", created[0].Changes)
		}
		updated := findEntries(all, "update", ed)
		// A set's update names the options removed (none) and added.
		if len(updated) != 1 || !slices.Equal(updated[0].Changes, []audit.Change{{Field: "roles", Old: "", New: "ReadOnly"}}) {
			t.Errorf("ed's update entry: %+v", updated)
		}
		passwords := findEntries(all, audit.ActionPassword, ed)
		if len(passwords) != 2 || passwords[0].Username != apptest.AdminUser || passwords[1].Username != "ed" ||
			len(passwords[0].Changes)+len(passwords[1].Changes) != 0 {
			t.Errorf("password entries: %+v", passwords)
		}
		if got := findEntries(all, "delete", ed); len(got) != 1 {
			t.Errorf("ed's delete entries: %+v", got)
		}
		if got := findEntries(all, "delete", me); len(got) != 0 {
			t.Errorf("the refused delete has entries: %+v", got)
		}
		// The user's history page shows them.
		r := admin.Get("/users/history/" + me)
		r.ExpectStatus(t, "history", http.StatusOK)
	})
}

// TestSecurityPasswordPageThrottled: the current password of the password
// page is throttled as the login is, in the same count: after
// DefaultLoginLimit wrong ones, the page and the login answer 429 to the
// address, and nothing is written; a right one does not count.
func TestSecurityPasswordPageThrottled(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		pat := loggedInAs(t, a, "pat", access.ReadOnlyRole)
		hash := userRow(t, a, "pat").PasswordHash
		wrong := url.Values{"current_password": {"guess"}, "password": {"new-pat"}, "password_confirm": {"new-pat"}}
		for i := range auth.DefaultLoginLimit {
			r := pat.Submit("/users/password", wrong)
			r.ExpectStatus(t, fmt.Sprintf("wrong guess %d", i+1), http.StatusUnprocessableEntity)
		}
		r := pat.Submit("/users/password", wrong)
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Errorf("guess past the limit: %d (Retry-After %q), want 429", r.Status, r.Header.Get("Retry-After"))
		}
		right := url.Values{"current_password": {"pw-pat"}, "password": {"new-pat"}, "password_confirm": {"new-pat"}}
		if r := pat.Submit("/users/password", right); r.Status != http.StatusTooManyRequests {
			t.Errorf("the right password past the limit: %d, want 429", r.Status)
		}
		if r := a.Client().Submit("/login/", url.Values{"username": {"pat"}, "password": {"pw-pat"}}); r.Status != http.StatusTooManyRequests {
			t.Errorf("a login from the same address: %d, want 429 (one count)", r.Status)
		}
		if userRow(t, a, "pat").PasswordHash != hash {
			t.Error("a throttled change wrote")
		}
	})
}

// TestUsersFilteredByRole: the users list filters by a role held ("has"),
// its chip names the role, and the roles list by a permission held, on
// every backend (a join table on SQL, an array on MongoDB).
func TestUsersFilteredByRole(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		admin := a.LoggedIn()
		reader := roleID(t, admin, access.ReadOnlyRole)
		form := url.Values{"username": {"rita"}, "first_name": {"Rita"}, "last_name": {"Reader"},
			"email": {"rita@example.com"}, "active": {"true"}, "roles": {reader},
			"password": {"rita-password-1"}, "password_confirm": {"rita-password-1"}}
		admin.Submit("/users/add", form).ExpectRedirect(t, "add rita", "/users/list/")

		r := admin.Get("/users/list/?" + url.Values{"roles": {reader}}.Encode())
		r.ExpectStatus(t, "users holding ReadOnly", http.StatusOK)
		named := func(links []string) []string {
			return slices.DeleteFunc(links, func(s string) bool { return s == "Show" })
		}
		if got := named(r.Texts(`main table a[href^="/users/show/"]`)); !slices.Equal(got, []string{"rita"}) {
			t.Errorf("users holding ReadOnly: %q, want rita alone", got)
		}
		if got := r.Texts(".chip > span"); !slices.Equal(got, []string{"Roles has ReadOnly"}) {
			t.Errorf("chip %q", got)
		}
		if opts := r.Texts("#filter-roles-op option"); !slices.Equal(opts, []string{"has"}) {
			t.Errorf("the roles filter offers %q", opts)
		}
		r = admin.Get("/roles/list/?" + url.Values{"permissions": {"can_list:songsview"}}.Encode())
		if got := named(r.Texts(`main table a[href^="/roles/show/"]`)); !slices.Equal(got, []string{"Admin", "ReadOnly"}) {
			t.Errorf("roles holding can_list:songsview: %q", got)
		}
	})
}
