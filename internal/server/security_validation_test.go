package server_test

// Section G of shared/SECURITY-TESTS.md: input validation, with the same
// rules on SQLite and MySQL.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
)

// expectInvalid checks a 422 answer: the message beside field, the input kept
// (as an attribute value, escaped), a fresh token, and nothing written.
func expectInvalid(t *testing.T, r *apptest.Response, field, kept, message string) {
	t.Helper()
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", r.Status)
	}
	if got := r.Text("#e-" + field); !strings.Contains(got, message) {
		t.Errorf("message beside %s = %q, want %q", field, got, message)
	}
	if kept != "\x00skip" {
		if v, _ := r.Doc.Find("main form [name=" + field + "]").Attr("value"); v != kept {
			t.Errorf("%s kept as %q, want %q", field, v, kept)
		}
	}
	if apptest.CSRFOf(r) == "" {
		t.Error("the form has no csrf_token")
	}
}

// Test 35: required fields, white space, and the re-rendered form.
func TestRequiredFields(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		long := "<b>x</b>" + strings.Repeat("a", 101)
		cases := []struct {
			name, path, field string
			form              url.Values
			kept, message     string
		}{
			{"album without name", "/albumview/add", "name", url.Values{}, "", "This field is required."},
			{"album empty name", "/albumview/add", "name", url.Values{"name": {""}}, "", "This field is required."},
			{"album white space", "/albumview/add", "name", url.Values{"name": {" \t\n"}}, " \t\n", "This field is required."},
			{"album NBSP and ideographic space", "/albumview/add", "name", url.Values{"name": {"\u00a0\u3000"}}, "\u00a0\u3000", "This field is required."},
			{"song without title", "/songsview/add", "title", url.Values{"rating": {"3"}}, "", "This field is required."},
			{"album markup and too long", "/albumview/add", "name", url.Values{"name": {long}}, long, "at most 100 characters"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := a.Snapshot()
				r := c.Submit(tc.path, tc.form)
				expectInvalid(t, r, tc.field, tc.kept, tc.message)
				if strings.Contains(r.Body, "<b>x</b>") {
					t.Error("input shown back unescaped")
				}
				if !before.Same(a.Snapshot()) {
					t.Error("invalid input was written")
				}
			})
		}
		t.Run("edit to white space", func(t *testing.T) {
			id := a.InsertAlbum("Keep Me")
			before := a.Snapshot()
			r := c.Submit("/albumview/edit/"+id, url.Values{"name": {"   "}})
			expectInvalid(t, r, "name", "   ", "This field is required.")
			if !before.Same(a.Snapshot()) {
				t.Error("invalid edit was written")
			}
		})
	})
}

// Test 36: lengths count characters, not bytes, on both backends.
func TestLengthLimits(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		for _, tc := range []struct {
			path, field, value string
			ok                 bool
			message            string
		}{
			{"/albumview/add", "name", strings.Repeat("a", 100), true, ""},
			{"/albumview/add", "name", strings.Repeat("é", 100), true, ""},
			{"/albumview/add", "name", strings.Repeat("🎵", 100), true, ""},
			{"/albumview/add", "name", "  " + strings.Repeat("b", 100) + "  ", true, ""},
			{"/albumview/add", "name", strings.Repeat("é", 101), false, "at most 100 characters"},
			{"/albumview/add", "name", strings.Repeat("🎵", 101), false, "at most 100 characters"},
			{"/albumview/add", "name", strings.Repeat("a", 10000), false, "at most 100 characters"},
			{"/songsview/add", "title", strings.Repeat("🎶", 200), true, ""},
			{"/songsview/add", "title", strings.Repeat("t", 200), true, ""},
			{"/songsview/add", "title", strings.Repeat("🎶", 201), false, "at most 200 characters"},
			{"/songsview/add", "title", strings.Repeat("t", 201), false, "at most 200 characters"},
		} {
			t.Run(fmt.Sprintf("%s %d×%.4s", tc.field, len([]rune(tc.value)), strings.TrimSpace(tc.value)), func(t *testing.T) {
				before := a.Snapshot()
				r := c.Submit(tc.path, url.Values{tc.field: {tc.value}})
				if !tc.ok {
					expectInvalid(t, r, tc.field, tc.value, tc.message)
					if !before.Same(a.Snapshot()) {
						t.Error("an over-long value was written")
					}
					return
				}
				if r.Status != http.StatusFound {
					t.Fatalf("status %d, want 302", r.Status)
				}
				want := strings.TrimSpace(tc.value)
				stored := false
				if tc.field == "title" {
					_, stored = a.Song(want)
				} else {
					_, stored = a.Album(want)
				}
				if !stored {
					t.Errorf("no record holds exactly the value")
				}
			})
		}
	})
}

