package store_test

import (
	"context"
	"testing"
	"time"

	"musicadmin/internal/apptest"
	"musicadmin/internal/auth"
	"musicadmin/internal/store"
)

// TestGenerationWindow: a read of the accounts' generation answers for
// the window after it began (GenerationWindow), so that a change made
// past the app is seen once the window has passed; a write to the
// accounts through the store is seen by this process at once, and returns
// only after the window, by when every other instance's read has gone
// stale (one marked auth.EndsNoLogin is seen at once too).
func TestGenerationWindow(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		db, _ := apptest.OpenMigrated(t, b)
		ctx := context.Background()
		noop := func(context.Context) error { return nil }
		byHand := func() {
			t.Helper()
			if err := db.Exec("UPDATE app_locks SET taken = taken + 1 WHERE name = ?", auth.AccountsLock).Error; err != nil {
				t.Fatal(err)
			}
		}
		gen := func(a *store.Accounts) int64 {
			t.Helper()
			n, err := a.AccountsGeneration(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		held := store.NewAccounts(db)
		store.SetGenerationWindow(held, time.Hour)
		began := time.Now()
		if err := held.Together(ctx, auth.AccountsLock, noop); err != nil { // makes the lock's row
			t.Fatal(err)
		}
		if took := time.Since(began); took < store.GenerationWindow {
			t.Errorf("a write to the accounts returned after %v, within the window of %v", took, store.GenerationWindow)
		}
		first := gen(held)
		byHand()
		if got := gen(held); got != first {
			t.Errorf("within its window a read of the generation did not answer: %d, want %d", got, first)
		}
		if err := held.Together(ctx, auth.AccountsLock, noop); err != nil {
			t.Fatal(err)
		}
		if got := gen(held); got != first+2 {
			t.Errorf("after a write through the store the generation read %d, want %d at once", got, first+2)
		}

		// A write that ends no login does not wait, but this process
		// still sees it at once.
		if err := held.Together(auth.EndsNoLogin(ctx), auth.AccountsLock, noop); err != nil {
			t.Fatal(err)
		}
		if got := gen(held); got != first+3 {
			t.Errorf("after a write that ends no login the generation read %d, want %d at once", got, first+3)
		}

		fresh := store.NewAccounts(db)
		before := gen(fresh)
		byHand()
		time.Sleep(store.GenerationWindow)
		if got := gen(fresh); got != before+1 {
			t.Errorf("a change made by hand, the window past: generation %d, want %d", got, before+1)
		}
	})
}
