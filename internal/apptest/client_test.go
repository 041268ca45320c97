package apptest

import (
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"testing"

	"musicadmin/internal/store"
)

// page is markup shaped like the app's list and form pages.
const page = `<!doctype html><main>
<div class="flash">Saved.</div>
<table class="table"><tbody>
<tr><td>Abbey Road</td><td>9</td><td class="actions"><a href="#">Edit</a></td></tr>
<tr><td>Let It Be</td><td>7</td><td class="actions"><a href="#">Edit</a></td></tr>
</tbody></table>
<form method="post"><input type="hidden" name="csrf_token" value="tok">
<div class="field"><input id="f-title" name="title" value="Get Back"><p class="error">Too long.</p></div>
<div class="field"><select id="f-album" name="album"><option value="">(none)</option><option value="2" selected>Let It Be</option></select></div>
</form></main>`

const empty = `<table class="table"><tbody><tr><td colspan="3" class="empty">No records found.</td></tr></tbody></table>`

// TestServeAnyHandler: Serve and the page helpers work on any handler, with
// no app and no database.
func TestServeAnyHandler(t *testing.T) {
	t.Parallel()
	var posted url.Values
	var origin string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, page) })
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, empty) })
	mux.HandleFunc("POST /page", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		posted, origin = r.PostForm, r.Header.Get("Origin")
		http.Redirect(w, r, "/done", http.StatusFound)
	})
	site := Serve(t, mux)
	c := site.Client()

	r := c.Get("/page")
	r.ExpectStatus(t, "page", http.StatusOK)
	if got, want := r.Rows(), [][]string{{"Abbey Road", "9"}, {"Let It Be", "7"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("Rows = %q, want %q", got, want)
	}
	if got := r.FirstColumn(); !slices.Equal(got, []string{"Abbey Road", "Let It Be"}) {
		t.Errorf("FirstColumn = %q", got)
	}
	if got := r.FieldError("title"); got != "Too long." {
		t.Errorf("FieldError(title) = %q", got)
	}
	if got := r.FieldError("album"); got != "" {
		t.Errorf("FieldError(album) = %q, want none", got)
	}
	if got := r.InputValue("title"); got != "Get Back" {
		t.Errorf("InputValue(title) = %q", got)
	}
	if got := r.Selected("album"); got != "2" {
		t.Errorf("Selected(album) = %q", got)
	}
	if got := r.Flashes(); !slices.Equal(got, []string{"Saved."}) {
		t.Errorf("Flashes = %q", got)
	}
	if got := c.Get("/empty").Rows(); len(got) != 0 {
		t.Errorf("Rows of an empty list = %q", got)
	}

	r = c.Submit("/page", url.Values{"title": {"Something"}})
	r.ExpectRedirect(t, "submit", "/done")
	if posted.Get("title") != "Something" || posted.Get("csrf_token") != "tok" || origin != site.URL {
		t.Errorf("posted %v with Origin %q", posted, origin)
	}
	c.Get("/nowhere").ExpectStatus(t, "unknown path", http.StatusNotFound)
}

// TestExpectationsFail: ExpectStatus and ExpectRedirect fail the test when
// the answer differs, and Scalar and First when the query does not answer.
func TestExpectationsFail(t *testing.T) {
	t.Parallel()
	db, _ := OpenMigrated(t, SQLite)
	ok := &Response{Status: http.StatusOK, Header: http.Header{}}
	moved := &Response{Status: http.StatusFound, Header: http.Header{"Location": {"/elsewhere"}}}
	for name, check := range map[string]func(t testing.TB){
		"status":         func(t testing.TB) { ok.ExpectStatus(t, "x", http.StatusNotFound) },
		"not a redirect": func(t testing.TB) { ok.ExpectRedirect(t, "x", "/list") },
		"another target": func(t testing.TB) { moved.ExpectRedirect(t, "x", "/list") },
		"query error":    func(t testing.TB) { Scalar(t, db, "SELECT COUNT(*) FROM no_such_table") },
		"no row":         func(t testing.TB) { Scalar(t, db, "SELECT id FROM songs") },
		"NULL":           func(t testing.TB) { Scalar(t, db, "SELECT MAX(id) FROM songs") },
		"no record":      func(t testing.TB) { First[store.Album](t, db, 1) },
	} {
		rec := &recorder{TB: t}
		done := make(chan struct{})
		go func() { // Fatalf ends this goroutine, not the test's
			defer close(done)
			check(rec)
		}()
		<-done
		if !rec.failed {
			t.Errorf("%s: the expectation passed", name)
		}
	}
	moved.ExpectRedirect(t, "redirect", "/elsewhere")
	ok.ExpectStatus(t, "status", http.StatusOK)
	if n := Scalar(t, db, "SELECT COUNT(*) FROM songs"); n != 0 {
		t.Errorf("songs in a new database: %d", n)
	}
	if err := db.Create(&store.Album{Name: "Help!"}).Error; err != nil {
		t.Fatal(err)
	}
	if a := First[store.Album](t, db, "name = ?", "Help!"); a.ID == 0 {
		t.Errorf("First = %+v", a)
	}
}

// recorder notes a fatal failure instead of reporting it.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(string, ...any) {
	r.failed = true
	runtime.Goexit() // as t.FailNow does
}
