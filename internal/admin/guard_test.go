package admin_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/memstore"
	"musicadmin/internal/view"
)

// A band has members (a set of makers), an active flag and a secret set
// on creation only: the kinds the Security views need, on a model the app
// has never heard of, in memory.
var bandSchema = datamodel.Schema{Name: "band", Label: "name", Fields: []datamodel.Field{
	{Name: "name", Label: "Name", Kind: datamodel.Text{MaxRunes: 40}, Required: true, Unique: true},
	{Name: "active", Label: "Active", Kind: datamodel.Bool{DefaultOn: true}},
	{Name: "members", Label: "Members", Kind: datamodel.Set{Of: "maker"}},
	{Name: "secret", Label: "Secret", Kind: datamodel.Password{MaxBytes: 8}, Required: true, WriteOnly: true},
}}

// bandGuard refuses what a guard may: a record named "Locked" is not to
// be touched (403), a band of more than two members not to be written
// (422 beside the members), and the name of "Fixed" not to be changed.
type bandGuard struct{ saved []string }

func (g *bandGuard) CheckEdit(_ context.Context, _ *access.Grants, rec datamodel.Record) error {
	if rec.Values["name"] == "Locked" {
		return &admin.Forbidden{Message: "Locked bands stay as they are."}
	}
	return nil
}

func (g *bandGuard) CheckWrite(_ context.Context, _ *access.Grants, _ *datamodel.Record, v datamodel.Values) error {
	if len(datamodel.IDs(v["members"])) > 2 {
		return &datamodel.RefusedError{Field: "members", Message: "Two members at most."}
	}
	return nil
}

func (g *bandGuard) CheckDelete(ctx context.Context, gr *access.Grants, ids []string) error {
	return nil
}

func (g *bandGuard) Fixed(rec *datamodel.Record) map[string]string {
	if rec != nil && rec.Values["name"] == "Fixed" {
		return map[string]string{"name": "This name stays."}
	}
	return nil
}

func (g *bandGuard) Saved(_ http.ResponseWriter, _ *http.Request, id string) {
	g.saved = append(g.saved, id)
}

// hashingSecrets stands for the layer that hashes a password on its way
// to a store, which takes a Hash and refuses a Secret.
type hashingSecrets struct{ datamodel.Interface }

func hashed(v datamodel.Values) datamodel.Values {
	out := datamodel.Values{}
	for k, val := range v {
		if s, ok := val.(datamodel.Secret); ok {
			val = datamodel.Hash("hashed:" + string(s))
		}
		out[k] = val
	}
	return out
}

func (h hashingSecrets) Create(ctx context.Context, v datamodel.Values) (string, error) {
	return h.Interface.Create(ctx, hashed(v))
}

func (h hashingSecrets) Update(ctx context.Context, id string, v datamodel.Values) error {
	return h.Interface.Update(ctx, id, hashed(v))
}

func (h hashingSecrets) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	return h.Interface.UpdateIf(ctx, id, version, hashed(v))
}

// bandRig serves the makers and the bands of one memory store.
func bandRig(t *testing.T) (*apptest.Client, datamodel.Interface, datamodel.Interface, *bandGuard) {
	t.Helper()
	st := memstore.New()
	makers, err := st.Declare(makerSchema)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.Declare(bandSchema)
	if err != nil {
		t.Fatal(err)
	}
	bands := hashingSecrets{stored}
	guard := &bandGuard{}
	makerView := &admin.ModelView{Name: "makers", Singular: "Maker", Data: makers}
	bandView := &admin.ModelView{Name: "bands", Singular: "Band", Data: bands, Guard: guard}
	adm, err := admin.New(slog.New(slog.DiscardHandler), makerView, bandView)
	if err != nil {
		t.Fatal(err)
	}
	flashes := &flashQueue{}
	ui, err := view.New("Test Admin", slog.New(slog.DiscardHandler), adm.Menu(), func(_ http.ResponseWriter, r *http.Request) view.Common {
		return view.Common{User: "tester", Flashes: flashes.pop(), Grants: access.GrantsOf(r)}
	})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(parseForm, asAdmin)
	adm.Mount(access.NewRouter(r, forbidden), ui, flashes.add)
	return apptest.Serve(t, r).Client(), makers, bands, guard
}

