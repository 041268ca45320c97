package admin_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/memstore"
	"musicadmin/internal/mongostore"
	"musicadmin/internal/mongostore/mongotest"
	"musicadmin/internal/store"
	"musicadmin/internal/view"
)

// maker and instrument are throw-away models that exist only in this test:
// they prove that a model the app has never heard of gets the whole admin
// from a declaration: its schema, and for SQL a GORM struct and a table.
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

var (
	makerSchema = datamodel.Schema{Name: "maker", Label: "name", Fields: []datamodel.Field{
		{Name: "name", Label: "Name", Kind: datamodel.Text{MaxRunes: 60}, Required: true, Unique: true},
	}}
	instrumentSchema = datamodel.Schema{Name: "instrument", Label: "name", Fields: []datamodel.Field{
		{Name: "name", Label: "Name", Kind: datamodel.Text{MaxRunes: 50}, Required: true, Unique: true},
		{Name: "strings", Label: "Strings", Kind: datamodel.Int{Min: 0, Max: 20}},
		{Name: "maker", Label: "Maker", Kind: datamodel.Reference{Model: "maker"}},
	}}
)

// backend is where the test models live: SQLite or MySQL through the GORM
// store, MongoDB through mongostore, or memory through memstore, whose ids
// are ObjectId-like strings.
type backend struct {
	name string
	sql  *apptest.Backend
}

// forEachStore runs fn on every backend of the seam, in parallel: each run
// owns its store.
func forEachStore(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Helper()
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) { fn(t, backend{name: b.Name, sql: &b}) })
	t.Run("mongodb", func(t *testing.T) {
		t.Parallel()
		mongotest.Require(t)
		fn(t, backend{name: "mongodb"})
	})
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		fn(t, backend{name: "memory"})
	})
}

// models declares the two models on a fresh store of b.
func models(t *testing.T, b backend) (makers, instruments datamodel.Interface) {
	t.Helper()
	if b.name == "mongodb" {
		st := mongostore.New(mongotest.Database(t, mongotest.Connect(t)))
		m, err := st.Declare(makerSchema)
		if err != nil {
			t.Fatal(err)
		}
		i, err := st.Declare(instrumentSchema)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.EnsureIndexes(context.Background()); err != nil {
			t.Fatal(err)
		}
		return m, i
	}
	if b.sql == nil {
		st := memstore.New()
		m, err := st.Declare(makerSchema)
		if err != nil {
			t.Fatal(err)
		}
		i, err := st.Declare(instrumentSchema)
		if err != nil {
			t.Fatal(err)
		}
		return m, i
	}
	db, _ := apptest.OpenMigrated(t, *b.sql)
	if err := db.AutoMigrate(&maker{}, &instrument{}); err != nil {
		t.Fatalf("create test tables: %v", err)
	}
	st := store.New(db)
	m, err := store.NewModel[maker](st, makerSchema)
	if err != nil {
		t.Fatal(err)
	}
	i, err := store.NewModel[instrument](st, instrumentSchema)
	if err != nil {
		t.Fatal(err)
	}
	return m, i
}

// declare is the whole cost of the two models in the admin.
func declare(makers, instruments datamodel.Interface) (makerView, instrumentView *admin.ModelView) {
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

// rig is the admin of the two test models on one backend, served over
// HTTP, with a client that keeps no session and follows no redirect.
type rig struct {
	t *testing.T
	*apptest.Client
	admin               *admin.Admin
	makers, instruments datamodel.Interface
}

func newRig(t *testing.T, b backend, with ...func(makerView, instrumentView *admin.ModelView)) *rig {
	t.Helper()
	makers, instruments := models(t, b)
	return rigOf(t, makers, instruments, with...)
}

// rigOf is newRig on the given models.
func rigOf(t *testing.T, makers, instruments datamodel.Interface, with ...func(makerView, instrumentView *admin.ModelView)) *rig {
	t.Helper()
	makerView, instrumentView := declare(makers, instruments)
	for _, f := range with {
		f(makerView, instrumentView) // a test's own declarations
	}
	logs := &apptest.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	adm, err := admin.New(log, makerView, instrumentView)
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	flashes := &flashQueue{}
	ui, err := view.New("Test Admin", log, adm.Menu(), func(_ http.ResponseWriter, r *http.Request) view.Common {
		return view.Common{User: "tester", Flashes: flashes.pop(), Grants: access.GrantsOf(r)}
	})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(parseForm, asAdmin)
	adm.Mount(access.NewRouter(r, forbidden), ui, flashes.add)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("admin log:\n%s", logs.String())
		}
	})
	return &rig{t: t, Client: apptest.Serve(t, r).Client(), admin: adm, makers: makers, instruments: instruments}
}

