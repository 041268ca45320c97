package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"musicadmin/internal/app"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/security"
)

// linkSSOCmd links an existing account to a subject of the OpenID
// provider: single sign-on matches users by the provider's subject only,
// so an account made before it (an Admin's) is given its subject here,
// from the server's shell, rather than by a name or e-mail claim.
func (a *runner) linkSSOCmd() *cobra.Command {
	var username, subject, issuer string
	cmd := command("link-sso", "Link an existing user to their subject at the OpenID provider", func(cmd *cobra.Command) error {
		username, subject, issuer = strings.TrimSpace(username), strings.TrimSpace(subject), strings.TrimSpace(issuer)
		if username == "" || subject == "" {
			return usageErr("missing --username or --subject")
		}
		return a.withBackend(cmd.Context(), latest, func(ctx context.Context, cfg config.Config, db *app.App) error {
			if issuer == "" {
				issuer = cfg.Auth.OIDC.Issuer
			}
			if issuer == "" {
				return usageErr("missing --issuer, and auth.oidc.issuer is empty")
			}
			return a.linkSSO(ctx, db, username, issuer, subject)
		})
	})
	cmd.Long = "Link the user --username to the subject --subject (the \"sub\" claim) of the OpenID provider\n" +
		"--issuer (default: auth.oidc.issuer), so that their single sign-on finds their account: users\n" +
		"are matched by the provider's subject, never by a name or an e-mail address.\n" +
		"Exit status: 0 done (or linked already); 1 no such user, the subject is another user's, or the\n" +
		"database failed; 2 bad usage."
	cmd.Flags().StringVar(&username, "username", "", "the user's login name")
	cmd.Flags().StringVar(&subject, "subject", "", "the user's subject at the provider")
	cmd.Flags().StringVar(&issuer, "issuer", "", "the provider's issuer URL (default auth.oidc.issuer)")
	return cmd
}

// linkSSO links the user named username to issuer's subject.
func (a *runner) linkSSO(ctx context.Context, db *app.App, username, issuer, subject string) error {
	svc, rec, err := namedUser(ctx, db, username)
	if err != nil {
		return err
	}
	var refused *datamodel.RefusedError
	err = svc.Identities.Link(ctx, rec.ID, issuer, subject, time.Now())
	if errors.As(err, &refused) {
		return failure(fmt.Errorf("%s", refused.Message))
	}
	if err != nil {
		return failure(err)
	}
	fmt.Fprintf(a.env.Stdout, "User %q is linked to subject %q of %s.\n", username, subject, issuer)
	return nil
}

// namedUser returns the accounts of db and the user named username; no
// such user, or a database that fails, is exit status 1.
func namedUser(ctx context.Context, db *app.App, username string) (*security.Service, datamodel.Record, error) {
	svc, err := db.Security(nil)
	if err != nil {
		return nil, datamodel.Record{}, failure(err)
	}
	rec, err := svc.UserByName(ctx, username)
	if errors.Is(err, datamodel.ErrNotFound) {
		return nil, datamodel.Record{}, failure(fmt.Errorf("no user is named %q", username))
	}
	if err != nil {
		return nil, datamodel.Record{}, failure(err)
	}
	return svc, rec, nil
}
