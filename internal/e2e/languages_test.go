package e2e_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/chromedp/chromedp"

	"musicadmin/internal/apptest"
	"musicadmin/internal/i18n"
)

// TestLanguagesInBrowser walks the journey a new user takes in German and
// in Arabic (issue 20): the login, the lists (with a filter chip and the
// filter menu open), the add form and its 422, show, edit, the delete
// confirmation, history, the charts, the audit log, users and roles, the
// user's own pages and a 404. On each page:
//   - no English is left: no text node, no attribute a user reads or
//     hears (placeholder, title, aria-label, alt, a button's value) and
//     no page title is an English catalogue text whose translation
//     differs, nor matches an English text with placeholders;
//   - axe finds no serious or critical violation, light and dark;
//   - at 390 px and at 1280 px, light and dark, nothing is wider than the
//     screen, and a screenshot is saved under
//     test-artifacts/screenshots/lang-<lang>/ to be looked at;
//   - in Arabic the page is right to left and the layout mirrors: the
//     brand at the right of the top bar, the account at its left, a
//     table's first column at its right.
//
// Layout and words do not depend on the backend, so it runs on SQLite
// (the handler suites check the translated pages on every backend).
func TestLanguagesInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	axe := axeScript(t)
	app, abbey, ids := smallCatalogue(t)
	english := englishTexts(t)

	for _, lang := range []string{"de", "ar"} {
		t.Run(lang, func(t *testing.T) {
			shots := filepath.Join(repoRoot(t), "test-artifacts", "screenshots", "lang-"+lang)
			br := newBrowser(t, chrome, app.URL, shots)
			br.open("/login/?lang=" + lang)
			br.wantLanguage(lang)
			br.noEnglish(english, lang, "login")
			br.fill("#username", apptest.AdminUser)
			br.fill("#password", apptest.AdminPassword)
			br.clickNav(`main form button[type="submit"]`)
			br.wantPath("/")

			// A song to edit and see the history of.
			br.open("/songsview/edit/" + ids[0])
			br.fill("#f-rating", "6")
			br.clickNav(`main form button.primary`)

			pages := []struct{ name, path string }{
				{"index", "/"},
				{"song list", "/songsview/list/"},
				{"song list with chips", "/songsview/list/?title__contains=e&rating__gte=7&sort=-rating"},
				{"song add form", "/songsview/add"},
				{"song show", "/songsview/show/" + ids[0]},
				{"song edit form", "/songsview/edit/" + ids[0]},
				{"song delete confirmation", "/songsview/delete/" + ids[2]},
				{"song history", "/songsview/history/" + ids[0]},
				{"album list", "/albumview/list/"},
				{"album show (related songs)", "/albumview/show/" + abbey},
				{"chart songs by rating", "/charts/songs-by-rating/"},
				{"chart albums by rating", "/charts/albums-by-rating/"},
				{"audit log", "/auditlog/list/"},
				{"user list", "/users/list/"},
				{"user add form", "/users/add"},
				{"role add form", "/roles/add"},
				{"own password", "/users/password"},
				{"own tokens", "/users/tokens"},
				{"own second factor", "/users/2fa"},
				{"own settings", "/users/settings"},
			}
			for _, p := range pages {
				br.open(p.path)
				br.wantLanguage(lang)
				br.noEnglish(english, lang, p.name)
			}
			// What a click or a refused form shows.
			br.open("/songsview/list/")
			br.click(`main details.filter-menu > summary`)
			br.noEnglish(english, lang, "song list, filter menu open")
			br.open("/songsview/add")
			br.eval(`document.querySelector("#f-rating").value = "12"`)
			br.fill("#f-title", "Dear Prudence")
			br.submitExpect(`main form button.primary`, 422)
			if br.count("main .field.has-error") == 0 {
				t.Errorf("%s: the add form with rating 12 shows no field error", lang)
			}
			br.noEnglish(english, lang, "song add form (422)")
			br.navigateStatus(chromedp.Navigate(br.base+"/no-such-page"), "open /no-such-page", 404)
			br.noEnglish(english, lang, "unknown page (404)")

			// Looked at, at a phone's and a desktop's width, light and
			// dark; axe at both widths.
			for _, scheme := range []string{"light", "dark"} {
				for _, width := range []int64{1280, 390} {
					br.emulate(width, scheme)
					for _, p := range []struct{ name, path string }{
						{"login", "/login/"}, // logged in: the start page
						{"song-list", "/songsview/list/?title__contains=e&rating__gte=7"},
						{"song-add", "/songsview/add"},
						{"song-show", "/songsview/show/" + ids[0]},
						{"song-history", "/songsview/history/" + ids[0]},
						{"chart", "/charts/albums-by-rating/"},
						{"audit-log", "/auditlog/list/"},
						{"role-add", "/roles/add"},
						{"settings", "/users/settings"},
					} {
						br.open(p.path)
						br.wantScheme(p.name, scheme)
						br.notWiderThanScreen(fmt.Sprintf("%s %d px %s", p.name, width, scheme))
						if lang == "ar" && width == 1280 {
							br.mirrored(p.name)
						}
						br.axeCheck(axe, fmt.Sprintf("%s %s %d px %s", lang, p.name, width, scheme))
						br.shot(fmt.Sprintf("%s-%d-%s", p.name, width, scheme))
					}
					br.open("/songsview/list/")
					br.click(`main details.filter-menu > summary`)
					br.axeCheck(axe, fmt.Sprintf("%s song list, filter menu open, %d px %s", lang, width, scheme))
					br.shot(fmt.Sprintf("filter-menu-%d-%s", width, scheme))
				}
			}
			var lines []string
			for _, l := range br.consoleLines() {
				if !strings.Contains(l, "status of 422") && !strings.Contains(l, "status of 404") {
					lines = append(lines, l)
				}
			}
			if len(lines) > 0 {
				t.Errorf("the browser console is not empty:\n  %s", strings.Join(lines, "\n  "))
			}
		})
	}
}

