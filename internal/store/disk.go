package store

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// MinFreeBytes is the free space below which a SQLite database is reported
// not ready. A full disk refuses most writes, yet the readiness probe's own
// write may still pass: SQLite rewrites its WAL file in place after a
// checkpoint, so a small write needs no new block. The probe therefore
// asks the file system too. A megabyte is a few hundred of the app's
// writes (a song, its search-index rows and its audit entry take a few
// pages): below it, the next writes are about to fail, so a load balancer
// should send them elsewhere.
const MinFreeBytes = 1 << 20

// SQLiteFile is the path of the database file a SQLite DSN names, or ""
// for an in-memory database.
func SQLiteFile(dsn string) string {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if values, err := url.ParseQuery(query); err == nil && values.Get("mode") == "memory" {
		return ""
	}
	if path == "" || path == ":memory:" {
		return ""
	}
	return path
}

// errUnknownFreeSpace is freeBytes's answer where the system cannot tell.
var errUnknownFreeSpace = errors.New("free space unknown on this system")

// ErrDiskFull is returned by CheckDiskRoom when the disk has less than
// MinFreeBytes left.
var ErrDiskFull = errors.New("store: the disk is (almost) full")

// CheckDiskRoom reports ErrDiskFull when the file system holding file has
// less than MinFreeBytes left for it. A system that cannot tell passes.
func CheckDiskRoom(file string) error {
	free, err := freeBytes(filepath.Dir(file))
	if errors.Is(err, errUnknownFreeSpace) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: disk room: %w", err)
	}
	if free < MinFreeBytes {
		return fmt.Errorf("%w: %d bytes left", ErrDiskFull, free)
	}
	return nil
}
