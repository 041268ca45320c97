package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/memstore"
	"musicadmin/internal/view"
)

// failing is a model whose database goes away when down is set.
type failing struct {
	datamodel.Interface
	down *atomic.Bool
}

func (f failing) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	if f.down.Load() {
		return datamodel.Page{}, datamodel.ErrUnavailable
	}
	return f.Interface.List(ctx, q)
}

// TestLookupUnavailable checks that a lookup whose database is down answers
// a JSON 503 with Retry-After, as a page would answer an HTML one: the
// script reading it never gets a page.
func TestLookupUnavailable(t *testing.T) {
	st := memstore.New()
	makers, err := st.Declare(makerSchema)
	if err != nil {
		t.Fatal(err)
	}
	instruments, err := st.Declare(instrumentSchema)
	if err != nil {
		t.Fatal(err)
	}
	down := &atomic.Bool{}
	makerView, instrumentView := declare(failing{makers, down}, instruments)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	adm, err := admin.New(log, makerView, instrumentView)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := view.New("Test Admin", log, adm.Menu(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(asAdmin)
	adm.Mount(access.NewRouter(r, forbidden), ui, func(http.ResponseWriter, *http.Request, string) {})
	c := apptest.Serve(t, r).Client()

	if _, err := makers.Create(context.Background(), datamodel.Values{"name": "Fender"}); err != nil {
		t.Fatal(err)
	}
	resp := c.Get("/instrumentview/lookup/maker?q=fen")
	resp.ExpectStatus(t, "lookup", http.StatusOK)
	if want := "{\"results\":[{\"id\":\"" + firstID(t, makers) + "\",\"label\":\"Fender\"}],\"more\":false}\n"; resp.Body != want {
		t.Errorf("lookup = %q, want %q", resp.Body, want)
	}

	down.Store(true)
	resp = c.Get("/instrumentview/lookup/maker?q=fen")
	resp.ExpectStatus(t, "lookup with the database down", http.StatusServiceUnavailable)
	var msg struct{ Message string }
	if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" || resp.Header.Get("Retry-After") == "" ||
		json.Unmarshal([]byte(resp.Body), &msg) != nil || msg.Message == "" {
		t.Errorf("lookup with the database down: %v %q", resp.Header, resp.Body)
	}
}

func firstID(t *testing.T, m datamodel.Interface) string {
	t.Helper()
	page, err := m.List(context.Background(), datamodel.Query{Limit: 1})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("first record: %v %v", page.Records, err)
	}
	return page.Records[0].ID
}
