package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/apptest"
	"musicadmin/internal/i18n"
)

// TestRecordPagesInLanguages: a user walking the record pages in German
// and in Arabic (the add form, a 422 with the rating out of range, the
// flash after a save, the show and edit pages, the delete confirmation
// with dependants and the flash after a delete, the history, a 404, a bulk
// delete's confirmation and flash) reads them in that language, with no
// English text of the record pages' and models' catalogues left.
func TestRecordPagesInLanguages(t *testing.T) {
	english := recordsEnglish(t)
	for _, tc := range []struct {
		lang string
		want map[string]string // a step's expected text, by step
	}{
		{"de", map[string]string{
			"add h1": "Song hinzufügen", "title label": "Titel *(Pflichtfeld)", "save": "Speichern",
			"rating error": "Muss eine ganze Zahl von 0 bis 9 sein.",
			"added":        "Song „Yesterday“ wurde hinzugefügt.",
			"show h1":      "Song: Yesterday", "edit h1": "Song bearbeiten",
			"dependants": "1 Song verweist auf diesen Datensatz und bleibt erhalten, aber ohne Album.",
			"question":   "Abbey Road löschen? Dies kann nicht rückgängig gemacht werden.",
			"history h1": "Verlauf von Song: Yesterday", "history action": "angelegt",
			"deleted": "Album „Abbey Road“ wurde gelöscht.",
			"404":     "Nicht gefunden",
			"bulk h1": "Songs löschen", "bulk question": "3 Songs löschen? Dies kann nicht rückgängig gemacht werden.",
			"bulk done": "Gelöscht: 3 Songs.",
		}},
		{"ar", map[string]string{
			"add h1": "إضافة أغنية", "title label": "العنوان *(مطلوب)", "save": "حفظ",
			"rating error": "يجب أن يكون عددًا صحيحًا من 0 إلى 9.",
			"added":        "تمت إضافة أغنية «Yesterday».",
			"show h1":      "أغنية: Yesterday", "edit h1": "تحرير أغنية",
			"dependants": "يشير سجل واحد من الأغاني إلى هذا السجل، وسيبقى دون ألبوم.",
			"question":   "حذف Abbey Road؟ لا يمكن التراجع عن ذلك.",
			"history h1": "السجل التاريخي لـأغنية: Yesterday", "history action": "إنشاء",
			"deleted": "تم حذف ألبوم «Abbey Road».",
			"404":     "",
			"bulk h1": "حذف الأغاني", "bulk question": "حذف السجلات المحددة (3 أغانٍ)؟ لا يمكن التراجع عن ذلك.",
			"bulk done": "تم الحذف: 3 أغانٍ.",
		}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			t.Parallel()
			app := apptest.NewApp(t, apptest.SQLite, apptest.Strict())
			c := app.LoggedIn()
			c.Get("/?lang=" + tc.lang) // remembered from now on
			check := func(step, got string) {
				t.Helper()
				if want := tc.want[step]; want != "" && got != want {
					t.Errorf("%s: %s = %q, want %q", tc.lang, step, got, want)
				}
			}
			// page checks that r is in the language: no English text of
			// the record pages is left.
			page := func(what string, r *apptest.Response) {
				t.Helper()
				if lang, _ := r.Doc.Find("html").Attr("lang"); lang != tc.lang {
					t.Errorf("%s: %s in lang %q", tc.lang, what, lang)
				}
				text := visibleText(r)
				for _, en := range english[tc.lang] {
					if en.MatchString(text) {
						t.Errorf("%s: %s shows the English %q in: %s", tc.lang, what, en, text)
					}
				}
			}

			c.Submit("/albumview/add", url.Values{"name": {"Abbey Road"}}).ExpectStatus(t, "add album", http.StatusFound)
			album := app.AlbumID("Abbey Road")

			add := c.Get("/songsview/add")
			page("add form", add)
			check("add h1", add.Text("main h1"))
			check("title label", add.Text("label[for=f-title]"))
			check("save", add.Text("main button[type=submit]:not([name])"))

			bad := c.Submit("/songsview/add", url.Values{"title": {"Yesterday"}, "rating": {"42"}, "album": {album}})
			bad.ExpectStatus(t, "rating out of range", http.StatusUnprocessableEntity)
			page("422", bad)
			check("rating error", bad.FieldError("rating"))

			c.Submit("/songsview/add", url.Values{"title": {"Yesterday"}, "rating": {"4"}, "album": {album}}).
				ExpectRedirect(t, "add song", "/songsview/list/")
			song := app.SongID("Yesterday")
			show := c.Get("/songsview/show/" + song)
			if got := show.Flashes(); len(got) != 1 {
				t.Errorf("%s: flashes after save = %q", tc.lang, got)
			} else {
				check("added", got[0])
			}
			page("show page", show)
			check("show h1", show.Text("main h1"))

			edit := c.Get("/songsview/edit/" + song)
			page("edit form", edit)
			check("edit h1", edit.Text("main h1"))

			del := c.Get("/albumview/delete/" + album)
			page("delete confirmation", del)
			check("dependants", del.Text("main .notice"))
			check("question", del.Text("main .card > p:not(.notice)"))

			hist := c.Get("/songsview/history/" + song)
			page("history", hist)
			check("history h1", hist.Text("main h1"))
			check("history action", hist.Text(`main td:nth-child(3)`))

			c.Submit("/albumview/delete/"+album, nil).ExpectRedirect(t, "delete album", "/albumview/list/")
			list := c.Get("/albumview/list/")
			if got := list.Flashes(); len(got) != 1 {
				t.Errorf("%s: flashes after delete = %q", tc.lang, got)
			} else {
				check("deleted", got[0])
			}

			missing := c.Get("/songsview/show/" + app.UnknownID())
			missing.ExpectStatus(t, "unknown song", http.StatusNotFound)
			page("404", missing)
			check("404", missing.Text("main h1")[len("404 · "):])

			for _, title := range []string{"Help", "Let It Be"} {
				c.Submit("/songsview/add", url.Values{"title": {title}, "rating": {"1"}}).ExpectStatus(t, "add "+title, http.StatusFound)
			}
			ids := []string{song, app.SongID("Help"), app.SongID("Let It Be")}
			form := url.Values{"ids": ids, "csrf_token": {c.CSRF("/songsview/list/")}}
			bulk := c.Post("/songsview/action/delete", form)
			bulk.ExpectStatus(t, "bulk delete confirmation", http.StatusOK)
			page("bulk confirmation", bulk)
			check("bulk h1", bulk.Text("main h1"))
			check("bulk question", bulk.Text("main .card > p"))
			form.Set("confirm", "1")
			c.Post("/songsview/action/delete", form).ExpectRedirect(t, "bulk delete", "/songsview/list/")
			if got := c.Get("/songsview/list/").Flashes(); len(got) != 1 {
				t.Errorf("%s: flashes after bulk delete = %q", tc.lang, got)
			} else {
				check("bulk done", got[0])
			}

			// The oracle finds English where there is some: the add form
			// in English holds several of its texts.
			text, n := visibleText(c.Get("/songsview/add?lang=en")), 0
			for _, en := range english[tc.lang] {
				if en.MatchString(text) {
					n++
				}
			}
			if n < 5 {
				t.Errorf("%s: the English add form shows %d of the English texts, want 5 or more", tc.lang, n)
			}
		})
	}
}

