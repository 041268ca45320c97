package mongostore

import "time"

// SetCountLimit lowers the count bound of m, so that tests reach it with a
// few documents.
// Counts taken under the old bound are forgotten.
func SetCountLimit(m *Model, n int64) {
	m.countLimit = n
	m.counts = &countCache{epoch: &m.st.markEpoch}
}

// FoldPattern exposes foldPattern to the tests.
func FoldPattern(query string, prefix bool) (string, bool) { return foldPattern(query, prefix) }

// SetChecked makes f run between every write's reference check (and
// UpdateIf's version check) and the write itself, where a concurrent
// delete or write would come.
func SetChecked(s *Store, f func()) { s.checked = f }

// SetLockWait changes how long s's Together waits for a lock held
// elsewhere, so that tests see it give up.
func SetLockWait(s *Store, d time.Duration) { s.locks.wait = d }
