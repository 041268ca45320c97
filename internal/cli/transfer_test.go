package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"musicadmin/internal/apptest"
	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/cli"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
)

// xferResult is what one run of app dump, load or copy left.
type xferResult struct {
	code           int
	stdout, stderr string
}

// xferRun runs the command line with the config file of db and no terminal
// (or a terminal, with terminal set).
func xferRun(t *testing.T, db config.Database, terminal bool, args ...string) xferResult {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	body := "secret_key: \"" + strings.Repeat("k", 40) + "\"\ndatabase:\n  driver: " + db.Driver + "\n  dsn: \"" + db.DSN + "\"\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	env := cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		LookupEnv:  func(string) (string, bool) { return "", false },
		IsTerminal: func() bool { return terminal }, BcryptCost: bcrypt.MinCost,
		ReadPassword: func() (string, error) { t.Error("ReadPassword called"); return "", nil }}
	code := cli.Main(context.Background(), append([]string{"--config", path}, args...), env)
	return xferResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// wantXferError checks the contract for errors: the exit status, one line
// on stderr naming what went wrong.
func wantXferError(t *testing.T, r xferResult, code int, contains string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "app: ") || !strings.Contains(r.stderr, contains) {
		t.Errorf("stderr %q, want one line \"app: …%s…\"", r.stderr, contains)
	}
}

// xferHash is a bcrypt hash (cost 4) of "pw-ada": a dump holds hashes
// only, and load refuses anything else.
const xferHash = "$2a$04$OhwhcV37I3AB/Gu7fnx3aeMImUaHO57U5JJDw3njtcxUdbV1Cijsm"

