package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// recorded is a model that writes the audit entries an audited store
// writes (the memory store writes none) and counts its lists: a token's
// entries and lookups are checked on it.
type recorded struct {
	datamodel.Interface
	mu      sync.Mutex
	entries []audit.Entry
	lists   int
}

func (m *recorded) log(ctx context.Context, action string, old, rec *datamodel.Record) {
	a, ok := audit.From(ctx)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, audit.NewEntry(a, action, m.Schema(), old, rec, time.Now()))
}

func (m *recorded) get(ctx context.Context, id string) *datamodel.Record {
	rec, err := m.Interface.Get(ctx, id)
	if err != nil {
		return nil
	}
	return &rec
}

func (m *recorded) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	m.mu.Lock()
	m.lists++
	m.mu.Unlock()
	return m.Interface.List(ctx, q)
}

func (m *recorded) Create(ctx context.Context, v datamodel.Values) (string, error) {
	id, err := m.Interface.Create(ctx, v)
	if err == nil {
		m.log(ctx, audit.ActionCreate, nil, m.get(ctx, id))
	}
	return id, err
}

func (m *recorded) Update(ctx context.Context, id string, v datamodel.Values) error {
	old := m.get(ctx, id)
	err := m.Interface.Update(ctx, id, v)
	if err == nil {
		m.log(ctx, audit.ActionUpdate, old, m.get(ctx, id))
	}
	return err
}

func (m *recorded) Delete(ctx context.Context, id string) error {
	old := m.get(ctx, id)
	err := m.Interface.Delete(ctx, id)
	if err == nil {
		m.log(ctx, audit.ActionDelete, old, nil)
	}
	return err
}

func (m *recorded) DeleteMany(ctx context.Context, ids []string) (int, error) {
	var old []*datamodel.Record
	for _, id := range ids {
		old = append(old, m.get(ctx, id))
	}
	n, err := m.Interface.DeleteMany(ctx, ids)
	if err == nil {
		for _, rec := range old {
			if rec != nil {
				m.log(ctx, audit.ActionDelete, rec, nil)
			}
		}
	}
	return n, err
}

func (m *recorded) takeEntries() []audit.Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.entries
	m.entries = nil
	return out
}

func (m *recorded) listed() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lists
}

func invalid(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("%s: %v, want ErrTokenInvalid", what, err)
	}
}

// TestTokens: a token made for a user authenticates them, until it
// expires, is revoked, or the user is deactivated or deleted; anything
// else is ErrTokenInvalid, a malformed token without a lookup; only its
// digest is stored, and no audit entry holds that.
func TestTokens(t *testing.T) { forEachStore(t, testTokens) }

