package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	musicapp "musicadmin/internal/app"
	"musicadmin/internal/apptest"
	"musicadmin/internal/apptest/slow"
	"musicadmin/internal/audit"
	"musicadmin/internal/backend"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/seed"
)

// songWriter creates songs through the data layer, as the app's song form
// does (each with its audit entry, in one transaction on SQL), one after
// another until stopped, and keeps the titles committed, in order.
type songWriter struct {
	mu        sync.Mutex
	committed []string
	err       error
	stop      chan struct{}
	done      chan struct{}
}

// writerName is the user the writer's audit entries name.
const writerName = "writer"

func startWriter(b *musicapp.App) *songWriter {
	w := &songWriter{stop: make(chan struct{}), done: make(chan struct{})}
	ctx := audit.With(context.Background(), audit.Actor{Username: writerName, View: "songsview"})
	go func() {
		defer close(w.done)
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			title := fmt.Sprintf("written %06d", i)
			_, err := b.Catalog().Songs.Create(ctx, datamodel.Values{"title": title, "rating": int64(i % 10)})
			w.mu.Lock()
			if err != nil {
				w.err = err
			} else {
				w.committed = append(w.committed, title)
			}
			w.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return w
}

// titles returns the titles committed so far.
func (w *songWriter) titles() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.committed)
}