// visibleText is what a user of r reads or hears: the title, the body's
// text, and the attributes read out or shown (placeholder, title,
// aria-label, alt, data-label), one line each.
func visibleText(r *apptest.Response) string {
	parts := []string{r.Doc.Find("head title").Text(), r.Doc.Find("body").Text()}
	r.Doc.Find("[placeholder], [title], [aria-label], [alt], [data-label]").Each(func(_ int, s *goquery.Selection) {
		for _, a := range []string{"placeholder", "title", "aria-label", "alt", "data-label"} {
			if v, ok := s.Attr(a); ok {
				parts = append(parts, v)
			}
		}
	})
	return strings.Join(parts, "\n")
}

// recordsEnglish returns, for each language but English, the English
// texts of the records and models catalogues that the language says
// otherwise, as patterns matching them as words: a message with values
// by its longest literal part.
func recordsEnglish(t *testing.T) map[string][]*regexp.Regexp {
	t.Helper()
	read := func(area, lang string) map[string]any {
		m, err := i18n.Area(area, lang)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	placeholder := regexp.MustCompile(`\{\{[^}]*\}\}`)
	out := map[string][]*regexp.Regexp{}
	for _, lang := range []string{"de", "ar"} {
		for _, area := range []string{"records", "models"} {
			en, other := read(area, "en"), read(area, lang)
			for id, v := range en {
				text, plain := v.(string)
				if !plain || text == other[id] {
					continue // a plural's forms, or a word the language shares
				}
				part := ""
				for _, p := range placeholder.Split(text, -1) {
					if p = strings.TrimSpace(p); len(p) > len(part) {
						part = p
					}
				}
				if len(part) < 4 || part == strings.ToLower(part) && !strings.Contains(part, " ") {
					// Too short to tell, or a lower-case word (a noun
					// inside a sentence, an action's name) that a
					// record's own text may hold.
					continue
				}
				out[lang] = append(out[lang], regexp.MustCompile(`(^|\W)`+regexp.QuoteMeta(part)+`($|\W)`))
			}
		}
		slices.SortFunc(out[lang], func(a, b *regexp.Regexp) int { return strings.Compare(a.String(), b.String()) })
	}
	return out
}