// englishText is a catalogue text as it reads in English: plain, or a
// pattern where its placeholders stand for any text.
type englishText struct {
	id      string
	pattern *regexp.Regexp // nil for a plain text
}

// englishTexts are the English catalogue's texts worth looking for: ids
// of a word or more with letters.
func englishTexts(t *testing.T) []englishText {
	t.Helper()
	ids, err := i18n.IDs()
	if err != nil {
		t.Fatal(err)
	}
	placeholder := regexp.MustCompile(`\{\{[^}]*\}\}`)
	var out []englishText
	for _, id := range ids {
		if !strings.ContainsFunc(id, func(r rune) bool { return r >= 'A' && r <= 'z' }) {
			continue
		}
		if !strings.Contains(id, "{{") {
			out = append(out, englishText{id: id})
			continue
		}
		// A pattern of placeholders and punctuation ("{{.Done}}
		// {{.Records}}.") says nothing.
		if !strings.ContainsFunc(placeholder.ReplaceAllString(id, ""), unicode.IsLetter) {
			continue
		}
		// A count stands for digits (of any script) and separators; any
		// other placeholder for any text.
		var pattern strings.Builder
		last := 0
		for _, m := range placeholder.FindAllStringIndex(id, -1) {
			pattern.WriteString(regexp.QuoteMeta(id[last:m[0]]))
			if strings.Contains(id[m[0]:m[1]], "Count") {
				pattern.WriteString(`[\d٠-٩.,٬ ]+`)
			} else {
				pattern.WriteString(".+?")
			}
			last = m[1]
		}
		pattern.WriteString(regexp.QuoteMeta(id[last:]))
		out = append(out, englishText{id: id, pattern: regexp.MustCompile("^" + pattern.String() + "$")})
	}
	return out
}

// pageTexts are what the page shows and says: its title, each text
// node (trimmed, outside script and style, and outside Swagger UI's own
// page), and the attributes a user reads or hears.
const pageTexts = `(() => {
  const out = [document.title.split(" · ")[0]];
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = w.nextNode(); n; n = w.nextNode()) {
    const p = n.parentElement;
    if (!p || p.closest("script, style, #swagger-ui")) continue;
    const s = n.data.trim();
    if (s) out.push(s);
  }
  for (const el of document.querySelectorAll("[placeholder], [title], [aria-label], [alt], input[type=submit][value], input[type=button][value]")) {
    for (const a of ["placeholder", "title", "aria-label", "alt"]) {
      const v = el.getAttribute(a);
      if (v && v.trim()) out.push(v.trim());
    }
    if (el.matches("input[type=submit], input[type=button]")) out.push(el.value);
  }
  return out;
})()`

