package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/store"
)

// TestBackupSQLite: the check gets the copy, read-only, holding the
// source's rows; a file already at the path is ErrBackupExists and stays
// as it was; a failed check or a cancelled backup leaves no file.
func TestBackupSQLite(t *testing.T) {
	ctx := context.Background()
	db, _ := apptest.OpenMigrated(t, apptest.SQLite)
	if err := db.Exec("INSERT INTO albums (name) VALUES ('One'), ('Two')").Error; err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	good := filepath.Join(dir, "good.db")
	size, err := store.BackupSQLite(ctx, db, good, func(ctx context.Context, c *sql.DB) error {
		var n int
		if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM albums").Scan(&n); err != nil || n != 2 {
			t.Errorf("the copy holds %d albums (%v), want 2", n, err)
		}
		if _, err := c.ExecContext(ctx, "INSERT INTO albums (name) VALUES ('Three')"); err == nil {
			t.Error("the check could write to the copy, want it read-only")
		}
		return nil
	})
	if fi, statErr := os.Stat(good); err != nil || statErr != nil || fi.Size() != size || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup: %d bytes, %v; the file: %v, %v", size, err, fi, statErr)
	}

	if err := os.WriteFile(filepath.Join(dir, "taken.db"), []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := store.BackupSQLite(ctx, db, filepath.Join(dir, "taken.db"), nil); !errors.Is(err, store.ErrBackupExists) {
		t.Errorf("backup over a file: %v, want ErrBackupExists", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "taken.db")); string(data) != "keep me" {
		t.Errorf("the file there now holds %q", data)
	}

	refused := filepath.Join(dir, "refused.db")
	_, err = store.BackupSQLite(ctx, db, refused, func(context.Context, *sql.DB) error { return errors.New("not our schema") })
	if err == nil || !strings.Contains(err.Error(), "not our schema") {
		t.Errorf("backup with a failing check: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := store.BackupSQLite(cancelled, db, filepath.Join(dir, "cancelled.db"), nil); err == nil {
		t.Error("backup with its context done: no error")
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 2 {
		t.Errorf("the folder holds %v (%v), want good.db and taken.db: a failed backup leaves no file", entries, err)
	}
}
