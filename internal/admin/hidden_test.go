package admin_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"musicadmin/internal/admin"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/memstore"
)

// TestHiddenFieldNeverShownNorSet: a hidden field (a token's digest) is
// in no list (by default or declared), show page, form or export, and a
// post naming it sets nothing, on the add form or the edit form.
func TestHiddenFieldNeverShownNorSet(t *testing.T) {
	const secret = "hidden-value-7f3a"
	withSerial := instrumentSchema
	withSerial.Fields = append(append([]datamodel.Field(nil), instrumentSchema.Fields...),
		datamodel.Field{Name: "serial", Label: "Serial", Kind: datamodel.Text{MaxRunes: 40}, Hidden: true})
	st := memstore.New()
	makers, err := st.Declare(makerSchema)
	if err != nil {
		t.Fatal(err)
	}
	instruments, err := st.Declare(withSerial)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := instruments.Create(ctx, datamodel.Values{"name": "Oboe", "strings": int64(0), "serial": secret})
	if err != nil {
		t.Fatal(err)
	}
	rg := rigOf(t, makers, instruments, func(_, iv *admin.ModelView) { iv.ListColumns = nil })
	for _, path := range []string{"/instrumentview/list/", "/instrumentview/show/" + id, "/instrumentview/add",
		"/instrumentview/edit/" + id, "/instrumentview/export.csv"} {
		r := rg.Get(path)
		r.ExpectStatus(t, path, http.StatusOK)
		if strings.Contains(r.Body, secret) || strings.Contains(r.Body, "Serial") || strings.Contains(r.Body, `name="serial"`) {
			t.Errorf("%s shows the hidden field:\n%s", path, r.Body)
		}
	}
	rg.Post("/instrumentview/add", url.Values{"name": {"Harp"}, "strings": {"40"}, "serial": {"posted"}}).
		ExpectStatus(t, "add", http.StatusUnprocessableEntity) // 40 strings: over the maximum
	rg.Post("/instrumentview/add", url.Values{"name": {"Harp"}, "strings": {"20"}, "serial": {"posted"}}).
		ExpectRedirect(t, "add", "/instrumentview/list/")
	harp, ok := rg.find(instruments, "Harp")
	if !ok || harp.Values["serial"] != "" {
		t.Errorf("add set the hidden field: %v", harp.Values)
	}
	edit := rg.Get("/instrumentview/edit/" + id)
	rg.Post("/instrumentview/edit/"+id, url.Values{"name": {"Oboe"}, "strings": {"1"}, "serial": {"posted"},
		"version": {edit.InputValue("version")}}).ExpectRedirect(t, "edit", "/instrumentview/list/")
	oboe, err := instruments.Get(ctx, id)
	if err != nil || oboe.Values["serial"] != secret || oboe.Values["strings"] != int64(1) {
		t.Errorf("after the edit: %v, %v; want the serial kept and the strings saved", oboe.Values, err)
	}
	for _, v := range []*admin.ModelView{{ListColumns: []string{"name", "serial"}}, {FilterColumns: []string{"serial"}},
		{OrderColumns: []string{"serial"}}} {
		v.Name, v.Title, v.Data = "x", "X", instruments
		if _, err := admin.New(slog.New(slog.DiscardHandler), v); err == nil {
			t.Errorf("a view with the hidden field as a column was accepted: %+v", v)
		}
	}
}
