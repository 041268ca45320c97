package backend_test

import (
	"context"
	"testing"

	"musicadmin/internal/app"
	"musicadmin/internal/apptest"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
)

// TestReadSnapshot: inside ReadSnapshot on SQL, every read (a count, a
// walk, the users' export, the audit log) sees the database as at the
// first read, while another connection pool (another instance) creates a
// song, its audit entry and a user meanwhile, unhindered (on SQLite the
// snapshot takes no write lock: the writer commits at once, not after the
// busy timeout); after it, the writes show. On MongoDB Snapshots is false
// and the reads see the writes.
func TestReadSnapshot(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, bk apptest.Backend) {
		ctx := context.Background()
		cfg := apptest.NewMigratedDatabase(t, bk)
		reader, writer := apptest.OpenBackend(t, cfg), apptest.OpenBackend(t, cfg)
		as := audit.With(ctx, audit.Actor{Username: "ada", View: "songsview"})
		if _, err := writer.Catalog().Songs.Create(as, datamodel.Values{"title": "Before", "rating": int64(1)}); err != nil {
			t.Fatal(err)
		}
		if got := reader.Snapshots(); got != bk.SQL() {
			t.Errorf("Snapshots() = %v, want %v", got, bk.SQL())
		}
		want := [4]int64{1, 0, 1, 1} // songs, users, entries, songs walked
		if !bk.SQL() {
			want = [4]int64{2, 1, 2, 2}
		}
		err := reader.ReadSnapshot(ctx, func(snap context.Context) error {
			before := counts(t, snap, reader)
			if before != [4]int64{1, 0, 1, 1} {
				t.Errorf("inside, before the writes: %v", before)
			}
			if _, err := writer.Catalog().Songs.Create(as, datamodel.Values{"title": "During", "rating": int64(2)}); err != nil {
				t.Errorf("a write while the snapshot is open: %v", err)
			}
			if _, err := writer.Accounts().CreateUser(ctx, auth.User{Username: "bob", FirstName: "B", LastName: "B",
				Email: "b@example.com", PasswordHash: "x", Active: true}, auth.AdminRole); err != nil {
				t.Errorf("a user created while the snapshot is open: %v", err)
			}
			if got := counts(t, snap, reader); got != want {
				t.Errorf("inside, after the writes: songs, users, entries, songs walked = %v, want %v", got, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := counts(t, ctx, reader); got != [4]int64{2, 1, 2, 2} {
			t.Errorf("after the snapshot: %v, want every write", got)
		}
	})
}

// counts returns what b reads in ctx: songs counted, users exported,
// audit entries walked, songs walked.
func counts(t *testing.T, ctx context.Context, b *app.App) [4]int64 {
	t.Helper()
	var c [4]int64
	var err error
	if c[0], err = b.Catalog().Songs.Count(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Accounts().ExportAccounts(ctx, func(auth.Account) error { c[1]++; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := b.Audit().Entries().Each(ctx, datamodel.Query{}, func(datamodel.Record) error { c[2]++; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := b.Catalog().Songs.Each(ctx, datamodel.Query{}, func(datamodel.Record) error { c[3]++; return nil }); err != nil {
		t.Fatal(err)
	}
	return c
}
