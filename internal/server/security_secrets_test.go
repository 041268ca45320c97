package server_test

// Flask-AppBuilder's advisories, as lessons held by tests (issue 19 item 4):
// no answer holds a secret of the accounts (CVE-2022-31177: users filtered
// by a partial password hash).

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/access"
	"musicadmin/internal/apptest"
)

// TestSecretsInNoAnswer: no list, show, edit or history page, search,
// filter, sort, export, lookup or API answer holds a password hash, a
// TOTP secret (sealed or clear), a recovery code's digest, an API token or
// its digest; and a filter or sort by one of those is refused or ignored
// alike for a right and a wrong value: no oracle. The dump carries them by
// design and is not asked.
func TestSecretsInNoAnswer(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		now := time.Now()
		a := apptest.NewApp(t, b, apptest.Strict(), apptest.TOTPClock(func() time.Time { return now }))
		admin := a.LoggedIn()
		pat := loggedInAs(t, a, "pat", access.ReadOnlyRole)
		secret, codes := enroll(t, pat, now.Add(-step))
		token := a.APIToken(t, "pat")
		sum := sha256.Sum256([]byte(token))
		digest := hex.EncodeToString(sum[:])
		// Writes that audit: pat's password and an edit of pat, by the Admin.
		pid := userID(t, admin, "pat")
		admin.Submit("/users/resetpassword/"+pid, url.Values{"password": {"reset-pat-pw"}, "password_confirm": {"reset-pat-pw"}}).
			ExpectRedirect(t, "reset pat's password", "/users/show/"+pid)
		form := apptest.FormValues(admin.Get("/users/edit/" + pid))
		form.Set("first_name", "Patricia")
		admin.Submit("/users/edit/"+pid, form).ExpectRedirect(t, "edit pat", "/users/list/")
		hash := userRow(t, a, "pat").PasswordHash
		adminHash := userRow(t, a, apptest.AdminUser).PasswordHash
		stored := a.SecondFactors()[0]
		type secretOf struct{ what, value string }
		leaks := []secretOf{{"pat's password hash", hash}, {"the Admin's password hash", adminHash},
			{"a hash's salt", hash[7:29]}, {"the clear TOTP secret", secret}, {"the sealed TOTP secret", stored.Secret},
			{"the API token", token}, {"the token's digest", digest}}
		for _, d := range strings.Fields(stored.Recovery) {
			leaks = append(leaks, secretOf{"a recovery code's digest", d})
		}
		for _, c := range codes {
			leaks = append(leaks, secretOf{"a recovery code", c})
		}
		check := func(where string, status int, body string) {
			t.Helper()
			if status >= 500 {
				t.Errorf("%s: %d", where, status)
			}
			for _, l := range leaks {
				if l.value != "" && strings.Contains(body, l.value) {
					t.Errorf("%s holds %s (%.12s…)", where, l.what, l.value)
				}
			}
		}
		var entries []string
		for _, e := range entries0(t, admin) {
			entries = append(entries, "/auditlog/show/"+e)
		}
		pages := []string{"/users/list/", "/users/show/" + pid, "/users/edit/" + pid, "/users/history/" + pid,
			"/users/resetpassword/" + pid, "/users/export.csv", "/users/export.csv?sort=-username", "/roles/list/",
			"/roles/export.csv", "/auditlog/list/?page_size=100", "/auditlog/export.csv",
			"/users/lookup/roles?q=", "/users/lookup/roles?q=a", "/roles/lookup/permissions?q=can",
		}
		for _, path := range append(pages, entries...) {
			r := admin.Get(path)
			check("GET "+path, r.Status, r.Body)
		}
		// A search by a secret finds no one (the search box shows the text
		// searched for back: no leak of its own).
		for _, q := range []string{hash[7:29], digest[:16], stored.Secret[3:20], secret} {
			if r := admin.Get("/users/list/?q=" + url.QueryEscape(q)); r.Status != http.StatusOK || len(r.Rows()) != 0 {
				t.Errorf("a search by a secret (%.8s…): %d, %d rows", q, r.Status, len(r.Rows()))
			}
		}
		for _, path := range []string{"/users/tokens", "/users/2fa", "/users/password"} {
			r := pat.Get(path)
			check("pat's GET "+path, r.Status, r.Body)
		}
		api := a.API(a.APIToken(t, apptest.AdminUser))
		for _, path := range []string{"/api/v1/users/", "/api/v1/users/" + pid, "/api/v1/users/_info", "/api/v1/roles/",
			"/api/v1/roles/_info", "/api/v1/auditlog/?page_size=100", "/api/v1/auditlog/_info", "/api/v1/_openapi"} {
			r := api.Do(t, http.MethodGet, path, nil)
			check("API "+path, r.Status, r.Body)
		}
		// Filters and sorts by a secret: a value the secret starts with and
		// one it does not answer alike (a refusal, or the filter ignored).
		fields := map[string]string{"password": hash, "password_hash": hash, "secret": stored.Secret,
			"recovery": stored.Recovery, "digest": digest, "token": token, "tokens": digest}
		for field, value := range fields {
			for _, op := range []string{"", "__eq", "__contains", "__starts_with", "__startswith", "__gte", "__lt"} {
				param := field + op
				hit := admin.Get("/users/list/?" + param + "=" + url.QueryEscape(value[:12]))
				miss := admin.Get("/users/list/?" + param + "=" + url.QueryEscape("zz"+value[2:12]))
				check("filter "+param, hit.Status, hit.Body)
				if hit.Status != miss.Status || len(hit.Rows()) != len(miss.Rows()) {
					t.Errorf("filter %s: %d with %d rows for the secret's start, %d with %d for another value", param,
						hit.Status, len(hit.Rows()), miss.Status, len(miss.Rows()))
				}
				ah := api.Do(t, http.MethodGet, "/api/v1/users/?"+param+"="+url.QueryEscape(value[:12]), nil)
				am := api.Do(t, http.MethodGet, "/api/v1/users/?"+param+"="+url.QueryEscape("zz"+value[2:12]), nil)
				check("API filter "+param, ah.Status, ah.Body)
				if ah.Status != am.Status || (ah.Status == http.StatusOK && ah.JSON["count"] != am.JSON["count"]) {
					t.Errorf("API filter %s: %d (count %v) for the secret's start, %d (count %v) for another value", param,
						ah.Status, ah.JSON["count"], am.Status, am.JSON["count"])
				}
				eh := admin.Get("/users/export.csv?" + param + "=" + url.QueryEscape(value[:12]))
				em := admin.Get("/users/export.csv?" + param + "=" + url.QueryEscape("zz"+value[2:12]))
				if eh.Status != em.Status || strings.Count(eh.Body, "\n") != strings.Count(em.Body, "\n") {
					t.Errorf("export filtered by %s: %d, %d lines for the secret's start; %d, %d for another value", param,
						eh.Status, strings.Count(eh.Body, "\n"), em.Status, strings.Count(em.Body, "\n"))
				}
			}
			// A sort by a secret orders nothing by it: the list is the same
			// either way.
			up, down := admin.Get("/users/list/?sort="+field), admin.Get("/users/list/?sort=-"+field)
			check("sort "+field, up.Status, up.Body)
			if strings.Join(up.FirstColumn(), ",") != strings.Join(down.FirstColumn(), ",") {
				t.Errorf("sort by %s orders the users: %v, reversed %v", field, up.FirstColumn(), down.FirstColumn())
			}
			au := api.Do(t, http.MethodGet, "/api/v1/users/?sort="+field, nil)
			ad := api.Do(t, http.MethodGet, "/api/v1/users/?sort=-"+field, nil)
			if au.Status == http.StatusOK && ad.Status == http.StatusOK && au.JSON["ids"] != nil &&
				!sameIDs(au.JSON["ids"], ad.JSON["ids"]) {
				t.Errorf("API sort by %s orders the users: %v, reversed %v", field, au.JSON["ids"], ad.JSON["ids"])
			}
		}
	})
}

// entries0 returns the ids of the audit log's first page of entries.
func entries0(t *testing.T, c *apptest.Client) []string {
	t.Helper()
	r := c.Get("/auditlog/list/?page_size=100")
	r.ExpectStatus(t, "the audit log", http.StatusOK)
	var ids []string
	r.Doc.Find(`a[href^="/auditlog/show/"]`).Each(func(_ int, s *goquery.Selection) {
		h, _ := s.Attr("href")
		ids = append(ids, strings.TrimPrefix(h, "/auditlog/show/"))
	})
	return ids
}

// sameIDs reports whether two JSON id arrays are equal.
func sameIDs(x, y any) bool {
	xs, _ := x.([]any)
	ys, _ := y.([]any)
	if len(xs) != len(ys) {
		return false
	}
	for i := range xs {
		if xs[i] != ys[i] {
			return false
		}
	}
	return true
}
