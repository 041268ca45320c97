package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"musicadmin/internal/app"
	"musicadmin/internal/audit"
	"musicadmin/internal/backend"
)

// ErrNotEmpty means the database to load into already holds users,
// catalogue records or audit entries: load adds to nothing, so that after
// it the database holds exactly the file's records, with every reference
// pointing where it did, and its audit log is the file's, in order.
var ErrNotEmpty = errors.New("the database is not empty")

// Load reads the dump in r, from its start, into b, which must be at the
// latest schema and hold no user, no catalogue record and no audit entry
// (ErrNotEmpty); its roles, such as the ones create-db makes, are kept and
// matched by name, and get the file's permissions as the package doc
// says. It returns how many records of each model it wrote.
//
// The file is read twice. The first pass checks every line and writes
// nothing: the header, each record's model and fields against the target's
// declaration (kinds, required fields, limits: each kind's Load and
// Validate, and the limits of the accounts' columns), that unique fields
// hold no value twice, and that every reference names a record of an
// earlier line. A problem is a *LineError and nothing is written. The
// second pass writes: roles and users through the accounts, catalogue
// records through the seam's Create (the same rules again, and the
// database's own), mapping every source id to the new record's, and the
// audit log's entries as they were but for those ids.
//
// The load is nobody's change: ctx's actor, if any, is dropped, so the
// stores write no audit entry of their own for the records loaded.
//
// What a first pass cannot see (the database going away, a constraint the
// file's checks do not know of) fails the second pass midway: the records
// written until then stay, the error says how many and from which line,
// and the database, no longer empty, is refused by a second load until it
// is emptied (dropped and created anew with create-db). Nothing is removed
// on failure, as a load may fail because the database itself is unwell.
func Load(ctx context.Context, b *app.App, r io.ReadSeeker, progress Progress) (Counts, error) {
	ctx = audit.Without(ctx)
	accounts, log := b.Accounts(), b.Audit()
	if progress == nil {
		progress = func(string, int, int) {}
	}
	if err := backend.Ready(ctx, b); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := refuseNonEmpty(ctx, b, accounts); err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("load: rewind the file: %w", err)
	}
	l, err := newLoader(b, accounts, log)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	total, err := l.check(r)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("load: rewind the file: %w", err)
	}
	counts, err := l.write(ctx, r, total, progress)
	if err != nil {
		return counts, err
	}
	if err := b.Catalog().OptimizeSearch(ctx); err != nil {
		return counts, fmt.Errorf("load: %w", err)
	}
	return counts, nil
}

// refuseNonEmpty returns ErrNotEmpty, saying what the database holds, when
// it holds a user, a catalogue record or an audit entry. create-db writes
// none; a failed login on a server over the empty database does, and then
// the database is no longer the fresh one load writes into.
func refuseNonEmpty(ctx context.Context, b *app.App, accounts backend.TransferAccounts) error {
	var held []string
	users, err := accounts.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if users > 0 {
		held = append(held, fmt.Sprintf("%d %s", users, plural(modelUser, int(users))))
	}
	for _, m := range b.Catalog().All() {
		n, err := m.Count(ctx, nil)
		if err != nil {
			return fmt.Errorf("load: count %s: %w", m.Schema().Name, err)
		}
		if n > 0 {
			held = append(held, fmt.Sprintf("%d %s", n, plural(m.Schema().Name, int(n))))
		}
	}
	entries, err := b.Audit().Entries().Count(ctx, nil)
	if err != nil {
		return fmt.Errorf("load: count audit entries: %w", err)
	}
	if entries > 0 {
		held = append(held, fmt.Sprintf("%d %s", entries, plural(modelAudit, int(entries))))
	}
	if len(held) == 0 {
		return nil
	}
	list := strings.Join(held, " and ")
	if len(held) > 2 {
		list = strings.Join(held[:len(held)-1], ", ") + " and " + held[len(held)-1]
	}
	return fmt.Errorf("load: %w: it holds %s; load writes only into a database fresh from create-db",
		ErrNotEmpty, list)
}
