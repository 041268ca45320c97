package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"musicadmin/internal/app"
	"musicadmin/internal/config"
	"musicadmin/internal/transfer"
)

func (a *runner) dumpCmd() *cobra.Command {
	var out string
	cmd := command("dump [--out FILE]", "Write every record (users, roles with their permissions and the audit log included; password hashes as stored) as JSON Lines", func(cmd *cobra.Command) error {
		return a.withBackend(cmd.Context(), latest, func(ctx context.Context, _ config.Config, db *app.App) error {
			return a.dump(ctx, db, out)
		})
	})
	cmd.Flags().StringVar(&out, "out", "", "write to FILE instead of stdout")
	return cmd
}

// dump writes every record of db to the file out, or to stdout when out is
// empty.
func (a *runner) dump(ctx context.Context, db *app.App, out string) error {
	var w io.Writer = a.env.Stdout
	var file *os.File
	if out != "" {
		var err error
		if file, err = createPrivate(out); err != nil {
			return fmt.Errorf("dump: %w", err)
		}
		w = file
	}
	start := time.Now()
	// Plain progress lines would mix with the records on stdout.
	counts, err := transfer.Dump(ctx, db, w, a.transferProgress(out != ""))
	if file != nil {
		if cerr := file.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("dump: %w", cerr)
		}
		if err != nil {
			// A dump cut short is refused by load anyway (it has no last
			// line); no file is clearer than a broken one.
			_ = os.Remove(out)
		}
	}
	if err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintf(a.env.Stdout, "dumped %s to %s in %s\n", counts, out, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// createPrivate creates or truncates the file name, readable by its owner
// only: a dump holds password hashes.
func createPrivate(name string) (*os.File, error) {
	file, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	// OpenFile's mode applies to a new file only: a file that was there
	// keeps its own, which may let others read. Only a regular file:
	// --out /dev/stdout is no file of ours.
	if fi, err := file.Stat(); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&^0o600 != 0 {
		if err := file.Chmod(0o600); err != nil {
			_ = file.Close()
			return nil, fmt.Errorf("make %s readable by its owner only: %w", name, err)
		}
	}
	return file, nil
}

func (a *runner) loadCmd() *cobra.Command {
	return a.fileCmd("load", "Read a dump into an empty database (fresh from create-db) of any backend", "", a.load)
}

// load reads the dump in the file name into db.
func (a *runner) load(ctx context.Context, db *app.App, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer f.Close()
	start := time.Now()
	counts, err := transfer.Load(ctx, db, f, a.transferProgress(true))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "loaded %s in %s\n", counts, time.Since(start).Round(time.Millisecond))
	return nil
}

func (a *runner) copyCmd() *cobra.Command {
	var to config.Database
	cmd := command("copy --to-driver D --to-dsn DSN", "Copy every record into another, empty database (created or upgraded as create-db does)", func(cmd *cobra.Command) error {
		to.Driver = strings.ToLower(strings.TrimSpace(to.Driver))
		if to.Driver == "" || strings.TrimSpace(to.DSN) == "" {
			return usageErr("copy needs --to-driver and --to-dsn")
		}
		return a.withBackend(cmd.Context(), latest, func(ctx context.Context, cfg config.Config, src *app.App) error {
			if cfg.Database.Driver == to.Driver && cfg.Database.DSN == to.DSN {
				return usageErr("copy: the target is the configured database itself")
			}
			return a.copyTo(ctx, src, to)
		})
	})
	cmd.Flags().StringVar(&to.Driver, "to-driver", "", "target driver: sqlite, mysql, postgres or mongodb")
	cmd.Flags().StringVar(&to.DSN, "to-dsn", "", "target data source name (as database.dsn in config.yaml)")
	return cmd
}

// copyTo copies every record of src into the database to.
func (a *runner) copyTo(ctx context.Context, src *app.App, to config.Database) error {
	dst, err := app.Open(ctx, to)
	if err != nil {
		return usageErr("copy: target: %s", err)
	}
	defer dst.Close()
	start := time.Now()
	counts, err := transfer.Copy(ctx, src, dst, "", a.transferProgress(true))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "copied %s to %s in %s\n", counts, to.Driver, time.Since(start).Round(time.Millisecond))
	return nil
}

// transferProgress draws a bar per stage on a terminal, as seed does, and
// otherwise prints a plain line per tenth of a stage on stdout when plain
// is set (not when stdout carries the dump itself).
func (a *runner) transferProgress(plain bool) transfer.Progress {
	if a.env.IsTerminal() {
		var bar *progressbar.ProgressBar
		stage := ""
		return func(s string, done, total int) {
			if s != stage || bar == nil {
				if bar != nil {
					_ = bar.Finish()
				}
				stage = s
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(a.env.Stderr),
					progressbar.OptionSetDescription(s), progressbar.OptionShowCount(),
					progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
			}
			bar.ChangeMax(total)
			_ = bar.Set(done)
		}
	}
	if !plain {
		return nil
	}
	stage, next := "", 0
	return func(s string, done, total int) {
		if s != stage {
			stage, next = s, 0
		}
		if total <= 0 {
			return
		}
		for pct := done * 100 / total; pct >= next && next <= 100; next += 10 {
			fmt.Fprintf(a.env.Stdout, "%s: %d%% (%d/%d records)\n", s, next, done, total)
		}
	}
}