// noEnglish fails for each text of the page that is an English
// catalogue text whose translation into lang differs.
func (br *browser) noEnglish(english []englishText, lang, what string) {
	br.t.Helper()
	var texts []string
	br.evalInto(pageTexts, &texts)
	cat := i18n.Std()
	var left []string
	for _, s := range texts {
		for _, e := range english {
			if e.pattern == nil {
				if s == e.id && cat.T(lang, e.id, nil) != e.id {
					left = append(left, fmt.Sprintf("%q", s))
				}
			} else if e.pattern.MatchString(s) && !translatedSame(cat, lang, e.id) {
				left = append(left, fmt.Sprintf("%q (as %q)", s, e.id))
			}
		}
	}
	if len(left) > 0 {
		slices.Sort(left)
		br.t.Errorf("%s in %s at %s: English left: %s", what, lang, br.location(), strings.Join(slices.Compact(left), ", "))
	}
}

// translatedSame reports whether the id reads the same in lang as in
// English (its text outside the placeholders).
func translatedSame(cat *i18n.Catalogue, lang, id string) bool {
	return cat.T(lang, id, nil) == cat.T(i18n.Default, id, nil)
}

// wantLanguage checks <html lang dir> for lang.
func (br *browser) wantLanguage(lang string) {
	br.t.Helper()
	var got [2]string
	br.evalInto(`[document.documentElement.lang, document.documentElement.dir]`, &got)
	if got[0] != lang || got[1] != i18n.Dir(lang) {
		br.t.Errorf("at %s: <html lang=%q dir=%q>, want %q %q", br.location(), got[0], got[1], lang, i18n.Dir(lang))
	}
}

// notWiderThanScreen fails when the page scrolls sideways.
func (br *browser) notWiderThanScreen(what string) {
	br.t.Helper()
	var w [2]int
	br.evalInto(`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`, &w)
	if w[0] > w[1]+1 {
		br.t.Errorf("%s: the page is %d px wide on a %d px screen", what, w[0], w[1])
	}
}

// mirrored checks a right-to-left page reads from the right: the brand
// at the right end of the top bar and the account menu at its left; in
// a table, the first column at the right of the second.
func (br *browser) mirrored(what string) {
	br.t.Helper()
	var pos struct {
		Brand, Account, First, Second float64
		HasAccount, HasTable          bool
	}
	raw := br.eval(`(() => {
	  const x = el => el ? el.getBoundingClientRect().left : 0;
	  const acc = document.querySelector(".account");
	  const cells = document.querySelectorAll("main table thead tr:first-child th");
	  return {Brand: x(document.querySelector(".brand")), Account: x(acc), HasAccount: !!acc,
	    HasTable: cells.length > 1, First: cells.length > 1 ? x(cells[0]) : 0, Second: cells.length > 1 ? x(cells[1]) : 0};
	})()`)
	if err := json.Unmarshal([]byte(raw), &pos); err != nil {
		br.t.Fatal(err)
	}
	if pos.HasAccount && pos.Brand <= pos.Account {
		br.t.Errorf("%s in Arabic: the brand (x=%.0f) is not right of the account menu (x=%.0f)", what, pos.Brand, pos.Account)
	}
	// An audit change's arrow points from the old value to the new, which
	// lies to its left.
	var flipped bool
	br.evalInto(`(() => { const a = document.querySelector(".change-arrow");
	  return !a || new DOMMatrix(getComputedStyle(a).transform).a < 0; })()`, &flipped)
	if !flipped {
		br.t.Errorf("%s in Arabic: a change's arrow points right, from the new value to the old", what)
	}
	if pos.HasTable && pos.First <= pos.Second {
		br.t.Errorf("%s in Arabic: the table's first column (x=%.0f) is not right of its second (x=%.0f)", what, pos.First, pos.Second)
	}
}
