package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"musicadmin/internal/apptest"
	"musicadmin/internal/auth"
	"musicadmin/internal/cli"
	"musicadmin/internal/config"
	"musicadmin/internal/store"
)

const testSecret = "cli-test-secret-key-0123456789abcdef"

// result is what one run of the command line left.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
}

// invocation is one run of cli.Main with a fake outside world.
type invocation struct {
	args     []string
	env      map[string]string // the whole environment: nothing leaks from the real one
	stdin    string
	terminal bool
	// passwords are what ReadPassword returns, in order.
	passwords []string
}

func (inv invocation) run(t *testing.T) (result, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	reads := 0
	env := cli.Env{
		Stdin:  strings.NewReader(inv.stdin),
		Stdout: &stdout, Stderr: &stderr,
		LookupEnv: func(k string) (string, bool) {
			v, ok := inv.env[k]
			return v, ok
		},
		IsTerminal: func() bool { return inv.terminal },
		// The lowest cost keeps hashing out of the suite's time;
		// TestProductionBcryptCost checks the real one.
		BcryptCost: bcrypt.MinCost,
		ReadPassword: func() (string, error) {
			reads++
			if !inv.terminal {
				t.Error("ReadPassword called without a terminal")
			}
			if reads > len(inv.passwords) {
				return "", io.EOF
			}
			return inv.passwords[reads-1], nil
		},
	}
	code := cli.Main(context.Background(), inv.args, env)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}, reads
}

// app runs the command line without a terminal.
func app(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	r, _ := invocation{args: args, env: env}.run(t)
	return r
}

// writeConfig writes a production-mode config file for db and returns its
// path.
func writeConfig(t *testing.T, db config.Database) string {
	t.Helper()
	body, err := yaml.Marshal(map[string]any{
		"secret_key": testSecret,
		"database":   map[string]string{"driver": db.Driver, "dsn": db.DSN},
		"server":     map[string]string{"addr": "127.0.0.1:0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func openDB(t *testing.T, db config.Database) *gorm.DB {
	t.Helper()
	g, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := g.DB()
	t.Cleanup(func() { sqlDB.Close() })
	return g
}

// wantOneLineError checks the contract for errors: exit status code, one
// line on stderr, nothing on stdout, no panic or stack trace.
func wantOneLineError(t *testing.T, r result, code int, contains string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d\n%s", r.code, code, r)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") || !strings.HasPrefix(r.stderr, "app: ") {
		t.Errorf("stderr is not one line starting with \"app: \": %q", r.stderr)
	}
	for _, bad := range []string{"panic", "goroutine ", ".go:"} {
		if strings.Contains(r.stderr, bad) {
			t.Errorf("stderr holds %q: %q", bad, r.stderr)
		}
	}
	if !strings.Contains(r.stderr, contains) {
		t.Errorf("stderr %q does not mention %q", r.stderr, contains)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := app(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, cli.Version) || r.stderr != "" {
			t.Errorf("app %v:\n%s", args, r)
		}
	}
	// version needs no configuration at all.
	if r := app(t, nil, "--config", filepath.Join(t.TempDir(), "missing.yaml"), "version"); r.code != 0 {
		t.Errorf("version with a missing config file:\n%s", r)
	}
}

// commandsIn returns the command names listed under "Available Commands:".
func commandsIn(help string) []string {
	_, list, ok := strings.Cut(help, "Available Commands:\n")
	if !ok {
		return nil
	}
	var names []string
	for _, line := range strings.Split(list, "\n") {
		if strings.TrimSpace(line) == "" {
			break
		}
		names = append(names, strings.Fields(line)[0])
	}
	return names
}

// TestHelpOnEveryCommand runs --help (and -h) on every command the root and
// db list, and checks the contract's commands are all there.
func TestHelpOnEveryCommand(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml") // help needs no config
	root := app(t, nil, "--config", missing, "--help")
	if root.code != 0 || root.stderr != "" {
		t.Fatalf("app --help:\n%s", root)
	}
	top := commandsIn(root.stdout)
	for _, want := range []string{"create-db", "create-admin", "run", "db", "version"} {
		if !slices.Contains(top, want) {
			t.Errorf("app --help does not list %q: %v", want, top)
		}
	}
	db := app(t, nil, "db", "--help")
	sub := commandsIn(db.stdout)
	for _, want := range []string{"upgrade", "downgrade", "status", "new"} {
		if !slices.Contains(sub, want) {
			t.Errorf("app db --help does not list %q: %v", want, sub)
		}
	}
	paths := [][]string{{}}
	for _, c := range top {
		if c != "help" && c != "completion" {
			paths = append(paths, []string{c})
		}
	}
	for _, c := range sub {
		if c != "help" {
			paths = append(paths, []string{"db", c})
		}
	}
	for _, path := range paths {
		for _, flag := range []string{"--help", "-h"} {
			args := append(append([]string{"--config", missing}, path...), flag)
			r := app(t, nil, args...)
			usage := strings.TrimSpace("app " + strings.Join(path, " "))
			if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Usage:\n  "+usage) {
				t.Errorf("app %v:\n%s", args, r)
			}
		}
	}
	// With no command at all the help is shown, and nothing is done.
	if r := app(t, nil, "--config", missing); r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
		t.Errorf("app with no command:\n%s", r)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "migrations", "sqlite"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "migrations", "mysql"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"create-db", "--force"}, "force"},
		{[]string{"version", "extra"}, "extra"},
		{[]string{"create-db", "extra"}, "extra"},
		{[]string{"run", "--addr"}, "addr"},
		{[]string{"db"}, "subcommand"},
		{[]string{"db", "sideways"}, "sideways"},
		{[]string{"db", "new"}, "NAME"},
		{[]string{"db", "new", "a", "b"}, "NAME"},
		{[]string{"db", "new", "Bad Name!"}, "bad name!"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			wantOneLineError(t, app(t, nil, tt.args...), cli.ExitUsage, tt.want)
		})
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "migrations", "sqlite")); len(entries) != 0 {
		t.Errorf("a refused db new wrote files: %v", entries)
	}
}

