package admin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/admin"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/memstore"
)

// Ids that each backend of the seam finds malformed or unknown: one
// backend's well-formed id is the other's malformed one.
const (
	hexID   = "0123456789abcdef01234567"
	digitID = "987654"
)

// TestDeleteMany: the seam's DeleteMany removes exactly the records named,
// clears the references to them and counts what it removed; repeats,
// unknown and malformed ids are skipped, on every backend.
func TestDeleteMany(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		makers, instruments := models(t, b)
		create := func(m datamodel.Interface, v datamodel.Values) string {
			t.Helper()
			id, err := m.Create(ctx, v)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		a := create(makers, datamodel.Values{"name": "A"})
		bb := create(makers, datamodel.Values{"name": "B"})
		c := create(makers, datamodel.Values{"name": "C"})
		var refs []string
		for i, m := range []string{a, bb, c, a} {
			refs = append(refs, create(instruments, datamodel.Values{"name": fmt.Sprintf("I%d", i),
				"maker": &datamodel.Ref{ID: m}}))
		}

		n, err := makers.DeleteMany(ctx, []string{a, bb, a, hexID, digitID, "", "x'; --"})
		if err != nil || n != 2 {
			t.Fatalf("DeleteMany = %d, %v; want 2", n, err)
		}
		for id, want := range map[string]bool{a: false, bb: false, c: true} {
			if _, err := makers.Get(ctx, id); (err == nil) != want || err != nil && !errors.Is(err, datamodel.ErrNotFound) {
				t.Errorf("maker %s after DeleteMany: %v, want present %v", id, err, want)
			}
		}
		for i, want := range []string{"", "", c, ""} {
			rec, err := instruments.Get(ctx, refs[i])
			if err != nil {
				t.Fatalf("instrument %d was removed with its maker: %v", i, err)
			}
			got := ""
			if ref, _ := rec.Values["maker"].(*datamodel.Ref); ref != nil {
				got = ref.ID
			}
			if got != want {
				t.Errorf("instrument %d refers to %q, want %q", i, got, want)
			}
		}
		// Again: nothing left to remove is no error.
		if n, err := makers.DeleteMany(ctx, []string{a, bb}); n != 0 || err != nil {
			t.Errorf("DeleteMany of removed ids = %d, %v; want 0", n, err)
		}
		if n, err := makers.DeleteMany(ctx, nil); n != 0 || err != nil {
			t.Errorf("DeleteMany of nothing = %d, %v; want 0", n, err)
		}
	})
}

// restring is a declared bulk action: it sets the selected instruments'
// strings to 6, one Update each, and counts those it found. (An in-memory
// test action; a real one would write in one transaction.)
func restring(instruments datamodel.Interface) admin.Action {
	return admin.Action{Name: "restring", Label: "Restring selected", Done: "Restrung",
		Run: func(ctx context.Context, ids []string) (int, error) {
			n := 0
			for _, id := range ids {
				err := instruments.Update(ctx, id, datamodel.Values{"strings": int64(6)})
				if errors.Is(err, datamodel.ErrNotFound) {
					continue
				}
				if err != nil {
					return n, err
				}
				n++
			}
			return n, nil
		}}
}

