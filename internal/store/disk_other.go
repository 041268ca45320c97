//go:build !unix

package store

// freeBytes is not known off Unix: the disk check passes.
func freeBytes(string) (uint64, error) { return 0, errUnknownFreeSpace }