// TestConfigErrors checks every command that needs the configuration: a bad
// one is one line on stderr and exit status 2, with no password from the DSN.
func TestConfigErrors(t *testing.T) {
	const password = "Sup3rS3cretPw"
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := func(driver, dsn string) string {
		return fmt.Sprintf("secret_key: %s\ndatabase:\n  driver: %s\n  dsn: %q\n", testSecret, driver, dsn)
	}
	type tc struct {
		name   string
		config string
		env    map[string]string
		want   string
	}
	cases := []tc{
		{"missing file", filepath.Join(dir, "nope.yaml"), nil, "cannot read"},
		{"bad YAML", write("bad.yaml", "database: [oops\n"), nil, "bad YAML"},
		{"unknown key", write("typo.yaml", good("sqlite", "x.db")+"sever:\n  addr: x\n"), nil, "sever"},
		{"unknown driver", write("oracle.yaml", good("oracle", "x")), nil, "unknown database driver"},
		{"unknown driver from env", write("ok.yaml", good("sqlite", filepath.Join(dir, "ok.db"))),
			map[string]string{"APP_DATABASE_DRIVER": "oracle"}, "unknown database driver"},
		{"empty secret outside dev", write("nokey.yaml", "database:\n  driver: sqlite\n  dsn: x.db\n"), nil, "secret_key is empty"},
		{"short secret outside dev", write("short.yaml", "secret_key: tooshort\n"), nil, "shorter than 32"},
		{"short secret from env", write("ok2.yaml", good("sqlite", filepath.Join(dir, "ok.db"))),
			map[string]string{"APP_SECRET_KEY": "tooshort"}, "shorter than 32"},
		{"unreachable sqlite", write("nodir.yaml", good("sqlite", filepath.Join(dir, "no", "such", "dir", "x.db"))), nil, "sqlite database"},
		{"unreachable mysql", write("mysql.yaml", good("mysql", "music:"+password+"@tcp(127.0.0.1:1)/music")), nil, "mysql"},
		{"malformed mysql dsn", write("mysqlbad.yaml", good("mysql", "music:"+password+"@tcp(127.0.0.1:1)music")), nil, "mysql"},
		{"unreachable mysql from env", write("ok3.yaml", good("sqlite", filepath.Join(dir, "ok.db"))),
			map[string]string{"APP_DATABASE_DRIVER": "mysql", "APP_DATABASE_DSN": "root:" + password + "@tcp(127.0.0.1:1)/x"}, "mysql"},
		{"unreachable postgres", write("pg.yaml", good("postgres", "postgres://music:"+password+"@127.0.0.1:1/music?sslmode=disable")), nil, "postgres"},
		{"malformed postgres dsn", write("pgbad.yaml", good("postgres", "postgres://music:"+password+"@127.0.0.1:port/music")), nil, "postgres"},
		{"unreachable postgres, key=value dsn", write("pgkv.yaml", good("postgres", "host=127.0.0.1 port=1 user=music password="+password+" dbname=music")), nil, "postgres"},
		{"unreachable postgres from env", write("ok4.yaml", good("sqlite", filepath.Join(dir, "ok.db"))),
			map[string]string{"APP_DATABASE_DRIVER": "postgres", "APP_DATABASE_DSN": "postgres://root:" + password + "@127.0.0.1:1/x"}, "postgres"},
		{"mongodb dsn without a database", write("mongonodb.yaml", good("mongodb", "mongodb://music:"+password+"@127.0.0.1:27017/")),
			nil, "names no database"},
		{"malformed mongodb dsn", write("mongobad.yaml", good("mongodb", "mongodb://music:"+password+"@127.0.0.1:port/music")),
			nil, "not a valid connection string"},
		{"not a mongodb url", write("mongohttp.yaml", good("mongodb", "http://music:"+password+"@127.0.0.1/music")),
			nil, "not a valid connection string"},
		{"unreachable mongodb", write("mongo.yaml", good("mongodb",
			"mongodb://music:"+password+"@127.0.0.1:1/music?serverSelectionTimeoutMS=300&connectTimeoutMS=300")), nil, "mongodb unreachable"},
		{"unreachable mongodb from env", write("ok5.yaml", good("sqlite", filepath.Join(dir, "ok.db"))),
			map[string]string{"APP_DATABASE_DRIVER": "mongodb",
				"APP_DATABASE_DSN": "mongodb://root:" + password + "@127.0.0.1:1/x?serverSelectionTimeoutMS=300"}, "mongodb unreachable"},
	}
	if mysqlUp() {
		// A real server refusing the password: its error names the user,
		// never the password.
		cases = append(cases, tc{"mysql wrong password", write("denied.yaml", good("mysql", "root:"+password+"@tcp(127.0.0.1:3306)/mysql")), nil, "Access denied"})
	}
	if serverUp("APP_TEST_POSTGRES_DSN", "127.0.0.1:5432") {
		// A real server refusing an unknown user: its error names the
		// user, never the password.
		cases = append(cases, tc{"postgres unknown user", write("pgdenied.yaml",
			good("postgres", "postgres://no_such_user_x:"+password+"@127.0.0.1:5432/postgres?sslmode=disable")), nil, "no_such_user_x"})
	}
	// The DSN's own timeout bounds the wait for a MongoDB server that is
	// not there.
	bounded := map[string]time.Duration{"unreachable mongodb": 3 * time.Second, "unreachable mongodb from env": 3 * time.Second}
	commands := [][]string{
		{"create-db"},
		{"db", "upgrade"},
		{"db", "downgrade"},
		{"db", "status"},
		{"create-admin", "--username", "u", "--firstname", "F", "--lastname", "L", "--email", "u@example.com", "--password", "pw"},
		{"run", "--addr", "127.0.0.1:0"},
	}
	for _, c := range cases {
		for _, cmd := range commands {
			t.Run(c.name+"/"+strings.Join(cmd[:min(2, len(cmd))], " "), func(t *testing.T) {
				start := time.Now()
				r := app(t, c.env, append([]string{"--config", c.config}, cmd...)...)
				if within, ok := bounded[c.name]; ok && time.Since(start) > within {
					t.Errorf("took %v, want at most %v", time.Since(start), within)
				}
				wantOneLineError(t, r, cli.ExitUsage, c.want)
				if strings.Contains(r.stderr, password) {
					t.Errorf("stderr reveals the DSN password: %q", r.stderr)
				}
				if r.stdout != "" {
					t.Errorf("stdout = %q, want nothing", r.stdout)
				}
			})
		}
	}
}

