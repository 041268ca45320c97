package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/app"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/security"
)

// The users and roles commands write through the Security views' own
// validation (admin.ModelView.Validate: the rules of the web forms, to
// the letter) and their stores, so the stores' rules hold here too (the
// last active Admin stays, the built-in roles keep their names), and every
// write is in the audit log under the actor "cli:" + the user running the
// command ($USER).

// cliActor is who the audit log says made a change from the command line.
func (a *runner) cliActor(view string) audit.Actor {
	name := "cli"
	if u, ok := a.env.LookupEnv("USER"); ok && u != "" {
		name += ":" + u
	}
	return audit.Actor{Username: name, View: view}
}

// securityOf returns the users and roles of db with passwords hashed at
// the Env's cost, and their views, resolved.
func (a *runner) securityOf(db *app.App) (*security.Service, *admin.ModelView, *admin.ModelView, error) {
	users, err := auth.NewUsers(db.Accounts(), a.env.bcryptCost())
	if err != nil {
		return nil, nil, nil, failure(err)
	}
	svc, err := db.Security(users)
	if err != nil {
		return nil, nil, nil, failure(err)
	}
	uv, rv, err := security.Resolved(svc)
	if err != nil {
		return nil, nil, nil, failure(err)
	}
	return svc, uv, rv, nil
}

