package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"musicadmin/internal/accounts"
	"musicadmin/internal/app"
	"musicadmin/internal/audit"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
)

func (a *runner) createTokenCmd() *cobra.Command {
	var username, name, expires string
	cmd := command("create-token", "Make an API token for a user and print it, once", func(cmd *cobra.Command) error {
		if strings.TrimSpace(username) == "" {
			return usageErr("missing --username")
		}
		until, err := parseExpiry(expires, time.Now())
		if err != nil {
			return usageErr("--expires: %s", err)
		}
		return a.withBackend(cmd.Context(), latest, func(ctx context.Context, _ config.Config, db *app.App) error {
			plain, err := a.createToken(ctx, db, strings.TrimSpace(username), name, until)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.env.Stdout, plain)
			fmt.Fprintln(a.env.Stderr, "app: the token is shown this once: keep it now, it cannot be read again.")
			return nil
		})
	})
	cmd.Long = "Make an API token for the user --username, named --name, and print it on standard output,\n" +
		"alone on its line (TOKEN=$(app create-token --username admin)); only its digest is stored, so\n" +
		"it is never shown again. --expires is a duration (720h, 30d) or a date (2027-01-31, at\n" +
		"midnight UTC); without it the token never expires.\n" +
		"Exit status: 0 made; 1 no such user or the database failed; 2 bad usage (a bad --expires or\n" +
		"--name)."
	cmd.Flags().StringVar(&username, "username", "", "the user the token acts as")
	cmd.Flags().StringVar(&name, "name", "cli", "what the token is called on the user's tokens page")
	cmd.Flags().StringVar(&expires, "expires", "", "when it expires: a duration (720h, 30d) or a date (2027-01-31); never when omitted")
	return cmd
}

// parseExpiry reads --expires at now: "" is never (the zero time), a Go
// duration ("720h") or a number of days ("30d") is that long from now, a
// date ("2027-01-31") its midnight in UTC. It must be in the future.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	var at time.Time
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100*366 {
			return time.Time{}, fmt.Errorf("%q is not a number of days such as 30d", s)
		}
		at = now.AddDate(0, 0, n)
	} else if d, err := time.ParseDuration(s); err == nil {
		at = now.Add(d)
	} else if date, err := time.Parse(time.DateOnly, s); err == nil {
		at = date
	} else {
		return time.Time{}, fmt.Errorf("%q is neither a duration (720h, 30d) nor a date (2027-01-31)", s)
	}
	if !at.After(now) {
		return time.Time{}, fmt.Errorf("%q is not in the future", s)
	}
	return at, nil
}

// createToken makes a token named name for the user named username,
// audited under the command line's actor.
func (a *runner) createToken(ctx context.Context, db *app.App, username, name string, expires time.Time) (string, error) {
	svc, rec, err := namedUser(ctx, db, username)
	if err != nil {
		return "", err
	}
	plain, _, err := svc.Tokens.Create(audit.With(ctx, a.cliActor(accounts.TokensView)), rec.ID, name, expires)
	var refused *datamodel.RefusedError
	if errors.As(err, &refused) {
		flag := "name"
		if refused.Field == accounts.FieldExpiresAt {
			flag = "expires"
		}
		return "", usageErr("--%s: %s", flag, refused.Message)
	}
	if err != nil {
		return "", failure(err)
	}
	return plain, nil
}
