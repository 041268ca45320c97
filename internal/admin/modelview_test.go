package admin_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/go-chi/chi/v5"
	"gorm.io/gorm"

	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/store"
	"musicadmin/internal/view"
)

// maker and instrument are throw-away models that exist only in this test:
// they prove that a model the app has never heard of gets the whole admin
// with a GORM struct, a store.NewModel and an admin.ModelView.
type maker struct {
	ID   int64  `gorm:"primaryKey"`
	Name string `gorm:"size:60;not null;uniqueIndex:ux_makers_name"`
}

func (maker) TableName() string { return "makers" }

type instrument struct {
	ID      int64  `gorm:"primaryKey"`
	Name    string `gorm:"size:50;not null;uniqueIndex:ux_instruments_name"`
	Strings int    `gorm:"not null;default:0"`
	MakerID *int64 `gorm:"index"`
	Maker   *maker `gorm:"constraint:OnDelete:SET NULL"`
}

func (instrument) TableName() string { return "instruments" }

// declare is the whole cost of the two models in the admin.
func declare(t *testing.T, db *gorm.DB) (makerView, instrumentView *admin.ModelView) {
	t.Helper()
	makers, err := store.NewModel[maker](db, "name",
		datamodel.Field{Name: "name", Column: "name", Label: "Name", Kind: datamodel.KindText,
			Required: true, Unique: true, MaxRunes: 60},
	)
	if err != nil {
		t.Fatal(err)
	}
	instruments, err := store.NewModel[instrument](db, "name",
		datamodel.Field{Name: "name", Column: "name", Label: "Name", Kind: datamodel.KindText,
			Required: true, Unique: true, MaxRunes: 50},
		datamodel.Field{Name: "strings", Column: "strings", Label: "Strings", Kind: datamodel.KindInt,
			Min: 0, Max: 20, Default: 0},
		datamodel.Field{Name: "maker", Column: "maker_id", Label: "Maker", Kind: datamodel.KindRef,
			Ref: &datamodel.Relation{Model: makers, Table: makers.Table(), LabelColumn: "name"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	instrumentView = &admin.ModelView{
		Name: "instrumentview", Title: "Instrument View", Category: "Test Views", Singular: "Instrument",
		Data: instruments, ListColumns: []string{"name", "strings", "maker"}, SearchColumns: []string{"name"},
		OrderColumns: []string{"name", "strings"}, DefaultSort: "name",
	}
	makerView = &admin.ModelView{
		Name: "makerview", Title: "Maker View", Category: "Test Views", Singular: "Maker", Data: makers,
		SearchColumns: []string{"name"}, OrderColumns: []string{"name"}, DefaultSort: "name",
		Related: []admin.Related{{View: instrumentView, Field: "maker"}},
	}
	return makerView, instrumentView
}

// openDB returns a fresh migrated database with the test's own tables.
func openDB(t *testing.T, b apptest.Backend) *gorm.DB {
	t.Helper()
	db, _ := apptest.OpenMigrated(t, b)
	if err := db.AutoMigrate(&maker{}, &instrument{}); err != nil {
		t.Fatalf("create test tables: %v", err)
	}
	return db
}

// flashQueue stands in for the session: messages queued by the admin are
// shown, once, on the next rendered page.
type flashQueue struct {
	mu   sync.Mutex
	msgs []string
}

func (q *flashQueue) add(_ http.ResponseWriter, _ *http.Request, msg string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, msg)
}

func (q *flashQueue) pop() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.msgs
	q.msgs = nil
	return out
}

// parseForm does for the bare admin router what the app's CSRF middleware
// does before the admin handlers run: parse the POST body.
func parseForm(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

type rig struct {
	t      *testing.T
	db     *gorm.DB
	url    string
	client *http.Client
	admin  *admin.Admin
}

type page struct {
	status int
	header http.Header
	body   string
	doc    *goquery.Document
}

func newRig(t *testing.T, b apptest.Backend) *rig {
	t.Helper()
	db := openDB(t, b)
	makerView, instrumentView := declare(t, db)
	logs := &apptest.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	adm, err := admin.New(log, makerView, instrumentView)
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	flashes := &flashQueue{}
	ui, err := view.New("Test Admin", log, adm.Menu(), func(http.ResponseWriter, *http.Request) view.Common {
		return view.Common{User: "tester", Flashes: flashes.pop()}
	})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(parseForm)
	adm.Mount(r, ui, flashes.add)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("admin log:\n%s", logs.String())
		}
	})
	return &rig{t: t, db: db, url: srv.URL, admin: adm, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (rg *rig) do(req *http.Request) *page {
	rg.t.Helper()
	resp, err := rg.client.Do(req)
	if err != nil {
		rg.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		rg.t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		rg.t.Fatal(err)
	}
	return &page{status: resp.StatusCode, header: resp.Header, body: string(body), doc: doc}
}

func (rg *rig) get(path string) *page {
	rg.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rg.url+path, nil)
	if err != nil {
		rg.t.Fatal(err)
	}
	return rg.do(req)
}