// roleIDs maps role names to the ids of the roles so named; a name no role
// has is a usage error listing the roles there are.
func roleIDs(ctx context.Context, svc *security.Service, names []string) ([]string, error) {
	roles, err := svc.Users.Choices(ctx, svc.Users.Schema().Field(security.FieldRoles))
	if err != nil {
		return nil, failure(err)
	}
	byName := map[string]string{}
	var known []string
	for _, r := range roles {
		byName[r.Label], known = r.ID, append(known, r.Label)
	}
	var ids []string
	for _, n := range names {
		id, ok := byName[strings.TrimSpace(n)]
		if !ok {
			return nil, usageErr("unknown role %q (the roles are: %s)", n, strings.Join(known, ", "))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// createUser creates the user n with the roles named roles, as the users
// add form would: the same validation, then the store's Create, audited.
func (a *runner) createUser(ctx context.Context, db *app.App, n auth.NewUser, roles []string) error {
	svc, uv, _, err := a.securityOf(db)
	if err != nil {
		return err
	}
	if len(roles) == 0 {
		return usageErr("give at least one --role")
	}
	ids, err := roleIDs(ctx, svc, roles)
	if err != nil {
		return err
	}
	if _, err := svc.UserByName(ctx, n.Username); err == nil {
		return failure(fmt.Errorf("user %q already exists", n.Username))
	} else if !errors.Is(err, datamodel.ErrNotFound) {
		return failure(err)
	}
	posted := url.Values{security.FieldUsername: {n.Username}, "first_name": {n.FirstName}, "last_name": {n.LastName},
		"email": {n.Email}, security.FieldActive: {"true"}, security.FieldRoles: ids,
		security.FieldPassword: {n.Password}, security.FieldPassword + "_confirm": {n.Password}}
	values, err := uv.Validate(ctx, posted, nil)
	if err != nil {
		return usageErr("%s", err)
	}
	_, err = svc.Users.Create(audit.With(ctx, a.cliActor(security.UsersView)), values)
	var conflict *datamodel.ConflictError
	switch {
	case errors.As(err, &conflict):
		return failure(fmt.Errorf("user %q already exists", n.Username))
	case err != nil:
		return failure(uv.WriteProblem(err))
	}
	return nil
}

// createUserOf is the body of create-user and create-admin: it asks on a
// terminal for what cmd's flags left out of n, then creates the user n with
// the roles named roles on the configured database.
func (a *runner) createUserOf(cmd *cobra.Command, n *auth.NewUser, roles []string) error {
	return a.withBackend(cmd.Context(), latest, func(ctx context.Context, _ config.Config, db *app.App) error {
		if err := a.askMissing(cmd, n); err != nil {
			return err
		}
		if err := n.Validate(); err != nil {
			return usageErr("%s", err)
		}
		return a.createUser(ctx, db, *n, roles)
	})
}

// userFlags declares the flags of a new user's fields on cmd.
func userFlags(cmd *cobra.Command, n *auth.NewUser) {
	f := cmd.Flags()
	f.StringVar(&n.Username, "username", "", "login name")
	f.StringVar(&n.FirstName, "firstname", "", "first name")
	f.StringVar(&n.LastName, "lastname", "", "last name")
	f.StringVar(&n.Email, "email", "", "email address")
	f.StringVar(&n.Password, "password", "", "password (asked hidden when omitted on a terminal)")
}

func (a *runner) createUserCmd() *cobra.Command {
	var n auth.NewUser
	var roles []string
	cmd := command("create-user", "Create a user with one or more roles", func(cmd *cobra.Command) error {
		if err := a.createUserOf(cmd, &n, roles); err != nil {
			return err
		}
		fmt.Fprintf(a.env.Stdout, "User %q created with the roles %s.\n", n.Username, strings.Join(roles, ", "))
		return nil
	})
	cmd.Long = "Create an active user with the roles named by --role (repeat it for several; create-admin\n" +
		"is create-user --role Admin). The rules are the web form's. On a terminal, missing values\n" +
		"are asked for (the password hidden, twice); without one, a missing value is an error.\n" +
		"Exit status: 0 created; 1 the username is taken or the database failed; 2 bad usage\n" +
		"(a missing or invalid value, or a role no role is named)."
	userFlags(cmd, &n)
	cmd.Flags().StringArrayVar(&roles, "role", nil, "a role of the user, by name (repeatable)")
	return cmd
}

func (a *runner) resetPasswordCmd() *cobra.Command {
	var username, password string
	cmd := command("reset-password", "Set a user's password and end their sessions", func(cmd *cobra.Command) error {
		if !cmd.Flags().Changed("username") {
			return usageErr("missing --username")
		}
		return a.withBackend(cmd.Context(), latest, func(ctx context.Context, _ config.Config, db *app.App) error {
			if !cmd.Flags().Changed("password") {
				if !a.env.IsTerminal() {
					return usageErr("missing --password (no terminal to ask on)")
				}
				var err error
				if password, err = a.askPassword(); err != nil {
					return err
				}
			}
			return a.resetPassword(ctx, db, username, password)
		})
	})
	cmd.Long = "Set the password of the user --username and end every session of theirs. On a terminal,\n" +
		"a missing --password is asked for (hidden, twice); without one, it is an error.\n" +
		"Exit status: 0 done; 1 no such user or the database failed; 2 bad usage (an invalid password)."
	cmd.Flags().StringVar(&username, "username", "", "the user's login name")
	cmd.Flags().StringVar(&password, "password", "", "the new password (asked hidden when omitted on a terminal)")
	return cmd
}

// resetPassword sets the password of the user named username and ends
// their sessions, audited.
func (a *runner) resetPassword(ctx context.Context, db *app.App, username, password string) error {
	if err := security.CheckPassword(password); err != nil {
		return usageErr("password: %s", err)
	}
	svc, _, _, err := a.securityOf(db)
	if err != nil {
		return err
	}
	rec, err := svc.UserByName(ctx, strings.TrimSpace(username))
	if errors.Is(err, datamodel.ErrNotFound) {
		return fmt.Errorf("no user is named %q", username)
	}
	if err != nil {
		return err
	}
	hash, err := svc.Auth.HashPassword(password)
	if err != nil {
		return usageErr("%s", err)
	}
	if err := svc.Users.SetPassword(audit.With(ctx, a.cliActor(security.UsersView)), rec.ID, datamodel.Hash(hash)); err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "Password of %q reset; their sessions have ended.\n", rec.Values[security.FieldUsername])
	return nil
}

// askPassword reads a password twice from the terminal, hidden.
func (a *runner) askPassword() (string, error) {
	fmt.Fprint(a.env.Stdout, "Password: ")
	p1, err := a.env.ReadPassword()
	fmt.Fprintln(a.env.Stdout)
	if err != nil {
		return "", usageErr("reading password: %s", err)
	}
	fmt.Fprint(a.env.Stdout, "Repeat for confirmation: ")
	p2, err := a.env.ReadPassword()
	fmt.Fprintln(a.env.Stdout)
	if err != nil {
		return "", usageErr("reading password: %s", err)
	}
	if p1 != p2 {
		return "", usageErr("the two passwords differ")
	}
	return p1, nil
}

func (a *runner) listUsersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list-users",
		Short: "List the users: username, roles, active",
		Long: "Print one line per user, by username: the username, its roles joined by commas (\"-\" for\n" +
			"none) and \"active\" or \"inactive\", separated by tabs.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withBackend(cmd.Context(), latest, func(ctx context.Context, _ config.Config, db *app.App) error {
				return a.listUsers(ctx, db)
			})
		},
	}
}

// listUsers prints a line per user: username, roles, active.
func (a *runner) listUsers(ctx context.Context, db *app.App) error {
	users := db.AccountModels().Users
	s := users.Schema()
	return users.Each(ctx, datamodel.Query{Sort: s.Field(security.FieldUsername)}, func(rec datamodel.Record) error {
		var roles []string
		refs, _ := rec.Values[security.FieldRoles].([]datamodel.Ref)
		for _, r := range refs {
			roles = append(roles, r.Label)
		}
		slices.Sort(roles)
		list := strings.Join(roles, ",")
		if list == "" {
			list = "-"
		}
		state := "inactive"
		if active, _ := rec.Values[security.FieldActive].(bool); active {
			state = "active"
		}
		_, err := fmt.Fprintf(a.env.Stdout, "%s\t%s\t%s\n", rec.Values[security.FieldUsername], list, state)
		return err
	})
}

// adminRoles is what create-admin gives.
var adminRoles = []string{access.AdminRole}