// xferSource is a migrated SQLite database with a user, an album and two
// songs, one of them on the album.
func xferSource(t *testing.T) config.Database {
	t.Helper()
	ctx := context.Background()
	cfg := apptest.NewMigratedDatabase(t, apptest.SQLite)
	b := apptest.OpenBackend(t, cfg)
	if _, err := b.Accounts().CreateUser(ctx, auth.User{Username: "ada", FirstName: "Ada", LastName: "L",
		Email: "ada@example.com", PasswordHash: xferHash, Active: true}, auth.AdminRole); err != nil {
		t.Fatal(err)
	}
	album, err := b.Catalog().Albums.Create(ctx, datamodel.Values{"name": "Blue Train"})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []datamodel.Values{
		{"title": "Locomotion", "rating": int64(7), "album": &datamodel.Ref{ID: album}},
		{"title": "Loose", "rating": int64(0)},
	} {
		if _, err := b.Catalog().Songs.Create(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// xferCounts returns how many users, albums and songs cfg's database holds
// and the album of song "Locomotion" ("" for none or no such song).
func xferCounts(t *testing.T, cfg config.Database) (users, albums, songs int64, album string) {
	t.Helper()
	ctx := context.Background()
	b := apptest.OpenBackend(t, cfg)
	var err error
	if users, err = b.Accounts().CountUsers(ctx); err != nil {
		t.Fatal(err)
	}
	if albums, err = b.Catalog().Albums.Count(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if songs, err = b.Catalog().Songs.Count(ctx, nil); err != nil {
		t.Fatal(err)
	}
	err = b.Catalog().Songs.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		if ref, _ := r.Values["album"].(*datamodel.Ref); ref != nil && r.Values["title"] == "Locomotion" {
			album = ref.Label
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return users, albums, songs, album
}

// TestDumpAndLoadCommands: app dump writes the records to a file (with a
// summary and plain progress lines) or to stdout (the records alone, each
// line JSON); app load reads the file into an empty database of every
// backend, refuses it a second time (exit 1, one line, nothing more
// written) and refuses a malformed file naming its line.
func TestDumpAndLoadCommands(t *testing.T) {
	src := xferSource(t)
	file := filepath.Join(t.TempDir(), "dump.jsonl")
	r := xferRun(t, src, false, "dump", "--out", file)
	if r.code != 0 || !strings.Contains(r.stdout, "dumped 1 role, 1 user, 1 album, 2 songs to "+file) ||
		!strings.Contains(r.stdout, "dump: 100% (5/5 records)") || r.stderr != "" {
		t.Fatalf("dump --out: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("dump file: %v, mode %v; want 0600 (it holds password hashes)", err, fi.Mode().Perm())
	}
	written, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r = xferRun(t, src, false, "dump")
	if r.code != 0 || r.stderr != "" || r.stdout != string(written) {
		t.Errorf("dump to stdout: exit %d, stderr %q; stdout is not the file's records alone:\n%s", r.code, r.stderr, r.stdout)
	}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Errorf("dump to stdout: a line is not JSON: %q", sc.Text())
		}
	}

	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		dst := apptest.NewMigratedDatabase(t, b)
		r := xferRun(t, dst, false, "load", file)
		if r.code != 0 || !strings.Contains(r.stdout, "loaded 1 role, 1 user, 1 album, 2 songs") || r.stderr != "" {
			t.Fatalf("load: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
		}
		if users, albums, songs, album := xferCounts(t, dst); users != 1 || albums != 1 || songs != 2 || album != "Blue Train" {
			t.Errorf("after load: %d users, %d albums, %d songs, Locomotion on %q", users, albums, songs, album)
		}
		r = xferRun(t, dst, false, "load", file)
		wantXferError(t, r, 1, "not empty")
		if users, albums, songs, _ := xferCounts(t, dst); users != 1 || albums != 1 || songs != 2 {
			t.Errorf("after the refused load: %d users, %d albums, %d songs", users, albums, songs)
		}
	})

	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	lines := strings.SplitAfter(string(written), "\n")
	lines[3] = `{"model":"album","id":"1","fields":{"name":""}}` + "\n"
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := apptest.NewMigratedDatabase(t, apptest.SQLite)
	wantXferError(t, xferRun(t, dst, false, "load", bad), 1, "line 4: album 1: name is required")
	if users, albums, songs, _ := xferCounts(t, dst); users+albums+songs != 0 {
		t.Errorf("after the malformed file: %d users, %d albums, %d songs; want nothing written", users, albums, songs)
	}
}

// TestTransferUsage: bad usage is exit 2, a failure at run time exit 1,
// each one line on stderr.
func TestTransferUsage(t *testing.T) {
	src := xferSource(t)
	wantXferError(t, xferRun(t, src, false, "load"), 2, "exactly one FILE")
	wantXferError(t, xferRun(t, src, false, "load", "a", "b"), 2, "exactly one FILE")
	wantXferError(t, xferRun(t, src, false, "load", filepath.Join(t.TempDir(), "missing.jsonl")), 1, "missing.jsonl")
	wantXferError(t, xferRun(t, src, false, "dump", "extra"), 2, "unexpected argument")
	wantXferError(t, xferRun(t, src, false, "dump", "--out", filepath.Join(t.TempDir(), "no", "such", "dir")), 1, "dump:")
	wantXferError(t, xferRun(t, src, false, "copy"), 2, "--to-driver and --to-dsn")
	wantXferError(t, xferRun(t, src, false, "copy", "--to-driver", "sqlite"), 2, "--to-driver and --to-dsn")
	wantXferError(t, xferRun(t, src, false, "copy", "--to-driver", "oracle", "--to-dsn", "x"), 2, `unknown database driver "oracle"`)
	wantXferError(t, xferRun(t, src, false, "copy", "--to-driver", src.Driver, "--to-dsn", src.DSN), 2, "the configured database itself")
	wantXferError(t, xferRun(t, src, false, "copy", "--to-driver", "postgres", "--to-dsn",
		"postgres://nobody@127.0.0.1:1/none?sslmode=disable"), 2, "copy: target: ")
	// A database without the schema: create-db first, as run says.
	empty := apptest.NewDatabase(t, apptest.SQLite)
	wantXferError(t, xferRun(t, empty, false, "dump"), 2, "create-db")
	wantXferError(t, xferRun(t, empty, false, "load", filepath.Join(t.TempDir(), "x.jsonl")), 2, "create-db")
}

// TestCopyCommand: app copy brings a new, empty database of another backend
// to the latest schema and copies every record into it; a second copy into
// it is refused (exit 1) and writes nothing. On a terminal the progress is
// a bar on stderr, and stdout has only the summary.
func TestCopyCommand(t *testing.T) {
	src := xferSource(t)
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		dst := apptest.NewDatabase(t, b)
		r := xferRun(t, src, true, "copy", "--to-driver", dst.Driver, "--to-dsn", dst.DSN)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "copied 1 role, 1 user, 1 album, 2 songs to "+dst.Driver) ||
			strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stderr, "load") {
			t.Fatalf("copy: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
		}
		if users, albums, songs, album := xferCounts(t, dst); users != 1 || albums != 1 || songs != 2 || album != "Blue Train" {
			t.Errorf("after copy: %d users, %d albums, %d songs, Locomotion on %q", users, albums, songs, album)
		}
		if err := backend.Ready(context.Background(), apptest.OpenBackend(t, dst)); err != nil {
			t.Errorf("target after copy: %v", err)
		}
		wantXferError(t, xferRun(t, src, false, "copy", "--to-driver", dst.Driver, "--to-dsn", dst.DSN), 1, "not empty")
		if users, albums, songs, _ := xferCounts(t, dst); users != 1 || albums != 1 || songs != 2 {
			t.Errorf("after the refused copy: %d users, %d albums, %d songs", users, albums, songs)
		}
	})
}