// mysqlUp reports whether the test MySQL server answers at its default
// address, without skipping anything.
func mysqlUp() bool { return serverUp("APP_TEST_MYSQL_DSN", "127.0.0.1:3306") }

// serverUp reports whether a test database server answers at its default
// address, unless env names another server: the cases that need a real
// server assume the default one.
func serverUp(env, addr string) bool {
	if os.Getenv(env) != "" {
		return false
	}
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// TestConfigSources checks where the config file comes from: --config, then
// APP_CONFIG, then ./config.yaml.
func TestConfigSources(t *testing.T) {
	db := apptest.NewDatabase(t, apptest.SQLite)
	path := writeConfig(t, db)
	missing := filepath.Join(t.TempDir(), "missing.yaml")

	if r := app(t, map[string]string{"APP_CONFIG": path}, "create-db"); r.code != 0 {
		t.Errorf("APP_CONFIG not used:\n%s", r)
	}
	r := app(t, map[string]string{"APP_CONFIG": path}, "--config", missing, "db", "status")
	wantOneLineError(t, r, cli.ExitUsage, "missing.yaml")

	dir := t.TempDir()
	t.Chdir(dir)
	wantOneLineError(t, app(t, nil, "db", "status"), cli.ExitUsage, "config.yaml")
	body, _ := os.ReadFile(path)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := app(t, nil, "db", "status"); r.code != 0 || !strings.Contains(r.stdout, "applied") {
		t.Errorf("./config.yaml not used:\n%s", r)
	}
	// Environment overrides reach the commands: the DSN from APP_DATABASE_DSN.
	other := apptest.NewDatabase(t, apptest.SQLite)
	r = app(t, map[string]string{"APP_DATABASE_DSN": other.DSN}, "db", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "pending") {
		t.Errorf("APP_DATABASE_DSN not used (the other database is empty):\n%s", r)
	}
}

var statusLine = regexp.MustCompile(`(?m)^(applied|pending)\s+(\d{5}) (\S+)$`)

func statusOf(t *testing.T, path string) map[string]string {
	t.Helper()
	r := app(t, nil, "--config", path, "db", "status")
	if r.code != 0 {
		t.Fatalf("db status:\n%s", r)
	}
	states := map[string]string{}
	for _, m := range statusLine.FindAllStringSubmatch(r.stdout, -1) {
		states[m[2]] = m[1]
	}
	if len(states) == 0 {
		t.Fatalf("db status lists nothing:\n%s", r)
	}
	return states
}

func TestCreateDBIdempotent(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		dbCfg := apptest.NewDatabase(t, b)
		path := writeConfig(t, dbCfg)
		first := app(t, nil, "--config", path, "create-db")
		if first.code != 0 || !regexp.MustCompile(`database at version [1-9]\d* \([1-9]\d* migration\(s\) applied\)`).MatchString(first.stdout) {
			t.Fatalf("first create-db:\n%s", first)
		}
		stored := apptest.Stored(t, dbCfg)
		stored.InsertAlbum("Kept")
		for range 2 {
			again := app(t, nil, "--config", path, "create-db")
			if again.code != 0 || !strings.Contains(again.stdout, "(0 migration(s) applied)") {
				t.Errorf("create-db again:\n%s", again)
			}
		}
		if albums := stored.Albums(); len(albums) != 1 || albums[0].Name != "Kept" {
			t.Errorf("create-db again lost data: albums %v", albums)
		}
		for v, state := range statusOf(t, path) {
			if state != "applied" {
				t.Errorf("migration %s is %s after create-db", v, state)
			}
		}
	})
}