// count returns the number of stored records of m, asked through the seam.
func (rg *rig) count(m datamodel.Interface) int64 {
	rg.t.Helper()
	n, err := m.Count(context.Background(), nil)
	if err != nil {
		rg.t.Fatal(err)
	}
	return n
}

// find returns the stored record of m whose name is name.
func (rg *rig) find(m datamodel.Interface, name string) (datamodel.Record, bool) {
	rg.t.Helper()
	res, err := m.List(context.Background(), datamodel.Query{
		Filters: []datamodel.Filter{{Field: m.Schema().Field("name"), Op: datamodel.OpEq, Value: name}}})
	if err != nil {
		rg.t.Fatal(err)
	}
	if len(res.Records) == 0 {
		return datamodel.Record{}, false
	}
	return res.Records[0], true
}

func (rg *rig) makerID(name string) string {
	rg.t.Helper()
	rec, ok := rg.find(rg.makers, name)
	if !ok {
		rg.t.Fatalf("no maker %q", name)
	}
	return rec.ID
}

// stored is an instrument as the store holds it.
type stored struct {
	id      string
	strings int64
	maker   string // "" for none
}

func (rg *rig) instrument(name string) (stored, bool) {
	rg.t.Helper()
	rec, ok := rg.find(rg.instruments, name)
	if !ok {
		return stored{}, false
	}
	s := stored{id: rec.ID, strings: rec.Values["strings"].(int64)}
	if ref, _ := rec.Values["maker"].(*datamodel.Ref); ref != nil {
		s.maker = ref.ID
	}
	return s, true
}

