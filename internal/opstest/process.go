// Package opstest runs the app as an operator runs it, for the fault and
// multi-instance suites: the real binary, built once per test process,
// started with a config file and APP_* variables, stopped by signals.
package opstest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
)

// SecretKey is the secret every instance of a suite shares: sessions made
// on one are read on another.
const SecretKey = "opstest-secret-key-0123456789abcdef0123456789"

// buildFlags are the go build flags of the binary: race.go adds -race under
// the race detector, so the binary reuses the packages the test compiled.
var buildFlags []string

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// Binary builds the app binary once per test process and returns its
// path. A machine without the go tool skips, except under CI=true.
func Binary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			built.err = fmt.Errorf("no go tool to build the app: %w", err)
			return
		}
		built.dir, err = os.MkdirTemp("", "opstest-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(built.dir, "app")
		args := append(append([]string{"build"}, buildFlags...), "-o", built.bin, "musicadmin/cmd/app")
		cmd := exec.Command(goBin, args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		if os.Getenv("CI") == "true" || !strings.HasPrefix(built.err.Error(), "no go tool") {
			t.Fatal(built.err)
		}
		t.Skip(built.err)
	}
	return built.bin
}

// Cleanup removes the built binary; a suite's TestMain calls it after the
// tests ran.
func Cleanup() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}

// WriteConfig writes a config file for db into a temporary folder: the
// shared secret, production mode, and the server on a free loopback port.
// extra is merged into the server section (e.g. "metrics_addr").
func WriteConfig(t testing.TB, db config.Database, server map[string]any) string {
	t.Helper()
	srv := map[string]any{"addr": "127.0.0.1:0"}
	for k, v := range server {
		srv[k] = v
	}
	body, err := yaml.Marshal(map[string]any{
		"secret_key": SecretKey,
		"dev":        false,
		"database":   map[string]string{"driver": db.Driver, "dsn": db.DSN},
		"server":     srv,
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

// Env is the test's environment without any APP_* variable, plus extra.
func Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "APP_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// Run runs the binary with args to its end and returns its combined
// output; a non-zero exit fails t.
func Run(t testing.TB, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("app %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Process is the app serving in the background.
type Process struct {
	Cmd            *exec.Cmd
	Stdout, Stderr *apptest.SyncBuffer
	// Addr is the address it serves on (host:port).
	Addr   string
	exited chan struct{}
}

var servingAddr = regexp.MustCompile(`msg=serving addr=(\S+)`)

// Start runs "app --config cfgPath run" with env added to Env() and args
// after "run", and waits until it serves. The process is killed when the
// test ends, if it still runs.
func Start(t testing.TB, bin, cfgPath string, env []string, args ...string) *Process {
	t.Helper()
	p := &Process{
		Cmd:    exec.Command(bin, append([]string{"--config", cfgPath, "run"}, args...)...),
		Stdout: &apptest.SyncBuffer{}, Stderr: &apptest.SyncBuffer{}, exited: make(chan struct{}),
	}
	p.Cmd.Env = Env(env...)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Stdout, p.Stderr
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.Cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if p.Running() {
			_ = p.Cmd.Process.Kill()
			<-p.exited
		}
	})
	deadline := time.After(60 * time.Second)
	for {
		if m := servingAddr.FindStringSubmatch(p.Stderr.String()); m != nil {
			p.Addr = m[1]
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("app exited with %d before serving\nstderr: %s", p.Cmd.ProcessState.ExitCode(), p.Stderr)
		case <-deadline:
			t.Fatalf("app not serving after 60 s\nstderr: %s", p.Stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// URL is the process's base URL.
func (p *Process) URL() string { return "http://" + p.Addr }

// Running reports whether the process has not exited.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Signal sends sig to the process.
func (p *Process) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	p.Signal(t, syscall.SIGKILL)
	<-p.exited
}

// Wait waits up to within for the process to exit and returns its state.
func (p *Process) Wait(t testing.TB, within time.Duration) *os.ProcessState {
	t.Helper()
	select {
	case <-p.exited:
		return p.Cmd.ProcessState
	case <-time.After(within):
		t.Fatalf("app still running %v later\nstderr: %s", within, p.Stderr)
		return nil
	}
}

// Stop sends SIGTERM and waits up to 30 s for exit status 0.
func (p *Process) Stop(t testing.TB) {
	t.Helper()
	p.Signal(t, syscall.SIGTERM)
	if st := p.Wait(t, 30*time.Second); st.ExitCode() != 0 {
		t.Fatalf("exit status %d after SIGTERM\nstderr: %s", st.ExitCode(), p.Stderr)
	}
}

// Status is the status code of GET path on the process (0 when no answer
// came within 5 s).
func (p *Process) Status(path string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(p.URL() + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// WaitFor polls cond every 20 ms until it holds, or fails t after d.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
