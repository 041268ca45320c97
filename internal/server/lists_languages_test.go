package server_test

// The list side in German and Arabic (issue 20, languages): the song
// list with a filter chip, a search and a notice, its filter menu and
// lookup, its pager, the empty list, the CSV export's header (by ?lang=
// and by Accept-Language), both charts (page, SVG, table, data.csv) and
// the API docs page: each shows the translated text, and none of the
// English texts of the areas lists and charts is left on it, in the
// text or in an attribute a user reads or hears.

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/apptest"
	"musicadmin/internal/i18n"
)

// readAttrs are the attributes whose text a user reads or hears, or a
// script shows (data-msg-*, data-selected-*).
var readAttrs = regexp.MustCompile(`^(placeholder|title|aria-label|alt|data-label|data-msg-.*|data-selected-.*)$`)

// visible is what a user of r reads or hears: the page's title, its
// body's text, and the attributes of readAttrs.
func visible(r *apptest.Response) string {
	var b strings.Builder
	b.WriteString(r.Doc.Find("head title").Text())
	b.WriteString("\n")
	body := r.Doc.Find("body").Clone()
	body.Find("script, style").Remove()
	b.WriteString(body.Text())
	r.Doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if readAttrs.MatchString(a.Key) {
				b.WriteString("\n" + a.Val)
			}
		}
	})
	return b.String()
}

// placeholders are a message's {{.Name}}s.
var placeholders = regexp.MustCompile(`\{\{\.[A-Za-z]+\}\}`)

