package accounts

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
)

// codeAt is the code of secret at at, as an authenticator app shows it.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSecondFactor: an enrollment is confirmed by a code of its secret
// only; the stored record holds the secret sealed and the recovery codes
// hashed; a code is accepted once, within one step of skew; a recovery
// code works once; disabling needs a code; a reset needs none; each is
// audited; a user's second factor goes with them.
func TestSecondFactor(t *testing.T) { forEachStore(t, testSecondFactor) }

func testSecondFactor(t *testing.T, f *fixture) {
	ctx := context.Background()
	tf := f.acc.TOTP
	ada := f.user(t, "ada", true, f.admin)
	if _, err := tf.Start(ctx, ada, "ada", "Music Admin"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Start without a key: %v, want ErrNoKey", err)
	}
	tf.Configure("a secret key of thirty-two bytes!", []string{"Admin"})
	if req, err := tf.Required(ctx, ada); err != nil || !req {
		t.Errorf("Required of an Admin: %v, %v", req, err)
	}
	bob := f.user(t, "bob", true, f.reader)
	if req, err := tf.Required(ctx, bob); err != nil || req {
		t.Errorf("Required of a ReadOnly user: %v, %v", req, err)
	}

	key, err := tf.Start(ctx, ada, "ada", "Music Admin")
	if err != nil {
		t.Fatal(err)
	}
	again, err := tf.Start(ctx, ada, "ada", "Music Admin")
	if err != nil || again.Secret() != key.Secret() {
		t.Fatalf("a second Start before the confirmation: %v, another secret: %v", err, again.Secret() != key.Secret())
	}
	if on, _ := tf.Enrolled(ctx, ada); on {
		t.Fatal("enrolled before the confirmation")
	}
	now := time.Now()
	if _, err := tf.Confirm(ctx, ada, "ada", "000000", now); !errors.Is(err, ErrCodeInvalid) && codeAt(t, key.Secret(), now) != "000000" {
		t.Fatalf("Confirm with a wrong code: %v", err)
	}
	codes, err := tf.Confirm(ctx, ada, "ada", codeAt(t, key.Secret(), now), now)
	if err != nil || len(codes) != RecoveryCodes {
		t.Fatalf("Confirm: %d codes, %v", len(codes), err)
	}
	if on, _ := tf.Enrolled(ctx, ada); !on {
		t.Fatal("not enrolled after the confirmation")
	}
	if _, err := tf.Start(ctx, ada, "ada", "Music Admin"); !errors.Is(err, ErrEnrolled) {
		t.Errorf("Start when enrolled: %v", err)
	}

	// The record as stored: no secret, no code in clear.
	rec, err := tf.of(ctx, ada)
	if err != nil {
		t.Fatal(err)
	}
	stored := text(rec.Values[FieldSecret]) + " " + text(rec.Values[FieldRecovery])
	if strings.Contains(stored, key.Secret()) || !strings.HasPrefix(stored, sealPrefix) {
		t.Errorf("the secret is stored in clear or unsealed: %q", stored)
	}
	for _, c := range codes {
		if strings.Contains(stored, c) || strings.Contains(stored, strings.ReplaceAll(c, "-", "")) {
			t.Errorf("recovery code %s stored in clear", c)
		}
	}
	if n := len(strings.Fields(text(rec.Values[FieldRecovery]))); n != RecoveryCodes {
		t.Errorf("%d recovery hashes stored, want %d", n, RecoveryCodes)
	}

	// The code that confirmed is used: refused again, as is the one of
	// the step before. The next step's code works once.
	if _, _, err := tf.Verify(ctx, ada, "ada", codeAt(t, key.Secret(), now), now); !errors.Is(err, ErrCodeInvalid) {
		t.Errorf("the confirming code again: %v", err)
	}
	next := now.Add(totpPeriod * time.Second)
	if _, _, err := tf.Verify(ctx, ada, "ada", codeAt(t, key.Secret(), next), now); err != nil {
		t.Errorf("the next step's code (skew 1): %v", err)
	}
	if _, _, err := tf.Verify(ctx, ada, "ada", codeAt(t, key.Secret(), next), now); !errors.Is(err, ErrCodeInvalid) {
		t.Errorf("a reused code: %v", err)
	}
	later := now.Add(10 * totpPeriod * time.Second)
	if _, _, err := tf.Verify(ctx, ada, "ada", codeAt(t, key.Secret(), later.Add(-3*totpPeriod*time.Second)), later); !errors.Is(err, ErrCodeInvalid) {
		t.Errorf("a code three steps old: %v", err)
	}
	if _, _, err := tf.Verify(ctx, ada, "ada", codeAt(t, key.Secret(), later), later); err != nil {
		t.Errorf("a code of now: %v", err)
	}

	// A recovery code, typed upper-case without its dash, works once.
	f.log.entries = nil
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", ""))
	used, left, err := tf.Verify(ctx, ada, "ada", typed, later)
	if err != nil || !used || left != RecoveryCodes-1 {
		t.Fatalf("a recovery code: %v, %d left, %v", used, left, err)
	}
	if _, _, err := tf.Verify(ctx, ada, "ada", codes[3], later); !errors.Is(err, ErrCodeInvalid) {
		t.Errorf("a recovery code again: %v", err)
	}
	if len(f.log.entries) != 1 || f.log.entries[0].Action != ActionRecovery2FA || f.log.entries[0].RecordLabel != "ada" {
		t.Errorf("entries of a recovery code's use: %+v", f.log.entries)
	}

	// Disabling needs a code.
	if err := tf.Disable(ctx, ada, "ada", "nope", later); !errors.Is(err, ErrCodeInvalid) {
		t.Errorf("Disable without a code: %v", err)
	}
	if err := tf.Disable(ctx, ada, "ada", codes[0], later); err != nil {
		t.Fatalf("Disable with a recovery code: %v", err)
	}
	if on, _ := tf.Enrolled(ctx, ada); on {
		t.Error("enrolled after Disable")
	}

	// A reset needs no code, and is the actor's.
	key, _ = tf.Start(ctx, bob, "bob", "Music Admin")
	if _, err := tf.Confirm(ctx, bob, "bob", codeAt(t, key.Secret(), now), now); err != nil {
		t.Fatal(err)
	}
	f.log.entries = nil
	if err := tf.Reset(audit.With(ctx, audit.Actor{Username: "cli"}), bob, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := tf.Reset(ctx, bob, "bob"); !errors.Is(err, ErrNotEnrolled) {
		t.Errorf("a second Reset: %v", err)
	}
	if len(f.log.entries) != 1 || f.log.entries[0].Action != ActionReset2FA || f.log.entries[0].Username != "cli" {
		t.Errorf("entries of a reset: %+v", f.log.entries)
	}

	// Another secret_key does not open the secret.
	key, _ = tf.Start(ctx, bob, "bob", "Music Admin")
	tf.Configure("another secret key of 32 bytes!!", nil)
	if _, err := tf.Confirm(ctx, bob, "bob", codeAt(t, key.Secret(), now), now); !errors.Is(err, ErrUnsealed) {
		t.Errorf("Confirm under another key: %v", err)
	}
	if _, err := tf.Start(ctx, bob, "bob", "Music Admin"); err != nil {
		t.Errorf("Start anew under another key: %v", err)
	}

	// A user deleted takes their second factor with them.
	if _, err := f.acc.Users.DeleteMany(ctx, []string{bob}); err != nil {
		t.Fatal(err)
	}
	n, err := tf.Model().Count(ctx, nil)
	if err != nil || n != 0 {
		t.Errorf("second factors left after their users went: %d, %v", n, err)
	}
	if !slices.ContainsFunc(SecondFactorSchema.Fields, func(f datamodel.Field) bool { return f.Name == FieldSecret && f.Hidden }) {
		t.Error("the secret is not a Hidden field")
	}
}
