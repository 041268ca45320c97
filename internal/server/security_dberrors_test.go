package server_test

// Flask-AppBuilder's advisories, as lessons held by tests (issue 19 item 4):
// no answer shows a database error's text (CVE-2023-34110).

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/apptest"
	"musicadmin/internal/store"
)

// driverText is what a database or its driver says that must never reach
// a user: the texts of SQLite, MySQL, PostgreSQL and MongoDB errors, the
// names the test gives the index and the table it sets up, and a stack.
var driverText = regexp.MustCompile(`(?i)UNIQUE constraint|constraint failed|SQLSTATE|Error \d{4}|duplicate key|` +
	`Duplicate entry|no such (table|column)|doesn't exist|does not exist|relation "|E11000|dup key|` +
	`advisory_rating|album_gone|title_gone|database is closed|client is disconnected|sql: |gorm|pq: |pgx|` +
	`goroutine|\.go:\d+|\bux_|\bix_|(?-i:SELECT |INSERT |UPDATE |FROM )`)

// checkGeneric fails t when an answer shows a driver's text, or a 2xx or
// 3xx where the database failed.
func checkGeneric(t *testing.T, what string, status int, body string, failed bool) {
	t.Helper()
	// A form's CSRF token is random base64, masked afresh on every page:
	// it held "pgx" or "gorm", ignoring case, on one page in a few
	// hundred, and the test failed one run in six.
	body = csrfValue.ReplaceAllString(body, `name="csrf_token" value=""`)
	if m := driverText.FindString(body); m != "" {
		t.Errorf("%s: %d shows the database's text %q:\n%s", what, status, m, apptest.Clip(body))
	}
	if failed && status < 400 {
		t.Errorf("%s: %d, want an error status", what, status)
	}
}

