package opstest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Privileged tests (a tmpfs mount, a file made immutable, a database server
// of their own) need root. Elsewhere they skip, loudly: one banner on
// stderr per reason, besides the skip itself, as a skip is easy to miss in
// a long run. Under CI=true they fail instead: CI runs as root and must
// run them.
var warnedRoot sync.Map // reason -> *sync.Once

// NeedRoot skips t, or fails it under CI=true, unless the test runs as
// root; why says what needs root, for the message.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	Unavailable(t, why+" needs root")
}

// Unavailable skips t with reason, loudly, or fails it under CI=true,
// where everything the suites need is there.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; required under CI=true", reason)
	}
	once, _ := warnedRoot.LoadOrStore(reason, &sync.Once{})
	once.(*sync.Once).Do(func() {
		fmt.Fprintf(os.Stderr, "\n*** fault tests SKIPPED: %s (run as root, as .ci/run does) ***\n\n", reason)
	})
	t.Skip(reason)
}

// Tmpfs mounts a tmpfs of size (mount's size=, e.g. "16m") on a new
// temporary folder and returns its path; it is unmounted and removed when
// the test ends. Without root, or where mounting is not permitted (a
// container without CAP_SYS_ADMIN), t skips loudly (fails under CI=true).
func Tmpfs(t testing.TB, size string) string {
	t.Helper()
	NeedRoot(t, "a tmpfs mount")
	dir, err := os.MkdirTemp("", "opstest-tmpfs-")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput()
	if err != nil {
		_ = os.Remove(dir)
		Unavailable(t, fmt.Sprintf("mount -t tmpfs: %v: %s", err, strings.TrimSpace(string(out))))
	}
	t.Cleanup(func() {
		// Lazy: a process the test started may still hold a file open
		// for a moment after it was killed.
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
			return
		}
		_ = os.Remove(dir)
	})
	return dir
}

// FillDisk writes a file into dir until its file system is full and
// returns a function that removes it (space returns). The file system
// should be small (a Tmpfs): filling a real disk is not a test's business.
func FillDisk(t testing.TB, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "opstest-filler")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for n := len(buf); ; {
		_, err := f.Write(buf[:n])
		if err == nil {
			continue
		}
		if !errors.Is(err, syscall.ENOSPC) {
			f.Close()
			t.Fatalf("fill %s: %v", dir, err)
		}
		if n == 1 {
			break
		}
		// The last blocks, smaller and smaller: a file system full to
		// the byte, not to the 64 KiB.
		n /= 2
	}
	if err := f.Close(); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("fill %s: %v", dir, err)
	}
	var once sync.Once
	free = func() {
		once.Do(func() {
			if err := os.Remove(path); err != nil {
				t.Errorf("free %s: %v", dir, err)
			}
		})
	}
	t.Cleanup(free)
	return free
}

// SetWritable makes the file at path writable or not, for root too: root
// ignores file modes, so as root the file is marked immutable (chattr +i),
// which stops every writer; SQLite then opens it read-only, silently, as
// for a user without write permission. Not as root, the mode changes. The
// mark is taken off when the test ends, so TempDir can remove the file.
func SetWritable(t testing.TB, path string, writable bool) {
	t.Helper()
	if os.Geteuid() != 0 {
		mode := os.FileMode(0o444)
		if writable {
			mode = 0o644
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return
	}
	flag := "-i"
	if !writable {
		flag = "+i"
		t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
	}
	if out, err := exec.Command("chattr", flag, path).CombinedOutput(); err != nil {
		Unavailable(t, fmt.Sprintf("chattr %s (a file system with the immutable flag): %v: %s", flag, err, out))
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if f != nil {
		f.Close()
	}
	if (err == nil) != writable {
		t.Fatalf("after chattr %s, opening %s for writing: %v", flag, path, err)
	}
}
