package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"musicadmin/internal/accounts"
	"musicadmin/internal/app"
	"musicadmin/internal/audit"
	"musicadmin/internal/config"
	"musicadmin/internal/security"
)

func (a *runner) reset2FACmd() *cobra.Command {
	var username string
	cmd := command("reset-2fa", "Turn off a user's second factor (TOTP), for one who lost it", func(cmd *cobra.Command) error {
		if strings.TrimSpace(username) == "" {
			return usageErr("missing --username")
		}
		return a.withBackend(cmd.Context(), latest, func(ctx context.Context, _ config.Config, db *app.App) error {
			return a.reset2FA(ctx, db, strings.TrimSpace(username))
		})
	})
	cmd.Long = "Remove the second factor (TOTP and its recovery codes) of the user --username, enrolled or\n" +
		"begun, without a code: for a user locked out, who then signs in with the password alone (or,\n" +
		"when auth.totp.required_for_roles names a role of theirs, enrolls anew right after it).\n" +
		"The audit log records it under the command line's actor.\n" +
		"Exit status: 0 done; 1 no such user, no second factor, or the database failed; 2 bad usage."
	cmd.Flags().StringVar(&username, "username", "", "the user's login name")
	return cmd
}

// reset2FA removes the second factor of the user named username, audited.
func (a *runner) reset2FA(ctx context.Context, db *app.App, username string) error {
	svc, rec, err := namedUser(ctx, db, username)
	if err != nil {
		return err
	}
	err = svc.TOTP.Reset(audit.With(ctx, a.cliActor(security.UsersView)), rec.ID, username)
	if errors.Is(err, accounts.ErrNotEnrolled) {
		return failure(fmt.Errorf("user %q has no second factor", username))
	}
	if err != nil {
		return failure(err)
	}
	fmt.Fprintf(a.env.Stdout, "Second factor of %q removed: they sign in with their password.\n", username)
	return nil
}