// TestDBUpgradeDowngradeStatus walks the SQL migrations up and down, table
// by table. SQL only: MongoDB's schema has one version and no way down
// (TestDBMongoDB).
func TestDBUpgradeDowngradeStatus(t *testing.T) {
	apptest.ForEachSQLBackend(t, func(t *testing.T, b apptest.Backend) {
		dbCfg := apptest.NewDatabase(t, b)
		path := writeConfig(t, dbCfg)
		before := statusOf(t, path)
		for v, state := range before {
			if state != "pending" {
				t.Errorf("migration %s is %s on an empty database", v, state)
			}
		}
		total := len(before)

		if r := app(t, nil, "--config", path, "db", "upgrade"); r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("(%d migration(s) applied)", total)) {
			t.Fatalf("db upgrade:\n%s", r)
		}
		db := openDB(t, dbCfg)
		if !db.Migrator().HasTable(&store.Song{}) {
			t.Fatal("no songs table after db upgrade")
		}
		for v, state := range statusOf(t, path) {
			if state != "applied" {
				t.Errorf("migration %s is %s after upgrade", v, state)
			}
		}

		// Newest first, by number: versions need not be contiguous (a
		// branch may number its migration after one yet to merge).
		versions := slices.Sorted(maps.Keys(before))
		for i := len(versions) - 1; i >= 0; i-- {
			v, _ := strconv.Atoi(versions[i])
			r := app(t, nil, "--config", path, "db", "downgrade")
			if r.code != 0 || r.stdout != fmt.Sprintf("downgrade: rolled back version %d\n", v) {
				t.Fatalf("db downgrade %d:\n%s", v, r)
			}
		}
		if db.Migrator().HasTable(&store.Song{}) || db.Migrator().HasTable(&store.User{}) {
			t.Error("tables remain after every downgrade")
		}
		if r := app(t, nil, "--config", path, "db", "downgrade"); r.code != 0 || !strings.Contains(r.stdout, "nothing to roll back") {
			t.Errorf("db downgrade on an empty schema:\n%s", r)
		}
		if r := app(t, nil, "--config", path, "db", "upgrade"); r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("(%d migration(s) applied)", total)) {
			t.Fatalf("db upgrade again:\n%s", r)
		}
		if !db.Migrator().HasTable(&store.Song{}) {
			t.Error("no songs table after upgrading again")
		}
	})
}

// TestDBMongoDB: db status, upgrade and downgrade on MongoDB, whose schema
// is its collections' indexes and a recorded version: status lists the
// version as on SQL, upgrade applies it once, and downgrade, which would
// drop every collection, is refused with one line and exit 1 (nothing to
// roll back before the first upgrade).
func TestDBMongoDB(t *testing.T) {
	b := apptest.MongoDB
	apptest.RequireBackend(t, b)
	dbCfg := apptest.NewDatabase(t, b)
	path := writeConfig(t, dbCfg)
	before := statusOf(t, path)
	if len(before) == 0 || before["00001"] != "pending" {
		t.Errorf("status of an empty database = %v, want 00001 pending", before)
	}
	if r := app(t, nil, "--config", path, "db", "downgrade"); r.code != 0 || r.stdout != "downgrade: nothing to roll back\n" {
		t.Errorf("db downgrade at version 0:\n%s", r)
	}
	if r := app(t, nil, "--config", path, "db", "upgrade"); r.code != 0 ||
		!strings.Contains(r.stdout, fmt.Sprintf("(%d migration(s) applied)", len(before))) {
		t.Fatalf("db upgrade:\n%s", r)
	}
	for v, state := range statusOf(t, path) {
		if state != "applied" {
			t.Errorf("version %s is %s after upgrade", v, state)
		}
	}
	if r := app(t, nil, "--config", path, "db", "upgrade"); r.code != 0 || !strings.Contains(r.stdout, "(0 migration(s) applied)") {
		t.Errorf("db upgrade again:\n%s", r)
	}
	stored := apptest.Stored(t, dbCfg)
	stored.InsertAlbum("Survivor")
	r := app(t, nil, "--config", path, "db", "downgrade")
	wantOneLineError(t, r, cli.ExitFailure, "no down migration")
	if r.stdout != "" {
		t.Errorf("a refused downgrade printed %q", r.stdout)
	}
	for v, state := range statusOf(t, path) {
		if state != "applied" {
			t.Errorf("version %s is %s after a refused downgrade", v, state)
		}
	}
	if albums := stored.Albums(); len(albums) != 1 {
		t.Errorf("a refused downgrade touched the data: albums %v", albums)
	}
}

