package accounts

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"musicadmin/internal/datamodel"
)

// TestIdentities: single sign-on's rules on every store: a subject is
// matched by (issuer, subject) only, registered when allowed with the
// mapped roles under a free username, synced at later sign-ins, refused
// when unknown, inactive or roleless; the last Admin stays; an identity
// goes with its user.
func TestIdentities(t *testing.T) { forEachStore(t, testIdentities) }

func testIdentities(t *testing.T, f *fixture) {
	ctx := context.Background()
	ids := f.acc.Identities
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	const issuer = "https://idp.example"
	base := ExternalSignIn{Issuer: issuer, Subject: "sub-ada", PreferredUsername: "ada", Email: "ada@example.com",
		FirstName: "Ada", LastName: "Lovelace", Roles: []string{"ReadOnly"}, Sync: true, RegistrationRole: "ReadOnly"}

	if _, err := ids.SignIn(ctx, base, now); !errors.Is(err, ErrUnknownIdentity) {
		t.Fatalf("unknown subject, registration off: %v, want ErrUnknownIdentity", err)
	}
	// A local user named like the provider's preferred username is never
	// taken over: the registration picks another name.
	local := f.user(t, "ada", true, f.reader)
	reg := base
	reg.Register = true
	out, err := ids.SignIn(ctx, reg, now)
	if err != nil || !out.Registered || out.UserID == local || out.Username != "ada@example.com" {
		t.Fatalf("registration: %+v, %v; want a new user named by the e-mail address", out, err)
	}
	rec, err := f.acc.Users.Get(ctx, out.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if got := datamodel.IDs(rec.Values[FieldRoles]); !slices.Equal(got, []string{f.reader}) || rec.Values["first_name"] != "Ada" {
		t.Errorf("registered user: roles %v, values %v", got, rec.Values)
	}
	// Matched by the subject, whatever the name and e-mail say now.
	again := base
	again.PreferredUsername, again.Email = "someone-else", "other@example.com"
	if out2, err := ids.SignIn(ctx, again, now); err != nil || out2.UserID != out.UserID || out2.Registered || out2.RolesChanged {
		t.Errorf("second sign-in: %+v, %v; want the same user, nothing changed", out2, err)
	}
	// The same subject at another issuer is another identity.
	other := base
	other.Issuer = "https://other.example"
	if _, err := ids.SignIn(ctx, other, now); !errors.Is(err, ErrUnknownIdentity) {
		t.Errorf("same subject, other issuer: %v, want ErrUnknownIdentity", err)
	}

	// Sync: the mapped roles replace the held ones, audited as an update.
	promoted := base
	promoted.Roles = []string{"Admin", "NoSuchRole"}
	out3, err := ids.SignIn(ctx, promoted, now)
	if err != nil || !out3.RolesChanged {
		t.Fatalf("sync to Admin: %+v, %v", out3, err)
	}
	rec, _ = f.acc.Users.Get(ctx, out.UserID)
	if got := datamodel.IDs(rec.Values[FieldRoles]); !slices.Equal(got, []string{f.admin}) {
		t.Errorf("roles after the sync: %v, want the Admin role only", got)
	}
	if ended := f.st.takeEnded(); !slices.Contains(ended, out.UserID) {
		t.Errorf("a role taken away by the sync ends the user's sessions: ended %v", ended)
	}
	// Without sync the roles stay whatever the provider says.
	nosync := base
	nosync.Sync, nosync.Roles = false, nil
	if out4, err := ids.SignIn(ctx, nosync, now); err != nil || out4.RolesChanged {
		t.Errorf("sign-in without sync: %+v, %v", out4, err)
	}
	// Groups that map to nothing leave no role: refused, roles kept.
	none := base
	none.Roles = nil
	if _, err := ids.SignIn(ctx, none, now); !errors.Is(err, ErrNoRole) {
		t.Errorf("sync to no role: %v, want ErrNoRole", err)
	}
	// The last active Admin is not demoted by a sync.
	if _, err := ids.SignIn(ctx, base, now); err == nil {
		t.Error("a sync took the last active Admin's role away")
	} else {
		var r *datamodel.RefusedError
		if !errors.As(err, &r) {
			t.Errorf("demotion of the last Admin: %v, want a refusal", err)
		}
	}
	// Inactive users are refused.
	if err := f.acc.Users.Update(ctx, local, datamodel.Values{FieldRoles: []datamodel.Ref{{ID: f.admin}}}); err != nil {
		t.Fatal(err)
	}
	if err := f.acc.Users.Update(ctx, out.UserID, datamodel.Values{FieldActive: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.SignIn(ctx, promoted, now); !errors.Is(err, ErrInactive) {
		t.Errorf("inactive user: %v, want ErrInactive", err)
	}
	// A registration without an e-mail address cannot fill a user.
	noMail := reg
	noMail.Subject, noMail.Email = "sub-nomail", ""
	if _, err := ids.SignIn(ctx, noMail, now); !errors.Is(err, ErrIncomplete) {
		t.Errorf("registration without e-mail: %v, want ErrIncomplete", err)
	}

	// Link: an existing account gets an identity; another user's is refused.
	if err := ids.Link(ctx, local, issuer, "sub-local", now); err != nil {
		t.Fatal(err)
	}
	if err := ids.Link(ctx, local, issuer, "sub-ada", now); err == nil {
		t.Error("linking another user's identity succeeded")
	}
	linked := base
	linked.Subject, linked.Sync = "sub-local", false
	if out5, err := ids.SignIn(ctx, linked, now); err != nil || out5.UserID != local {
		t.Errorf("sign-in of a linked user: %+v, %v", out5, err)
	}
	// A deleted user's identities go with them.
	if err := f.acc.Users.Delete(ctx, out.UserID); err != nil {
		t.Fatal(err)
	}
	if n, err := ids.Model().Count(ctx, nil); err != nil || n != 1 {
		t.Errorf("identities after the delete: %d, %v; want the linked one only", n, err)
	}
}