func (rg *rig) post(path string, form url.Values) *page {
	rg.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rg.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		rg.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return rg.do(req)
}

func (rg *rig) count(table string) int64 {
	rg.t.Helper()
	var n int64
	if err := rg.db.Table(table).Count(&n).Error; err != nil {
		rg.t.Fatal(err)
	}
	return n
}

func (rg *rig) instrument(name string) (instrument, bool) {
	rg.t.Helper()
	var rows []instrument
	if err := rg.db.Where("name = ?", name).Find(&rows).Error; err != nil {
		rg.t.Fatal(err)
	}
	if len(rows) == 0 {
		return instrument{}, false
	}
	return rows[0], true
}

func (rg *rig) makerID(name string) int64 {
	rg.t.Helper()
	var m maker
	if err := rg.db.Where("name = ?", name).First(&m).Error; err != nil {
		rg.t.Fatalf("maker %q: %v", name, err)
	}
	return m.ID
}

func texts(s *goquery.Selection) []string {
	var out []string
	s.Each(func(_ int, e *goquery.Selection) { out = append(out, strings.TrimSpace(e.Text())) })
	return out
}

func (p *page) flashes() []string { return texts(p.doc.Find(".flash")) }

// fieldError is the message shown beside the named form field.
func (p *page) fieldError(name string) string {
	field := p.doc.Find("#f-" + name).Closest(".field")
	return strings.TrimSpace(field.Find(".error").Text())
}

func (p *page) inputValue(name string) string {
	v, _ := p.doc.Find("input#f-" + name).Attr("value")
	return v
}

func (p *page) selected(name string) string {
	v, _ := p.doc.Find("select#f-" + name + " option[selected]").Attr("value")
	return v
}

// rows returns the cells of the list table, without the actions column.
func (p *page) rows() [][]string {
	var out [][]string
	p.doc.Find("table.table tbody tr").Each(func(_ int, tr *goquery.Selection) {
		cells := texts(tr.Find("td:not(.actions)"))
		if len(cells) == 1 && cells[0] == "No records found." {
			return
		}
		out = append(out, cells)
	})
	return out
}

func wantStatus(t *testing.T, what string, p *page, want int) {
	t.Helper()
	if p.status != want {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.status, want, p.body)
	}
}

func wantRedirect(t *testing.T, what string, p *page, to string) {
	t.Helper()
	if p.status != http.StatusFound || p.header.Get("Location") != to {
		t.Fatalf("%s: status %d to %q, want 302 to %q\n%s", what, p.status, p.header.Get("Location"), to, p.body)
	}
}

