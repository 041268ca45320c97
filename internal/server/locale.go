package server

import (
	"log/slog"
	"net/http"

	"musicadmin/internal/accounts"
	"musicadmin/internal/auth"
	"musicadmin/internal/i18n"
)

// userLocale is the second half of choosing a request's language, once
// the session has told who the user is: i18n's Middleware chose for
// nobody (?lang=, the cookie, Accept-Language, the default), and a
// logged-in user's own setting comes before the cookie and
// Accept-Language (Catalogue.ForUser). A ?lang= choice other than their
// setting becomes it: "?lang= switches and remembers", for a user across
// browsers. Their time zone goes on the request too, for the times the
// pages show. It reads nothing: the settings came with the session's one
// read of the user; a ?lang= that changes the setting is one write.
func userLocale(cat *i18n.Catalogue, users *accounts.Users, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u := auth.CurrentUser(r)
			if u == nil {
				next.ServeHTTP(w, r)
				return
			}
			ctx, save := cat.ForUser(r.Context(), u.Language)
			if save != "" {
				// A preference: a database that takes no write now
				// still shows the page in the language asked for.
				if err := users.SetLanguage(ctx, u.ID, save); err != nil {
					log.Warn("the language chosen with ?lang= is not saved as the user's", "username", u.Username, "err", err)
				} else {
					saved := *u
					saved.Language = save
					ctx = auth.WithUser(ctx, &saved)
				}
			}
			// A zone that does not load (one a newer app knew) is UTC.
			if loc, err := i18n.LoadZone(u.TimeZone); err == nil {
				ctx = i18n.WithZone(ctx, loc)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
