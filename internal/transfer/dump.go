package transfer

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"

	"musicadmin/internal/access"
	"musicadmin/internal/app"
	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/datamodel"
)

// Dump writes every record of b to w, in the format of the package doc,
// and returns how many of each model it wrote. The catalogue and the audit
// log are read as streams (datamodel.Interface.Each), so a dump of any
// size holds a batch of records in memory, not the database.
//
// On SQL every read is in one snapshot (backend.Backend.ReadSnapshot: one
// read-only transaction), so a dump made while others write is the
// database at one moment, each change with its audit entry, every
// reference to a record the dump holds, as mysqldump --single-transaction
// or pg_dump would copy it. On MongoDB (b.Snapshots() is false) each model
// is read as it is when its turn comes: a dump made while others write
// may hold a song whose album it does not (load then refuses the file),
// or an entry without its change; stop writes while it runs.
//
// A user whose stored password hash is not a bcrypt hash stops the dump:
// what the column holds then may be a password in clear, which no file
// should carry (and which load would refuse anyway).
func Dump(ctx context.Context, b *app.App, w io.Writer, progress Progress) (Counts, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	var counts Counts
	err := b.ReadSnapshot(ctx, func(ctx context.Context) error {
		var err error
		counts, err = dump(ctx, b, w, progress)
		return err
	})
	return counts, err
}

// dump is Dump's reads and writes, in ctx's snapshot where there is one.
func dump(ctx context.Context, b *app.App, w io.Writer, progress Progress) (Counts, error) {
	accounts := b.Accounts()
	roles, perms, err := exportRoles(ctx, accounts)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	entries := b.Audit().Entries()
	tokens := b.AccountModels().Tokens
	factors := b.AccountModels().SecondFactors
	identities := b.AccountModels().Identities
	total, err := countRecords(ctx, accounts, len(roles), append([]datamodel.Interface{tokens, factors, identities}, append(b.Catalog().All(), entries)...))
	if err != nil {
		return nil, err
	}
	d, err := startDump(w, total, progress)
	if err != nil {
		return nil, err
	}
	if err := d.roles(roles, perms); err != nil {
		return d.counts, err
	}
	if err := d.users(ctx, accounts); err != nil {
		return d.counts, err
	}
	// The users' API tokens, with their digests: a token made on the
	// source works on the target. Their second factors, the secret sealed
	// and the recovery codes hashed as stored: they work on a target with
	// the same secret_key.
	// Their identities at OpenID providers, by which single sign-on
	// finds them.
	if err := d.catalogue(ctx, []datamodel.Interface{tokens, factors, identities}); err != nil {
		return d.counts, err
	}
	if err := d.catalogue(ctx, b.Catalog().All()); err != nil {
		return d.counts, err
	}
	if err := d.auditLog(ctx, entries); err != nil {
		return d.counts, err
	}
	if err := d.end(); err != nil {
		return d.counts, err
	}
	return d.counts, nil
}

// exportRoles returns every role and the permissions each holds, by role
// id.
func exportRoles(ctx context.Context, accounts backend.TransferAccounts) ([]auth.Role, map[string][]access.Permission, error) {
	roles, err := accounts.ExportRoles(ctx)
	if err != nil {
		return nil, nil, err
	}
	perms, err := accounts.ExportRolePermissions(ctx)
	if err != nil {
		return nil, nil, err
	}
	return roles, perms, nil
}

// countRecords returns how many records the dump will hold, for its
// progress: roles, users and the records of models.
func countRecords(ctx context.Context, accounts backend.TransferAccounts, roles int, models []datamodel.Interface) (int, error) {
	users, err := accounts.CountUsers(ctx)
	if err != nil {
		return 0, fmt.Errorf("dump: %w", err)
	}
	total := roles + int(users)
	for _, m := range models {
		n, err := m.Count(ctx, nil)
		if err != nil {
			return 0, fmt.Errorf("dump: count %s: %w", m.Schema().Name, err)
		}
		total += int(n)
	}
	return total, nil
}

// dumper writes the lines of one dump and counts its records.
type dumper struct {
	bw       *bufio.Writer
	enc      *json.Encoder
	total    int // an estimate on MongoDB: records may be written meanwhile
	progress Progress
	counts   Counts
}

// startDump writes the header line to w and returns the dumper of the
// lines after it.
func startDump(w io.Writer, total int, progress Progress) (*dumper, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	// Text is written as it is: "<" stays "<", not "\u003c".
	enc.SetEscapeHTML(false)
	if err := enc.Encode(header{Format: Format, Version: Version}); err != nil {
		return nil, fmt.Errorf("dump: write: %w", err)
	}
	return &dumper{bw: bw, enc: enc, total: total, progress: progress}, nil
}

