package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/datamodel"
)

// formVersion returns the version an edit form carries.
func formVersion(r *apptest.Response) string {
	if r.Doc == nil {
		return ""
	}
	v, _ := r.Doc.Find("main form input[type=hidden][name=version]").Attr("value")
	return v
}

// TestLostUpdate: two users open the same edit form; the first saves; the
// second's save is refused with 409, their input kept and the values now
// stored shown, and nothing written; after seeing them, saving again works.
func TestLostUpdate(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		rg := newRig(t, b)
		for _, name := range []string{"Fender", "Gibson"} {
			rg.Post("/makerview/add", url.Values{"name": {name}}).ExpectRedirect(t, "add "+name, "/makerview/list/")
		}
		fender, gibson := rg.makerID("Fender"), rg.makerID("Gibson")
		rg.Post("/instrumentview/add", url.Values{"name": {"Guitar"}, "strings": {"6"}, "maker": {fender}}).
			ExpectRedirect(t, "add guitar", "/instrumentview/list/")
		guitar, _ := rg.instrument("Guitar")
		path := "/instrumentview/edit/" + guitar.id
		expect := func(what, name string, strings int64, maker string) {
			t.Helper()
			got, ok := rg.instrument(name)
			if !ok || got.id != guitar.id || got.strings != strings || got.maker != maker {
				t.Fatalf("%s: stored %+v (found %q: %v), want %s/%d/%q", what, got, name, ok, name, strings, maker)
			}
		}

		formA, formB := rg.Get(path), rg.Get(path)
		formA.ExpectStatus(t, "form of A", http.StatusOK)
		vA, vB := formVersion(formA), formVersion(formB)
		if vA == "" || vA != vB {
			t.Fatalf("edit forms carry versions %q and %q: want one, the same", vA, vB)
		}
		rg.Post(path, url.Values{"name": {"Guitar"}, "strings": {"7"}, "maker": {gibson}, "version": {vA}}).
			ExpectRedirect(t, "save of A", "/instrumentview/list/")
		rg.Get("/instrumentview/list/") // the flash

		// B saves from the form loaded before A's save.
		r := rg.Post(path, url.Values{"name": {"  Bass "}, "strings": {"4"}, "maker": {""}, "version": {vB}})
		r.ExpectStatus(t, "save of B", http.StatusConflict)
		if got := r.Text("main .alert"); !strings.Contains(got, "changed by someone else since you opened it") {
			t.Errorf("409 message = %q", got)
		}
		if r.InputValue("name") != "  Bass " || r.InputValue("strings") != "4" || r.Selected("maker") != "" {
			t.Errorf("input not kept: name %q strings %q maker %q", r.InputValue("name"), r.InputValue("strings"), r.Selected("maker"))
		}
		for field, want := range map[string]string{"name": "Guitar", "strings": "7", "maker": "Gibson"} {
			if got := r.Text("#s-" + field + " .value"); got != want {
				t.Errorf("stored %s shown as %q, want %q", field, got, want)
			}
			if !r.Doc.Find("#s-" + field).HasClass("differs") {
				t.Errorf("stored %s not marked as differing from the input", field)
			}
		}
		expect("after the refused save", "Guitar", 7, gibson)
		if got := rg.Get("/instrumentview/list/").Flashes(); len(got) != 0 {
			t.Errorf("a refused save flashed %q", got)
		}

		// Having seen the stored values, B saves the 409 form as it came.
		seen := formVersion(r)
		if seen == "" || seen == vB {
			t.Fatalf("the 409 form carries version %q (the old one was %q)", seen, vB)
		}
		rg.Post(path, url.Values{"name": {"Bass"}, "strings": {"4"}, "maker": {""}, "version": {seen}}).
			ExpectRedirect(t, "save after the 409", "/instrumentview/list/")
		expect("after B saved again", "Bass", 4, "")

		// A reloads and saves: the new version is current.
		formA = rg.Get(path)
		rg.Post(path, url.Values{"name": {"Bass"}, "strings": {"5"}, "maker": {fender}, "version": {formVersion(formA)}}).
			ExpectRedirect(t, "save after reloading", "/instrumentview/list/")
		expect("after A reloaded and saved", "Bass", 5, fender)

		// Stale and invalid: 409 too (the change comes first), with the
		// field's message.
		old := formVersion(formA)
		r = rg.Post(path, url.Values{"name": {""}, "strings": {"99"}, "maker": {fender}, "version": {old}})
		r.ExpectStatus(t, "stale and invalid", http.StatusConflict)
		if r.FieldError("name") != "This field is required." || r.InputValue("strings") != "99" {
			t.Errorf("stale and invalid: name error %q, strings %q", r.FieldError("name"), r.InputValue("strings"))
		}
		if got := r.Text("#s-strings .value"); got != "5" || r.Doc.Find("#s-maker").HasClass("differs") {
			t.Errorf("stale and invalid: stored strings %q, maker marked differing: %v", got, r.Doc.Find("#s-maker").HasClass("differs"))
		}
		expect("after a stale, invalid save", "Bass", 5, fender)

		// Stale, but saving what is stored now: nothing to lose, saved.
		rg.Post(path, url.Values{"name": {"Bass"}, "strings": {"5"}, "maker": {fender}, "version": {vA}}).
			ExpectRedirect(t, "stale save of the stored values", "/instrumentview/list/")

		// Deleting the maker clears the instrument's maker: a form loaded
		// before is stale, and shows no maker stored.
		formA = rg.Get(path)
		rg.Post("/makerview/delete/"+fender, nil).ExpectRedirect(t, "delete maker", "/makerview/list/")
		r = rg.Post(path, url.Values{"name": {"Bass"}, "strings": {"6"}, "maker": {gibson}, "version": {formVersion(formA)}})
		r.ExpectStatus(t, "save from before the maker was deleted", http.StatusConflict)
		if got := r.Text("#s-maker .value"); got != "(none)" {
			t.Errorf("stored maker shown as %q, want (none)", got)
		}
		expect("after the maker was deleted", "Bass", 5, "")

		// A form without a version (a script that posts the model's
		// fields) is saved as before: last write wins.
		rg.Post(path, url.Values{"name": {"Bass"}, "strings": {"8"}, "maker": {gibson}}).
			ExpectRedirect(t, "save without a version", "/instrumentview/list/")
		expect("after a save without a version", "Bass", 8, gibson)

		// The record deleted since the form was loaded: 404, not 409.
		formA = rg.Get(path)
		rg.Post("/instrumentview/delete/"+guitar.id, nil).ExpectRedirect(t, "delete", "/instrumentview/list/")
		rg.Post(path, url.Values{"name": {"Ghost"}, "strings": {"1"}, "version": {formVersion(formA)}}).
			ExpectStatus(t, "save of a deleted record", http.StatusNotFound)
		if _, ok := rg.instrument("Ghost"); ok {
			t.Error("a save of a deleted record wrote one")
		}
	})
}