// englishLeft returns the English texts of the areas lists and charts
// that lang translates otherwise and that text still holds: each text,
// or each part of it between placeholders, of four characters or more
// (shorter ones, "No", "Add", are found inside other words).
func englishLeft(t *testing.T, lang, text string) []string {
	t.Helper()
	read := func(area, lang string) map[string]any {
		m, err := i18n.Area(area, lang)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	forms := func(v any) []string {
		if s, ok := v.(string); ok {
			return []string{s}
		}
		var out []string
		for _, f := range v.(map[string]any) {
			out = append(out, f.(string))
		}
		return out
	}
	var left []string
	for _, area := range []string{"lists", "charts"} {
		en, other := read(area, "en"), read(area, lang)
		for id, v := range en {
			theirs := strings.Join(forms(other[id]), "\n")
			for _, s := range forms(v) {
				for _, part := range placeholders.Split(s, -1) {
					part = strings.TrimSpace(strings.Trim(part, " ,.:;()‹›"))
					if len([]rune(part)) < 4 || strings.Contains(strings.ToLower(theirs), strings.ToLower(part)) {
						continue // too short to tell, or the same in lang ("Songs", "CSV")
					}
					if strings.Contains(text, part) {
						left = append(left, part)
					}
				}
			}
		}
	}
	return left
}

// noEnglish fails t when the page r, in lang, still shows an English
// text of the areas lists and charts.
func noEnglish(t *testing.T, what, lang string, r *apptest.Response) {
	t.Helper()
	if r.Status != http.StatusOK || r.Doc == nil {
		t.Fatalf("%s: status %d\n%s", what, r.Status, r.Body)
	}
	if left := englishLeft(t, lang, visible(r)); len(left) > 0 {
		t.Errorf("%s (%s): English left: %q", what, lang, left)
	}
}

// seedLists is 30 songs, 27 of them "love" songs in 22 albums (one song
// each, so the album chart has an Other group), 3 without an album.
func seedLists(app *apptest.App) {
	var songs []apptest.SongRow
	for i := range 22 {
		id := app.InsertAlbum(fmt.Sprintf("Album %02d", i))
		songs = append(songs, apptest.SongRow{Title: fmt.Sprintf("Love %02d", i), Rating: i % 10, Album: id})
	}
	for i := range 8 {
		title := fmt.Sprintf("Love loose %02d", i)
		if i >= 5 {
			title = fmt.Sprintf("Quiet %02d", i)
		}
		songs = append(songs, apptest.SongRow{Title: title, Rating: i % 10})
	}
	app.InsertSongs(songs)
}

func TestListsLanguages(t *testing.T) {
	t.Parallel()
	apptest.RequireBackend(t, apptest.SQLite)
	app := apptest.NewApp(t, apptest.SQLite, apptest.Strict())
	seedLists(app)
	tr := func(lang, id string) string { return i18n.Std().T(lang, id, nil) }

	type want struct {
		search, chip, notice, count, addFilter, contains, pager, next, perPage, empty, zero string
		lookupHint, lookupNone, export, apiDocs                                             string
		caption, series, desc, other, none, avg                                             string
	}
	for lang, w := range map[string]want{
		"de": {search: "Suchen", chip: tr("de", "Rating") + " ≥ 3", notice: `Unbekannter Filter "bogus" wurde ignoriert.`,
			count: "27 Einträge", addFilter: "Filter hinzufügen", contains: "enthält", pager: "Seite 1 von 2", next: "Weiter ›",
			perPage: "Pro Seite:", empty: "Keine Einträge gefunden.", zero: "0 Einträge",
			lookupHint: "Geben Sie die ID ein (Album):", lookupNone: "Keine Treffer (Album).", export: "Als CSV exportieren",
			apiDocs: "Aufrufe der API benötigen ein API-Token.",
			caption: tr("de", "Songs by Rating") + ": die Zahlen", series: "Songs",
			desc:  "Songs nach " + tr("de", "Rating") + ", 10 Gruppen; die Zahlen stehen in der Tabelle darunter.",
			other: "Sonstige", none: "(keine)", avg: "Durchschnittliche Bewertung"},
		"ar": {search: "بحث", chip: tr("ar", "Rating") + " ≥ 3", notice: `تم تجاهل عامل التصفية غير المعروف "bogus".`,
			count: "27 سجلًا", addFilter: "إضافة عامل تصفية", contains: "يحتوي على", pager: "الصفحة 1 من 2", next: "التالي ›",
			perPage: "في كل صفحة:", empty: "لم يُعثر على أي سجل.", zero: "لا سجلات",
			lookupHint: "أدخل معرّف ألبوم:", lookupNone: "لا نتائج من نوع ألبوم.", export: "تصدير CSV",
			apiDocs: "تتطلب طلبات الواجهة البرمجية رمزًا للواجهة البرمجية.",
			caption: tr("ar", "Songs by Rating") + ": الأرقام", series: "الأغاني",
			desc:  "الأغاني حسب " + tr("ar", "Rating") + "، 10 مجموعات؛ الأرقام في الجدول أدناه.",
			other: "أخرى", none: "(لا شيء)", avg: "متوسط التقييم"},
	} {
		t.Run(lang, func(t *testing.T) {
			c := app.LoggedIn()
			// The list with a search, a filter, a filter it ignores, two
			// pages: the chip, the notice, the count, the pager.
			r := c.Get("/songsview/list/?lang=" + lang + "&q=love&rating__gte=0&bogus=1")
			noEnglish(t, "list", lang, r)
			if got := r.Text("form.search button"); got != w.search {
				t.Errorf("search button %q, want %q", got, w.search)
			}
			if ph, _ := r.Doc.Find("input#q").Attr("placeholder"); !strings.Contains(ph, tr(lang, "Title")) || strings.HasPrefix(ph, "Search") {
				t.Errorf("search placeholder %q", ph)
			}
			if got := r.Text("p.notice"); got != w.notice {
				t.Errorf("notice %q, want %q", got, w.notice)
			}
			if got := r.Text("p.count"); got != w.count {
				t.Errorf("count %q, want %q", got, w.count)
			}
			if got := r.Text("nav.pager .status"); got != w.pager {
				t.Errorf("pager %q, want %q", got, w.pager)
			}
			if got := r.Text(`nav.pager a[rel=next]`); got != w.next {
				t.Errorf("next %q, want %q", got, w.next)
			}
			if got := r.Text("nav.sizes > span:first-child"); got != w.perPage {
				t.Errorf("per page %q, want %q", got, w.perPage)
			}
			// The filter menu, its operators and the album's lookup.
			if got := r.Text("details.filter-menu summary"); got != w.addFilter {
				t.Errorf("filter menu %q, want %q", got, w.addFilter)
			}
			if got := r.Text(`#filter-title-op option[value=contains]`); got != w.contains {
				t.Errorf("operator contains %q, want %q", got, w.contains)
			}
			if got := r.Text(".lookup .lookup-hint"); !strings.HasPrefix(got, w.lookupHint) {
				t.Errorf("lookup hint %q, want it to start %q", got, w.lookupHint)
			}
			if got, _ := r.Doc.Find(".lookup").Attr("data-msg-none"); got != w.lookupNone {
				t.Errorf("lookup's message for no match %q, want %q", got, w.lookupNone)
			}
			// The column headings and the export link.
			if got := r.Texts("table.stack thead th a.sort"); len(got) == 0 || got[0] != tr(lang, "Title") {
				t.Errorf("column headings %q", got)
			}
			if got := r.Text(`a[download]`); got != w.export {
				t.Errorf("export link %q, want %q", got, w.export)
			}
			// A filter by rating: its chip; remembered language now.
			r = c.Get("/songsview/list/?rating__gte=3")
			noEnglish(t, "list with a chip", lang, r)
			if got := r.Text("ul.chips .chip span"); got != w.chip {
				t.Errorf("chip %q, want %q", got, w.chip)
			}
			if got, _ := r.Doc.Find("a.chip-remove").Attr("aria-label"); !strings.Contains(got, w.chip) || strings.HasPrefix(got, "Remove") {
				t.Errorf("chip's remove link %q", got)
			}
			// The empty list.
			r = c.Get("/songsview/list/?q=nothing-matches-this")
			noEnglish(t, "empty list", lang, r)
			if got := r.Text("td.empty"); got != w.empty {
				t.Errorf("empty list %q, want %q", got, w.empty)
			}
			if got := r.Text("p.count"); got != w.zero {
				t.Errorf("empty count %q, want %q", got, w.zero)
			}
			// The lookup answers JSON, in any language.
			if r := c.Get("/songsview/lookup/album?q=Album%2001"); r.Status != http.StatusOK || !strings.Contains(r.Body, `"label":"Album 01"`) {
				t.Errorf("lookup: %d %s", r.Status, r.Body)
			}
			// The export's header: the list's columns in the language.
			head := csvHead(t, c.Get("/songsview/export.csv?lang="+lang))
			if want := []string{tr(lang, "Title"), tr(lang, "Rating"), tr(lang, "Album")}; strings.Join(head, ",") != strings.Join(want, ",") {
				t.Errorf("export header %q, want %q", head, want)
			}
			// Both charts: the page, the SVG, the table, data.csv.
			r = c.Get("/charts/songs-by-rating/")
			noEnglish(t, "songs chart", lang, r)
			if got := r.Text("main h1"); got != tr(lang, "Songs by Rating") {
				t.Errorf("chart heading %q", got)
			}
			if got := r.Text("svg title"); got != tr(lang, "Songs by Rating") {
				t.Errorf("SVG title %q", got)
			}
			if got := r.Text("svg desc"); got != w.desc {
				t.Errorf("SVG desc %q, want %q", got, w.desc)
			}
			if got := r.Text("table.chart-table caption"); got != w.caption {
				t.Errorf("caption %q, want %q", got, w.caption)
			}
			if got := r.Texts("table.chart-table thead th"); len(got) != 2 || got[0] != tr(lang, "Rating") || got[1] != w.series {
				t.Errorf("table head %q", got)
			}
			if got := csvHead(t, c.Get("/charts/songs-by-rating/data.csv")); strings.Join(got, ",") != tr(lang, "Rating")+","+w.series {
				t.Errorf("songs chart's data.csv header %q", got)
			}
			r = c.Get("/charts/albums-by-rating/")
			noEnglish(t, "albums chart", lang, r)
			rows := chartRows(t, r)
			if len(rows) != 21 || rows[0][0] != w.none || rows[20][0] != w.other {
				t.Errorf("albums chart rows: first %q, last %q of %d, want %q first and %q last", rows[0], rows[len(rows)-1], len(rows), w.none, w.other)
			}
			if got := r.Texts("table.chart-table thead th"); len(got) != 3 || got[2] != w.avg {
				t.Errorf("albums chart's table head %q", got)
			}
			if got := r.Doc.Find(`svg text.label`).Last().Text(); got != w.other {
				t.Errorf("albums chart's last SVG label %q, want %q", got, w.other)
			}
			data := c.Get("/charts/albums-by-rating/data.csv")
			if got := csvHead(t, data); strings.Join(got, ",") != tr(lang, "Album")+","+w.series+","+w.avg {
				t.Errorf("albums chart's data.csv header %q", got)
			}
			if !strings.Contains(data.Body, "\r\n"+w.other+",") {
				t.Errorf("albums chart's data.csv has no %q row:\n%s", w.other, data.Body)
			}
			// A yes/no field's value is a word of the language.
			r = c.Get("/users/list/")
			noEnglish(t, "users", lang, r)
			if got := r.Doc.Find("table.stack tbody td").FilterFunction(func(_ int, s *goquery.Selection) bool {
				return strings.TrimSpace(s.Text()) == tr(lang, "Yes")
			}).Length(); got == 0 || tr(lang, "Yes") == "Yes" {
				t.Errorf("users list: no cell says %q", tr(lang, "Yes"))
			}
			// The API docs page.
			r = c.Get("/api/docs/")
			noEnglish(t, "API docs", lang, r)
			if got := r.Text(".apidocs-intro p"); !strings.HasPrefix(got, w.apiDocs) {
				t.Errorf("API docs %q", got)
			}
		})
	}

	// The Arabic bar chart reads right to left: labels on the right, the
	// bars grow leftwards from them; the SVG's direction says rtl.
	c := app.LoggedIn()
	r := c.Get("/charts/albums-by-rating/?lang=ar")
	svg := r.Doc.Find("svg.chart-svg")
	if dir, _ := svg.Attr("direction"); dir != "rtl" {
		t.Errorf("Arabic SVG direction %q", dir)
	}
	width, _ := strconv.ParseFloat(svg.AttrOr("width", "0"), 64)
	label := svg.Find("text.label").First()
	rect := svg.Find("rect.mark").First()
	lx, _ := strconv.ParseFloat(label.AttrOr("x", "0"), 64)
	rx, _ := strconv.ParseFloat(rect.AttrOr("x", "0"), 64)
	rw, _ := strconv.ParseFloat(rect.AttrOr("width", "0"), 64)
	if !(lx > width/2 && rx+rw <= lx && rx < lx) {
		t.Errorf("Arabic bar chart: label at x=%v, bar %v..%v, width %v: want the label right of the bar", lx, rx, rx+rw, width)
	}
	if en := c.Get("/charts/albums-by-rating/?lang=en").Doc.Find("svg.chart-svg text.label").First(); en.AttrOr("x", "") == label.AttrOr("x", "") {
		t.Errorf("the English bar chart's labels stand where the Arabic ones do: x=%s", en.AttrOr("x", ""))
	}

	// Accept-Language on the export, and English unchanged without it.
	// The ?lang= choices above became the admin's own setting, which
	// comes before Accept-Language: cleared first.
	fresh := app.LoggedIn()
	if r := fresh.Submit("/users/settings", url.Values{"language": {""}, "time_zone": {""}}); r.Status != http.StatusFound {
		t.Fatalf("clearing the admin's settings: %d", r.Status)
	}
	head := csvHead(t, fresh.Request(http.MethodGet, "/songsview/export.csv", nil, "Accept-Language", "de-DE,de;q=0.9"))
	if want := []string{tr("de", "Title"), tr("de", "Rating"), tr("de", "Album")}; strings.Join(head, ",") != strings.Join(want, ",") {
		t.Errorf("export header with Accept-Language de: %q, want %q", head, want)
	}
	english := app.LoggedIn()
	if r := english.Get("/songsview/export.csv"); !strings.HasPrefix(r.Body, "Title,Rating,Album\r\n") {
		t.Errorf("English export header: %q", strings.SplitN(r.Body, "\r\n", 2)[0])
	}
	if r := english.Get("/charts/albums-by-rating/data.csv"); !strings.HasPrefix(r.Body, "Album,Songs,Average rating\r\n") ||
		!strings.Contains(r.Body, "\r\nOther,") {
		t.Errorf("English chart data.csv: %q", r.Body)
	}
	r = english.Get("/songsview/list/?q=love&rating__gte=3")
	if r.Text("ul.chips .chip span") != "Rating ≥ 3" || r.Text("p.count") != "16 records" || r.Text("td.empty") != "" {
		t.Errorf("English list: chip %q, count %q", r.Text("ul.chips .chip span"), r.Text("p.count"))
	}
}

// csvHead is the header row of a CSV answer.
func csvHead(t *testing.T, r *apptest.Response) []string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("CSV: status %d", r.Status)
	}
	head, err := csv.NewReader(strings.NewReader(r.Body)).Read()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, r.Body)
	}
	return head
}
