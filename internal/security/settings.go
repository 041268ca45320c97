package security

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"musicadmin/internal/accounts"
	"musicadmin/internal/admin"
	"musicadmin/internal/auth"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
)

// The settings page, /users/settings: every logged-in user chooses their
// own language and time zone there (accounts.Settings). Saving shows the
// page again, in the language chosen.

const (
	settingsPattern = "/settings"
	settingsHeading = "Your settings"
)

// SettingsData is what the settings page shows: the choices, the chosen
// ones (or those posted, after a refusal), and the refusals by field.
type SettingsData struct {
	Heading, Action string
	Languages       []Choice
	Zones           []Choice
	Errors          map[string]string
}

// Choice is an option of a select: Lang is the language its label is in,
// for the options naming languages in themselves.
type Choice struct {
	Value, Label, Lang string
	Selected           bool
}

type settingsPage struct {
	svc  *Service
	view *admin.ModelView // users
}

// data is the page's choices with s chosen.
func (p *settingsPage) data(s accounts.Settings, errs map[string]string) SettingsData {
	d := SettingsData{Heading: settingsHeading, Action: p.view.PathOf(settingsPattern), Errors: errs}
	d.Languages = append(d.Languages, Choice{Value: "", Label: "Automatic (your browser's language)", Selected: s.Language == ""})
	for _, lang := range i18n.Shipped {
		d.Languages = append(d.Languages, Choice{Value: lang, Label: i18n.Names[lang], Lang: lang, Selected: s.Language == lang})
	}
	zones := i18n.CommonZones
	if s.TimeZone != "" && !slices.Contains(zones, s.TimeZone) {
		// A zone of the user's the list lacks stays chosen, if it
		// loads at all (one posted and refused does not).
		if _, err := i18n.LoadZone(s.TimeZone); err == nil {
			zones = append(slices.Clone(zones), s.TimeZone)
			slices.Sort(zones)
		}
	}
	d.Zones = append(d.Zones, Choice{Value: "", Label: "UTC (none chosen)", Selected: s.TimeZone == ""})
	now := time.Now()
	for _, name := range zones {
		loc, err := i18n.LoadZone(name)
		if err != nil {
			continue
		}
		d.Zones = append(d.Zones, Choice{Value: name, Label: name + " (" + offset(now.In(loc)) + ")", Selected: s.TimeZone == name})
	}
	return d
}

// offset writes t's offset from UTC as "UTC+05:30", "UTC-03:00", "UTC±00:00".
func offset(t time.Time) string {
	_, secs := t.Zone()
	sign := "+"
	switch {
	case secs < 0:
		sign, secs = "-", -secs
	case secs == 0:
		sign = "±"
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, secs/3600, secs%3600/60)
}

// show handles "GET /users/settings": the user's settings as stored.
func (p *settingsPage) show(w http.ResponseWriter, r *http.Request) {
	s, err := p.svc.Users.Settings(r.Context(), auth.CurrentUser(r).ID)
	if err != nil {
		p.view.Fail(w, r, err)
		return
	}
	p.view.Render(w, r, http.StatusOK, "settings", settingsHeading, p.data(s, nil))
}

// save handles "POST /users/settings": a language the app speaks and a
// time zone it knows, each may be none; otherwise 422 with the field's
// message, and nothing is written. Saved, the page is shown again in the
// language chosen, with a flash saying so.
func (p *settingsPage) save(w http.ResponseWriter, r *http.Request) {
	me := auth.CurrentUser(r)
	s := accounts.Settings{Language: r.PostFormValue(accounts.FieldLanguage), TimeZone: r.PostFormValue(accounts.FieldTimeZone)}
	if errs := s.Problems(); errs != nil {
		p.view.Render(w, r, http.StatusUnprocessableEntity, "settings", settingsHeading, p.data(s, errs))
		return
	}
	err := p.svc.Users.SetSettings(r.Context(), me.ID, s)
	var refused *datamodel.RefusedError
	if errors.As(err, &refused) {
		p.view.Render(w, r, http.StatusUnprocessableEntity, "settings", settingsHeading,
			p.data(s, map[string]string{refused.Field: refused.Message}))
		return
	}
	if err != nil {
		p.view.Fail(w, r, err)
		return
	}
	// The flash reads in the language the next page is in: the one
	// chosen, or with none, the browser's (or the cookie's).
	next, _ := i18n.Std().ForUser(r.Context(), s.Language)
	p.view.Flash(w, r, i18n.Text(next, "Your settings were saved."))
	http.Redirect(w, r, p.view.PathOf(settingsPattern), http.StatusFound)
}