// TestThirdModelCRUD drives a model declared in this file through every page
// of the admin, on both backends.
func TestThirdModelCRUD(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		rg := newRig(t, b)

		// The menu holds both declared views under their category.
		menu := rg.admin.Menu()
		if len(menu) != 1 || menu[0].Name != "Test Views" || len(menu[0].Items) != 2 ||
			menu[0].Items[0] != (view.MenuItem{Title: "Maker View", URL: "/makerview/list/"}) ||
			menu[0].Items[1] != (view.MenuItem{Title: "Instrument View", URL: "/instrumentview/list/"}) {
			t.Fatalf("menu = %+v", menu)
		}

		// An empty list.
		list := rg.get("/instrumentview/list/")
		wantStatus(t, "empty list", list, http.StatusOK)
		if got := list.rows(); len(got) != 0 {
			t.Errorf("empty list rows = %q", got)
		}
		if got := strings.TrimSpace(list.doc.Find(".count").Text()); got != "0 records" {
			t.Errorf("empty list count = %q", got)
		}
		if got := texts(list.doc.Find("thead th")); len(got) < 3 || !slices.Equal(got[:3], []string{"Name", "Strings", "Maker"}) {
			t.Errorf("list headers = %q", got)
		}
		if got := texts(list.doc.Find(".menu a")); !slices.Equal(got, []string{"Maker View", "Instrument View"}) {
			t.Errorf("menu links on the page = %q", got)
		}

		// Makers, through their own view.
		for _, name := range []string{"Yamaha", "Fender", "Gibson"} {
			wantRedirect(t, "add maker "+name, rg.post("/makerview/add", url.Values{"name": {name}}), "/makerview/list/")
		}
		if got := rg.get("/makerview/list/").flashes(); len(got) != 3 || got[2] != "Added Maker “Gibson”." {
			t.Errorf("maker flashes = %q", got)
		}
		fender, gibson := rg.makerID("Fender"), rg.makerID("Gibson")

		// The add form: default value and the dropdown ordered by label.
		add := rg.get("/instrumentview/add")
		wantStatus(t, "add form", add, http.StatusOK)
		if got := add.inputValue("strings"); got != "0" {
			t.Errorf("strings default = %q, want 0", got)
		}
		if got := texts(add.doc.Find("select#f-maker option")); !slices.Equal(got, []string{"(none)", "Fender", "Gibson", "Yamaha"}) {
			t.Errorf("maker choices = %q", got)
		}
		if v, _ := add.doc.Find("select#f-maker option").Eq(1).Attr("value"); v != strconv.FormatInt(fender, 10) {
			t.Errorf("Fender option value = %q, want %d", v, fender)
		}

		// Add.
		r := rg.post("/instrumentview/add", url.Values{"name": {"  Guitar  "}, "strings": {"6"},
			"maker": {strconv.FormatInt(fender, 10)}})
		wantRedirect(t, "add instrument", r, "/instrumentview/list/")
		guitar, ok := rg.instrument("Guitar")
		if !ok || guitar.Strings != 6 || guitar.MakerID == nil || *guitar.MakerID != fender {
			t.Fatalf("stored instrument = %+v (found %v)", guitar, ok)
		}
		list = rg.get("/instrumentview/list/")
		if got := list.flashes(); !slices.Equal(got, []string{"Added Instrument “Guitar”."}) {
			t.Errorf("flash after add = %q", got)
		}
		if got := list.rows(); len(got) != 1 || !slices.Equal(got[0], []string{"Guitar", "6", "Fender"}) {
			t.Errorf("list rows = %q", got)
		}
		if href, _ := list.doc.Find("tbody tr td").Eq(2).Find("a").Attr("href"); href != "/makerview/show/"+strconv.FormatInt(fender, 10) {
			t.Errorf("maker cell links to %q", href)
		}
		if got := rg.get("/instrumentview/list/").flashes(); len(got) != 0 {
			t.Errorf("flash shown twice: %q", got)
		}

		// Invalid input: 422, messages beside the fields, input kept, nothing written.
		r = rg.post("/instrumentview/add", url.Values{"name": {"   "}, "strings": {"21"}, "maker": {"987654"}})
		wantStatus(t, "invalid add", r, http.StatusUnprocessableEntity)
		if got := r.fieldError("name"); got != "This field is required." {
			t.Errorf("name error = %q", got)
		}
		if got := r.fieldError("strings"); got != "Must be a whole number from 0 to 20." {
			t.Errorf("strings error = %q", got)
		}
		if got := r.fieldError("maker"); got != "Not a valid choice." {
			t.Errorf("maker error = %q", got)
		}
		if got := r.inputValue("strings"); got != "21" {
			t.Errorf("strings kept = %q", got)
		}
		long := strings.Repeat("ü", 51)
		r = rg.post("/instrumentview/add", url.Values{"name": {long}, "strings": {"four"}, "maker": {strconv.FormatInt(gibson, 10)}})
		wantStatus(t, "too long", r, http.StatusUnprocessableEntity)
		if got := r.fieldError("name"); got != "Must be at most 50 characters." {
			t.Errorf("long name error = %q", got)
		}
		if got := r.fieldError("strings"); got != "Must be a whole number from 0 to 20." {
			t.Errorf("non-numeric strings error = %q", got)
		}
		if r.inputValue("name") != long || r.inputValue("strings") != "four" || r.selected("maker") != strconv.FormatInt(gibson, 10) {
			t.Errorf("input not kept: name %q strings %q maker %q", r.inputValue("name"), r.inputValue("strings"), r.selected("maker"))
		}
		if r.fieldError("maker") != "" {
			t.Errorf("valid maker flagged: %q", r.fieldError("maker"))
		}
		// Exactly at the limit is accepted (characters, not bytes).
		wantRedirect(t, "50 characters", rg.post("/instrumentview/add", url.Values{"name": {long[len("ü"):]}, "strings": {"0"}}),
			"/instrumentview/list/")
		if n := rg.count("instruments"); n != 2 {
			t.Fatalf("instruments = %d, want 2", n)
		}
		rg.get("/instrumentview/list/") // consume the flash

		// Duplicate.
		r = rg.post("/instrumentview/add", url.Values{"name": {"Guitar"}, "strings": {"12"}})
		wantStatus(t, "duplicate", r, http.StatusUnprocessableEntity)
		if got := r.fieldError("name"); got != "A record with this name already exists." {
			t.Errorf("duplicate error = %q", got)
		}
		if got := r.inputValue("strings"); got != "12" {
			t.Errorf("strings kept after duplicate = %q", got)
		}
		if n := rg.count("instruments"); n != 2 {
			t.Fatalf("duplicate written: %d instruments", n)
		}

		// Edit: pre-filled, saved, its own name is not a duplicate.
		editPath := "/instrumentview/edit/" + strconv.FormatInt(guitar.ID, 10)
		edit := rg.get(editPath)
		wantStatus(t, "edit form", edit, http.StatusOK)
		if edit.inputValue("name") != "Guitar" || edit.inputValue("strings") != "6" || edit.selected("maker") != strconv.FormatInt(fender, 10) {
			t.Errorf("edit form: name %q strings %q maker %q", edit.inputValue("name"), edit.inputValue("strings"), edit.selected("maker"))
		}
		wantRedirect(t, "edit same name", rg.post(editPath, url.Values{"name": {"Guitar"}, "strings": {"7"},
			"maker": {strconv.FormatInt(gibson, 10)}}), "/instrumentview/list/")
		if got := rg.get("/instrumentview/list/").flashes(); !slices.Equal(got, []string{"Saved Instrument “Guitar”."}) {
			t.Errorf("flash after edit = %q", got)
		}
		guitar, _ = rg.instrument("Guitar")
		if guitar.Strings != 7 || guitar.MakerID == nil || *guitar.MakerID != gibson {
			t.Errorf("after edit: %+v", guitar)
		}
		r = rg.post(editPath, url.Values{"name": {long[len("ü"):]}, "strings": {"7"}})
		wantStatus(t, "edit to a taken name", r, http.StatusUnprocessableEntity)
		if got := r.fieldError("name"); got != "A record with this name already exists." {
			t.Errorf("edit duplicate error = %q", got)
		}
		wantRedirect(t, "rename", rg.post(editPath, url.Values{"name": {"Bass"}, "strings": {"4"}, "maker": {""}}),
			"/instrumentview/list/")
		if _, ok := rg.instrument("Guitar"); ok {
			t.Error("old name still stored")
		}
		bass, ok := rg.instrument("Bass")
		if !ok || bass.ID != guitar.ID || bass.Strings != 4 || bass.MakerID != nil {
			t.Errorf("after rename: %+v (found %v)", bass, ok)
		}
		rg.get("/instrumentview/list/")

		// Show.
		show := rg.get("/instrumentview/show/" + strconv.FormatInt(bass.ID, 10))
		wantStatus(t, "show", show, http.StatusOK)
		if got := texts(show.doc.Find("dl.details dt")); !slices.Equal(got, []string{"Name", "Strings", "Maker"}) {
			t.Errorf("show labels = %q", got)
		}
		if got := texts(show.doc.Find("dl.details dd")); !slices.Equal(got, []string{"Bass", "4", ""}) {
			t.Errorf("show values = %q", got)
		}

		// Related: a maker's page lists its instruments; its delete page counts them.
		wantRedirect(t, "give bass a maker", rg.post(editPath, url.Values{"name": {"Bass"}, "strings": {"4"},
			"maker": {strconv.FormatInt(fender, 10)}}), "/instrumentview/list/")
		rg.get("/instrumentview/list/")
		makerShow := rg.get("/makerview/show/" + strconv.FormatInt(fender, 10))
		wantStatus(t, "maker show", makerShow, http.StatusOK)
		if got := texts(makerShow.doc.Find("section.card table tbody tr td:first-child")); !slices.Equal(got, []string{"Bass"}) {
			t.Errorf("instruments of Fender = %q", got)
		}
		confirm := rg.get("/makerview/delete/" + strconv.FormatInt(fender, 10))
		wantStatus(t, "maker delete confirmation", confirm, http.StatusOK)
		if got := strings.TrimSpace(confirm.doc.Find(".notice").Text()); got != "1 instrument refers to this maker. It will be kept, with no maker." {
			t.Errorf("maker delete notice = %q", got)
		}
		wantRedirect(t, "delete maker", rg.post("/makerview/delete/"+strconv.FormatInt(fender, 10), nil), "/makerview/list/")
		if got := rg.get("/makerview/list/").flashes(); !slices.Equal(got, []string{"Deleted Maker “Fender”."}) {
			t.Errorf("flash after maker delete = %q", got)
		}
		bass, ok = rg.instrument("Bass")
		if !ok || bass.MakerID != nil {
			t.Errorf("after its maker was deleted: %+v (found %v)", bass, ok)
		}

		// Delete: confirmation, then the delete itself.
		delPath := "/instrumentview/delete/" + strconv.FormatInt(bass.ID, 10)
		confirm = rg.get(delPath)
		wantStatus(t, "delete confirmation", confirm, http.StatusOK)
		if action, _ := confirm.doc.Find("main form").Attr("action"); action != delPath {
			t.Errorf("delete form action = %q", action)
		}
		if !strings.Contains(confirm.doc.Find("main").Text(), "Delete Bass?") {
			t.Errorf("confirmation does not name the record:\n%s", confirm.body)
		}
		if n := rg.count("instruments"); n != 2 {
			t.Fatalf("GET delete changed data: %d instruments", n)
		}
		wantRedirect(t, "delete", rg.post(delPath, nil), "/instrumentview/list/")
		if _, ok := rg.instrument("Bass"); ok || rg.count("instruments") != 1 {
			t.Error("instrument not deleted")
		}
		if got := rg.get("/instrumentview/list/").flashes(); !slices.Equal(got, []string{"Deleted Instrument “Bass”."}) {
			t.Errorf("flash after delete = %q", got)
		}

		// Unknown ids.
		gone := strconv.FormatInt(bass.ID, 10)
		for _, p := range []string{"/instrumentview/show/" + gone, "/instrumentview/edit/" + gone,
			"/instrumentview/delete/" + gone, "/instrumentview/show/987654", "/instrumentview/show/abc",
			"/instrumentview/show/0", "/instrumentview/show/-1", "/makerview/edit/987654"} {
			wantStatus(t, "GET "+p, rg.get(p), http.StatusNotFound)
		}
		for _, p := range []string{"/instrumentview/edit/" + gone, "/instrumentview/delete/" + gone} {
			wantStatus(t, "POST "+p, rg.post(p, url.Values{"name": {"Ghost"}}), http.StatusNotFound)
		}
		if _, ok := rg.instrument("Ghost"); ok || rg.count("instruments") != 1 {
			t.Error("a POST to an unknown id wrote a record")
		}
	})
}

