package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"musicadmin/internal/app"
	"musicadmin/internal/audit"
	"musicadmin/internal/config"
	"musicadmin/internal/security"
)

// fileCmd is the command "name FILE" whose whole job is fn with FILE on the
// configured database, its schema at the app's version.
func (a *runner) fileCmd(name, short, long string, fn func(ctx context.Context, db *app.App, file string) error) *cobra.Command {
	return &cobra.Command{
		Use:   name + " FILE",
		Short: short,
		Long:  long,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("%s needs exactly one FILE", name)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), latest, func(ctx context.Context, _ config.Config, db *app.App) error {
				return fn(ctx, db, args[0])
			})
		},
	}
}

func (a *runner) exportRolesCmd() *cobra.Command {
	return a.fileCmd("export-roles", "Write every role and its permissions as JSON",
		"Write every role, by name, with its permissions as \"action:view\" keys, to FILE (\"-\":\n"+
			"stdout), in the format import-roles reads (see docs/security.md).",
		a.exportRoles)
}

// exportRoles writes the roles of db to the file name ("-": stdout).
func (a *runner) exportRoles(ctx context.Context, db *app.App, name string) error {
	svc, _, _, err := a.securityOf(db)
	if err != nil {
		return err
	}
	f, err := svc.ExportRoles(ctx)
	if err != nil {
		return err
	}
	out := a.env.Stdout
	if name != "-" {
		file, err := os.Create(name)
		if err != nil {
			return err
		}
		defer file.Close()
		out = file
	}
	if err := security.WriteRoles(out, f); err != nil {
		return fmt.Errorf("export-roles: %w", err)
	}
	if name != "-" {
		fmt.Fprintf(a.env.Stdout, "Exported %d roles to %s.\n", len(f.Roles), name)
	}
	return nil
}

func (a *runner) importRolesCmd() *cobra.Command {
	return a.fileCmd("import-roles", "Create or update roles from a JSON file of export-roles",
		"Make each role of FILE (\"-\": stdin) exist with exactly its permissions: created when\n"+
			"missing, updated when its permissions differ, left alone otherwise, so a second import\n"+
			"of the same file changes nothing. Roles the file does not name are kept. The whole file\n"+
			"is checked first: an unknown permission, a name given twice or refused by the role form\n"+
			"writes nothing. The Admin role holds every permission whatever the file says.\n"+
			"Exit status: 0 done; 1 the file is refused or the database failed; 2 bad usage.",
		a.importRoles)
}

// importRoles makes the roles of the file name ("-": stdin) exist in db.
func (a *runner) importRoles(ctx context.Context, db *app.App, name string) error {
	in := a.env.Stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return err
		}
		defer file.Close()
		in = file
	}
	f, err := security.ReadRoles(in)
	if err != nil {
		return fmt.Errorf("import-roles: %s: %w", name, err)
	}
	// The permissions of every view exist first, as at start-up: the file
	// may name a view newer than the last start.
	if err := db.SyncPermissions(ctx); err != nil {
		return err
	}
	svc, _, rv, err := a.securityOf(db)
	if err != nil {
		return err
	}
	res, err := svc.ImportRoles(audit.With(ctx, a.cliActor(security.RolesView)), rv, f)
	if err != nil {
		return fmt.Errorf("import-roles: %w", err)
	}
	fmt.Fprintf(a.env.Stdout, "Imported %d roles: %d created, %d updated, %d unchanged.\n",
		len(f.Roles), res.Created, res.Updated, res.Unchanged)
	return nil
}
