package accounts

import (
	"context"
	"errors"
	"testing"

	"musicadmin/internal/datamodel"
)

// TestSettings: a user's own language and time zone on every store: none
// at first, stored and read back, a ?lang= choice alone; a language not
// shipped or a zone that does not load is refused naming its field and
// writes nothing; no audit entry, no session ended; the admin's forms,
// lists and entries never hold them (Hidden).
func TestSettings(t *testing.T) { forEachStore(t, testSettings) }

func testSettings(t *testing.T, f *fixture) {
	ctx := context.Background()
	users := f.acc.Users
	ada := f.user(t, "ada", true, f.reader)
	if s, err := users.Settings(ctx, ada); err != nil || s != (Settings{}) {
		t.Fatalf("a new user's settings: %+v, %v; want none", s, err)
	}
	want := Settings{Language: "ar", TimeZone: "America/Argentina/Buenos_Aires"}
	if err := users.SetSettings(ctx, ada, want); err != nil {
		t.Fatal(err)
	}
	if s, err := users.Settings(ctx, ada); err != nil || s != want {
		t.Errorf("stored %+v, read %+v, %v", want, s, err)
	}
	if err := users.SetLanguage(ctx, ada, "de"); err != nil {
		t.Fatal(err)
	}
	want.Language = "de"
	if s, _ := users.Settings(ctx, ada); s != want {
		t.Errorf("after SetLanguage(de): %+v, want %+v", s, want)
	}
	for _, bad := range []struct {
		s     Settings
		field string
	}{
		{Settings{Language: "fr"}, FieldLanguage},
		{Settings{Language: "DE"}, FieldLanguage},
		{Settings{Language: "<b>"}, FieldLanguage},
		{Settings{TimeZone: "Mars/Olympus_Mons"}, FieldTimeZone},
		{Settings{TimeZone: "Local"}, FieldTimeZone},
		{Settings{TimeZone: "../../etc/passwd"}, FieldTimeZone},
	} {
		var refused *datamodel.RefusedError
		if err := users.SetSettings(ctx, ada, bad.s); !errors.As(err, &refused) || refused.Field != bad.field {
			t.Errorf("SetSettings(%+v): %v, want refused on %s", bad.s, err, bad.field)
		}
		if s, _ := users.Settings(ctx, ada); s != want {
			t.Errorf("a refused %+v changed the settings: %+v", bad.s, s)
		}
	}
	if err := users.SetLanguage(ctx, ada, "xx"); err == nil {
		t.Error("SetLanguage(xx) accepted")
	}
	if err := users.SetSettings(ctx, ada, Settings{}); err != nil {
		t.Fatal(err)
	}
	if s, _ := users.Settings(ctx, ada); s != (Settings{}) {
		t.Errorf("cleared: %+v", s)
	}
	if len(f.log.entries) != 0 || len(f.st.takeEnded()) != 0 {
		t.Errorf("settings are no audited change and end no session: entries %+v", f.log.entries)
	}
	if _, err := users.Settings(ctx, f.acc.Users.Schema().Name); err == nil {
		t.Error("the settings of no user")
	}
	for _, name := range []string{FieldLanguage, FieldTimeZone} {
		if fd := users.Schema().Field(name); fd == nil || !fd.Hidden {
			t.Errorf("%s is not a Hidden field of users: %+v", name, fd)
		}
	}
}