// racing is a model whose conditional writes are raced by another write,
// run after the admin has checked the version and before the store
// writes: where only the store's own check can catch it.
type racing struct {
	datamodel.Interface
	race func()
}

func (m racing) UpdateIf(ctx context.Context, id, version string, v datamodel.Values) error {
	if m.race != nil {
		m.race()
	}
	return m.Interface.UpdateIf(ctx, id, version, v)
}

// TestLostUpdateRace: a write landing between the edit handler's check and
// its write is refused by the store, and the 409 shows that write's values.
func TestLostUpdateRace(t *testing.T) {
	makers, instruments := models(t, backend{name: "memory"})
	ctx := context.Background()
	id, err := instruments.Create(ctx, datamodel.Values{"name": "Harp", "strings": int64(20)})
	if err != nil {
		t.Fatal(err)
	}
	var race func()
	rg := rigOf(t, makers, racing{instruments, func() {
		if f := race; f != nil {
			race = nil
			f()
		}
	}})
	path := "/instrumentview/edit/" + id
	version := formVersion(rg.Get(path))
	race = func() {
		if err := instruments.Update(ctx, id, datamodel.Values{"strings": int64(12)}); err != nil {
			t.Error(err)
		}
	}
	r := rg.Post(path, url.Values{"name": {"Lyre"}, "strings": {"7"}, "version": {version}})
	r.ExpectStatus(t, "save raced by another", http.StatusConflict)
	if got := r.Text("#s-strings .value"); got != "12" || r.InputValue("strings") != "7" || r.InputValue("name") != "Lyre" {
		t.Errorf("stored strings shown %q; input kept: name %q strings %q", got, r.InputValue("name"), r.InputValue("strings"))
	}
	if got, ok := rg.instrument("Harp"); !ok || got.strings != 12 {
		t.Errorf("after the raced save: %+v (found %v), want Harp with the racing write's 12 strings", got, ok)
	}
	// The race deleted the record: 404.
	version = formVersion(rg.Get(path))
	race = func() {
		if err := instruments.Delete(ctx, id); err != nil {
			t.Error(err)
		}
	}
	rg.Post(path, url.Values{"name": {"Lyre"}, "strings": {"7"}, "version": {version}}).
		ExpectStatus(t, "save raced by a delete", http.StatusNotFound)
}
