package server_test

// Charts (CONTRACT, "Charts"): the numbers of each declared chart, on the
// page and in its CSV, against the same numbers computed here from the
// songs read straight from the database, with the list's filters and
// search; the top 20 and Other; escaping of a hostile album name.

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/apptest"
)

const hostileAlbum = `<script>alert("x")</script>&amp; =cmd`

// chartRows reads a chart page's table: a row per group, its label then
// its values.
func chartRows(t *testing.T, r *apptest.Response) [][]string {
	t.Helper()
	if r.Status != 200 || r.Doc == nil {
		t.Fatalf("chart page: %d\n%s", r.Status, r.Body)
	}
	var out [][]string
	r.Doc.Find("table.chart-table tbody tr").Each(func(_ int, tr *goquery.Selection) {
		if tr.Find("td.empty").Length() > 0 {
			return
		}
		row := []string{strings.TrimSpace(tr.Find("th").Text())}
		tr.Find("td").Each(func(_ int, td *goquery.Selection) { row = append(row, strings.TrimSpace(td.Text())) })
		out = append(out, row)
	})
	return out
}

// expectChart computes a chart's rows from songs read from the database:
// grouped by key (an album's name, "(none)", or a rating), a count and,
// with avg, the average rating to two places; ranked by count (byCount)
// or by rating, cut to top groups and an "Other" row.
func expectChart(songs []apptest.SongRow, names map[string]string, created []string, keep func(apptest.SongRow) bool,
	byAlbum, avg bool, top int) [][]string {
	type group struct {
		key       string
		rating    int
		n, sum    int
		noneFirst bool
		created   int // the album's place in the order of creation: its id's
	}
	groups := map[string]*group{}
	var order []*group
	for _, s := range songs {
		if !keep(s) {
			continue
		}
		key := strconv.Itoa(s.Rating)
		if byAlbum {
			key = "(none)"
			if s.Album != "" {
				key = names[s.Album]
			}
		}
		g := groups[key]
		if g == nil {
			g = &group{key: key, rating: s.Rating, noneFirst: byAlbum && s.Album == "", created: slices.Index(created, s.Album)}
			groups[key] = g
			order = append(order, g)
		}
		g.n++
		g.sum += s.Rating
	}
	slices.SortFunc(order, func(a, b *group) int {
		if !byAlbum {
			return a.rating - b.rating
		}
		if a.n != b.n {
			return b.n - a.n
		}
		if a.noneFirst != b.noneFirst {
			if a.noneFirst {
				return -1
			}
			return 1
		}
		return a.created - b.created // ties by key: the ids, in order of creation
	})
	row := func(label string, n, sum int) []string {
		r := []string{label, strconv.Itoa(n)}
		if avg {
			r = append(r, strconv.FormatFloat(float64(sum)/float64(n), 'f', 2, 64))
		}
		return r
	}
	var out [][]string
	on, osum := 0, 0
	for i, g := range order {
		if top > 0 && i >= top {
			on, osum = on+g.n, osum+g.sum
			continue
		}
		out = append(out, row(g.key, g.n, g.sum))
	}
	if on > 0 {
		out = append(out, row("Other", on, osum))
	}
	return out
}

// seedChart stores 23 albums, album i holding i+1 songs (every count
// differs: no tie to break), one of them with a hostile name, and 30
// songs with none, ratings spread over 0-9.
func seedChart(t *testing.T, app *apptest.App) (names map[string]string, created []string) {
	names = map[string]string{}
	var songs []apptest.SongRow
	k := 0
	for i := range 23 {
		name := fmt.Sprintf("Album %02d", i)
		if i == 21 {
			name = hostileAlbum
		}
		id := app.InsertAlbum(name)
		names[id] = name
		created = append(created, id)
		for range i + 1 {
			songs = append(songs, apptest.SongRow{Title: fmt.Sprintf("Song %03d", k), Rating: k * 7 % 10, Album: id})
			k++
		}
	}
	for range 30 {
		songs = append(songs, apptest.SongRow{Title: fmt.Sprintf("Loose %03d love", k), Rating: k * 3 % 10})
		k++
	}
	app.InsertSongs(songs)
	return names, created
}