// waitFor waits until n songs are committed.
func (w *songWriter) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(slow.Scaled(30 * time.Second))
	for len(w.titles()) < n {
		w.mu.Lock()
		err := w.err
		w.mu.Unlock()
		if err != nil {
			t.Fatalf("the writer: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the writer committed %d songs in %s, want %d", len(w.titles()), slow.Scaled(30*time.Second), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// finish stops the writer and fails t if a write failed.
func (w *songWriter) finish(t *testing.T) {
	t.Helper()
	close(w.stop)
	<-w.done
	if w.err != nil {
		t.Errorf("a write failed while the backup ran: %v", w.err)
	}
}

// backedUp is what a backup holds of the writer's work: the ids of its
// songs by title, and the record ids of its audit entries of a create.
type backedUp struct {
	songs   map[string]string
	entries map[string]bool
}

// readBackup reads the writer's songs and entries from the backup file of
// a database of bk: a SQLite database (opened from a copy, as a restore
// would) or a dump.
func readBackup(t *testing.T, bk apptest.Backend, file string) backedUp {
	t.Helper()
	got := backedUp{songs: map[string]string{}, entries: map[string]bool{}}
	if bk.Driver != config.DriverSQLite {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct {
				Model  string
				ID     string
				Fields map[string]any
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("a line of the dump is not JSON: %v", err)
			}
			switch title, _ := line.Fields["title"].(string); {
			case line.Model == "song" && strings.HasPrefix(title, "written "):
				got.songs[title] = line.ID
			case line.Model == "audit_entry" && line.Fields["username"] == writerName && line.Fields["action"] == "create":
				got.entries[line.Fields["record_id"].(string)] = true
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	b := apptest.OpenBackend(t, restoreSQLite(t, file))
	var check []string
	if err := b.Backend.(*backend.SQL).DB().Raw("PRAGMA integrity_check").Scan(&check).Error; err != nil || !slices.Equal(check, []string{"ok"}) {
		t.Errorf("integrity_check of the backup: %q, %v", check, err)
	}
	err := b.Catalog().Songs.Each(context.Background(), datamodel.Query{}, func(r datamodel.Record) error {
		if title := r.Values["title"].(string); strings.HasPrefix(title, "written ") {
			got.songs[title] = r.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Audit().Entries().Each(context.Background(), datamodel.Query{}, func(r datamodel.Record) error {
		if r.Values["username"] == writerName && r.Values["action"] == "create" {
			got.entries[r.Values["record_id"].(string)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// restoreSQLite does what docs/operations.md tells an operator to do with
// a SQLite backup: put a copy of it where the database file goes (here a
// new one, with no -wal or -shm beside it). It returns that database.
func restoreSQLite(t *testing.T, file string) config.Database {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "app.db")
	in, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return config.Database{Driver: config.DriverSQLite, DSN: dst}
}

// TestBackupWhileWriting: app backup, run while another connection pool
// (the app serving) creates songs one after another, each with its audit
// entry, holds every song committed before it started, is written 0600,
// and leaves the writer unhindered (writes commit while it runs, none
// fails). On SQLite the file is a database that passes integrity_check;
// elsewhere a dump. Where the backup is one snapshot (SQLite's VACUUM INTO,
// the dump's one transaction on MySQL and PostgreSQL) every song it holds
// has its create entry and every such entry its song: no change without
// its entry, or the other way round, as a dump read table by table while
// writes go on would hold. On MongoDB it says it is not one snapshot.
func TestBackupWhileWriting(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, bk apptest.Backend) {
		cfg := apptest.NewMigratedDatabase(t, bk)
		b := apptest.OpenBackend(t, cfg)
		// Enough songs and entries that the backup takes a while to read
		// each: a dump read table by table, not in one snapshot, would
		// then hold entries of songs written after it read the songs.
		ctx := context.Background()
		if err := b.Seed(ctx, seed.Options{Albums: 100, Songs: 20000}, nil); err != nil {
			t.Fatal(err)
		}
		logins := make([]audit.Entry, 20000)
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range logins {
			logins[i] = audit.Entry{Time: at.Add(time.Duration(i) * time.Second), Username: "reader", Action: audit.ActionLogin}
		}
		if n, err := b.Audit().ImportEntries(ctx, logins); err != nil || n != len(logins) {
			t.Fatalf("audit entries: %d written, %v", n, err)
		}
		w := startWriter(b)
		w.waitFor(t, 10)
		before := w.titles()
		file := filepath.Join(t.TempDir(), "music.backup")
		r := xferRun(t, cfg, false, "backup", file)
		during := len(w.titles()) - len(before)
		w.finish(t)
		if r.code != 0 || r.stderr != "" || strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, "backup: wrote "+file+" (") {
			t.Fatalf("backup: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
		}
		what := map[string]string{config.DriverSQLite: "an online copy of the SQLite database, integrity_check ok",
			config.DriverMySQL:    "read in one snapshot; for a large database mysqldump --single-transaction",
			config.DriverPostgres: "read in one snapshot; for a large database pg_dump",
			config.DriverMongoDB:  "NOT one snapshot: stop writes while it runs, or use mongodump"}[bk.Driver]
		if !strings.Contains(r.stdout, what) {
			t.Errorf("backup says %q, want it to say %q", r.stdout, what)
		}
		t.Logf("%s: %d songs written during the backup; %s", bk.Name, during, strings.TrimSpace(r.stdout))
		if during == 0 {
			t.Errorf("no write committed while the backup ran: it held the writer up")
		}
		if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("backup file: %v, mode %v; want 0600 (it holds password hashes)", err, fi.Mode().Perm())
		}
		got := readBackup(t, bk, file)
		for _, title := range before {
			if got.songs[title] == "" {
				t.Fatalf("the backup misses %q, committed before it started (%d of %d there)", title, len(got.songs), len(before))
			}
		}
		if !b.Snapshots() {
			return
		}
		var songsAlone, entriesAlone []string
		for title, id := range got.songs {
			if !got.entries[id] {
				songsAlone = append(songsAlone, title)
			}
			delete(got.entries, id)
		}
		for id := range got.entries {
			entriesAlone = append(entriesAlone, id)
		}
		if len(songsAlone)+len(entriesAlone) > 0 {
			t.Errorf("not one snapshot: the backup holds %d songs without their create entry (%q…) and %d create entries of songs it does not hold (%q…)",
				len(songsAlone), songsAlone[:min(3, len(songsAlone))], len(entriesAlone), entriesAlone[:min(3, len(entriesAlone))])
		}
	})
}

// TestBackupNeverOverwrites is SECURITY-TESTS 72: app backup writes its
// file 0600 (above) and never over an existing one: a file with data, an
// empty file (which VACUUM INTO would take), a symbolic link (dangling
// too: its target is not created) are refused, exit 1 with one line, and
// left as they were; a FILE in a folder that is not there fails and
// creates nothing.
func TestBackupNeverOverwrites(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, bk apptest.Backend) {
		cfg := apptest.NewMigratedDatabase(t, bk)
		dir := t.TempDir()
		full, empty := filepath.Join(dir, "last-good.backup"), filepath.Join(dir, "empty.backup")
		if err := os.WriteFile(full, []byte("the last good backup"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(empty, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		link, dangling := filepath.Join(dir, "link.backup"), filepath.Join(dir, "dangling.backup")
		if err := os.Symlink(full, link); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(dir, "target"), dangling); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{full, empty, link, dangling} {
			wantXferError(t, xferRun(t, cfg, false, "backup", name), 1,
				name+" exists: a backup never writes over a file; name a new one")
		}
		if data, err := os.ReadFile(full); err != nil || string(data) != "the last good backup" {
			t.Errorf("the existing backup now holds %q (%v)", data, err)
		}
		for _, name := range []string{full, empty} {
			if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("%s: %v, mode %v; want it untouched", name, err, fi.Mode().Perm())
			}
		}
		if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
			t.Errorf("the empty file: %v, %d bytes; want it untouched", err, fi.Size())
		}
		if _, err := os.Lstat(filepath.Join(dir, "target")); !os.IsNotExist(err) {
			t.Errorf("the dangling link's target was created (%v)", err)
		}
		missing := filepath.Join(dir, "no", "such", "folder", "x.backup")
		wantXferError(t, xferRun(t, cfg, false, "backup", missing), 1, "no such file or directory")
		if _, err := os.Stat(filepath.Join(dir, "no")); !os.IsNotExist(err) {
			t.Errorf("a failed backup created %s (%v)", filepath.Join(dir, "no"), err)
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 4 {
			t.Errorf("the folder holds %d entries (%v), want the 4 it had", len(entries), err)
		}
		wantXferError(t, xferRun(t, cfg, false, "backup"), 2, "exactly one FILE")
	})
}

// TestBackupRestoreDrill is the restore drill of docs/operations.md on
// every backend: a database with roles holding permissions, users, tokens,
// a catalogue and an audit log is backed up, then restored as an operator
// would into a fresh database (SQLite: the backup file put in place of the
// database file; the others: create-db and app load of the dump), and
// holds the same roles, permissions, users, tokens, records and entries.
func TestBackupRestoreDrill(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, bk apptest.Backend) {
		src := apptest.NewMigratedDatabase(t, bk)
		b := apptest.OpenBackend(t, src)
		apptest.FillEverything(t, b, 20, 500)
		apptest.FillTokens(t, b)
		want := apptest.TakeContents(t, b)
		if len(want.Songs) < 500 || len(want.Users) < 4 || len(want.Tokens) < 2 || len(want.Entries) < 12 {
			t.Fatalf("filled %s, %d tokens", want, len(want.Tokens))
		}
		file := filepath.Join(t.TempDir(), "music.backup")
		if r := xferRun(t, src, false, "backup", file); r.code != 0 {
			t.Fatalf("backup: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
		}
		var dst config.Database
		if bk.Driver == config.DriverSQLite {
			dst = restoreSQLite(t, file)
		} else {
			dst = apptest.NewDatabase(t, bk)
			for _, args := range [][]string{{"create-db"}, {"load", file}} {
				if r := xferRun(t, dst, false, args...); r.code != 0 {
					t.Fatalf("%s: exit %d\nstdout %q\nstderr %q", args[0], r.code, r.stdout, r.stderr)
				}
			}
		}
		if r := xferRun(t, dst, false, "db", "status"); r.code != 0 || strings.Contains(r.stdout, "pending") {
			t.Errorf("db status of the restored database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		apptest.DiffContents(t, "after the restore", apptest.TakeContents(t, apptest.OpenBackend(t, dst)), want)
	})
}