// TestThirdModelCRUD drives a model declared in this file through every page
// of the admin, on both backends.
func TestThirdModelCRUD(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		rg := newRig(t, b)

		// The menu holds both declared views under their category.
		menu := rg.admin.Menu()
		if len(menu) != 1 || menu[0].Name != "Test Views" || len(menu[0].Items) != 2 ||
			menu[0].Items[0] != (view.MenuItem{Title: "Maker View", URL: "/makerview/list/", View: "makerview"}) ||
			menu[0].Items[1] != (view.MenuItem{Title: "Instrument View", URL: "/instrumentview/list/", View: "instrumentview"}) {
			t.Fatalf("menu = %+v", menu)
		}

		// An empty list.
		list := rg.Get("/instrumentview/list/")
		list.ExpectStatus(t, "empty list", http.StatusOK)
		if got := list.Rows(); len(got) != 0 {
			t.Errorf("empty list rows = %q", got)
		}
		if got := list.Text(".count"); got != "0 records" {
			t.Errorf("empty list count = %q", got)
		}
		if got := list.Texts("thead th:not(.select)"); len(got) < 3 || !slices.Equal(got[:3], []string{"Name", "Strings", "Maker"}) {
			t.Errorf("list headers = %q", got)
		}
		if got := list.Texts(".menu a"); !slices.Equal(got, []string{"Maker View", "Instrument View"}) {
			t.Errorf("menu links on the page = %q", got)
		}

		// Makers, through their own view.
		for _, name := range []string{"Yamaha", "Fender", "Gibson"} {
			rg.Post("/makerview/add", url.Values{"name": {name}}).ExpectRedirect(t, "add maker "+name, "/makerview/list/")
		}
		if got := rg.Get("/makerview/list/").Flashes(); len(got) != 3 || got[2] != "Added Maker “Gibson”." {
			t.Errorf("maker flashes = %q", got)
		}
		fender, gibson := rg.makerID("Fender"), rg.makerID("Gibson")

		// The add form: default value and the dropdown ordered by label.
		add := rg.Get("/instrumentview/add")
		add.ExpectStatus(t, "add form", http.StatusOK)
		if got := add.InputValue("strings"); got != "0" {
			t.Errorf("strings default = %q, want 0", got)
		}
		if got := add.Texts("select#f-maker option"); !slices.Equal(got, []string{"(none)", "Fender", "Gibson", "Yamaha"}) {
			t.Errorf("maker choices = %q", got)
		}
		if v, _ := add.Doc.Find("select#f-maker option").Eq(1).Attr("value"); v != fender {
			t.Errorf("Fender option value = %q, want %q", v, fender)
		}

		// Add.
		r := rg.Post("/instrumentview/add", url.Values{"name": {"  Guitar  "}, "strings": {"6"},
			"maker": {fender}})
		r.ExpectRedirect(t, "add instrument", "/instrumentview/list/")
		guitar, ok := rg.instrument("Guitar")
		if !ok || guitar.strings != 6 || guitar.maker != fender {
			t.Fatalf("stored instrument = %+v (found %v)", guitar, ok)
		}
		list = rg.Get("/instrumentview/list/")
		if got := list.Flashes(); !slices.Equal(got, []string{"Added Instrument “Guitar”."}) {
			t.Errorf("flash after add = %q", got)
		}
		if got := list.Rows(); len(got) != 1 || !slices.Equal(got[0], []string{"Guitar", "6", "Fender"}) {
			t.Errorf("list rows = %q", got)
		}
		if href, _ := list.Doc.Find("tbody tr td:not(.select)").Eq(2).Find("a").Attr("href"); href != "/makerview/show/"+fender {
			t.Errorf("maker cell links to %q", href)
		}
		if got := rg.Get("/instrumentview/list/").Flashes(); len(got) != 0 {
			t.Errorf("flash shown twice: %q", got)
		}

		// Invalid input: 422, messages beside the fields, input kept, nothing written.
		r = rg.Post("/instrumentview/add", url.Values{"name": {"   "}, "strings": {"21"}, "maker": {missingID(b)}})
		r.ExpectStatus(t, "invalid add", http.StatusUnprocessableEntity)
		if got := r.FieldError("name"); got != "This field is required." {
			t.Errorf("name error = %q", got)
		}
		if got := r.FieldError("strings"); got != "Must be a whole number from 0 to 20." {
			t.Errorf("strings error = %q", got)
		}
		if got := r.FieldError("maker"); got != "Not a valid choice." {
			t.Errorf("maker error = %q", got)
		}
		if got := r.InputValue("strings"); got != "21" {
			t.Errorf("strings kept = %q", got)
		}
		long := strings.Repeat("ü", 51)
		r = rg.Post("/instrumentview/add", url.Values{"name": {long}, "strings": {"four"}, "maker": {gibson}})
		r.ExpectStatus(t, "too long", http.StatusUnprocessableEntity)
		if got := r.FieldError("name"); got != "Must be at most 50 characters." {
			t.Errorf("long name error = %q", got)
		}
		if got := r.FieldError("strings"); got != "Must be a whole number from 0 to 20." {
			t.Errorf("non-numeric strings error = %q", got)
		}
		if r.InputValue("name") != long || r.InputValue("strings") != "four" || r.Selected("maker") != gibson {
			t.Errorf("input not kept: name %q strings %q maker %q", r.InputValue("name"), r.InputValue("strings"), r.Selected("maker"))
		}
		if r.FieldError("maker") != "" {
			t.Errorf("valid maker flagged: %q", r.FieldError("maker"))
		}
		// Exactly at the limit is accepted (characters, not bytes).
		rg.Post("/instrumentview/add", url.Values{"name": {long[len("ü"):]}, "strings": {"0"}}).
			ExpectRedirect(t, "50 characters", "/instrumentview/list/")
		if n := rg.count(rg.instruments); n != 2 {
			t.Fatalf("instruments = %d, want 2", n)
		}
		rg.Get("/instrumentview/list/") // consume the flash

		// Duplicate.
		r = rg.Post("/instrumentview/add", url.Values{"name": {"Guitar"}, "strings": {"12"}})
		r.ExpectStatus(t, "duplicate", http.StatusUnprocessableEntity)
		if got := r.FieldError("name"); got != "A record with this name already exists." {
			t.Errorf("duplicate error = %q", got)
		}
		if got := r.InputValue("strings"); got != "12" {
			t.Errorf("strings kept after duplicate = %q", got)
		}
		if n := rg.count(rg.instruments); n != 2 {
			t.Fatalf("duplicate written: %d instruments", n)
		}

		// Edit: pre-filled, saved, its own name is not a duplicate.
		editPath := "/instrumentview/edit/" + guitar.id
		edit := rg.Get(editPath)
		edit.ExpectStatus(t, "edit form", http.StatusOK)
		if edit.InputValue("name") != "Guitar" || edit.InputValue("strings") != "6" || edit.Selected("maker") != fender {
			t.Errorf("edit form: name %q strings %q maker %q", edit.InputValue("name"), edit.InputValue("strings"), edit.Selected("maker"))
		}
		rg.Post(editPath, url.Values{"name": {"Guitar"}, "strings": {"7"},
			"maker": {gibson}}).ExpectRedirect(t, "edit same name", "/instrumentview/list/")
		if got := rg.Get("/instrumentview/list/").Flashes(); !slices.Equal(got, []string{"Saved Instrument “Guitar”."}) {
			t.Errorf("flash after edit = %q", got)
		}
		guitar, _ = rg.instrument("Guitar")
		if guitar.strings != 7 || guitar.maker != gibson {
			t.Errorf("after edit: %+v", guitar)
		}
		r = rg.Post(editPath, url.Values{"name": {long[len("ü"):]}, "strings": {"7"}})
		r.ExpectStatus(t, "edit to a taken name", http.StatusUnprocessableEntity)
		if got := r.FieldError("name"); got != "A record with this name already exists." {
			t.Errorf("edit duplicate error = %q", got)
		}
		rg.Post(editPath, url.Values{"name": {"Bass"}, "strings": {"4"}, "maker": {""}}).
			ExpectRedirect(t, "rename", "/instrumentview/list/")
		if _, ok := rg.instrument("Guitar"); ok {
			t.Error("old name still stored")
		}
		bass, ok := rg.instrument("Bass")
		if !ok || bass.id != guitar.id || bass.strings != 4 || bass.maker != "" {
			t.Errorf("after rename: %+v (found %v)", bass, ok)
		}
		rg.Get("/instrumentview/list/")

		// Show.
		show := rg.Get("/instrumentview/show/" + bass.id)
		show.ExpectStatus(t, "show", http.StatusOK)
		if got := show.Texts("dl.details dt"); !slices.Equal(got, []string{"Name", "Strings", "Maker"}) {
			t.Errorf("show labels = %q", got)
		}
		if got := show.Texts("dl.details dd"); !slices.Equal(got, []string{"Bass", "4", ""}) {
			t.Errorf("show values = %q", got)
		}

		// Related: a maker's page lists its instruments; its delete page counts them.
		rg.Post(editPath, url.Values{"name": {"Bass"}, "strings": {"4"},
			"maker": {fender}}).ExpectRedirect(t, "give bass a maker", "/instrumentview/list/")
		rg.Get("/instrumentview/list/")
		makerShow := rg.Get("/makerview/show/" + fender)
		makerShow.ExpectStatus(t, "maker show", http.StatusOK)
		if got := makerShow.Texts("section.card table tbody tr td:first-child"); !slices.Equal(got, []string{"Bass"}) {
			t.Errorf("instruments of Fender = %q", got)
		}
		confirm := rg.Get("/makerview/delete/" + fender)
		confirm.ExpectStatus(t, "maker delete confirmation", http.StatusOK)
		if got := confirm.Text(".notice"); got != "1 instrument refers to this maker. It will be kept, with no maker." {
			t.Errorf("maker delete notice = %q", got)
		}
		rg.Post("/makerview/delete/"+fender, nil).ExpectRedirect(t, "delete maker", "/makerview/list/")
		if got := rg.Get("/makerview/list/").Flashes(); !slices.Equal(got, []string{"Deleted Maker “Fender”."}) {
			t.Errorf("flash after maker delete = %q", got)
		}
		bass, ok = rg.instrument("Bass")
		if !ok || bass.maker != "" {
			t.Errorf("after its maker was deleted: %+v (found %v)", bass, ok)
		}

		// Delete: confirmation, then the delete itself.
		delPath := "/instrumentview/delete/" + bass.id
		confirm = rg.Get(delPath)
		confirm.ExpectStatus(t, "delete confirmation", http.StatusOK)
		if action, _ := confirm.Doc.Find("main form").Attr("action"); action != delPath {
			t.Errorf("delete form action = %q", action)
		}
		if !strings.Contains(confirm.Doc.Find("main").Text(), "Delete Bass?") {
			t.Errorf("confirmation does not name the record:\n%s", confirm.Body)
		}
		if n := rg.count(rg.instruments); n != 2 {
			t.Fatalf("GET delete changed data: %d instruments", n)
		}
		rg.Post(delPath, nil).ExpectRedirect(t, "delete", "/instrumentview/list/")
		if _, ok := rg.instrument("Bass"); ok || rg.count(rg.instruments) != 1 {
			t.Error("instrument not deleted")
		}
		if got := rg.Get("/instrumentview/list/").Flashes(); !slices.Equal(got, []string{"Deleted Instrument “Bass”."}) {
			t.Errorf("flash after delete = %q", got)
		}

		// Unknown ids.
		gone := bass.id
		for _, p := range []string{"/instrumentview/show/" + gone, "/instrumentview/edit/" + gone,
			"/instrumentview/delete/" + gone, "/instrumentview/show/" + missingID(b), "/instrumentview/show/abc",
			"/instrumentview/show/0", "/instrumentview/show/-1", "/makerview/edit/" + missingID(b),
			"/instrumentview/show/%2e%2e", "/instrumentview/show/" + strings.Repeat("9", 40)} {
			rg.Get(p).ExpectStatus(t, "GET "+p, http.StatusNotFound)
		}
		for _, p := range []string{"/instrumentview/edit/" + gone, "/instrumentview/delete/" + gone} {
			rg.Post(p, url.Values{"name": {"Ghost"}}).ExpectStatus(t, "POST "+p, http.StatusNotFound)
		}
		if _, ok := rg.instrument("Ghost"); ok || rg.count(rg.instruments) != 1 {
			t.Error("a POST to an unknown id wrote a record")
		}
	})
}

