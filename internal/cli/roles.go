package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"musicadmin/internal/audit"
	"musicadmin/internal/security"
	"musicadmin/internal/server"
)

func oneFile(name string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageErr("%s needs exactly one FILE", name)
		}
		return nil
	}
}

func (a *app) exportRolesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "export-roles FILE",
		Short: "Write every role and its permissions as JSON",
		Long: "Write every role, by name, with its permissions as \"action:view\" keys, to FILE (\"-\":\n" +
			"stdout), in the format import-roles reads (see the README).",
		Args: oneFile("export-roles"),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, db, err := a.openBackend(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			if err := a.ready(cmd, db); err != nil {
				return err
			}
			svc, _, _, err := a.securityOf(db)
			if err != nil {
				return err
			}
			f, err := svc.ExportRoles(cmd.Context())
			if err != nil {
				return failure(err)
			}
			out := a.env.Stdout
			if args[0] != "-" {
				file, err := os.Create(args[0])
				if err != nil {
					return failure(err)
				}
				defer file.Close()
				out = file
			}
			if err := security.WriteRoles(out, f); err != nil {
				return failure(fmt.Errorf("export-roles: %w", err))
			}
			if args[0] != "-" {
				fmt.Fprintf(a.env.Stdout, "Exported %d roles to %s.\n", len(f.Roles), args[0])
			}
			return nil
		},
	}
}

func (a *app) importRolesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import-roles FILE",
		Short: "Create or update roles from a JSON file of export-roles",
		Long: "Make each role of FILE (\"-\": stdin) exist with exactly its permissions: created when\n" +
			"missing, updated when its permissions differ, left alone otherwise, so a second import\n" +
			"of the same file changes nothing. Roles the file does not name are kept. The whole file\n" +
			"is checked first: an unknown permission, a name given twice or refused by the role form\n" +
			"writes nothing. The Admin role holds every permission whatever the file says.\n" +
			"Exit status: 0 done; 1 the file is refused or the database failed; 2 bad usage.",
		Args: oneFile("import-roles"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			_, db, err := a.openBackend(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := a.ready(cmd, db); err != nil {
				return err
			}
			in := a.env.Stdin
			if args[0] != "-" {
				file, err := os.Open(args[0])
				if err != nil {
					return failure(err)
				}
				defer file.Close()
				in = file
			}
			f, err := security.ReadRoles(in)
			if err != nil {
				return failure(fmt.Errorf("import-roles: %s: %w", args[0], err))
			}
			// The permissions of every view exist first, as at start-up:
			// the file may name a view newer than the last start.
			if err := server.SyncPermissions(ctx, db); err != nil {
				return failure(err)
			}
			svc, _, rv, err := a.securityOf(db)
			if err != nil {
				return err
			}
			res, err := svc.ImportRoles(audit.With(ctx, a.cliActor(security.RolesView)), rv, f)
			if err != nil {
				return failure(fmt.Errorf("import-roles: %w", err))
			}
			fmt.Fprintf(a.env.Stdout, "Imported %d roles: %d created, %d updated, %d unchanged.\n",
				len(f.Roles), res.Created, res.Updated, res.Unchanged)
			return nil
		},
	}
}