func TestCharts(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		names, created := seedChart(t, app)
		c := app.LoggedIn()
		songs := app.Songs() // straight from the database
		every := func(apptest.SongRow) bool { return true }

		check := func(path string, want [][]string) {
			t.Helper()
			r := c.Get(path)
			if got := chartRows(t, r); !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("%s:\n got %q\nwant %q", path, got, want)
			}
			// The CSV holds the same numbers, under a heading.
			csvPath := strings.Replace(path, "/?", "/data.csv?", 1)
			if !strings.Contains(path, "?") {
				csvPath = path + "data.csv"
			}
			res := c.Get(csvPath)
			if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("%s: %d %s", csvPath, res.Status, res.Header.Get("Content-Type"))
			}
			recs, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			wantCSV := make([][]string, len(want))
			for i, row := range want {
				wantCSV[i] = slices.Clone(row)
				if strings.HasPrefix(row[0], "=") {
					wantCSV[i][0] = "'" + row[0] // formula-safe, as the list's export
				}
			}
			if len(recs) == 0 || !slices.EqualFunc(recs[1:], wantCSV, slices.Equal) {
				t.Errorf("%s:\n got %q\nwant %q", csvPath, recs, wantCSV)
			}
		}

		check("/charts/songs-by-rating/", expectChart(songs, names, created, every, false, false, 0))
		check("/charts/albums-by-rating/", expectChart(songs, names, created, every, true, true, 20))
		// The list's filters and search apply.
		check("/charts/albums-by-rating/?rating__gte=5", expectChart(songs, names, created,
			func(s apptest.SongRow) bool { return s.Rating >= 5 }, true, true, 20))
		check("/charts/songs-by-rating/?q=LOVE", expectChart(songs, names, created,
			func(s apptest.SongRow) bool { return strings.Contains(s.Title, "love") }, false, false, 0))
		check("/charts/songs-by-rating/?album__empty=false&rating__lt=4", expectChart(songs, names, created,
			func(s apptest.SongRow) bool { return s.Album != "" && s.Rating < 4 }, false, false, 0))
		check("/charts/albums-by-rating/?q=no+such+song", nil)

		// A filter shows as a chip whose removal stays on the chart; the
		// filter menu's forms come back to the chart.
		r := c.Get("/charts/songs-by-rating/?rating__gte=5")
		if href, _ := r.Doc.Find(".chip-remove").Attr("href"); href != "/charts/songs-by-rating/" {
			t.Errorf("chip removal: %q", href)
		}
		if got := c.Get("/charts/songs-by-rating/?filter_field=rating&filter_op=lt&filter_value=3"); got.Status != 302 ||
			got.Location() != "/charts/songs-by-rating/?rating__lt=3" {
			t.Errorf("filter menu: %d %q", got.Status, got.Location())
		}
		// The drawing and the table: a title, labels escaped.
		r = c.Get("/charts/albums-by-rating/")
		if r.Doc.Find("svg[role=img] title").Text() != "Albums by Rating" || r.Doc.Find("svg .mark").Length() != 21 {
			t.Errorf("svg: title %q, %d marks", r.Doc.Find("svg title").Text(), r.Doc.Find("svg .mark").Length())
		}
		if strings.Contains(r.Body, "<script>alert") || !strings.Contains(r.Body, "&lt;script&gt;alert(") {
			t.Error("the hostile album name is not escaped")
		}
		if !slices.ContainsFunc(chartRows(t, r), func(row []string) bool { return row[0] == hostileAlbum }) {
			t.Error("the hostile album name is not in the table as it is")
		}
		// The menu has the Charts category.
		if !slices.Contains(r.Texts(".menu summary"), "Charts") {
			t.Errorf("menu: %q", r.Texts(".menu summary"))
		}
	})
}
