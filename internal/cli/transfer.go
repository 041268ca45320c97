package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"musicadmin/internal/app"
	"musicadmin/internal/backend"
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
	if out == "" {
		// Plain progress lines would mix with the records on stdout.
		_, err := transfer.Dump(ctx, db, a.env.Stdout, a.transferProgress(false))
		return err
	}
	start := time.Now()
	counts, err := a.dumpFile(ctx, db, out, createPrivate, a.transferProgress(true))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "dumped %s to %s in %s\n", counts, out, time.Since(start).Round(time.Millisecond))
	return nil
}

// dumpFile writes every record of db to the file name, made by create, and
// removes the file when the dump fails.
func (a *runner) dumpFile(ctx context.Context, db *app.App, name string, create func(string) (*os.File, error),
	progress transfer.Progress) (transfer.Counts, error) {
	file, err := create(name)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	counts, err := transfer.Dump(ctx, db, file, progress)
	if cerr := file.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("dump: %w", cerr)
	}
	if err != nil {
		// A dump cut short is refused by load anyway (it has no last
		// line); no file is clearer than a broken one.
		_ = os.Remove(name)
		return nil, err
	}
	return counts, nil
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

// createNew creates the file name, readable by its owner only, and only
// if there is none: a backup never writes over a file (it may be the last
// good backup, or the database itself).
func createNew(name string) (*os.File, error) {
	file, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%s exists: a backup never writes over a file; name a new one", name)
	}
	return file, err
}

func (a *runner) backupCmd() *cobra.Command {
	return a.fileCmd("backup", "Copy the database into a new FILE while the app serves (SQLite: the database file; others: a dump)",
		"Copy the configured database into FILE, which must not exist, readable by its owner only.\n\n"+
			"SQLite: an online, consistent copy of the database file (VACUUM INTO) while the app serves and\n"+
			"writes, checked with PRAGMA integrity_check. To restore it, stop the app and put the file in\n"+
			"place of the database.\n\n"+
			"MySQL, PostgreSQL, MongoDB: a dump, as app dump writes it (read in one snapshot on MySQL and\n"+
			"PostgreSQL, not on MongoDB), which app load restores into a database fresh from create-db. For a\n"+
			"large database the server's own tool is faster: mysqldump --single-transaction, pg_dump,\n"+
			"mongodump. See docs/operations.md.",
		a.backup)
}

// backup copies db into the new file name: the database file on SQLite, a
// dump on the others. It prints one line saying what it wrote.
func (a *runner) backup(ctx context.Context, db *app.App, name string) error {
	start := time.Now()
	if db.Driver() == config.DriverSQLite {
		size, err := backend.BackupSQLite(ctx, db.Backend, name)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		fmt.Fprintf(a.env.Stdout, "backup: wrote %s (%d bytes) in %s: an online copy of the SQLite database, integrity_check ok\n",
			name, size, time.Since(start).Round(time.Millisecond))
		return nil
	}
	// A bar on a terminal, nothing otherwise: the summary is one line.
	counts, err := a.dumpFile(ctx, db, name, createNew, a.transferProgress(false))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	var size int64
	if fi, err := os.Stat(name); err == nil {
		size = fi.Size()
	}
	how := "read in one snapshot; for a large database " + serverDumpTool[db.Driver()] + " is faster"
	if !db.Snapshots() {
		how = "NOT one snapshot: stop writes while it runs, or use " + serverDumpTool[db.Driver()] + " for a consistent copy"
	}
	fmt.Fprintf(a.env.Stdout, "backup: wrote %s (%d bytes) in %s: a logical dump of %s, which app load restores into a database fresh from create-db; %s\n",
		name, size, time.Since(start).Round(time.Millisecond), counts, how)
	return nil
}

// serverDumpTool is the database server's own backup tool, by driver, as a
// backup's line names it.
var serverDumpTool = map[string]string{
	config.DriverMySQL:    "mysqldump --single-transaction (mariadb-dump on MariaDB)",
	config.DriverPostgres: "pg_dump",
	config.DriverMongoDB:  "mongodump --oplog (of a replica set)",
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