// Test 37: NUL and invalid UTF-8 are refused; control and format
// characters that are valid text are stored exactly.
func TestInvalidText(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		token := c.CSRF("/albumview/add")
		for _, tc := range []struct {
			raw   string // urlencoded as sent
			valid string // the text stored, "" when refused
		}{
			{"a%00b", ""},
			{"%00", ""},
			{"%FF%FE", ""},
			{"ok%FF", ""},
			{"%ED%A0%80", ""},
			{"%C0%AE", ""},
			{"%F4%90%80%80", ""}, // above U+10FFFF
			{"a%0Db", "a\rb"},
			{"%E2%80%AE", "\u202e"},
			{"tab%09inside", "tab\tinside"},
		} {
			t.Run(tc.raw, func(t *testing.T) {
				before := a.Snapshot()
				r := c.PostRaw("/albumview/add", "name="+tc.raw+"&csrf_token="+url.QueryEscape(token))
				if tc.valid == "" {
					expectInvalid(t, r, "name", "\x00skip", "not allowed")
					if !before.Same(a.Snapshot()) {
						t.Error("invalid text was written")
					}
					return
				}
				if r.Status != http.StatusFound {
					t.Fatalf("status %d, want 302", r.Status)
				}
				if al, ok := a.Album(tc.valid); !ok || al.Name != tc.valid {
					t.Errorf("%q not stored exactly: %v", tc.valid, a.Albums())
				}
			})
		}
	})
}

// Test 38: the rating field, repeated parameters, and body over query.
func TestRatingAndDuplicateParams(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		for i, tc := range []struct {
			rating string
			want   int // -1: refused as out of range, -2: as missing
		}{
			{"-1", -1}, {"10", -1}, {"abc", -1}, {"5.5", -1}, {"1e1", -1}, {"０", -1}, {"٣", -1},
			{"99999999999999999999", -1}, {"0x5", -1}, {"5 5", -1},
			// A cleared number is refused, as Django refuses it; a form
			// without the field stores the default (comforts_test.go).
			{"", -2}, {"  ", -2},
			{" 7 ", 7}, {"+5", 5}, {"0", 0}, {"9", 9}, {"007", 7},
		} {
			t.Run(fmt.Sprintf("%q", tc.rating), func(t *testing.T) {
				title := fmt.Sprintf("rating-%d", i)
				before := a.Snapshot()
				r := c.Submit("/songsview/add", url.Values{"title": {title}, "rating": {tc.rating}})
				if tc.want < 0 {
					message := "from 0 to 9"
					if tc.want == -2 {
						message = "This field is required."
					}
					expectInvalid(t, r, "rating", tc.rating, message)
					if !before.Same(a.Snapshot()) {
						t.Error("written")
					}
					return
				}
				if r.Status != http.StatusFound {
					t.Fatalf("status %d, want 302", r.Status)
				}
				if s, ok := a.Song(title); !ok || s.Rating != tc.want {
					t.Errorf("stored rating %d (found %v), want %d", s.Rating, ok, tc.want)
				}
			})
		}
		t.Run("repeated rating", func(t *testing.T) {
			r := c.Submit("/songsview/add", url.Values{"title": {"repeated"}, "rating": {"3", "9"}})
			if s, _ := a.Song("repeated"); r.Status != http.StatusFound || s.Rating != 3 {
				t.Errorf("%d, rating %d, want the first value 3", r.Status, s.Rating)
			}
			r = c.Submit("/songsview/add", url.Values{"title": {"repeated bad"}, "rating": {"x", "4"}})
			if r.Status != http.StatusUnprocessableEntity {
				t.Errorf("first value invalid: %d, want 422", r.Status)
			}
		})
		t.Run("body over query", func(t *testing.T) {
			token := c.CSRF("/albumview/add")
			r := c.PostRaw("/albumview/add?name=FROMQUERY", "name=FROMBODY&name=SECOND&csrf_token="+url.QueryEscape(token))
			if r.Status != http.StatusFound {
				t.Fatalf("%d", r.Status)
			}
			var names []string
			for _, al := range a.Albums() {
				if al.Name == "FROMQUERY" || al.Name == "FROMBODY" || al.Name == "SECOND" {
					names = append(names, al.Name)
				}
			}
			if len(names) != 1 || names[0] != "FROMBODY" {
				t.Errorf("stored %q, want FROMBODY", names)
			}
			before := a.Snapshot()
			r = c.PostRaw("/albumview/add?name=ONLYQUERY", "csrf_token="+url.QueryEscape(token))
			if r.Status != http.StatusUnprocessableEntity || !before.Same(a.Snapshot()) {
				t.Errorf("name only in the query: %d, want 422 and no write", r.Status)
			}
		})
	})
}

