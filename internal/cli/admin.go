package cli

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"musicadmin/internal/auth"
)

func (a *runner) createAdminCmd() *cobra.Command {
	var n auth.NewUser
	cmd := command("create-admin", "Create a user with the Admin role", func(cmd *cobra.Command) error {
		// create-user --role Admin: the same validation and write.
		if err := a.createUserOf(cmd, &n, adminRoles); err != nil {
			return err
		}
		fmt.Fprintf(a.env.Stdout, "Admin user %q created.\n", n.Username)
		return nil
	})
	cmd.Long = "Create a user with the Admin role: create-user --role Admin. On a terminal, missing\n" +
		"values are asked for (the password hidden, twice); without one, a missing value is an error."
	userFlags(cmd, &n)
	return cmd
}

// askMissing prompts on a terminal for the values the flags did not give.
func (a *runner) askMissing(cmd *cobra.Command, n *auth.NewUser) error {
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
		p, err := a.askPassword()
		if err != nil {
			return err
		}
		n.Password = p
	}
	return nil
}

// randomPassword returns a password of 26 characters of base32 (130 bits),
// without the modulo bias of mapping random bytes onto an alphabet.
func randomPassword() string { return rand.Text() }
