package opstest

// Private database servers: a MariaDB or PostgreSQL server of the test's
// own, in a temporary folder on a free loopback port, which the test may
// stop and start (an outage) without disturbing the shared servers the
// other tests use. Each runs as a child of the test process (killed with
// it: Pdeathsig) and is removed when the test ends.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
)

// DBServer is a database server of the test's own.
type DBServer struct {
	// Backend is apptest.MySQL or apptest.Postgres.
	Backend apptest.Backend
	// Addr is the loopback address it listens on, the same after a
	// restart.
	Addr string
	dir  string
	args []string // the server's command line
	cred *syscall.Credential
	log  *os.File
	cmd  *exec.Cmd
	done chan struct{}
}

// FreeLoopbackAddr returns 127.0.0.1:PORT with a port free a moment ago,
// for a process that must keep its address across restarts.
func FreeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// StartMariaDB starts a MariaDB server of the test's own (mariadbd, as
// root: --user=root). Without mariadbd, or not as root, t skips loudly
// (fails under CI=true).
func StartMariaDB(t testing.TB) *DBServer {
	t.Helper()
	NeedRoot(t, "a MariaDB server of the test's own")
	mariadbd := lookPath(t, "mariadbd", "/usr/sbin/mariadbd", "/usr/local/sbin/mariadbd")
	install := lookPath(t, "mariadb-install-db", "/usr/bin/mariadb-install-db")
	dir := serverDir(t, "opstest-mariadb-", nil)
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(install, "--no-defaults", "--datadir="+data, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	s := &DBServer{Backend: apptest.MySQL, Addr: FreeLoopbackAddr(t), dir: dir}
	_, port, _ := net.SplitHostPort(s.Addr)
	// Small and quick: the suite's databases hold a few thousand rows.
	s.args = []string{mariadbd, "--no-defaults", "--datadir=" + data, "--user=root",
		"--port=" + port, "--bind-address=127.0.0.1", "--skip-name-resolve",
		"--socket=" + filepath.Join(dir, "mysqld.sock"), "--pid-file=" + filepath.Join(dir, "mysqld.pid"),
		"--skip-log-bin", "--innodb-buffer-pool-size=32M", "--max-connections=500"}
	s.openLog(t)
	t.Cleanup(func() { s.stop(syscall.SIGKILL) })
	s.Start(t)
	return s
}

// StartPostgres starts a PostgreSQL server of the test's own (initdb and
// postgres run as the user postgres, which PostgreSQL requires). Without
// the binaries or that user, or not as root, t skips loudly (fails under
// CI=true).
func StartPostgres(t testing.TB) *DBServer {
	t.Helper()
	NeedRoot(t, "a PostgreSQL server of the test's own")
	bin := postgresBin(t)
	u, err := user.Lookup("postgres")
	if err != nil {
		Unavailable(t, fmt.Sprintf("no user postgres to run PostgreSQL as: %v", err))
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	dir := serverDir(t, "opstest-postgres-", cred)
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	s := &DBServer{Backend: apptest.Postgres, Addr: FreeLoopbackAddr(t), dir: dir, cred: cred}
	_, port, _ := net.SplitHostPort(s.Addr)
	// fsync off: the suite stops the server, it never crashes the machine.
	s.args = []string{filepath.Join(bin, "postgres"), "-D", data, "-p", port, "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300",
		"-c", "shared_buffers=32MB"}
	s.openLog(t)
	t.Cleanup(func() { s.stop(syscall.SIGKILL) })
	s.Start(t)
	return s
}

// postgresBin is the newest /usr/lib/postgresql/*/bin with initdb, or the
// folder of initdb on the PATH.
func postgresBin(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	Unavailable(t, "no PostgreSQL server binaries (initdb) for a server of the test's own")
	return ""
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// lookPath finds name on the PATH or at one of paths; missing, t skips
// loudly (fails under CI=true).
func lookPath(t testing.TB, name string, paths ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Unavailable(t, "no "+name+" for a database server of the test's own")
	return ""
}

// serverDir makes a temporary folder owned by cred's user (nil: the
// test's), removed when the test ends. Not t.TempDir: its parent is the
// test's alone (mode 0700), which another user cannot enter.
func serverDir(t testing.TB, prefix string, cred *syscall.Credential) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (s *DBServer) openLog(t testing.TB) {
	t.Helper()
	f, err := os.Create(filepath.Join(s.dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	s.log = f
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(f.Name()); err == nil {
				t.Logf("%s server log (last 4 KiB):\n%s", s.Backend.Name, tail(b, 4096))
			}
		}
		f.Close()
	})
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Running reports whether the server process runs.
func (s *DBServer) Running() bool {
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Start starts the server (again) and waits until it answers a query.
func (s *DBServer) Start(t testing.TB) {
	t.Helper()
	if s.Running() {
		t.Fatalf("%s server already running", s.Backend.Name)
	}
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = s.log, s.log
	// The server dies with the test process, whatever ends it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s server: %v", s.Backend.Name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := s.ping()
		if err == nil {
			return
		}
		if !s.Running() {
			t.Fatalf("%s server exited at start: %v", s.Backend.Name, cmd.ProcessState)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s server not answering 60 s after start: %v", s.Backend.Name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down cleanly (SIGTERM for MariaDB, a "fast"
// shutdown for PostgreSQL: connections are cut, committed work kept) and
// waits until it is gone and its port refuses connections.
func (s *DBServer) Stop(t testing.TB) {
	t.Helper()
	sig := syscall.SIGTERM
	if s.Backend.Driver == config.DriverPostgres {
		sig = syscall.SIGINT // PostgreSQL's fast shutdown
	}
	if !s.stop(sig) {
		t.Fatalf("%s server still running 60 s after %v", s.Backend.Name, sig)
	}
}

// Kill kills the server with SIGKILL, as a crash would (PostgreSQL and
// InnoDB recover from their logs at the next Start).
func (s *DBServer) Kill(t testing.TB) {
	t.Helper()
	if !s.stop(syscall.SIGKILL) {
		t.Fatalf("%s server still running after SIGKILL", s.Backend.Name)
	}
}

func (s *DBServer) stop(sig syscall.Signal) bool {
	if !s.Running() {
		return true
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
		return true
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		return false
	}
}

// serverDSN is the DSN of the server's administrative database.
func (s *DBServer) serverDSN() (driver, dsn string) {
	if s.Backend.Driver == config.DriverPostgres {
		return "pgx", "postgres://postgres@" + s.Addr + "/postgres?sslmode=disable&connect_timeout=5"
	}
	c := mysqldriver.NewConfig()
	c.User, c.Net, c.Addr, c.Timeout = "root", "tcp", s.Addr, 5*time.Second
	return "mysql", c.FormatDSN()
}

func (s *DBServer) exec(query string) error {
	driver, dsn := s.serverDSN()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, query)
	return err
}

func (s *DBServer) ping() error { return s.exec("SELECT 1") }

// NewDatabase creates a new, empty database on the server, as an operator
// would for the app, and returns the app's configuration for it.
func (s *DBServer) NewDatabase(t testing.TB) config.Database {
	t.Helper()
	name := fmt.Sprintf("music_%d", time.Now().UnixNano())
	if s.Backend.Driver == config.DriverPostgres {
		if err := s.exec("CREATE DATABASE " + name + " TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
			t.Fatalf("create database: %v", err)
		}
		return config.Database{Driver: config.DriverPostgres,
			DSN: "postgres://postgres@" + s.Addr + "/" + name + "?sslmode=disable"}
	}
	if err := s.exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	c := mysqldriver.NewConfig()
	c.User, c.Net, c.Addr, c.DBName, c.ParseTime = "root", "tcp", s.Addr, name, true
	return config.Database{Driver: config.DriverMySQL, DSN: c.FormatDSN()}
}

// refused reports whether nothing listens at addr.
func refused(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	conn.Close()
	return false
}

// Down reports whether the server is stopped and its port refuses.
func (s *DBServer) Down() bool { return !s.Running() && refused(s.Addr) }

// String names the server for messages.
func (s *DBServer) String() string {
	return strings.TrimSpace(s.Backend.Name + " at " + s.Addr)
}