// TestDatabaseErrorsShowNoText: real database errors on every backend (a
// unique violation that validation cannot see, a table and a column
// renamed under the running app, a closed pool) answer every page and API
// call with a generic message and an error status, never the driver's
// text, SQL, or a stack. The log may hold the error.
func TestDatabaseErrorsShowNoText(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		a := apptest.NewApp(t, b)
		admin := a.LoggedIn()
		api := a.API(a.APIToken(t, apptest.AdminUser))
		admin.Submit("/albumview/add", url.Values{"name": {"Kept"}}).ExpectRedirect(t, "add an album", "/albumview/list/")
		album, _ := a.Album("Kept")
		admin.Submit("/songsview/add", url.Values{"title": {"One"}, "rating": {"5"}}).
			ExpectRedirect(t, "add a song", "/songsview/list/")
		admin.Submit("/songsview/add", url.Values{"title": {"Two"}, "rating": {"6"}}).
			ExpectRedirect(t, "add a song", "/songsview/list/")
		two := api.Do(t, http.MethodGet, "/api/v1/songsview/?title=Two", nil).Expect(t, "find Two", http.StatusOK)
		twoID := two.JSON["ids"].([]any)[0].(string)

		t.Run("unique violation past validation", func(t *testing.T) {
			// A unique index the app does not know of: its check passes,
			// the database refuses.
			if a.Mongo != nil {
				_, err := a.Mongo.Collection("song").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "rating", Value: 1}},
					Options: options.Index().SetUnique(true).SetName("advisory_rating")})
				if err != nil {
					t.Fatal(err)
				}
				defer a.Mongo.Collection("song").Indexes().DropOne(ctx, "advisory_rating")
			} else {
				if err := a.DB.Exec("CREATE UNIQUE INDEX advisory_rating ON songs (rating)").Error; err != nil {
					t.Fatal(err)
				}
				drop := "DROP INDEX advisory_rating"
				if a.DB.Dialector.Name() == "mysql" {
					drop += " ON songs"
				}
				defer a.DB.Exec(drop)
			}
			r := admin.Submit("/songsview/add", url.Values{"title": {"Three"}, "rating": {"5"}})
			checkGeneric(t, "POST /songsview/add", r.Status, r.Body, true)
			form := apptest.FormValues(admin.Get("/songsview/edit/" + twoID))
			form.Set("rating", "5")
			r = admin.Submit("/songsview/edit/"+twoID, form)
			checkGeneric(t, "POST /songsview/edit", r.Status, r.Body, true)
			ar := api.Do(t, http.MethodPost, "/api/v1/songsview/", map[string]any{"title": "Four", "rating": 5})
			checkGeneric(t, "API POST", ar.Status, ar.Body, true)
			ar = api.Do(t, http.MethodPatch, "/api/v1/songsview/"+twoID, map[string]any{"rating": 5},
				"Content-Type", "application/merge-patch+json")
			checkGeneric(t, "API PATCH", ar.Status, ar.Body, true)
		})

		if a.DB != nil {
			t.Run("table and column renamed", func(t *testing.T) {
				for _, rename := range []struct{ do, undo string }{
					{"ALTER TABLE albums RENAME TO album_gone", "ALTER TABLE album_gone RENAME TO albums"},
					{"ALTER TABLE songs RENAME COLUMN title TO title_gone", "ALTER TABLE songs RENAME COLUMN title_gone TO title"},
				} {
					if err := a.DB.Exec(rename.do).Error; err != nil {
						t.Fatal(err)
					}
					for _, path := range []string{"/albumview/list/", "/albumview/show/" + album.ID, "/albumview/edit/" + album.ID,
						"/albumview/export.csv", "/songsview/list/", "/songsview/list/?q=one", "/songsview/show/" + twoID,
						"/songsview/lookup/album?q=K", "/songsview/history/" + twoID} {
						r := admin.Get(path)
						checkGeneric(t, rename.do+": GET "+path, r.Status, r.Body, false)
					}
					r := admin.Submit("/albumview/add", url.Values{"name": {"Lost"}})
					checkGeneric(t, rename.do+": POST /albumview/add", r.Status, r.Body, strings.Contains(rename.do, "albums"))
					r = admin.Submit("/songsview/add", url.Values{"title": {"Lost"}})
					checkGeneric(t, rename.do+": POST /songsview/add", r.Status, r.Body, true)
					for _, path := range []string{"/api/v1/albumview/", "/api/v1/songsview/", "/api/v1/songsview/" + twoID} {
						ar := api.Do(t, http.MethodGet, path, nil)
						checkGeneric(t, rename.do+": API GET "+path, ar.Status, ar.Body, false)
					}
					ar := api.Do(t, http.MethodPost, "/api/v1/songsview/", map[string]any{"title": "Lost"})
					checkGeneric(t, rename.do+": API POST", ar.Status, ar.Body, true)
					if err := a.DB.Exec(rename.undo).Error; err != nil {
						t.Fatal(err)
					}
				}
			})
		}

		t.Run("closed pool", func(t *testing.T) {
			if err := a.Data.Close(); err != nil {
				t.Fatal(err)
			}
			// Past the window of the last read of the accounts'
			// generation, every request's login check reads the database.
			time.Sleep(store.GenerationWindow)
			for _, path := range []string{"/", "/albumview/list/", "/songsview/show/" + twoID, "/users/list/", "/auditlog/list/",
				"/albumview/export.csv"} {
				r := admin.Get(path)
				checkGeneric(t, "GET "+path, r.Status, r.Body, true)
			}
			r := a.Client().Submit("/login/", url.Values{"username": {apptest.AdminUser}, "password": {apptest.AdminPassword}})
			checkGeneric(t, "a login", r.Status, r.Body, true)
			ar := api.Do(t, http.MethodGet, "/api/v1/songsview/", nil)
			checkGeneric(t, "API GET", ar.Status, ar.Body, true)
			if strings.TrimSpace(a.Log.String()) == "" {
				t.Error("the log holds nothing of the errors")
			}
		})
	})
}
