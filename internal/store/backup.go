package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gorm.io/gorm"
)

// ErrBackupExists means the file a backup was to be written to is there
// already: a backup never writes over a file, which may be the previous
// backup, or the database itself.
var ErrBackupExists = errors.New("a backup never writes over a file; name a new one")

// BackupSQLite copies the SQLite database db into a new file at path while
// the app goes on serving and writing, then checks the copy, and returns
// its size in bytes.
//
// Why VACUUM INTO: it reads the database in one read transaction, so the
// copy is the database at one moment (under WAL, writers go on meanwhile
// and are not in it), and it writes a whole, compact database file with
// the WAL's committed pages folded in. Copying the file (cp) while the app
// runs could catch a page half written, or miss what is still in the
// -wal file; the online backup API (sqlite3_backup) restarts its copy
// whenever another connection writes, so under steady writes it may never
// end. VACUUM INTO rebuilds the indexes, some of which call the functions
// the app registers (app_fold, app_grams): it runs on a connection of db's
// pool, which has them.
//
// The file is created first, empty, readable by its owner only (0600: it
// holds password hashes) and only if nothing is at path (ErrBackupExists
// otherwise: nothing is overwritten); VACUUM INTO writes into an empty file.
// The copy is then synced to disk and opened read-only: PRAGMA
// integrity_check must answer ok, and check (may be nil) gets the
// read-only handle for what the caller knows of the schema. On any
// failure the file is removed, so a file at path is a checked backup.
func BackupSQLite(ctx context.Context, db *gorm.DB, path string, check func(context.Context, *sql.DB) error) (size int64, err error) {
	if name := db.Dialector.Name(); name != "sqlite" {
		return 0, fmt.Errorf("store: backup: VACUUM INTO is SQLite's, the database is %s", name)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return 0, fmt.Errorf("%s exists: %w", path, ErrBackupExists)
	}
	if err != nil {
		return 0, err // the path's own error names it: "open PATH: ..."
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(abs)
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(abs)
		}
	}()
	// An absolute path: the connections open with SQLITE_OPEN_URI, and a
	// name starting "file:" would be read as a URI.
	if err := db.WithContext(ctx).Exec("VACUUM INTO ?", abs).Error; err != nil {
		return 0, translateErr("backup: VACUUM INTO", err)
	}
	if err := syncFile(abs); err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	if err := checkSQLiteCopy(ctx, abs, check); err != nil {
		return 0, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	return fi.Size(), nil
}

// syncFile flushes the file at path, and the directory's entry of it, to
// disk: SQLite does not sync the file VACUUM INTO writes (its
// documentation says so), and a backup reported written should survive a
// power cut right after.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// Not every file system syncs a directory; the file's own sync is what
	// matters most.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// checkSQLiteCopy opens the database file at abs read-only with the app's
// functions (integrity_check evaluates the indexes' expressions) and
// checks it: PRAGMA integrity_check, then check.
func checkSQLiteCopy(ctx context.Context, abs string, check func(context.Context, *sql.DB) error) error {
	registerSQLiteDriver()
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?mode=ro"
	copyDB, err := sql.Open(sqliteDriverName, dsn)
	if err != nil {
		return fmt.Errorf("store: backup: open the copy: %w", err)
	}
	defer copyDB.Close()
	rows, err := copyDB.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("store: backup: check the copy: %w", err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			_ = rows.Close()
			return fmt.Errorf("store: backup: check the copy: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	err = rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: backup: check the copy: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("store: backup: the copy fails integrity_check: %s", strings.Join(problems, "; "))
	}
	if check != nil {
		if err := check(ctx, copyDB); err != nil {
			return fmt.Errorf("store: backup: check the copy: %w", err)
		}
	}
	return nil
}
