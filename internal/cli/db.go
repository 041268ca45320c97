package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"musicadmin/internal/app"
	"musicadmin/internal/backend"
	"musicadmin/internal/config"
	"musicadmin/internal/migrate"
)

func (a *runner) createDBCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "create-db",
		Short: "Create or upgrade all tables (runs the migrations); idempotent",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withBackend(cmd.Context(), anyVersion, func(ctx context.Context, _ config.Config, db *app.App) error {
				if err := a.up(ctx, db.Schema(), "create-db"); err != nil {
					return err
				}
				// The built-in roles and every view's permissions, as each
				// start of the server makes sure of too.
				return db.SyncPermissions(ctx)
			})
		},
	}
}

// up applies every pending migration and says where the database stands.
func (a *runner) up(ctx context.Context, m backend.Schema, what string) error {
	n, err := m.Up(ctx)
	if err != nil {
		return err
	}
	current, _, err := m.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "%s: database at version %d (%d migration(s) applied)\n", what, current, n)
	return nil
}

// down rolls back the most recent migration.
func (a *runner) down(ctx context.Context, m backend.Schema) error {
	v, err := m.Down(ctx)
	if err != nil {
		return err
	}
	if v == 0 {
		fmt.Fprintln(a.env.Stdout, "downgrade: nothing to roll back")
		return nil
	}
	fmt.Fprintf(a.env.Stdout, "downgrade: rolled back version %d\n", v)
	return nil
}

// status lists the migrations, each applied or pending.
func (a *runner) status(ctx context.Context, m backend.Schema) error {
	list, err := m.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range list {
		state := "pending"
		if s.Applied {
			state = "applied"
		}
		fmt.Fprintf(a.env.Stdout, "%-8s %05d %s\n", state, s.Version, s.Name)
	}
	return nil
}

func (a *runner) dbCmd() *cobra.Command {
	db := &cobra.Command{
		Use:   "db",
		Short: "Database migrations: upgrade, downgrade, status, new",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErr("db needs a subcommand: upgrade, downgrade, status or new")
		},
	}
	for _, sub := range []struct {
		use, short string
		run        func(context.Context, backend.Schema) error
	}{
		{"upgrade", "Apply every pending migration", func(ctx context.Context, m backend.Schema) error {
			return a.up(ctx, m, "upgrade")
		}},
		{"downgrade", "Roll back the most recent migration", a.down},
		{"status", "List the migrations and whether each is applied", a.status},
	} {
		db.AddCommand(&cobra.Command{Use: sub.use, Short: sub.short, Args: noArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withBackend(cmd.Context(), anyVersion, func(ctx context.Context, _ config.Config, db *app.App) error {
				return sub.run(ctx, db.Schema())
			})
		}})
	}
	db.AddCommand(&cobra.Command{
		Use:   "new NAME",
		Short: "Write an empty migration NAME for every dialect under ./migrations",
		RunE:  a.newMigration,
	})
	return db
}

// newMigration writes the empty files of the migration args[0].
func (a *runner) newMigration(_ *cobra.Command, args []string) error {
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
}