// Test 39: album references are checked, and deleting an album keeps its
// songs, with no album, on both backends.
func TestAlbumReferences(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		album := a.InsertAlbum("Referenced")
		other := a.InsertAlbum("Other")
		c := a.LoggedIn()
		for _, v := range []string{a.UnknownID(), "abc", "-1", "0", "999999", "1 OR 1=1", "1.0", "+1", "0x1", "99999999999999999999",
			album + " x", album + "x"} {
			t.Run(v, func(t *testing.T) {
				before := a.Snapshot()
				r := c.Submit("/songsview/add", url.Values{"title": {"ref " + v}, "album": {v}})
				expectInvalid(t, r, "album", "\x00skip", "Not a valid choice.")
				if !before.Same(a.Snapshot()) {
					t.Error("written")
				}
			})
		}
		if r := c.Submit("/songsview/add", url.Values{"title": {"no album"}, "album": {""}}); r.Status != http.StatusFound {
			t.Fatalf("empty album: %d", r.Status)
		}
		if s, _ := a.Song("no album"); s.Album != "" {
			t.Errorf("empty album stored as %q", s.Album)
		}
		for _, title := range []string{"uses 1", "uses 2"} {
			if r := c.Submit("/songsview/add", url.Values{"title": {title}, "album": {album}}); r.Status != http.StatusFound {
				t.Fatalf("add %s: %d", title, r.Status)
			}
		}
		a.InsertSong("uses other", 1, other)
		confirm := c.Get("/albumview/delete/" + album)
		if got := confirm.Text(".notice"); !strings.HasPrefix(got, "2 songs refer to this album") {
			t.Errorf("confirmation says %q", got)
		}
		songs := a.Count("songs")
		if r := c.Submit("/albumview/delete/"+album, nil); r.Status != http.StatusFound {
			t.Fatalf("delete: %d", r.Status)
		}
		if a.Count("songs") != songs {
			t.Errorf("songs %d -> %d: a song was deleted with its album", songs, a.Count("songs"))
		}
		for _, title := range []string{"uses 1", "uses 2"} {
			if s, ok := a.Song(title); !ok || s.Album != "" {
				t.Errorf("%s: found %v, album %q; want kept with no album", title, ok, s.Album)
			}
		}
		if s, _ := a.Song("uses other"); s.Album != other {
			t.Error("a song of another album lost its album")
		}
		// The database itself refuses a dangling reference (SQLite too). A
		// document store has no foreign keys: on MongoDB the app's checks
		// before and after each write are all there is (mongostore).
		if b.SQL() {
			if err := a.DB.Exec("INSERT INTO songs (title, rating, album_id) VALUES ('dangling', 0, 999999)").Error; err == nil {
				t.Error("the database accepted a song pointing at a missing album: foreign keys are not enforced")
			}
		}
	})
}

// Test 40: duplicates answer 422, and case, accent and space variants get
// the same decision on both backends.
func TestDuplicates(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.NewApp(t, b, apptest.Strict())
		c := a.LoggedIn()
		if r := c.Submit("/albumview/add", url.Values{"name": {"Abbey Road"}}); r.Status != http.StatusFound {
			t.Fatalf("create: %d", r.Status)
		}
		// The app compares exactly (utf8mb4_bin on MySQL, BINARY on SQLite):
		// only the same text after trimming is a duplicate.
		for _, tc := range []struct {
			name string
			dup  bool
		}{
			{"Abbey Road", true}, {"  Abbey Road  ", true}, {"\tAbbey Road\n", true},
			{"abbey road", false}, {"ABBEY ROAD", false}, {"Abbéy Road", false}, {"Abbey\u00a0Road", false},
			{"Abbey Road\u200b", false}, {"Abbey  Road", false},
		} {
			t.Run(fmt.Sprintf("%q", tc.name), func(t *testing.T) {
				before := a.Snapshot()
				r := c.Submit("/albumview/add", url.Values{"name": {tc.name}})
				if tc.dup {
					expectInvalid(t, r, "name", tc.name, "already exists")
					if !before.Same(a.Snapshot()) {
						t.Error("a duplicate was written")
					}
					return
				}
				if r.Status != http.StatusFound {
					t.Errorf("status %d, want 302: a distinct name", r.Status)
				}
			})
		}
		abbey := a.AlbumID("Abbey Road")
		other := a.InsertAlbum("Let It Be")
		before := a.Snapshot()
		r := c.Submit("/albumview/edit/"+other, url.Values{"name": {" Abbey Road "}})
		expectInvalid(t, r, "name", " Abbey Road ", "already exists")
		if !before.Same(a.Snapshot()) {
			t.Error("a duplicate edit was written")
		}
		if r := c.Submit("/albumview/edit/"+abbey, url.Values{"name": {"Abbey Road"}}); r.Status != http.StatusFound {
			t.Errorf("saving under its own name: %d, want 302", r.Status)
		}
		// Songs: the same rule for titles.
		c.Submit("/songsview/add", url.Values{"title": {"Something"}})
		r = c.Submit("/songsview/add", url.Values{"title": {" Something "}})
		expectInvalid(t, r, "title", " Something ", "already exists")
	})
}
