package accounts

import (
	"context"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
)

// Field names of a user's own settings.
const (
	FieldLanguage = "language"
	FieldTimeZone = "time_zone"
)

// Refusals of settings the app cannot show.
const (
	MsgLanguage = "Choose one of the languages offered."
	MsgTimeZone = "Choose a time zone of the list, such as Europe/Berlin."
)

// Settings are a user's own choices of how the pages show things to them:
// Language is one of i18n.Shipped, or "" for none (the browser's, else
// the app's); TimeZone is the name of an IANA time zone
// (time.LoadLocation's), or "" for none (UTC).
type Settings struct {
	Language string
	TimeZone string
}

// Problems returns what is wrong with s, by field (FieldLanguage,
// FieldTimeZone), as the message a form shows: nil when s is fine.
func (s Settings) Problems() map[string]string {
	var out map[string]string
	add := func(field, msg string) {
		if out == nil {
			out = map[string]string{}
		}
		out[field] = msg
	}
	if s.Language != "" && !i18n.Supported(s.Language) {
		add(FieldLanguage, MsgLanguage)
	}
	if _, err := i18n.LoadZone(s.TimeZone); err != nil {
		add(FieldTimeZone, MsgTimeZone)
	}
	return out
}

// check returns the first of s's problems as a refusal, or nil.
func (s Settings) check() error {
	p := s.Problems()
	for _, f := range []string{FieldLanguage, FieldTimeZone} {
		if msg, ok := p[f]; ok {
			return &datamodel.RefusedError{Field: f, Message: msg}
		}
	}
	return nil
}

// SettingsOf returns the settings of a user's record as stored.
func SettingsOf(rec datamodel.Record) Settings {
	return Settings{Language: text(rec.Values[FieldLanguage]), TimeZone: text(rec.Values[FieldTimeZone])}
}

// Settings returns the settings of the user with id;
// datamodel.ErrNotFound when no user has it.
func (u *Users) Settings(ctx context.Context, id string) (Settings, error) {
	rec, err := u.base.Get(ctx, id)
	if err != nil {
		return Settings{}, err
	}
	return SettingsOf(rec), nil
}

// SetSettings stores s as the settings of the user with id, or refuses
// settings the app cannot show (a *datamodel.RefusedError naming the
// field) and writes nothing. A preference, not the account's security:
// no audit entry, no session ended.
func (u *Users) SetSettings(ctx context.Context, id string, s Settings) error {
	if err := s.check(); err != nil {
		return err
	}
	return u.setSettings(ctx, id, datamodel.Values{FieldLanguage: s.Language, FieldTimeZone: s.TimeZone})
}

// setSettings writes v to the user with id, in a Together of the accounts'
// lock: the settings are part of the user a session's request remembers
// (auth.Remembered), which the generation's move makes every instance
// read again.
func (u *Users) setSettings(ctx context.Context, id string, v datamodel.Values) error {
	return u.st.Together(ctx, lockName, func(ctx context.Context) error {
		return u.base.Update(audit.Without(ctx), id, v)
	})
}

// SetLanguage stores lang as the language of the user with id, leaving
// their time zone: a ?lang= choice of a logged-in user. A language not
// shipped is refused as SetSettings refuses it.
func (u *Users) SetLanguage(ctx context.Context, id, lang string) error {
	if err := (Settings{Language: lang}).check(); err != nil {
		return err
	}
	return u.setSettings(ctx, id, datamodel.Values{FieldLanguage: lang})
}
