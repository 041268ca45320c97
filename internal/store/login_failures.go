package store

import (
	"context"
	"strconv"
	"time"

	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// LoginFailure is a row of login_failures (migration 00008): a failed login
// from client address Addr at FailedAt, in Unix milliseconds. The throttle
// reads an address's newest rows through ix_login_failures_addr_failed_at
// and prunes old ones through ix_login_failures_failed_at.
type LoginFailure struct {
	ID       int64  `gorm:"primaryKey"`
	Addr     string `gorm:"size:64;not null;index:ix_login_failures_addr_failed_at,priority:1"`
	FailedAt int64  `gorm:"not null;index:ix_login_failures_addr_failed_at,priority:2;index:ix_login_failures_failed_at"`
}

var _ auth.FailureStore = (*Accounts)(nil)

// The throttle's two range queries, as written here rather than built, so
// that the plan test (TestLoginFailurePlans) explains exactly them: an
// address's newest failures, one range of ix_login_failures_addr_failed_at
// walked from its end, and the prune, one range of
// ix_login_failures_failed_at.
const (
	loginFailuresSQL      = "SELECT failed_at FROM login_failures WHERE addr = ? AND failed_at > ? ORDER BY failed_at DESC LIMIT ?"
	pruneLoginFailuresSQL = "DELETE FROM login_failures WHERE failed_at < ?"
)

// AddLoginFailure implements auth.FailureStore.
func (a *Accounts) AddLoginFailure(ctx context.Context, addr string, at time.Time) (string, error) {
	row := LoginFailure{Addr: addr, FailedAt: at.UnixMilli()}
	if err := conn(ctx, a.db).Create(&row).Error; err != nil {
		return "", accountsErr("add login failure", err)
	}
	return strconv.FormatInt(row.ID, 10), nil
}

// DeleteLoginFailure implements auth.FailureStore.
func (a *Accounts) DeleteLoginFailure(ctx context.Context, id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return datamodel.ErrNotFound
	}
	if err := conn(ctx, a.db).Where("id = ?", n).Delete(&LoginFailure{}).Error; err != nil {
		return accountsErr("delete login failure", err)
	}
	return nil
}

// LoginFailures implements auth.FailureStore (loginFailuresSQL).
func (a *Accounts) LoginFailures(ctx context.Context, addr string, since time.Time, n int) ([]time.Time, error) {
	var ms []int64
	if err := conn(ctx, a.db).Raw(loginFailuresSQL, addr, since.UnixMilli(), n).Scan(&ms).Error; err != nil {
		return nil, accountsErr("read login failures", err)
	}
	out := make([]time.Time, len(ms))
	for i, m := range ms {
		out[i] = time.UnixMilli(m)
	}
	return out, nil
}

// PruneLoginFailures implements auth.FailureStore (pruneLoginFailuresSQL).
func (a *Accounts) PruneLoginFailures(ctx context.Context, before time.Time) error {
	if err := conn(ctx, a.db).Exec(pruneLoginFailuresSQL, before.UnixMilli()).Error; err != nil {
		return accountsErr("prune login failures", err)
	}
	return nil
}