func TestDBNew(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"sqlite", "mysql", "postgres"} {
		if err := os.MkdirAll(filepath.Join(dir, "migrations", d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "migrations", d, "00001_init.sql"), []byte("-- +goose Up\n-- +goose Down\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	// db new needs no configuration or database.
	r := app(t, nil, "--config", filepath.Join(dir, "missing.yaml"), "db", "new", "add_genre")
	if r.code != 0 {
		t.Fatalf("db new:\n%s", r)
	}
	for _, d := range []string{"sqlite", "mysql", "postgres"} {
		p := filepath.Join("migrations", d, "00002_add_genre.sql")
		body, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("db new did not write %s: %v", p, err)
			continue
		}
		if !strings.Contains(string(body), "-- +goose Up") || !strings.Contains(string(body), "-- +goose Down") {
			t.Errorf("%s lacks the goose sections:\n%s", p, body)
		}
		if !strings.Contains(r.stdout, "created "+p+"\n") {
			t.Errorf("db new does not report %s:\n%s", p, r)
		}
	}
	// Outside a source tree it is a usage error, and writes nothing.
	t.Chdir(t.TempDir())
	wantOneLineError(t, app(t, nil, "db", "new", "x"), cli.ExitUsage, "migrations")
}

func adminFlags(username, email, password string) []string {
	return []string{"create-admin", "--username", username, "--firstname", "Ada", "--lastname", "Lovelace",
		"--email", email, "--password", password}
}

func TestCreateAdmin(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		dbCfg := apptest.NewDatabase(t, b)
		path := writeConfig(t, dbCfg)
		// Before create-db: a usage error naming it, as create-user's.
		r := app(t, nil, append([]string{"--config", path}, adminFlags("ada", "ada@example.com", "pw")...)...)
		wantOneLineError(t, r, cli.ExitUsage, "create-db")
		if r := app(t, nil, "--config", path, "create-db"); r.code != 0 {
			t.Fatalf("create-db:\n%s", r)
		}
		stored := apptest.Stored(t, dbCfg)
		// Exactly 72 bytes, bcrypt's limit: accepted, and all of it counts.
		password := "Plain-Text-Pa55word!" + strings.Repeat("x", 72-20)

		r = app(t, nil, append([]string{"--config", path}, adminFlags("  ada ", "ada@example.com", password)...)...)
		if r.code != 0 || r.stdout != "Admin user \"ada\" created.\n" || r.stderr != "" {
			t.Fatalf("create-admin:\n%s", r)
		}
		users := stored.Users()
		if len(users) != 1 {
			t.Fatalf("%d users, want 1", len(users))
		}
		u := users[0]
		if u.Username != "ada" || u.FirstName != "Ada" || u.LastName != "Lovelace" || u.Email != "ada@example.com" || !u.Active {
			t.Errorf("stored user = %+v", u)
		}
		if !slices.Equal(u.Roles, []string{auth.AdminRole}) {
			t.Errorf("roles = %q, want %q", u.Roles, auth.AdminRole)
		}
		if cost, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil || cost != bcrypt.MinCost {
			t.Errorf("password hash %q: cost %d (%v), want the Env's %d", u.PasswordHash, cost, err, bcrypt.MinCost)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)); err != nil {
			t.Errorf("stored hash does not match the password: %v", err)
		}
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password[:71])) == nil {
			t.Error("the 72nd byte of the password does not count")
		}
		if strings.Contains(r.stdout+r.stderr, password) {
			t.Error("create-admin printed the password")
		}
		if b.Driver == config.DriverSQLite {
			// Nowhere in the database files, WAL included.
			files, _ := filepath.Glob(dbCfg.DSN + "*")
			if len(files) == 0 {
				t.Fatal("no database files found")
			}
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(data, []byte(password)) {
					t.Errorf("%s holds the plaintext password", filepath.Base(f))
				}
			}
		} else {
			for _, u := range stored.Users() {
				if slices.Contains([]string{u.Username, u.FirstName, u.LastName, u.Email, u.PasswordHash}, password) {
					t.Error("the plaintext password is stored")
				}
			}
		}

		// A taken username (after trimming): exit 1, nothing written.
		r = app(t, nil, append([]string{"--config", path}, adminFlags(" ada", "other@example.com", "another-password")...)...)
		wantOneLineError(t, r, cli.ExitFailure, "already exists")
		if n := len(stored.Users()); n != 1 {
			t.Errorf("%d users after duplicates, want 1", n)
		}

		// Bad input: exit 2, nothing written, before any hashing.
		for _, tt := range []struct {
			name                      string
			username, email, password string
			want                      string
		}{
			{"malformed email", "bob", "not-an-email", "pw", "email"},
			{"email with a display name", "bob", "Bob <bob@example.com>", "pw", "email"},
			{"email with two ats", "bob", "bob@@example.com", "pw", "email"},
			{"empty email", "bob", "", "pw", "email"},
			{"empty password", "bob", "bob@example.com", "", "password is empty"},
			{"password over 72 bytes", "bob", "bob@example.com", strings.Repeat("p", 73), "72 bytes"},
			{"password over 72 bytes in multi-byte characters", "bob", "bob@example.com", strings.Repeat("é", 37), "72 bytes"},
			{"blank username", "   ", "bob@example.com", "pw", "username"},
			{"username over 64 characters", strings.Repeat("u", 65), "bob@example.com", "pw", "username"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := app(t, nil, append([]string{"--config", path}, adminFlags(tt.username, tt.email, tt.password)...)...)
				wantOneLineError(t, r, cli.ExitUsage, tt.want)
			})
		}
		if n := len(stored.Users()); n != 1 {
			t.Errorf("%d users after refused input, want 1", n)
		}
	})
}