// TestDumpKeepsSecrets is SECURITY-TESTS 68: the dump file is readable by
// its owner only, even when it replaces a file others could read; it holds
// the password hash as stored and no password; a dump edited to hold a
// password in clear is refused by load (exit 1, the line named, nothing
// written); and a database whose stored hash is not a bcrypt hash is not
// dumped at all.
func TestDumpKeepsSecrets(t *testing.T) {
	src := xferSource(t)
	file := filepath.Join(t.TempDir(), "dump.jsonl")
	if err := os.WriteFile(file, []byte("old, readable by all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := xferRun(t, src, false, "dump", "--out", file); r.code != 0 {
		t.Fatalf("dump: exit %d, stderr %q", r.code, r.stderr)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("dump over a 0644 file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	written, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(written), `"password_hash":"`+xferHash+`"`) || strings.Contains(string(written), "pw-ada") {
		t.Errorf("the dump does not hold the hash as stored, or holds the password:\n%s", written)
	}

	edited := filepath.Join(t.TempDir(), "edited.jsonl")
	if err := os.WriteFile(edited, []byte(strings.Replace(string(written), xferHash, "letmein", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := apptest.NewMigratedDatabase(t, apptest.SQLite)
	wantXferError(t, xferRun(t, dst, false, "load", edited), 1, "line 3: user 1: password_hash is not a bcrypt hash")
	if users, albums, songs, _ := xferCounts(t, dst); users+albums+songs != 0 {
		t.Errorf("after the refused load: %d users, %d albums, %d songs; want nothing written", users, albums, songs)
	}

	// A password stored in clear (written behind the app's back) stays
	// out of any file.
	b := apptest.OpenBackend(t, src)
	if err := b.Backend.(*backend.SQL).DB().Exec("UPDATE users SET password_hash = 'letmein'").Error; err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "clear.jsonl")
	wantXferError(t, xferRun(t, src, false, "dump", "--out", out), 1, `user "ada": the stored password hash is not a bcrypt hash`)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed dump left %s (%v)", out, err)
	}
	if r := xferRun(t, src, false, "dump"); r.code != 1 || strings.Contains(r.stdout, "letmein") {
		t.Errorf("dump to stdout: exit %d, and stdout holds the password: %v", r.code, strings.Contains(r.stdout, "letmein"))
	}
}
