package cli

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"musicadmin/internal/auth"
)

func (a *app) createAdminCmd() *cobra.Command {
	var n auth.NewUser
	cmd := &cobra.Command{
		Use:   "create-admin",
		Short: "Create a user with the Admin role",
		Long: "Create a user with the Admin role. On a terminal, missing values are asked for\n" +
			"(the password hidden, twice); without one, a missing value is an error.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, db, err := a.openBackend(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			if err := a.askMissing(cmd, &n); err != nil {
				return err
			}
			if err := n.Validate(); err != nil {
				return usageErr("%s", err)
			}
			users, err := auth.NewUsers(db.Accounts(), a.env.bcryptCost())
			if err != nil {
				return failure(err)
			}
			u, err := users.Create(cmd.Context(), n)
			if errors.Is(err, auth.ErrUserExists) {
				return failure(fmt.Errorf("user %q already exists", n.Username))
			}
			if err != nil {
				return failure(err)
			}
			fmt.Fprintf(a.env.Stdout, "Admin user %q created.\n", u.Username)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&n.Username, "username", "", "login name")
	f.StringVar(&n.FirstName, "firstname", "", "first name")
	f.StringVar(&n.LastName, "lastname", "", "last name")
	f.StringVar(&n.Email, "email", "", "email address")
	f.StringVar(&n.Password, "password", "", "password (asked hidden when omitted on a terminal)")
	return cmd
}

// askMissing prompts on a terminal for the values the flags did not give.
func (a *app) askMissing(cmd *cobra.Command, n *auth.NewUser) error {
	fields := []struct {
		flag, prompt string
		dst          *string
	}{
		{"username", "Username", &n.Username},
		{"firstname", "First name", &n.FirstName},
		{"lastname", "Last name", &n.LastName},
		{"email", "Email", &n.Email},
	}
	var missing []string
	for _, f := range fields {
		if !cmd.Flags().Changed(f.flag) {
			missing = append(missing, "--"+f.flag)
		}
	}
	if !cmd.Flags().Changed("password") {
		missing = append(missing, "--password")
	}
	if len(missing) == 0 {
		return nil
	}
	if !a.env.IsTerminal() {
		return usageErr("missing %s (no terminal to ask on)", strings.Join(missing, ", "))
	}
	in := bufio.NewReader(a.env.Stdin)
	for _, f := range fields {
		if cmd.Flags().Changed(f.flag) {
			continue
		}
		fmt.Fprintf(a.env.Stdout, "%s: ", f.prompt)
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return usageErr("reading %s: %s", f.flag, err)
		}
		*f.dst = strings.TrimSpace(line)
	}
	if !cmd.Flags().Changed("password") {
		fmt.Fprint(a.env.Stdout, "Password: ")
		p1, err := a.env.ReadPassword()
		fmt.Fprintln(a.env.Stdout)
		if err != nil {
			return usageErr("reading password: %s", err)
		}
		fmt.Fprint(a.env.Stdout, "Repeat for confirmation: ")
		p2, err := a.env.ReadPassword()
		fmt.Fprintln(a.env.Stdout)
		if err != nil {
			return usageErr("reading password: %s", err)
		}
		if p1 != p2 {
			return usageErr("the two passwords differ")
		}
		n.Password = p1
	}
	return nil
}

// randomPassword returns a password of 26 characters of base32 (130 bits),
// without the modulo bias of mapping random bytes onto an alphabet.
func randomPassword() string { return rand.Text() }