// TestProductionBcryptCost: the real environment hashes at auth.DefaultCost,
// 12. It is the one test that pays for that cost; the others lower it.
func TestProductionBcryptCost(t *testing.T) {
	if auth.DefaultCost != 12 {
		t.Errorf("auth.DefaultCost = %d, want 12", auth.DefaultCost)
	}
	dbCfg := apptest.NewDatabase(t, apptest.SQLite)
	path := writeConfig(t, dbCfg)
	if r := app(t, nil, "--config", path, "create-db"); r.code != 0 {
		t.Fatalf("create-db:\n%s", r)
	}
	var stdout, stderr bytes.Buffer
	env := cli.DefaultEnv()
	env.Stdin, env.Stdout, env.Stderr = strings.NewReader(""), &stdout, &stderr
	env.LookupEnv = func(string) (string, bool) { return "", false }
	env.IsTerminal = func() bool { return false }
	args := append([]string{"--config", path}, adminFlags("prod", "prod@example.com", "production-password")...)
	if code := cli.Main(context.Background(), args, env); code != cli.ExitOK {
		t.Fatalf("create-admin: exit %d\n%s", code, stderr.String())
	}
	var u store.User
	if err := openDB(t, dbCfg).Where("username = ?", "prod").First(&u).Error; err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil || cost != auth.DefaultCost {
		t.Errorf("DefaultEnv hashes at cost %d (%v), want %d", cost, err, auth.DefaultCost)
	}
}

func TestCreateAdminPrompts(t *testing.T) {
	dbCfg := apptest.NewDatabase(t, apptest.SQLite)
	path := writeConfig(t, dbCfg)
	if r := app(t, nil, "--config", path, "create-db"); r.code != 0 {
		t.Fatalf("create-db:\n%s", r)
	}
	db := openDB(t, dbCfg)
	base := []string{"--config", path, "create-admin"}

	t.Run("no terminal: missing values are an error", func(t *testing.T) {
		for _, args := range [][]string{
			{"--username", "u", "--firstname", "F", "--lastname", "L", "--email", "u@example.com"},
			{"--password", "pw"},
			{},
		} {
			r, reads := invocation{args: append(base, args...), stdin: "u\nF\nL\nu@example.com\n"}.run(t)
			wantOneLineError(t, r, cli.ExitUsage, "no terminal")
			if reads != 0 {
				t.Errorf("ReadPassword called %d times without a terminal", reads)
			}
			if !args2Missing(r.stderr, args) {
				t.Errorf("stderr does not name every missing flag: %q", r.stderr)
			}
		}
	})

	t.Run("terminal: every missing value asked, the password hidden and twice", func(t *testing.T) {
		const pw = "prompted-Secret-99"
		r, reads := invocation{
			args: append(base, "--lastname", "Ed"), terminal: true, passwords: []string{pw, pw},
			stdin: "  asked \nAsk\nasked@example.com\n",
		}.run(t)
		if r.code != 0 {
			t.Fatalf("create-admin with values prompted:\n%s", r)
		}
		if reads != 2 {
			t.Errorf("ReadPassword called %d times, want 2 (password and confirmation)", reads)
		}
		for _, prompt := range []string{"Username: ", "First name: ", "Email: ", "Password: ", "Repeat"} {
			if !strings.Contains(r.stdout, prompt) {
				t.Errorf("no %q prompt in %q", prompt, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "Last name: ") {
			t.Errorf("asked for --lastname, which was given: %q", r.stdout)
		}
		if strings.Contains(r.stdout+r.stderr, pw) {
			t.Error("the password was echoed")
		}
		var u store.User
		if err := db.Where("username = ?", "asked").First(&u).Error; err != nil {
			t.Fatalf("prompted user not stored: %v", err)
		}
		if u.FirstName != "Ask" || u.LastName != "Ed" || u.Email != "asked@example.com" {
			t.Errorf("prompted user = %+v", u)
		}
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) != nil {
			t.Error("the stored hash is not of the prompted password")
		}
	})

	t.Run("terminal: refusals", func(t *testing.T) {
		flags := []string{"--username", "nope", "--firstname", "N", "--lastname", "O", "--email", "nope@example.com"}
		for _, tt := range []struct {
			name      string
			passwords []string
			want      string
		}{
			{"confirmation differs", []string{"one-password", "another-password"}, "differ"},
			{"both empty", []string{"", ""}, "password is empty"},
			{"too long", []string{strings.Repeat("z", 73), strings.Repeat("z", 73)}, "72 bytes"},
			{"terminal closed", nil, "reading password"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r, _ := invocation{args: append(base, flags...), terminal: true, passwords: tt.passwords}.run(t)
				if r.code != cli.ExitUsage || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("want exit 2 mentioning %q:\n%s", tt.want, r)
				}
			})
		}
		var n int64
		db.Model(&store.User{}).Where("username = ?", "nope").Count(&n)
		if n != 0 {
			t.Error("a refused prompt created the user")
		}
	})
}