// TestThirdModelList checks that sort, search, filters and pages work on a
// model the catalogue knows nothing of.
func TestThirdModelList(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		rg := newRig(t, b)
		yamaha := maker{Name: "Yamaha"}
		if err := rg.db.Create(&yamaha).Error; err != nil {
			t.Fatal(err)
		}
		seed := []instrument{
			{Name: "Violin", Strings: 4, MakerID: &yamaha.ID},
			{Name: "Cello", Strings: 4},
			{Name: "Harp", Strings: 20, MakerID: &yamaha.ID},
			{Name: "Banjo", Strings: 5},
			{Name: "100%_Ukulele", Strings: 4},
		}
		if err := rg.db.Create(&seed).Error; err != nil {
			t.Fatal(err)
		}
		names := func(path string) []string {
			t.Helper()
			p := rg.get(path)
			wantStatus(t, path, p, http.StatusOK)
			var out []string
			for _, row := range p.rows() {
				out = append(out, row[0])
			}
			return out
		}
		cases := []struct {
			path string
			want []string
		}{
			{"/instrumentview/list/", []string{"100%_Ukulele", "Banjo", "Cello", "Harp", "Violin"}},
			{"/instrumentview/list/?sort=-name", []string{"Violin", "Harp", "Cello", "Banjo", "100%_Ukulele"}},
			{"/instrumentview/list/?sort=-strings", []string{"Harp", "Banjo", "100%_Ukulele", "Cello", "Violin"}},
			{"/instrumentview/list/?q=VIOL", []string{"Violin"}},
			{"/instrumentview/list/?q=%25_", []string{"100%_Ukulele"}},
			{"/instrumentview/list/?strings__gte=5", []string{"Banjo", "Harp"}},
			{"/instrumentview/list/?strings=4&name__startswith=C", []string{"Cello"}},
			{"/instrumentview/list/?maker=" + strconv.FormatInt(yamaha.ID, 10), []string{"Harp", "Violin"}},
			{"/instrumentview/list/?maker__empty=true", []string{"100%_Ukulele", "Banjo", "Cello"}},
			{"/instrumentview/list/?page_size=2&page=2", []string{"Cello", "Harp"}},
			{"/instrumentview/list/?page_size=2&page=9", []string{"Violin"}},
		}
		for _, c := range cases {
			if got := names(c.path); !slices.Equal(got, c.want) {
				t.Errorf("%s: %q, want %q", c.path, got, c.want)
			}
		}
		// Sorting by a column that is not an order column is ignored.
		if got := names("/instrumentview/list/?sort=maker"); !slices.Equal(got, cases[0].want) {
			t.Errorf("sort=maker: %q", got)
		}
		p := rg.get("/instrumentview/list/?colour=red")
		if got := texts(p.doc.Find(".notice")); !slices.Equal(got, []string{`Ignored unknown filter "colour".`}) {
			t.Errorf("notices = %q", got)
		}
		if len(p.rows()) != 5 {
			t.Errorf("unknown filter changed the rows: %q", p.rows())
		}
	})
}