// record writes one record's line.
func (d *dumper) record(model, id string, fields any) error {
	if err := d.enc.Encode(struct {
		Model  string `json:"model"`
		ID     string `json:"id"`
		Fields any    `json:"fields"`
	}{model, id, fields}); err != nil {
		return fmt.Errorf("dump: write: %w", err)
	}
	d.counts.add(model)
	d.progress("dump", d.counts.Total(), max(d.total, d.counts.Total()))
	return nil
}

// roles writes every role with its permissions' keys.
func (d *dumper) roles(roles []auth.Role, perms map[string][]access.Permission) error {
	for _, r := range roles {
		keys := make([]string, len(perms[r.ID]))
		for i, p := range perms[r.ID] {
			keys[i] = p.Key()
		}
		if err := d.record(modelRole, r.ID, roleFields{Name: r.Name, Permissions: &keys}); err != nil {
			return err
		}
	}
	return nil
}

// users writes every user, and stops at one whose password hash is not
// bcrypt's (see Dump).
func (d *dumper) users(ctx context.Context, accounts backend.TransferAccounts) error {
	err := accounts.ExportAccounts(ctx, func(a auth.Account) error {
		if !isBcrypt(a.PasswordHash) {
			return fmt.Errorf("user %q: the stored password hash is not a bcrypt hash, and may be a password in clear: "+
				"set a new password for this user, then dump again", a.Username)
		}
		active := a.Active
		return d.record(modelUser, a.ID, userFields{Username: a.Username, FirstName: a.FirstName,
			LastName: a.LastName, Email: a.Email, PasswordHash: a.PasswordHash, Active: &active,
			Roles: a.RoleIDs, CreatedAt: a.CreatedAt, Language: a.Language, TimeZone: a.TimeZone})
	})
	if err != nil {
		return fmt.Errorf("dump: users: %w", err)
	}
	return nil
}

// catalogue writes every record of models, model by model, each field as
// its kind stores it (a Hidden one too: a token's digest, a second
// factor's sealed secret and hashed recovery codes).
func (d *dumper) catalogue(ctx context.Context, models []datamodel.Interface) error {
	for _, m := range models {
		s := m.Schema()
		err := m.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
			fields := make(map[string]any, len(s.Fields))
			for _, f := range s.Fields {
				fields[f.Name] = f.Kind.Store(r.Values[f.Name])
			}
			return d.record(s.Name, r.ID, fields)
		})
		if err != nil {
			return fmt.Errorf("dump: %s: %w", s.Name, err)
		}
	}
	return nil
}

// auditLog writes every entry of the audit log, oldest first.
func (d *dumper) auditLog(ctx context.Context, entries datamodel.Interface) error {
	err := entries.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		changes, err := audit.ParseChanges(r.Values["changes"])
		if err != nil {
			return fmt.Errorf("entry %s: its changes are not JSON: %w", r.ID, err)
		}
		if changes == nil {
			changes = []audit.Change{}
		}
		return d.record(modelAudit, r.ID, auditFields{At: text(r.Values["at"]), Username: text(r.Values["username"]),
			Action: text(r.Values["action"]), View: text(r.Values["view_name"]), RecordID: text(r.Values["record_id"]),
			RecordLabel: text(r.Values["record_label"]), Changes: &changes})
	})
	if err != nil {
		return fmt.Errorf("dump: audit log: %w", err)
	}
	return nil
}

// end writes the last line, which counts the records, and flushes.
func (d *dumper) end() error {
	if err := d.enc.Encode(trailer{End: true, Records: d.counts.Total()}); err != nil {
		return fmt.Errorf("dump: write: %w", err)
	}
	if err := d.bw.Flush(); err != nil {
		return fmt.Errorf("dump: write: %w", err)
	}
	return nil
}

// text is an audit entry's text value as the model read it.
func text(v any) string {
	s, _ := v.(string)
	return s
}

// bcryptHash is the modular crypt format bcrypt writes: version, two-digit
// cost (4 to 31), 22 characters of salt and 31 of hash in bcrypt's base64.
var bcryptHash = regexp.MustCompile(`^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$`)

// isBcrypt reports whether s is a bcrypt hash, which is all the app ever
// stores as a password hash.
func isBcrypt(s string) bool { return bcryptHash.MatchString(s) }
