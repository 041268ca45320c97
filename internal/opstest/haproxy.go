package opstest

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/apptest"
)

// LB is HAProxy (Debian's package haproxy) balancing a suite's app
// instances on loopback, as an operator would put it in front of them.
type LB struct {
	// Addr is the address clients use (host:port).
	Addr string
	// Log is HAProxy's log: one line per request, naming the server that
	// answered it and how the request ended.
	Log     *apptest.SyncBuffer
	cmd     *exec.Cmd
	socket  string // the runtime API's unix socket
	exited  chan struct{}
	servers []string
}

// LBOptions are the settings of an LB that a suite varies.
type LBOptions struct {
	// Check is the path of the health check, GET, which must answer 200
	// (default /readyz).
	Check string
	// Interval between two health checks of a server (default 200 ms).
	Interval time.Duration
}

// lbConfig is HAProxy's configuration. Why each setting, against what a
// stopping or killed instance would cost a client:
//
//   - option http-server-close: a connection to an app serves one request.
//     An idle kept-alive connection that the app closes as it stops would
//     otherwise race the next request HAProxy sends on it.
//   - retries and option redispatch 1: a connection an instance refuses
//     (stopped, killed, restarting) is tried again at once on another
//     instance; no request was sent, so any method is safe to retry.
//   - retry-on conn-failure empty-response response-timeout, with
//     disable-l7-retry for every method but GET and HEAD: a GET whose
//     instance died before answering is sent again elsewhere; a POST, PUT,
//     PATCH or DELETE is not, as it may have been done: its client sees
//     the 502 (the only requests a kill may cost).
//   - option httpchk on the readiness path every Interval, down after two
//     failures, up after two passes: an instance draining after SIGTERM
//     leaves the rotation before its listener closes.
const lbConfig = `global
	log stdout format raw local0
	stats socket {{socket}} mode 600 level admin
	maxconn 1000

defaults
	mode http
	log global
	option httplog
	timeout connect 2s
	timeout client 60s
	timeout server 60s
	timeout check 5s

frontend apps
	bind {{addr}}
	default_backend apps

backend apps
	balance roundrobin
	option http-server-close
	option redispatch 1
	retries 3
	retry-on conn-failure empty-response response-timeout
	http-request disable-l7-retry unless METH_GET || METH_HEAD
	option httpchk GET {{check}}
	http-check expect status 200
	default-server check inter {{inter}} fall 2 rise 2
{{servers}}`

// HAProxy starts HAProxy on a free loopback port in front of the app
// instances at addrs (host:port each), named app1, app2, ... in order, and
// waits until it serves and counts every server up. It stops when the test
// ends. Without haproxy on the PATH the test is skipped, loudly, except
// under CI=true, where it fails.
func HAProxy(t testing.TB, addrs []string, opts LBOptions) *LB {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/haproxy"); statErr == nil {
			bin = "/usr/sbin/haproxy" // Debian's, off a non-root PATH
		} else {
			if os.Getenv("CI") == "true" {
				t.Fatalf("haproxy is required under CI=true: %v (Debian: apt-get install haproxy)", err)
			}
			fmt.Fprintf(os.Stderr, "\n*** multi-instance tests SKIPPED: no haproxy (%v). Debian: apt-get install haproxy ***\n\n", err)
			t.Skipf("no haproxy: %v", err)
		}
	}
	if opts.Check == "" {
		opts.Check = "/readyz"
	}
	if opts.Interval == 0 {
		opts.Interval = 200 * time.Millisecond
	}
	dir := t.TempDir()
	lb := &LB{Addr: FreeLoopbackAddr(t), Log: &apptest.SyncBuffer{}, socket: filepath.Join(dir, "admin.sock"),
		exited: make(chan struct{})}
	var servers strings.Builder
	for i, a := range addrs {
		name := fmt.Sprintf("app%d", i+1)
		lb.servers = append(lb.servers, name)
		fmt.Fprintf(&servers, "\tserver %s %s\n", name, a)
	}
	cfg := strings.NewReplacer("{{socket}}", lb.socket, "{{addr}}", lb.Addr, "{{check}}", opts.Check,
		"{{inter}}", fmt.Sprintf("%dms", opts.Interval.Milliseconds()), "{{servers}}", servers.String()).Replace(lbConfig)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// -db: stay in the foreground, logging to stdout.
	lb.cmd = exec.Command(bin, "-db", "-f", path)
	lb.cmd.Stdout, lb.cmd.Stderr = lb.Log, lb.Log
	if err := lb.cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	go func() {
		_ = lb.cmd.Wait()
		close(lb.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-lb.exited:
		default:
			_ = lb.cmd.Process.Kill()
			<-lb.exited
		}
		if t.Failed() {
			t.Logf("haproxy log:\n%s", lb.Log)
		}
	})
	WaitFor(t, 60*time.Second, "haproxy to count every server up", func() bool {
		select {
		case <-lb.exited:
			t.Fatalf("haproxy exited: %v\n%s", lb.cmd.ProcessState, lb.Log)
		default:
		}
		st, err := lb.Stats()
		if err != nil {
			return false
		}
		for _, name := range lb.servers {
			if st[name].Status != "UP" {
				return false
			}
		}
		return true
	})
	return lb
}

// URL is the balancer's base URL.
func (lb *LB) URL() string { return "http://" + lb.Addr }

// ServerStats is HAProxy's view of one server.
type ServerStats struct {
	// Status is UP, DOWN, MAINT, or a transition such as "UP 1/2".
	Status string
	// Current is how many requests it has in flight; Total how many it
	// was sent.
	Current, Total int
}

// Stats returns HAProxy's view of each server, by name (app1, ...), read
// from its runtime API.
func (lb *LB) Stats() (map[string]ServerStats, error) {
	out, err := lb.Command("show stat")
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# "))).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("haproxy show stat: %v: %q", err, out)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	st := map[string]ServerStats{}
	for _, r := range rows[1:] {
		if len(r) != len(rows[0]) || r[col["pxname"]] != "apps" {
			continue
		}
		cur, _ := strconv.Atoi(r[col["scur"]])
		tot, _ := strconv.Atoi(r[col["stot"]])
		st[r[col["svname"]]] = ServerStats{Status: r[col["status"]], Current: cur, Total: tot}
	}
	return st, nil
}

// WaitStatus waits up to d until HAProxy reports server name (app1, ...)
// with status (UP, DOWN, MAINT).
func (lb *LB) WaitStatus(t testing.TB, name, status string, d time.Duration) {
	t.Helper()
	WaitFor(t, d, "haproxy to report "+name+" "+status, func() bool {
		st, err := lb.Stats()
		return err == nil && st[name].Status == status
	})
}

// Command sends one command to HAProxy's runtime API and returns its
// answer.
func (lb *LB) Command(cmd string) (string, error) {
	conn, err := net.DialTimeout("unix", lb.socket, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("haproxy runtime api: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", fmt.Errorf("haproxy runtime api: %w", err)
	}
	var b strings.Builder
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("haproxy runtime api: %w", err)
	}
	return b.String(), nil
}