// TestBulkActions drives the list's bulk actions on every backend: the
// built-in delete with its confirmation, and an action a view declares.
func TestBulkActions(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		rg := newRig(t, b, func(_, instrumentView *admin.ModelView) {
			ask := restring(instrumentView.Data)
			ask.Name, ask.Label, ask.Confirm = "restring-ask", "Restring, asking first", true
			instrumentView.Actions = []admin.Action{restring(instrumentView.Data), ask}
		})
		for _, name := range []string{"Fender", "Gibson", "Yamaha"} {
			rg.Post("/makerview/add", url.Values{"name": {name}}).ExpectRedirect(t, "add "+name, "/makerview/list/")
		}
		fender, gibson, yamaha := rg.makerID("Fender"), rg.makerID("Gibson"), rg.makerID("Yamaha")
		for name, maker := range map[string]string{"Bass": fender, "Cello": gibson, "Drum": gibson, "Flute": yamaha} {
			rg.Post("/instrumentview/add", url.Values{"name": {name}, "strings": {"1"}, "maker": {maker}}).
				ExpectRedirect(t, "add "+name, "/instrumentview/list/")
		}
		rg.Get("/makerview/list/") // consume the flashes

		// The list: a labelled checkbox per row, posting the record's id,
		// and a button per action, the declared one after delete.
		list := rg.Get("/instrumentview/list/")
		boxes := list.Doc.Find(`form#bulk[method=post] tbody input[type=checkbox][name=ids]`)
		if boxes.Length() != 4 {
			t.Fatalf("%d row checkboxes, want 4", boxes.Length())
		}
		bass, _ := rg.instrument("Bass")
		if v, _ := boxes.First().Attr("value"); v != bass.id {
			t.Errorf("first checkbox value = %q, want Bass's id %q", v, bass.id)
		}
		if got := strings.TrimSpace(boxes.First().Parent().Text()); got != "Select Bass" {
			t.Errorf("first checkbox label = %q", got)
		}
		if got := list.Texts("form#bulk .bulk-bar button"); !slices.Equal(got, []string{"Delete selected", "Restring selected", "Restring, asking first"}) {
			t.Errorf("action buttons = %q", got)
		}
		if v, _ := list.Doc.Find(`form#bulk .bulk-bar button`).Eq(1).Attr("formaction"); v != "/instrumentview/action/restring" {
			t.Errorf("restring formaction = %q", v)
		}
		if list.Doc.Find(`form#bulk label.select-all[hidden] input[type=checkbox]`).Length() != 1 {
			t.Error("no select-all box for the script to show")
		}

		// Delete two makers: first a confirmation counting their
		// instruments, which changes nothing.
		confirm := rg.Post("/makerview/action/delete", url.Values{"ids": {fender, gibson}})
		confirm.ExpectStatus(t, "bulk delete confirmation", http.StatusOK)
		if got := confirm.Text("main .card p"); got != "Delete 2 makers? This cannot be undone." {
			t.Errorf("question = %q", got)
		}
		if got := confirm.Texts("ul.selected li"); !slices.Equal(got, []string{"Fender", "Gibson"}) {
			t.Errorf("listed makers = %q", got)
		}
		if got := confirm.Texts(".notice"); !slices.Equal(got, []string{"3 instruments refer to them. They will be kept, with no maker."}) {
			t.Errorf("notices = %q", got)
		}
		if n := rg.count(rg.makers); n != 3 {
			t.Fatalf("the confirmation deleted: %d makers", n)
		}
		// The confirmation's form, posted as a browser would.
		form := confirm.Doc.Find(`main form[method=post]`)
		if a, _ := form.Attr("action"); a != "/makerview/action/delete" {
			t.Errorf("confirmation posts to %q", a)
		}
		values := url.Values{}
		form.Find("input[name]").Each(func(_ int, in *goquery.Selection) {
			name, _ := in.Attr("name")
			v, _ := in.Attr("value")
			values.Add(name, v)
		})
		if values.Get("confirm") != "1" || !slices.Equal(values["ids"], []string{fender, gibson}) {
			t.Errorf("confirmation form = %v", values)
		}
		rg.Post("/makerview/action/delete", values).ExpectRedirect(t, "bulk delete", "/makerview/list/")
		if got := rg.Get("/makerview/list/").Flashes(); !slices.Equal(got, []string{"Deleted 2 makers."}) {
			t.Errorf("flash = %q", got)
		}
		if _, ok := rg.find(rg.makers, "Yamaha"); !ok || rg.count(rg.makers) != 1 {
			t.Errorf("makers left: %d, want Yamaha alone", rg.count(rg.makers))
		}
		for name, want := range map[string]string{"Bass": "", "Cello": "", "Drum": "", "Flute": yamaha} {
			if got, ok := rg.instrument(name); !ok || got.maker != want {
				t.Errorf("%s after its maker's bulk delete: %+v (found %v), want maker %q", name, got, ok, want)
			}
		}

		// The declared action runs at once (no Confirm) and says how many
		// records it changed; an id that names nothing is not counted.
		cello, _ := rg.instrument("Cello")
		rg.Post("/instrumentview/action/restring", url.Values{"ids": {bass.id, cello.id, missingID(b)}}).
			ExpectRedirect(t, "restring", "/instrumentview/list/")
		if got := rg.Get("/instrumentview/list/").Flashes(); !slices.Equal(got, []string{"Restrung 2 instruments."}) {
			t.Errorf("restring flash = %q", got)
		}
		for name, want := range map[string]int64{"Bass": 6, "Cello": 6, "Drum": 1, "Flute": 1} {
			if got, _ := rg.instrument(name); got.strings != want {
				t.Errorf("%s has %d strings, want %d", name, got.strings, want)
			}
		}

		// A declared action that confirms: its page, then its run.
		drum, _ := rg.instrument("Drum")
		confirm = rg.Post("/instrumentview/action/restring-ask", url.Values{"ids": {drum.id}})
		confirm.ExpectStatus(t, "declared confirmation", http.StatusOK)
		if got := confirm.Text("main h1") + " / " + confirm.Text("main .card p"); got != "Restring, asking first / Restring, asking first: 1 instrument." {
			t.Errorf("declared confirmation = %q", got)
		}
		if got, _ := rg.instrument("Drum"); got.strings != 1 {
			t.Errorf("the confirmation ran the action: %d strings", got.strings)
		}
		rg.Post("/instrumentview/action/restring-ask", url.Values{"ids": {drum.id}, "confirm": {"1"}}).
			ExpectRedirect(t, "declared, confirmed", "/instrumentview/list/")
		if got := rg.Get("/instrumentview/list/").Flashes(); !slices.Equal(got, []string{"Restrung 1 instrument."}) {
			t.Errorf("restring-ask flash = %q", got)
		}
		if got, _ := rg.instrument("Drum"); got.strings != 6 {
			t.Errorf("Drum has %d strings after the confirmed action, want 6", got.strings)
		}

		// Ids: malformed, unknown and repeated ones are ignored and said
		// so; none left is "No records selected"; too many is a 422.
		malformed := hexID
		if b.sql == nil {
			malformed = digitID
		}
		confirm = rg.Post("/instrumentview/action/delete", url.Values{"ids": {bass.id, bass.id, malformed, missingID(b), "../x"}})
		confirm.ExpectStatus(t, "confirmation with bad ids", http.StatusOK)
		if got := confirm.Texts("ul.selected li"); !slices.Equal(got, []string{"Bass"}) {
			t.Errorf("listed = %q, want Bass once", got)
		}
		if got := confirm.Texts(".notice"); !slices.Equal(got, []string{"3 selected ids name no record and were ignored."}) {
			t.Errorf("notices = %q", got)
		}
		if got := confirm.Doc.Find(`main form input[type=hidden][name=ids]`).Length(); got != 1 {
			t.Errorf("the confirmation re-posts %d ids, want 1", got)
		}
		// An unknown id is only known to be unknown once looked up: the
		// confirmation does, the confirmed delete just removes nothing.
		for _, tc := range []struct {
			what, confirm string
			ids           []string
			flash         string
		}{
			{"none", "", nil, "No records selected."},
			{"none, confirmed", "1", nil, "No records selected."},
			{"malformed only", "", []string{malformed}, "No records selected. 1 selected id names no record and was ignored."},
			{"malformed only, confirmed", "1", []string{malformed}, "No records selected. 1 selected id names no record and was ignored."},
			{"unknown only", "", []string{missingID(b)}, "No records selected. 1 selected id names no record and was ignored."},
			{"unknown only, confirmed", "1", []string{missingID(b)}, "Deleted 0 instruments."},
		} {
			rg.Post("/instrumentview/action/delete", url.Values{"ids": tc.ids, "confirm": {tc.confirm}}).
				ExpectRedirect(t, tc.what, "/instrumentview/list/")
			if got := rg.Get("/instrumentview/list/").Flashes(); !slices.Equal(got, []string{tc.flash}) {
				t.Errorf("%s: flash = %q, want %q", tc.what, got, tc.flash)
			}
		}
		many := make([]string, admin.MaxBulkIDs+1)
		for i := range many {
			many[i] = bass.id
		}
		rg.Post("/instrumentview/action/delete", url.Values{"ids": many, "confirm": {"1"}}).
			ExpectStatus(t, "too many ids", http.StatusUnprocessableEntity)
		if n := rg.count(rg.instruments); n != 4 {
			t.Fatalf("refused requests deleted: %d instruments left", n)
		}

		// Unknown action: 404; GET never runs one: 405.
		rg.Post("/instrumentview/action/nope", url.Values{"ids": {bass.id}}).ExpectStatus(t, "unknown action", http.StatusNotFound)
		rg.Post("/makerview/action/restring", url.Values{"ids": {yamaha}}).ExpectStatus(t, "another view's action", http.StatusNotFound)
		rg.Get("/instrumentview/action/delete?ids="+bass.id+"&confirm=1").ExpectStatus(t, "GET", http.StatusMethodNotAllowed)
		if n := rg.count(rg.instruments); n != 4 {
			t.Fatalf("refused requests deleted: %d instruments left", n)
		}
	})
}

