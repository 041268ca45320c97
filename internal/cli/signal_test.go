package cli_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
)

// buildFlags are the go build flags of the app binary; under -race,
// race_test.go adds -race, so the binary reuses the packages the test build
// compiled instead of compiling them all a second time (on a cold cache, a
// minute or more), and the real process runs with the race detector.
var buildFlags []string

// buildApp builds the real app binary into a temporary folder.
func buildApp(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no go tool to build the app: %v", err)
		}
		t.Skipf("no go tool to build the app: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "app")
	cmd := exec.Command(goBin, append(append([]string{"build"}, buildFlags...), "-o", bin, "musicadmin/cmd/app")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// childEnv is the test's environment without any APP_* variable.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "APP_") {
			env = append(env, kv)
		}
	}
	return env
}

// process is the app binary running in the background.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr *apptest.SyncBuffer
	exited         chan struct{}
	addr           string
}

func start(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), stdout: &apptest.SyncBuffer{}, stderr: &apptest.SyncBuffer{},
		exited: make(chan struct{})}
	p.cmd.Env = childEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		if m := servingAddr.FindStringSubmatch(p.stderr.String()); m != nil {
			p.addr = m[1]
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("app exited with %d before serving\nstderr: %s", p.cmd.ProcessState.ExitCode(), p.stderr)
		case <-deadline:
			t.Fatalf("app not serving after 30 s\nstderr: %s", p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *process) waitExit(t *testing.T, within time.Duration) *os.ProcessState {
	t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState
	case <-time.After(within):
		t.Fatalf("app still running %v later\nstderr: %s", within, p.stderr)
		return nil
	}
}

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// waitFor polls until cond holds or fails t after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// slowLogin starts a login POST on a raw connection and sends only the
// first half of its body: the request is then in flight, its handler
// waiting for the rest. finish sends the rest and reads the response. The
// form's CSRF token is wrong, so the answer (403) costs no bcrypt: at the
// production cost, under the race detector on a loaded machine, a password
// check alone could outlast the drain's grace period.
func slowLogin(t *testing.T, addr string) (finish func() (*http.Response, string)) {
	t.Helper()
	body := url.Values{"username": {"nobody"}, "password": {"wrong-password"}, "csrf_token": {"not-the-token"}}.Encode()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// One whole request first, on the same connection: once it is answered
	// the server has accepted the connection and reads the next request as
	// it comes. A connection still in the listen backlog when the signal
	// arrives would be reset, not drained, and a slow process (the race
	// detector, a loaded machine) may take long to accept.
	in := bufio.NewReader(conn)
	if _, err := fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr); err != nil {
		t.Fatal(err)
	}
	health, err := http.ReadResponse(in, nil)
	if err != nil {
		t.Fatalf("health check on the slow connection: %v", err)
	}
	_, _ = io.Copy(io.Discard, health.Body)
	health.Body.Close()
	head := fmt.Sprintf("POST /login/ HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n",
		addr, len(body))
	half := len(body) / 2
	if _, err := io.WriteString(conn, head+body[:half]); err != nil {
		t.Fatal(err)
	}
	// Give the server time to read the head and enter the handler.
	time.Sleep(300 * time.Millisecond)
	return func() (*http.Response, string) {
		t.Helper()
		if _, err := io.WriteString(conn, body[half:]); err != nil {
			t.Fatalf("finish the in-flight request: %v", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		resp, err := http.ReadResponse(in, nil)
		if err != nil {
			t.Fatalf("in-flight request got no response: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
}

func refused(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	conn.Close()
	return false
}

// TestBinary drives the real binary: signals drain requests in flight and
// exit 0, a second signal stops at once, and configuration errors are one
// line on the process's real stderr (no driver or library logging besides).
func TestBinary(t *testing.T) {
	bin := buildApp(t)
	dbCfg := apptest.NewDatabase(t, apptest.SQLite)
	path := writeConfig(t, dbCfg)
	if out, err := exec.Command(bin, "--config", path, "create-db").CombinedOutput(); err != nil {
		t.Fatalf("create-db: %v\n%s", err, out)
	}

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run("drain on "+sig.String(), func(t *testing.T) {
			p := start(t, bin, "--config", path, "run", "--addr", "127.0.0.1:0")
			finish := slowLogin(t, p.addr)

			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "the shutdown to start", func() bool { return p.stderr.Contains("shutting down") })
			waitFor(t, 5*time.Second, "new connections to be refused", func() bool { return refused(p.addr) })
			time.Sleep(200 * time.Millisecond)
			if !p.running() {
				t.Fatalf("exited with a request in flight\nstderr: %s", p.stderr)
			}

			resp, body := finish()
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "The form has expired") {
				t.Errorf("in-flight login after the signal: %d\n%s", resp.StatusCode, body)
			}
			state := p.waitExit(t, 15*time.Second)
			if state.ExitCode() != 0 {
				t.Errorf("exit status %d after %v, want 0\nstderr: %s", state.ExitCode(), sig, p.stderr)
			}
			if !p.stderr.Contains("msg=stopped") || p.stderr.Contains("panic") {
				t.Errorf("stderr:\n%s", p.stderr)
			}
		})
	}

	t.Run("a second signal stops at once", func(t *testing.T) {
		p := start(t, bin, "--config", path, "run", "--addr", "127.0.0.1:0")
		slowLogin(t, p.addr) // never finished: the drain would wait for it
		if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the shutdown to start", func() bool { return p.stderr.Contains("shutting down") })
		time.Sleep(200 * time.Millisecond)
		if !p.running() {
			t.Fatal("exited with a request in flight")
		}
		if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		state := p.waitExit(t, 3*time.Second)
		if state.ExitCode() == 0 {
			t.Error("exit 0 after a second signal, want killed")
		}
	})

	t.Run("errors on the real stderr", func(t *testing.T) {
		const password = "Sup3rS3cretPw"
		dir := t.TempDir()
		badYAML := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(badYAML, []byte("database: [oops\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		unreachable := writeConfig(t, config.Database{Driver: config.DriverMySQL, DSN: "music:" + password + "@tcp(127.0.0.1:1)/music"})
		busy := busyPort(t)
		for _, tt := range []struct {
			name string
			args []string
			code int
		}{
			{"bad YAML", []string{"--config", badYAML, "create-db"}, 2},
			{"missing file", []string{"--config", filepath.Join(dir, "nope.yaml"), "run"}, 2},
			{"unreachable mysql", []string{"--config", unreachable, "create-db"}, 2},
			{"unknown command", []string{"--config", path, "frobnicate"}, 2},
			{"port in use", []string{"--config", path, "run", "--addr", busy.String()}, 1},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var stdout, stderr strings.Builder
				cmd := exec.Command(bin, tt.args...)
				cmd.Env = childEnv()
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != tt.code {
					t.Fatalf("exit: %v, want status %d\nstderr: %s", err, tt.code, stderr.String())
				}
				wantOneLineError(t, result{code: tt.code, stdout: stdout.String(), stderr: stderr.String()}, tt.code, "")
				if strings.Contains(stderr.String(), password) {
					t.Errorf("stderr reveals the DSN password: %q", stderr.String())
				}
			})
		}
	})

	t.Run("metrics on their own address", func(t *testing.T) {
		body := fmt.Sprintf("secret_key: %s\ndatabase:\n  driver: %s\n  dsn: %q\nserver:\n  addr: 127.0.0.1:0\n  metrics_addr: 127.0.0.1:0\n",
			testSecret, dbCfg.Driver, dbCfg.DSN)
		cfgPath := filepath.Join(t.TempDir(), "metrics.yaml")
		if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		p := start(t, bin, "--config", cfgPath, "run")
		m := regexp.MustCompile(`msg="serving metrics" addr=(\S+)`).FindStringSubmatch(p.stderr.String())
		if m == nil {
			t.Fatalf("no metrics address logged:\n%s", p.stderr)
		}
		get := func(url string) (int, string) {
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if code, _ := get("http://" + p.addr + "/login/"); code != http.StatusOK {
			t.Fatalf("login page: %d", code)
		}
		code, text := get("http://" + m[1] + "/metrics")
		if code != http.StatusOK || !strings.Contains(text, `app_http_requests_total{method="GET",route="/login",status="200"} 1`) ||
			!strings.Contains(text, "app_build_info{") {
			t.Errorf("metrics: %d\n%s", code, text)
		}
		if code, _ := get("http://" + p.addr + "/metrics"); code != http.StatusNotFound {
			t.Errorf("/metrics on the public address: %d, want 404", code)
		}
		if code, _ := get("http://" + m[1] + "/login/"); code != http.StatusNotFound {
			t.Errorf("the app on the metrics address: %d, want 404", code)
		}
	})

	t.Run("version", func(t *testing.T) {
		out, err := exec.Command(bin, "version").Output()
		if err != nil || !regexp.MustCompile(`^app \S+\n$`).Match(out) {
			t.Errorf("app version = %q, %v", out, err)
		}
	})
}
