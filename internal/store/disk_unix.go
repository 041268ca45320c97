//go:build unix

package store

import (
	"fmt"
	"syscall"
)

// freeBytes is the space left to an unprivileged writer on the file system
// that holds dir.
func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