// TestThirdModelList checks that sort, search, filters and pages work on a
// model the catalogue knows nothing of.
func TestThirdModelList(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		rg := newRig(t, b)
		ctx := context.Background()
		yamaha, err := rg.makers.Create(ctx, datamodel.Values{"name": "Yamaha"})
		if err != nil {
			t.Fatal(err)
		}
		byYamaha := &datamodel.Ref{ID: yamaha}
		for _, v := range []datamodel.Values{
			{"name": "Violin", "strings": int64(4), "maker": byYamaha},
			{"name": "Cello", "strings": int64(4)},
			{"name": "Harp", "strings": int64(20), "maker": byYamaha},
			{"name": "Banjo", "strings": int64(5)},
			{"name": "100%_Ukulele", "strings": int64(4)},
		} {
			if _, err := rg.instruments.Create(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		names := func(path string) []string {
			t.Helper()
			p := rg.Get(path)
			p.ExpectStatus(t, path, http.StatusOK)
			var out []string
			for _, row := range p.Rows() {
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
			{"/instrumentview/list/?maker=" + yamaha, []string{"Harp", "Violin"}},
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
		p := rg.Get("/instrumentview/list/?colour=red")
		if got := p.Texts(".notice"); !slices.Equal(got, []string{`Ignored unknown filter "colour".`}) {
			t.Errorf("notices = %q", got)
		}
		if len(p.Rows()) != 5 {
			t.Errorf("unknown filter changed the rows: %q", p.Rows())
		}
	})
}

// TestDeclarationChecks: a declaration naming what the model does not have
// fails at start-up, never at request time.
func TestDeclarationChecks(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Run("admin.New", func(t *testing.T) {
		cases := []struct {
			name    string
			change  func(m, i *admin.ModelView)
			wantErr string // "" for a declaration that must be accepted
		}{
			{"valid", func(m, i *admin.ModelView) {}, ""},
			{"valid filter columns", func(m, i *admin.ModelView) { i.FilterColumns = []string{"strings", "maker"} }, ""},
			{"unknown list column", func(m, i *admin.ModelView) { i.ListColumns = []string{"name", "colour"} }, `"colour"`},
			{"unknown search column", func(m, i *admin.ModelView) { i.SearchColumns = []string{"colour"} }, `"colour"`},
			{"non-text search column", func(m, i *admin.ModelView) { i.SearchColumns = []string{"strings"} }, `"strings" is not text`},
			{"reference search column", func(m, i *admin.ModelView) { i.SearchColumns = []string{"maker"} }, `"maker" is not text`},
			{"unknown order column", func(m, i *admin.ModelView) { i.OrderColumns = []string{"name", "colour"} }, `"colour"`},
			{"unknown filter column", func(m, i *admin.ModelView) { i.FilterColumns = []string{"colour"} }, `"colour"`},
			{"default sort not a field", func(m, i *admin.ModelView) { i.DefaultSort = "colour" }, `default sort "colour"`},
			{"default sort not an order column", func(m, i *admin.ModelView) { i.DefaultSort = "-maker" }, `default sort "-maker"`},
			{"default sort without order columns", func(m, i *admin.ModelView) { m.OrderColumns = nil }, `default sort "name"`},
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
			m, i := declare(models(t, backend{name: "memory"}))
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

	t.Run("schema", func(t *testing.T) {
		name := datamodel.Field{Name: "name", Label: "Name", Kind: datamodel.Text{}}
		for _, c := range []struct {
			schema  datamodel.Schema
			wantErr string
		}{
			{datamodel.Schema{Label: "name", Fields: []datamodel.Field{name}}, "needs a name"},
			{datamodel.Schema{Name: "x", Label: "title", Fields: []datamodel.Field{name}}, `label "title" is not a field`},
			{datamodel.Schema{Name: "x", Label: "name", Fields: []datamodel.Field{name, name}}, `"name" declared twice`},
			{datamodel.Schema{Name: "x", Label: "name", Fields: []datamodel.Field{{Name: "name"}}}, "needs a name and a kind"},
		} {
			if _, err := memstore.New().Declare(c.schema); err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%+v: error %v, want %q", c.schema, err, c.wantErr)
			}
		}
		if _, err := memstore.New().Declare(instrumentSchema); err == nil || !strings.Contains(err.Error(), `undeclared model "maker"`) {
			t.Errorf("reference to an undeclared model: %v", err)
		}
	})

	apptest.ForEachSQLBackend(t, func(t *testing.T, b apptest.Backend) {
		db, _ := apptest.OpenMigrated(t, b)
		if err := db.AutoMigrate(&maker{}, &instrument{}); err != nil {
			t.Fatal(err)
		}
		with := func(fields ...datamodel.Field) datamodel.Schema {
			return datamodel.Schema{Name: "instrument", Label: "name", Fields: fields}
		}
		name := makerSchema.Fields[0]
		declareMaker := func() *store.Store {
			st := store.New(db)
			if _, err := store.NewModel[maker](st, makerSchema); err != nil {
				t.Fatal(err)
			}
			return st
		}
		if _, err := store.NewModel[instrument](declareMaker(), instrumentSchema); err != nil {
			t.Fatalf("valid model refused: %v", err)
		}
		for _, c := range []struct {
			st      *store.Store
			schema  datamodel.Schema
			wantErr string
		}{
			{declareMaker(), with(name, datamodel.Field{Name: "colour", Label: "Colour", Kind: datamodel.Text{}}), `no column "colour"`},
			{declareMaker(), with(name, datamodel.Field{Name: "string_count", Label: "Strings", Kind: datamodel.Int{}}), `no column "string_count"`},
			{store.New(db), instrumentSchema, `names model "maker", not declared before it`},
			{declareMaker(), with(name, datamodel.Field{Name: "brand", Label: "Brand", Kind: datamodel.Reference{Model: "maker"}}), `no belongs-to relation "brand"`},
		} {
			if _, err := store.NewModel[instrument](c.st, c.schema); err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%+v: error %v, want %q", c.schema.Fields, err, c.wantErr)
			}
		}
		if _, err := store.NewModel[maker](declareMaker(), makerSchema); err == nil || !strings.Contains(err.Error(), "declared twice") {
			t.Errorf("a model declared twice: %v", err)
		}
		type keyed struct {
			Code string `gorm:"primaryKey"`
			Name string
		}
		_, err := store.NewModel[keyed](store.New(db), datamodel.Schema{Name: "keyed", Label: "name", Fields: []datamodel.Field{name}})
		if err == nil || !strings.Contains(err.Error(), "primary key must be column id") {
			t.Errorf("model without an id key: %v", err)
		}
	})
}

// missingID is an id of the backend's form that no record has: an
// ObjectId's on MongoDB and in memory.
func missingID(b backend) string {
	if b.sql == nil {
		return "0123456789abcdef01234567"
	}
	return "987654"
}

// asAdmin gives every request an Admin's grants: these tests mount the
// views without the login in front of them.
func asAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := access.NewGrants([]string{access.AdminRole}, nil)
		next.ServeHTTP(w, r.WithContext(access.WithGrants(r.Context(), g)))
	})
}

func forbidden(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "forbidden", http.StatusForbidden)
}