// args2Missing reports whether msg names every create-admin flag absent from
// args.
func args2Missing(msg string, args []string) bool {
	for _, f := range []string{"--username", "--firstname", "--lastname", "--email", "--password"} {
		if !slices.Contains(args, f) && !strings.Contains(msg, f) {
			return false
		}
	}
	return true
}

// startRun runs `app run` in the background over a migrated database and
// returns the address it serves on, a function that stops it (cancelling
// its context, as a signal does) and the exit status.
type running struct {
	addr   string
	cancel context.CancelFunc
	done   chan int
	stdout *apptest.SyncBuffer
	stderr *apptest.SyncBuffer
}

var servingAddr = regexp.MustCompile(`msg=serving addr=(\S+)`)

func startRun(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan int, 1), stdout: &apptest.SyncBuffer{}, stderr: &apptest.SyncBuffer{}}
	go func() {
		r.done <- cli.Main(ctx, args, cli.Env{
			Stdin: strings.NewReader(""), Stdout: r.stdout, Stderr: r.stderr,
			LookupEnv:    func(k string) (string, bool) { v, ok := env[k]; return v, ok },
			IsTerminal:   func() bool { return false },
			ReadPassword: func() (string, error) { return "", io.EOF },
			BcryptCost:   bcrypt.MinCost,
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			t.Error("app run did not stop")
		}
	})
	deadline := time.After(20 * time.Second)
	for {
		if m := servingAddr.FindStringSubmatch(r.stderr.String()); m != nil {
			r.addr = m[1]
			return r
		}
		select {
		case code := <-r.done:
			r.done <- code
			t.Fatalf("app run exited with %d before serving\nstdout: %s\nstderr: %s", code, r.stdout, r.stderr)
		case <-deadline:
			t.Fatalf("app run is not serving after 20 s\nstderr: %s", r.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (r *running) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.done:
		r.done <- code // for the cleanup
		return code
	case <-time.After(20 * time.Second):
		t.Fatal("app run did not stop within 20 s")
		return -1
	}
}

// busyPort holds a port on 127.0.0.1 until the test ends and returns it.
func busyPort(t *testing.T) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr)
}

func TestRun(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		dbCfg := apptest.NewDatabase(t, b)
		path := writeConfig(t, dbCfg)

		// Before create-db: a clear usage error, not a server over no tables.
		r := app(t, nil, "--config", path, "run", "--addr", "127.0.0.1:0")
		wantOneLineError(t, r, cli.ExitUsage, "create-db")

		if r := app(t, nil, "--config", path, "create-db"); r.code != 0 {
			t.Fatalf("create-db:\n%s", r)
		}

		// A port in use: exit 1, after no other output, and how to serve
		// on another port.
		busy := busyPort(t)
		r = app(t, nil, "--config", path, "run", "--addr", busy.String())
		next := "127.0.0.1:" + strconv.Itoa(busy.Port+1)
		wantOneLineError(t, r, cli.ExitFailure, busy.String()+" is in use by another program: "+
			"serve on another port with --addr "+next+" or APP_SERVER_ADDR="+next)

		// --addr wins over the configuration (here APP_SERVER_ADDR, busy).
		run := startRun(t, map[string]string{"APP_SERVER_ADDR": busy.String()}, "--config", path, "run", "--addr", "127.0.0.1:0")
		if run.addr == busy.String() {
			t.Fatalf("serving on the configured address, not --addr")
		}
		resp, err := http.Get("http://" + run.addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
			t.Errorf("/healthz = %d %q", resp.StatusCode, body)
		}
		resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get("http://" + run.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/login/") {
			t.Errorf("GET / anonymous = %d %q, want 302 to the login", resp.StatusCode, resp.Header.Get("Location"))
		}

		run.cancel()
		if code := run.wait(t); code != cli.ExitOK {
			t.Errorf("run exited %d after the stop, want 0\nstderr: %s", code, run.stderr)
		}
		if !run.stderr.Contains("msg=stopped") {
			t.Errorf("no stop logged:\n%s", run.stderr)
		}
		if conn, err := net.DialTimeout("tcp", run.addr, time.Second); err == nil {
			conn.Close()
			t.Error("still accepting connections after the stop")
		}
	})
}

