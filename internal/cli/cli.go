// Package cli is the app command line: create-db, create-admin, run, db
// upgrade|downgrade|status|new, dump, load, backup, copy, seed and version. Exit status 0 is done, 1 a
// failure at run time, 2 bad usage or configuration; errors are one line on
// stderr.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"musicadmin/internal/app"
	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/config"
	"musicadmin/internal/logging"
	"musicadmin/internal/textutil"
)

// Version is the app version, set at build time with -ldflags.
var Version = "0.1.0-dev"

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Env is what a command may touch of the outside world; tests fill it.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	LookupEnv      func(string) (string, bool)
	// IsTerminal reports whether Stdin is a terminal one can prompt on.
	IsTerminal func() bool
	// ReadPassword reads a line from the terminal without echo.
	ReadPassword func() (string, error)
	// BcryptCost is the cost of the password hashes create-admin and
	// run --init-admin make; 0 means auth.DefaultCost. Tests lower it: at
	// the production cost each hash takes a second under the race detector.
	BcryptCost int
}

// bcryptCost is the cost of new password hashes.
func (e Env) bcryptCost() int {
	if e.BcryptCost == 0 {
		return auth.DefaultCost
	}
	return e.BcryptCost
}

// exitError carries the exit status of a failed command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

func failure(err error) error { return &exitError{code: ExitFailure, err: err} }

// Main runs the command line args and returns the exit status.
func Main(ctx context.Context, args []string, env Env) int {
	root := newRoot(ctx, env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitUsage // cobra's own errors: unknown command, bad flag
	var ee *exitError
	var ce *config.Error
	switch {
	case errors.As(err, &ce):
		code = ExitUsage
	case errors.As(err, &ee):
		code = ee.code
	}
	fmt.Fprintln(env.Stderr, "app: "+textutil.OneLine(err.Error()))
	return code
}

type runner struct {
	env        Env
	configPath string
}

func newRoot(ctx context.Context, env Env) *cobra.Command {
	a := &runner{env: env}
	root := &cobra.Command{
		Use:           "app",
		Short:         "Music Admin: an admin web app for a music catalogue",
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       Version,
		// With no command, show the help rather than doing anything.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("unknown command %q", args[0])
			}
			return cmd.Help()
		},
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%s", err) })
	defaultConfig := "config.yaml"
	if v, ok := env.LookupEnv("APP_CONFIG"); ok && v != "" {
		defaultConfig = v
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", defaultConfig, "configuration file (env APP_CONFIG)")
	root.AddCommand(a.createDBCmd(), a.createAdminCmd(), a.createUserCmd(), a.resetPasswordCmd(), a.reset2FACmd(), a.linkSSOCmd(), a.listUsersCmd(), a.createTokenCmd(),
		a.exportRolesCmd(), a.importRolesCmd(), a.runCmd(), a.dbCmd(), a.seedCmd(), a.dumpCmd(), a.loadCmd(), a.backupCmd(),
		a.copyCmd(), a.versionCmd())
	return root
}

func (a *runner) loadConfig() (config.Config, error) {
	return config.Load(a.configPath, a.env.LookupEnv)
}

func (a *runner) logger() *slog.Logger {
	text := slog.NewTextHandler(a.env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})
	return slog.New(logging.RateLimit(text, logEvery))
}

// logEvery is how often a WARN or ERROR line of one message may repeat: an
// outage is then one line per second with a count, not one per request.
const logEvery = time.Second

// need is what a command needs of the configured database's schema.
type need int

const (
	// anyVersion: the schema at any version, none included (create-db, db).
	anyVersion need = iota
	// latest: the app's schema at its latest version (create-db has run).
	latest
)

// withBackend is the frame of every command on the configured database: it
// loads the configuration, connects, checks the schema as n says, runs fn
// and closes the connection. A bad configuration, an unreachable database
// or a schema not at the app's version is a usage error (exit 2); an error
// of fn that carries no exit status of its own is a failure at run time
// (exit 1).
func (a *runner) withBackend(ctx context.Context, n need, fn func(context.Context, config.Config, *app.App) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	db, err := app.Open(ctx, cfg.Database)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	defer db.Close()
	if n == latest {
		if err := backend.Ready(ctx, db); err != nil {
			return &exitError{code: ExitUsage, err: err}
		}
	}
	err = fn(ctx, cfg, db)
	var ee *exitError
	if err != nil && !errors.As(err, &ee) {
		return failure(err)
	}
	return err
}

func (a *runner) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(a.env.Stdout, "app "+Version)
			return nil
		},
	}
}

// command is a subcommand that takes flags and no argument.
func command(use, short string, run func(cmd *cobra.Command) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd) }}
}

func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("unexpected argument %q", args[0])
	}
	return nil
}

// DefaultEnv is the real process environment.
func DefaultEnv() Env {
	return Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		LookupEnv:    os.LookupEnv,
		IsTerminal:   stdinIsTerminal,
		ReadPassword: readPassword,
	}
}