// TestActionDeclarations: a declaration that cannot work stops start-up.
func TestActionDeclarations(t *testing.T) {
	st := memstore.New()
	m, err := st.Declare(makerSchema)
	if err != nil {
		t.Fatal(err)
	}
	run := func(context.Context, []string) (int, error) { return 0, nil }
	for _, tc := range []struct {
		name    string
		actions []admin.Action
	}{
		{"no name", []admin.Action{{Label: "L", Done: "D", Run: run}}},
		{"name not a URL segment", []admin.Action{{Name: "a/b", Label: "L", Done: "D", Run: run}}},
		{"no run", []admin.Action{{Name: "a", Label: "L", Done: "D"}}},
		{"no label", []admin.Action{{Name: "a", Done: "D", Run: run}}},
		{"the built-in's name", []admin.Action{{Name: "delete", Label: "L", Done: "D", Run: run}}},
		{"twice", []admin.Action{{Name: "a", Label: "L", Done: "D", Run: run}, {Name: "a", Label: "L", Done: "D", Run: run}}},
	} {
		v := &admin.ModelView{Name: "makerview", Singular: "Maker", Data: m, Actions: tc.actions}
		if _, err := admin.New(slog.New(slog.NewTextHandler(io.Discard, nil)), v); err == nil {
			t.Errorf("%s: admin.New accepted it", tc.name)
		}
	}
}