func TestRunInitAdmin(t *testing.T) {
	dbCfg := apptest.NewDatabase(t, apptest.SQLite)
	path := writeConfig(t, dbCfg)
	if r := app(t, nil, "--config", path, "create-db"); r.code != 0 {
		t.Fatalf("create-db:\n%s", r)
	}
	// A port in use: nobody is created, no password printed.
	r := app(t, nil, "--config", path, "run", "--init-admin", "--addr", busyPort(t).String())
	wantOneLineError(t, r, cli.ExitFailure, "is in use by another program")

	run := startRun(t, nil, "--config", path, "run", "--init-admin", "--addr", "127.0.0.1:0")
	out := run.stdout.String()
	m := regexp.MustCompile(`created the user "admin" with the password (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no first-run password printed:\n%s", out)
	}
	// What to do next: log in at the address served, add users in the
	// app or with create-user (create-admin makes Admins only).
	for _, want := range []string{"Log in at http://" + run.addr + "/login/ as admin", "Security › List Users",
		"bin/app create-user ", "--role ReadOnly"} {
		if !strings.Contains(out, want) {
			t.Errorf("first-run message without %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "create-admin") || strings.Contains(out, "`app ") {
		t.Errorf("first-run message names create-admin or a binary that is not bin/app:\n%s", out)
	}
	if strings.Contains(run.stderr.String(), m[1]) {
		t.Error("the first-run password is in the log")
	}
	run.cancel()
	if code := run.wait(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	db := openDB(t, dbCfg)
	var u store.User
	if err := db.Where("username = ?", "admin").First(&u).Error; err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(m[1])) != nil {
		t.Error("the printed password does not log in")
	}
	// It is an Admin, created as create-user creates one: audited.
	var roles []string
	db.Raw("SELECT roles.name FROM user_roles JOIN roles ON roles.id = user_roles.role_id WHERE user_roles.user_id = ?", u.ID).Scan(&roles)
	if !slices.Equal(roles, []string{"Admin"}) {
		t.Errorf("the first admin's roles = %q, want [Admin]", roles)
	}
	var entries int64
	db.Raw("SELECT COUNT(*) FROM audit_log WHERE action = 'create' AND view_name = 'users' AND record_label = 'admin'").Scan(&entries)
	if entries != 1 {
		t.Errorf("%d audit entries for the first admin's creation, want 1", entries)
	}
	// Once a user exists, nothing more is created or printed.
	again := startRun(t, nil, "--config", path, "run", "--init-admin", "--addr", "127.0.0.1:0")
	again.cancel()
	if code := again.wait(t); code != 0 || strings.Contains(again.stdout.String(), "password") {
		t.Errorf("second --init-admin: exit %d, stdout %q", code, again.stdout)
	}
	var n int64
	db.Model(&store.User{}).Count(&n)
	if n != 1 {
		t.Errorf("%d users after a second --init-admin, want 1", n)
	}

	// The create-user line it printed works as written, its placeholders
	// filled in.
	line := regexp.MustCompile(`bin/app (create-user .*)`).FindStringSubmatch(out)
	if line == nil {
		t.Fatalf("no create-user line:\n%s", out)
	}
	fill := strings.NewReplacer(" U ", " ro ", " F ", " Rea ", " L ", " Only ", " E ", " ro@example.com ")
	args := append([]string{"--config", path}, strings.Fields(fill.Replace(line[1]))...)
	if r := app(t, nil, append(args, "--password", "read-only-password")...); r.code != 0 {
		t.Errorf("the printed create-user, filled in:\n%s", r)
	}
}

// TestSeed: seed needs the app's schema, as every command on the catalogue
// does, and says what it wrote.
func TestSeed(t *testing.T) {
	dbCfg := apptest.NewDatabase(t, apptest.SQLite)
	path := writeConfig(t, dbCfg)
	wantOneLineError(t, app(t, nil, "--config", path, "seed", "--albums", "2", "--songs", "5"), cli.ExitUsage, "create-db")
	wantOneLineError(t, app(t, nil, "--config", path, "seed", "--songs", "-1"), cli.ExitUsage, "negative")
	if r := app(t, nil, "--config", path, "create-db"); r.code != 0 {
		t.Fatalf("create-db:\n%s", r)
	}
	r := app(t, nil, "--config", path, "seed", "--albums", "2", "--songs", "5")
	if r.code != 0 || !strings.Contains(r.stdout, "seeded 2 albums and 5 songs") || r.stderr != "" {
		t.Fatalf("seed:\n%s", r)
	}
}
