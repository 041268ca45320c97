package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"musicadmin/internal/backend"
	"musicadmin/internal/migrate"
	"musicadmin/internal/server"
)

func (a *app) createDBCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "create-db",
		Short: "Create or upgrade all tables (runs the migrations); idempotent",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			_, db, err := a.openBackend(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := a.up(ctx, db.Schema(), "create-db"); err != nil {
				return err
			}
			// The built-in roles and every view's permissions, as each
			// start of the server makes sure of too.
			if err := server.SyncPermissions(ctx, db); err != nil {
				return failure(err)
			}
			return nil
		},
	}
}

// withSchema runs fn with the schema of the configured database, closed
// afterwards: the body of every db subcommand.
func (a *app) withSchema(fn func(ctx context.Context, m backend.Schema) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		_, db, err := a.openBackend(cmd.Context())
		if err != nil {
			return err
		}
		defer db.Close()
		return fn(cmd.Context(), db.Schema())
	}
}

// up applies every pending migration and says where the database stands.
func (a *app) up(ctx context.Context, m backend.Schema, what string) error {
	n, err := m.Up(ctx)
	if err != nil {
		return failure(err)
	}
	current, _, err := m.Version(ctx)
	if err != nil {
		return failure(err)
	}
	fmt.Fprintf(a.env.Stdout, "%s: database at version %d (%d migration(s) applied)\n", what, current, n)
	return nil
}

func (a *app) dbCmd() *cobra.Command {
	db := &cobra.Command{
		Use:   "db",
		Short: "Database migrations: upgrade, downgrade, status, new",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErr("db needs a subcommand: upgrade, downgrade, status or new")
		},
	}
	db.AddCommand(&cobra.Command{
		Use:   "upgrade",
		Short: "Apply every pending migration",
		Args:  noArgs,
		RunE: a.withSchema(func(ctx context.Context, m backend.Schema) error {
			return a.up(ctx, m, "upgrade")
		}),
	}, &cobra.Command{
		Use:   "downgrade",
		Short: "Roll back the most recent migration",
		Args:  noArgs,
		RunE: a.withSchema(func(ctx context.Context, m backend.Schema) error {
			v, err := m.Down(ctx)
			if err != nil {
				return failure(err)
			}
			if v == 0 {
				fmt.Fprintln(a.env.Stdout, "downgrade: nothing to roll back")
				return nil
			}
			fmt.Fprintf(a.env.Stdout, "downgrade: rolled back version %d\n", v)
			return nil
		}),
	}, &cobra.Command{
		Use:   "status",
		Short: "List the migrations and whether each is applied",
		Args:  noArgs,
		RunE: a.withSchema(func(ctx context.Context, m backend.Schema) error {
			list, err := m.Status(ctx)
			if err != nil {
				return failure(err)
			}
			for _, s := range list {
				state := "pending"
				if s.Applied {
					state = "applied"
				}
				fmt.Fprintf(a.env.Stdout, "%-8s %05d %s\n", state, s.Version, s.Name)
			}
			return nil
		}),
	}, &cobra.Command{
		Use:   "new NAME",
		Short: "Write an empty migration NAME for every dialect under ./migrations",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("db new needs exactly one NAME")
			}
			paths, err := migrate.NewFiles("migrations", args[0])
			if err != nil {
				return usageErr("%s", err)
			}
			for _, p := range paths {
				fmt.Fprintln(a.env.Stdout, "created "+p)
			}
			return nil
		},
	})
	return db
}