func testTokens(t *testing.T, f *fixture) {
	tokens := f.acc.Tokens
	rec := f.tokens
	ann := f.user(t, "ann", true, f.reader)
	bob := f.user(t, "bob", true, f.reader)
	ctx := audit.With(context.Background(), audit.Actor{Username: "root", View: "usersview"})
	now := time.Now()

	plain, made, err := tokens.Create(ctx, ann, "  ci  ", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) != len(TokenPrefix)+43 {
		t.Errorf("token %q: want %s and 43 characters of base64url", plain, TokenPrefix)
	}
	if made.Values[FieldName] != "ci" || made.Values[FieldExpiresAt] != "" || made.Values[FieldLastUsedAt] != "" {
		t.Errorf("the record made: %v", made.Values)
	}
	if ref, _ := made.Values[FieldUser].(*datamodel.Ref); ref == nil || ref.ID != ann {
		t.Errorf("the token's user: %v, want ann", made.Values[FieldUser])
	}
	if at, err := time.Parse(time.RFC3339, made.Values[FieldCreatedAt].(string)); err != nil || now.Sub(at) > 2*time.Second ||
		!strings.HasSuffix(made.Values[FieldCreatedAt].(string), "Z") {
		t.Errorf("created_at %q: want now, in UTC to the second", made.Values[FieldCreatedAt])
	}
	if e := rec.takeEntries(); len(e) != 1 || e[0].Action != audit.ActionCreate || e[0].Username != "root" || e[0].View != TokensView {
		t.Errorf("create entries: %+v", e)
	} else {
		checkNoDigest(t, e, digestOf(plain))
	}

	// The token is its user's; only its digest is stored.
	u, err := tokens.Authenticate(context.Background(), plain, now)
	if err != nil || u.ID != ann || u.Username != "ann" || !u.Active {
		t.Fatalf("authenticate: %+v, %v; want ann", u, err)
	}
	var digests []string
	err = rec.Interface.Each(context.Background(), datamodel.Query{}, func(r datamodel.Record) error {
		for k, v := range r.Values {
			if strings.Contains(fmt.Sprint(v), plain[len(TokenPrefix):]) {
				t.Errorf("the store holds the token in %s: %v", k, v)
			}
		}
		digests = append(digests, r.Values[FieldDigest].(string))
		return nil
	})
	sum := sha256.Sum256([]byte(plain))
	if err != nil || len(digests) != 1 || digests[0] != hex.EncodeToString(sum[:]) {
		t.Errorf("digests stored: %v, %v; want the token's SHA-256", digests, err)
	}

	// Its use is written once a minute at most, by its user, in the
	// tokens' view, as an update of last_used_at.
	used := func() string {
		r, err := rec.Interface.Get(context.Background(), made.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r.Values[FieldLastUsedAt].(string)
	}
	if got := used(); got != stamp(now) {
		t.Errorf("last used %q after a use at %s", got, stamp(now))
	}
	e := rec.takeEntries()
	if len(e) != 1 || e[0].Action != audit.ActionUpdate || e[0].Username != "ann" || e[0].View != TokensView ||
		len(e[0].Changes) != 1 || e[0].Changes[0].Field != FieldLastUsedAt {
		t.Errorf("use entries: %+v", e)
	}
	for _, later := range []time.Duration{time.Second, 30 * time.Second, 59 * time.Second} {
		if _, err := tokens.Authenticate(context.Background(), plain, now.Add(later)); err != nil {
			t.Fatal(err)
		}
	}
	if got := used(); got != stamp(now) {
		t.Errorf("last used %q: written again within the minute", got)
	}
	if _, err := tokens.Authenticate(context.Background(), plain, now.Add(61*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := used(); got != stamp(now.Add(61*time.Second)) {
		t.Errorf("last used %q a minute later, want %s", got, stamp(now.Add(61*time.Second)))
	}
	if e := rec.takeEntries(); len(e) != 1 {
		t.Errorf("%d entries for four uses over a minute, want 1", len(e))
	}

	// Malformed tokens are refused without a lookup; unknown ones after.
	lists := rec.listed()
	for _, bad := range []string{"", TokenPrefix, plain[:len(plain)-1], plain + "A", "xyz_" + plain[4:],
		TokenPrefix + strings.Repeat("!", 43), TokenPrefix + strings.Repeat("A", 42) + "B", // bits past the 32 bytes
		" " + plain[1:], strings.ToUpper(plain[:4]) + plain[4:]} {
		_, err := tokens.Authenticate(context.Background(), bad, now)
		invalid(t, fmt.Sprintf("malformed %q", bad), err)
	}
	if n := rec.listed(); n != lists {
		t.Errorf("malformed tokens were looked up %d times", n-lists)
	}
	other := plain[:len(plain)-2] + map[bool]string{true: "AA", false: "BA"}[plain[len(plain)-2:] != "AA"]
	_, err = tokens.Authenticate(context.Background(), other, now)
	invalid(t, "an unknown token", err)

	// Refusals of a name or an expiry; 100 characters is a name.
	for _, name := range []string{"", "   ", strings.Repeat("é", 101), "a\x00b"} {
		_, _, err := tokens.Create(ctx, ann, name, time.Time{})
		var r *datamodel.RefusedError
		if !errors.As(err, &r) || r.Field != FieldName {
			t.Errorf("name %q: %v, want a refusal of the name", name, err)
		}
	}
	if _, _, err := tokens.Create(ctx, ann, strings.Repeat("é", 100), time.Time{}); err != nil {
		t.Errorf("a name of 100 characters: %v", err)
	}
	_, _, err = tokens.Create(ctx, ann, "old", now.Add(-time.Second))
	if r := (*datamodel.RefusedError)(nil); !errors.As(err, &r) || r.Field != FieldExpiresAt {
		t.Errorf("an expiry in the past: %v, want a refusal of expires_at", err)
	}
	if _, _, err := tokens.Create(ctx, "650000000000000000000999", "x", time.Time{}); !errors.Is(err, datamodel.ErrInvalidRef) {
		t.Errorf("a token of nobody: %v, want an InvalidRefError", err)
	}

	// Expiry.
	soon, _, err := tokens.Create(ctx, ann, "soon", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Authenticate(context.Background(), soon, now); err != nil {
		t.Errorf("before its expiry: %v", err)
	}
	_, err = tokens.Authenticate(context.Background(), soon, now.Add(2*time.Hour))
	invalid(t, "expired", err)

	// Of: a user's own tokens, newest first.
	mine, err := tokens.Of(context.Background(), ann)
	if err != nil || len(mine) != 3 || mine[0].Values[FieldName] != "soon" || mine[2].ID != made.ID {
		t.Errorf("ann's tokens: %v, %v; want soon, the long name, ci", mine, err)
	}
	for _, r := range mine {
		if ref, _ := r.Values[FieldUser].(*datamodel.Ref); ref == nil || ref.ID != ann {
			t.Errorf("Of(ann) holds a token of %v", r.Values[FieldUser])
		}
	}

	// Revoke: only one's own.
	bobs, bobRec, err := tokens.Create(ctx, bob, "bob's", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rec.takeEntries()
	for _, c := range []struct{ user, token string }{{ann, bobRec.ID}, {ann, "nonsense"}, {bob, made.ID}} {
		if err := tokens.Revoke(ctx, c.user, c.token); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("revoke %s's token %s as %s: %v, want ErrNotFound", "another", c.token, c.user, err)
		}
	}
	if _, err := tokens.Authenticate(context.Background(), bobs, now); err != nil {
		t.Errorf("bob's token after ann tried to revoke it: %v", err)
	}
	rec.takeEntries()
	if err := tokens.Revoke(ctx, ann, made.ID); err != nil {
		t.Fatal(err)
	}
	_, err = tokens.Authenticate(context.Background(), plain, now.Add(2*time.Minute))
	invalid(t, "revoked", err)
	if err := tokens.Revoke(ctx, ann, made.ID); !errors.Is(err, datamodel.ErrNotFound) {
		t.Errorf("revoked twice: %v", err)
	}
	if e := rec.takeEntries(); len(e) != 1 || e[0].Action != audit.ActionDelete || e[0].View != TokensView {
		t.Errorf("revoke entries: %+v", e)
	} else {
		checkNoDigest(t, e, digestOf(plain))
	}

	// A deactivated user's tokens stop at once, and come back with them.
	if err := f.acc.Users.Update(ctx, ann, datamodel.Values{FieldActive: false}); err != nil {
		t.Fatal(err)
	}
	_, err = tokens.Authenticate(context.Background(), soon, now)
	invalid(t, "an inactive user's", err)
	if err := f.acc.Users.Update(ctx, ann, datamodel.Values{FieldActive: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Authenticate(context.Background(), soon, now); err != nil {
		t.Errorf("reactivated: %v", err)
	}

	// A deleted user's tokens go with them.
	if err := f.acc.Users.Delete(ctx, bob); err != nil {
		t.Fatal(err)
	}
	_, err = tokens.Authenticate(context.Background(), bobs, now)
	invalid(t, "a deleted user's", err)
	if n, err := rec.Interface.Count(context.Background(), []datamodel.Filter{tokens.ofUser(bob)}); err != nil || n != 0 {
		t.Errorf("bob's tokens after his delete: %d, %v", n, err)
	}
	if n, err := rec.Interface.Count(context.Background(), nil); err != nil || n != 2 {
		t.Errorf("tokens left: %d, %v; want ann's two", n, err)
	}
	checkNoDigest(t, rec.takeEntries(), digestOf(bobs))
}

// checkNoDigest fails if an entry names the digest field or holds digest.
func checkNoDigest(t *testing.T, entries []audit.Entry, digest string) {
	t.Helper()
	for _, e := range entries {
		for _, c := range e.Changes {
			if c.Field == FieldDigest || strings.Contains(c.Old+c.New, digest) {
				t.Errorf("an entry holds the digest: %+v", e)
			}
		}
	}
}
