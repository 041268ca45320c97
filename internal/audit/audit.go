// Package audit is the audit log's vocabulary: what an entry holds, who is
// acting (carried in the context from the route to the store), and how the
// changed fields of a record are written down. The entries themselves are
// written by the stores, in the same transaction as the change they
// record, so that one cannot exist without the other.
package audit

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"musicadmin/internal/datamodel"
)

// The actions an entry records.
const (
	ActionCreate      = "create"
	ActionUpdate      = "update"
	ActionDelete      = "delete"
	ActionLogin       = "login"
	ActionLoginFailed = "login_failed"
	ActionLogout      = "logout"
	// ActionPassword is a password change (own) or reset (by an Admin):
	// the entry says that it happened, never what the password is.
	ActionPassword = "password"
	// ActionLoginSSO is a sign-in through single sign-on; ActionLoginRefused
	// a single sign-on refused, the entry's label saying why.
	ActionLoginSSO     = "login_sso"
	ActionLoginRefused = "login_refused"
	// The second factor's: enrolled, turned off by its user, a recovery
	// code used, reset by an Admin from the command line.
	ActionEnroll2FA   = "2fa_enroll"
	ActionDisable2FA  = "2fa_disable"
	ActionRecovery2FA = "2fa_recovery_code"
	ActionReset2FA    = "2fa_reset"
)

// Actions lists every action, for the audit list's filter.
var Actions = []string{ActionCreate, ActionUpdate, ActionDelete, ActionLogin, ActionLoginFailed, ActionLogout, ActionPassword,
	ActionLoginSSO, ActionLoginRefused, ActionEnroll2FA, ActionDisable2FA, ActionRecovery2FA, ActionReset2FA}

// MaxValueRunes caps each old and new value an entry keeps, and the label:
// a 10 kB field is recorded by its first MaxValueRunes characters and an
// ellipsis, so that one entry stays small however large the record.
const MaxValueRunes = 500

// Actor is who makes a change, and through which view: the username is
// the server's (the session's user, or the CLI's), never a form field.
type Actor struct {
	Username string
	View     string // e.g. "songsview"; "" for the CLI's own writes
}

type ctxKey struct{}

// With returns ctx carrying a: a store's write under it writes an entry.
func With(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// From returns the actor of ctx, if any.
func From(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(ctxKey{}).(Actor)
	return a, ok
}

// Without returns ctx carrying no actor: its writes record no entry. For
// writes that are nobody's change, such as app load copying records (and
// their entries) from a dump.
func Without(ctx context.Context) context.Context {
	return context.WithValue(ctx, ctxKey{}, nil)
}

// Change is one field of an update: its value before and after, as a
// person reads them (a reference as "Label (id)").
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Entry is one line of the audit log.
type Entry struct {
	ID          string
	Time        time.Time // UTC
	Username    string
	Action      string
	View        string
	RecordID    string
	RecordLabel string
	Changes     []Change
}

// Snapshot is a record as an entry writes it down: its id, its label and
// each field's value as text. A store that cannot read the record and
// write the entry in one transaction keeps the snapshot of before the
// change until it can (see mongostore).
type Snapshot struct {
	ID     string            `bson:"id" json:"id"`
	Label  string            `bson:"label" json:"label"`
	Values map[string]string `bson:"values" json:"values"`
}

// Take returns the snapshot of rec, of schema s; nil for nil.
func Take(s *datamodel.Schema, rec *datamodel.Record) *Snapshot {
	if rec == nil {
		return nil
	}
	snap := &Snapshot{ID: rec.ID, Values: make(map[string]string, len(s.Fields))}
	if f := s.LabelField(); f != nil {
		snap.Label = clip(f.Kind.Text(rec.Values[f.Name]))
	}
	for _, f := range s.Readable() {
		snap.Values[f.Name] = Text(f, rec.Values[f.Name])
		if refs, isSet := rec.Values[f.Name].([]datamodel.Ref); isSet && f.SetOf() != "" {
			snap.Values[f.Name] = setText(refs)
		}
	}
	return snap
}

// setSep parts the labels of a set in a snapshot, so that an update can
// say which were added and which removed (a label may hold a comma; a
// form's one-line text holds no line break).
const setSep = "\n"

func setText(refs []datamodel.Ref) string {
	labels := make([]string, len(refs))
	for i, r := range refs {
		labels[i] = clip(r.Label)
	}
	return strings.Join(labels, setSep)
}

// setChange is how an entry writes a set's change: for an update, the
// labels removed as old and those added as new; for a create or a delete,
// every label, as a cell shows them.
func setChange(before, after string, update bool) (removed, added string) {
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, setSep)
	}
	was, is := split(before), split(after)
	if !update {
		return strings.Join(was, ", "), strings.Join(is, ", ")
	}
	gone := slices.DeleteFunc(slices.Clone(was), func(l string) bool { return slices.Contains(is, l) })
	came := slices.DeleteFunc(slices.Clone(is), func(l string) bool { return slices.Contains(was, l) })
	return strings.Join(gone, ", "), strings.Join(came, ", ")
}

// NewEntry returns the entry of action on rec (of schema s) by a at now:
// a create lists every field as new, a delete every field as old, an
// update only the fields that changed from old to rec.
func NewEntry(a Actor, action string, s *datamodel.Schema, old, rec *datamodel.Record, now time.Time) Entry {
	return Build(a, action, s, Take(s, old), Take(s, rec), now)
}

// Build is NewEntry from snapshots.
func Build(a Actor, action string, s *datamodel.Schema, old, rec *Snapshot, now time.Time) Entry {
	e := Entry{Time: now.UTC(), Username: a.Username, Action: action, View: a.View}
	subject := rec
	if subject == nil {
		subject = old
	}
	if subject != nil {
		e.RecordID, e.RecordLabel = subject.ID, subject.Label
	}
	// A write-only field (a password) is never written down, not even
	// that it was set: that is what the action says.
	for _, f := range s.Readable() {
		name := f.Name
		var before, after string
		if old != nil {
			before = old.Values[name]
		}
		if rec != nil {
			after = rec.Values[name]
		}
		if old != nil && rec != nil && before == after {
			continue
		}
		if f.SetOf() != "" {
			before, after = setChange(before, after, old != nil && rec != nil)
		}
		e.Changes = append(e.Changes, Change{Field: name, Old: before, New: after})
	}
	return e
}

// Text is how an entry writes a value of f: as the field shows it, and a
// reference by its label and id, "Abbey Road (42)", so that the entry
// still names the record after it is renamed or deleted.
func Text(f *datamodel.Field, v any) string {
	if ref, ok := v.(*datamodel.Ref); ok {
		if ref == nil {
			return ""
		}
		return clip(ref.Label) + " (" + ref.ID + ")"
	}
	return clip(f.Kind.Text(v))
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= MaxValueRunes {
		return s
	}
	return string([]rune(s)[:MaxValueRunes]) + "…"
}

// timeLayout is RFC 3339 in UTC with microseconds, always the same width,
// so that the text order of stored times is their order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// FormatTime writes t as entries store it.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// ParseTime reads a time FormatTime wrote.
func ParseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// written counts the entries this process wrote, for /metrics.
var written atomic.Uint64

// Wrote counts n entries written; the stores call it when an entry is
// stored (on SQL, in the transaction of its change).
func Wrote(n int) { written.Add(uint64(n)) }

// Written is the number of entries this process has written.
func Written() uint64 { return written.Load() }