func checked(r *apptest.Response, sel string) []string {
	var out []string
	r.Doc.Find(sel).Each(func(_ int, s *goquery.Selection) {
		if _, on := s.Attr("checked"); on {
			v, _ := s.Attr("value")
			out = append(out, v)
		}
	})
	return out
}

// TestSetBoolPasswordAndGuard: a set is a box per option the store offers,
// posted once per option ticked, stored and shown by label; a bool is a
// checkbox whose absence is false; a write-only password is asked twice on
// the add form only and never shown; a guard forbids, refuses beside a
// field, fixes a field, and hears of each save.
func TestSetBoolPasswordAndGuard(t *testing.T) {
	c, makers, bands, guard := bandRig(t)
	ctx := context.Background()
	var ids []string
	for _, n := range []string{"Ann", "Bob", "Cy"} {
		id, err := makers.Create(ctx, datamodel.Values{"name": n})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	ann, bob, cy := ids[0], ids[1], ids[2]

	r := c.Get("/bands/add")
	r.ExpectStatus(t, "add form", http.StatusOK)
	if got := r.Texts("fieldset#f-members label.choice"); !slices.Equal(got, []string{"Ann", "Bob", "Cy"}) {
		t.Errorf("member options %q", got)
	}
	if _, on := r.Doc.Find("input#f-active").Attr("checked"); !on {
		t.Error("the active box of a new band starts unticked")
	}
	if r.Doc.Find("input#f-secret[type=password]").Length() != 1 || r.Doc.Find("input#f-secret_confirm[type=password]").Length() != 1 {
		t.Error("the add form does not ask the secret twice")
	}
	post := func(path string, v url.Values) *apptest.Response { return c.Post(path, v) }
	add := url.Values{"name": {"Trio"}, "active": {"true"}, "members": {bob, ann, ann}, "secret": {"s3cret"}, "secret_confirm": {"s3cret"}}

	// Refusals: secrets that differ, a secret too long, an option the
	// store does not offer, a guard's limit; each 422 beside its field.
	for _, tt := range []struct {
		field string
		set   map[string][]string
	}{
		{"secret", map[string][]string{"secret_confirm": {"other"}}},
		{"secret", map[string][]string{"secret": {"123456789"}, "secret_confirm": {"123456789"}}},
		{"members", map[string][]string{"members": {ann, "6500000000000000000000ff"}}},
		{"members", map[string][]string{"members": {ann, bob, cy}}},
	} {
		v := url.Values{}
		for k, vals := range add {
			v[k] = vals
		}
		for k, vals := range tt.set {
			v[k] = vals
		}
		r := post("/bands/add", v)
		r.ExpectStatus(t, "refused "+tt.field, http.StatusUnprocessableEntity)
		if r.FieldError(tt.field) == "" {
			t.Errorf("refused %s: no message beside it", tt.field)
		}
		if got := checked(r, "fieldset#f-members input"); len(got) == 0 {
			t.Error("the refused form lost the ticked members")
		}
	}
	if n, _ := bands.Count(ctx, nil); n != 0 {
		t.Fatalf("%d bands after refusals", n)
	}

	post("/bands/add", add).ExpectRedirect(t, "add", "/bands/list/")
	page, _ := bands.List(ctx, datamodel.Query{})
	rec := page.Records[0]
	if got := datamodel.IDs(rec.Values["members"]); !slices.Equal(got, datamodel.IDs([]datamodel.Ref{{ID: ann}, {ID: bob}})) ||
		rec.Values["active"] != true || rec.Values["secret"] != nil {
		t.Fatalf("stored band: %+v", rec.Values)
	}
	if !slices.Equal(guard.saved, []string{rec.ID}) {
		t.Errorf("guard heard of saves %q", guard.saved)
	}
	r = c.Get("/bands/list/")
	if rows := r.Rows(); len(rows) != 1 || !slices.Equal(rows[0], []string{"Trio", "Yes", "Ann, Bob"}) {
		t.Errorf("list rows %q (the secret is no column)", rows)
	}
	r = c.Get("/bands/show/" + rec.ID)
	if got := r.Text("dl.details"); !strings.Contains(got, "Ann, Bob") || strings.Contains(got, "Secret") {
		t.Errorf("show page %q", got)
	}

	// The edit form: the set ticked as stored, no secret; unticking the
	// active box and a member saves false and the rest.
	r = c.Get("/bands/edit/" + rec.ID)
	if got := checked(r, "fieldset#f-members input"); !slices.Equal(got, []string{ann, bob}) {
		t.Errorf("ticked members %q", got)
	}
	if r.Doc.Find("input[type=password]").Length() != 0 {
		t.Error("the edit form asks the secret")
	}
	version, _ := r.Doc.Find("input[name=version]").Attr("value")
	edit := url.Values{"name": {"Trio"}, "members": {bob}, "version": {version}, "secret": {"x"}, "secret_confirm": {"x"}}
	post("/bands/edit/"+rec.ID, edit).ExpectRedirect(t, "edit", "/bands/list/")
	now, _ := bands.Get(ctx, rec.ID)
	if now.Values["active"] != false || !slices.Equal(datamodel.IDs(now.Values["members"]), []string{bob}) {
		t.Errorf("edited band: %+v", now.Values)
	}
	// A stale save shows the members stored now, and differing.
	r = post("/bands/edit/"+rec.ID, url.Values{"name": {"Trio"}, "members": {cy}, "version": {version}})
	r.ExpectStatus(t, "stale", http.StatusConflict)
	if got := r.Text("#s-members"); !strings.Contains(got, "Bob") || r.Doc.Find("#s-members.differs").Length() != 1 {
		t.Errorf("stored members beside the stale form: %q", got)
	}

	// A maker deleted leaves the sets that held them.
	if err := makers.Delete(ctx, bob); err != nil {
		t.Fatal(err)
	}
	now, _ = bands.Get(ctx, rec.ID)
	if got := datamodel.IDs(now.Values["members"]); len(got) != 0 {
		t.Errorf("members after the maker's delete: %q", got)
	}

	// The guard: a locked band is 403 to edit; a fixed name is shown
	// read-only and not read from the post.
	locked, _ := bands.Create(ctx, datamodel.Values{"name": "Locked", "secret": datamodel.Hash("h")})
	if r := c.Get("/bands/edit/" + locked); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "Locked bands") {
		t.Errorf("edit a locked band: %d", r.Status)
	}
	if r := post("/bands/edit/"+locked, url.Values{"name": {"Free"}}); r.Status != http.StatusForbidden {
		t.Errorf("save a locked band: %d", r.Status)
	}
	if r := c.Get("/bands/show/" + locked); r.Doc.Find(`a[href^="/bands/edit/"]`).Length() != 0 {
		t.Error("a locked band's page offers Edit")
	}
	fixed, _ := bands.Create(ctx, datamodel.Values{"name": "Fixed", "secret": datamodel.Hash("h")})
	r = c.Get("/bands/edit/" + fixed)
	if _, ro := r.Doc.Find("input#f-name").Attr("readonly"); !ro || !strings.Contains(r.Text("#h-name"), "stays") {
		t.Error("the fixed name is not shown read-only with its note")
	}
	post("/bands/edit/"+fixed, url.Values{"name": {"Renamed"}, "active": {"on"}}).ExpectRedirect(t, "save fixed", "/bands/list/")
	if now, _ := bands.Get(ctx, fixed); now.Values["name"] != "Fixed" || now.Values["active"] != true {
		t.Errorf("fixed band after a save: %+v", now.Values)
	}
}