// TestDeclarationChecks: a declaration naming what the model does not have
// fails at start-up, never at request time.
func TestDeclarationChecks(t *testing.T) {
	apptest.ForEachBackend(t, func(t *testing.T, b apptest.Backend) {
		db := openDB(t, b)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))

		t.Run("admin.New", func(t *testing.T) {
			cases := []struct {
				name    string
				change  func(m, i *admin.ModelView)
				wantErr string // "" for a declaration that must be accepted
			}{
				{"valid", func(m, i *admin.ModelView) {}, ""},
				{"valid filter and label columns", func(m, i *admin.ModelView) {
					i.FilterColumns, i.LabelColumn = []string{"strings", "maker"}, "name"
				}, ""},
				{"unknown list column", func(m, i *admin.ModelView) { i.ListColumns = []string{"name", "colour"} }, `"colour"`},
				{"unknown search column", func(m, i *admin.ModelView) { i.SearchColumns = []string{"colour"} }, `"colour"`},
				{"non-text search column", func(m, i *admin.ModelView) { i.SearchColumns = []string{"strings"} }, `"strings" is not text`},
				{"reference search column", func(m, i *admin.ModelView) { i.SearchColumns = []string{"maker"} }, `"maker" is not text`},
				{"unknown order column", func(m, i *admin.ModelView) { i.OrderColumns = []string{"name", "colour"} }, `"colour"`},
				{"unknown filter column", func(m, i *admin.ModelView) { i.FilterColumns = []string{"colour"} }, `"colour"`},
				{"default sort not a field", func(m, i *admin.ModelView) { i.DefaultSort = "colour" }, `default sort "colour"`},
				{"default sort not an order column", func(m, i *admin.ModelView) { i.DefaultSort = "-maker" }, `default sort "-maker"`},
				{"default sort without order columns", func(m, i *admin.ModelView) { m.OrderColumns = nil }, `default sort "name"`},
				{"unknown label column", func(m, i *admin.ModelView) { i.LabelColumn = "colour" }, "label column"},
				{"related field unknown", func(m, i *admin.ModelView) {
					m.Related = []admin.Related{{View: i, Field: "colour"}}
				}, "related field instrumentview.colour"},
				{"related field not a reference", func(m, i *admin.ModelView) {
					m.Related = []admin.Related{{View: i, Field: "name"}}
				}, "related field instrumentview.name"},
				{"related field refers elsewhere", func(m, i *admin.ModelView) {
					i.Related = []admin.Related{{View: i, Field: "maker"}}
				}, "instrumentview: related field instrumentview.maker does not refer to it"},
				{"no name", func(m, i *admin.ModelView) { i.Name = "" }, "needs a Name"},
				{"no singular", func(m, i *admin.ModelView) { i.Singular = "" }, "needs a Name"},
				{"no data", func(m, i *admin.ModelView) { i.Data = nil }, "needs a Name"},
			}
			for _, c := range cases {
				m, i := declare(t, db)
				c.change(m, i)
				adm, err := admin.New(log, m, i)
				switch {
				case c.wantErr == "" && err != nil:
					t.Errorf("%s: %v", c.name, err)
				case c.wantErr == "" && adm == nil:
					t.Errorf("%s: nil admin", c.name)
				case c.wantErr != "" && err == nil:
					t.Errorf("%s: accepted", c.name)
				case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
					t.Errorf("%s: error %q does not mention %q", c.name, err, c.wantErr)
				case c.wantErr != "" && adm != nil:
					t.Errorf("%s: an admin came back with the error", c.name)
				}
			}
		})

		t.Run("store.NewModel", func(t *testing.T) {
			name := datamodel.Field{Name: "name", Column: "name", Label: "Name", Kind: datamodel.KindText}
			if _, err := store.NewModel[instrument](db, "name", name); err != nil {
				t.Fatalf("valid model refused: %v", err)
			}
			_, err := store.NewModel[instrument](db, "name", name,
				datamodel.Field{Name: "colour", Column: "colour", Label: "Colour", Kind: datamodel.KindText})
			if err == nil || !strings.Contains(err.Error(), `no column "colour"`) {
				t.Errorf("unknown column: %v", err)
			}
			_, err = store.NewModel[instrument](db, "name",
				datamodel.Field{Name: "strings", Column: "string_count", Label: "Strings", Kind: datamodel.KindInt})
			if err == nil || !strings.Contains(err.Error(), `no column "string_count"`) {
				t.Errorf("field named after a missing column: %v", err)
			}
			_, err = store.NewModel[instrument](db, "title", name)
			if err == nil || !strings.Contains(err.Error(), `no label column "title"`) {
				t.Errorf("unknown label column: %v", err)
			}
			_, err = store.NewModel[instrument](db, "name", name,
				datamodel.Field{Name: "maker", Column: "maker_id", Label: "Maker", Kind: datamodel.KindRef})
			if err == nil || !strings.Contains(err.Error(), "needs a relation") {
				t.Errorf("reference without a relation: %v", err)
			}
			type keyed struct {
				Code string `gorm:"primaryKey"`
				Name string
			}
			_, err = store.NewModel[keyed](db, "name", name)
			if err == nil || !strings.Contains(err.Error(), "primary key must be column id") {
				t.Errorf("model without an id key: %v", err)
			}
		})
	})
}
