package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/memstore"
	"musicadmin/internal/view"
)

// readCounter is a model that records the reads asked of it.
type readCounter struct {
	datamodel.Interface
	mu    sync.Mutex
	lists []datamodel.Query
	gets  int
}

func (c *readCounter) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	c.mu.Lock()
	c.lists = append(c.lists, q)
	c.mu.Unlock()
	return c.Interface.List(ctx, q)
}

func (c *readCounter) Get(ctx context.Context, id string) (datamodel.Record, error) {
	c.mu.Lock()
	c.gets++
	c.mu.Unlock()
	return c.Interface.Get(ctx, id)
}

func (c *readCounter) reset() (lists []datamodel.Query, gets int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lists, gets = c.lists, c.gets
	c.lists, c.gets = nil, 0
	return lists, gets
}

// TestFormReadsOfAReference checks what the add and edit forms read of the
// model a reference field points at: above ChoicesThreshold records, the
// one record past the threshold and nothing else (the edit form shows the
// label loaded with the record); at the threshold, that read and the
// dropdown's records.
func TestFormReadsOfAReference(t *testing.T) {
	st := memstore.New()
	makers, err := st.Declare(makerSchema)
	if err != nil {
		t.Fatal(err)
	}
	instruments, err := st.Declare(instrumentSchema)
	if err != nil {
		t.Fatal(err)
	}
	counter := &readCounter{Interface: makers}
	makerView, instrumentView := declare(counter, instruments)
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
	ctx := context.Background()

	var first string
	for i := range admin.ChoicesThreshold {
		id, err := makers.Create(ctx, datamodel.Values{"name": fmt.Sprintf("Maker %03d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = id
		}
	}
	guitar, err := instruments.Create(ctx, datamodel.Values{"name": "Guitar", "strings": int64(6),
		"maker": &datamodel.Ref{ID: first}})
	if err != nil {
		t.Fatal(err)
	}
	past := datamodel.Query{Offset: admin.ChoicesThreshold, Limit: 1, NoCount: true}

	// At the threshold: a dropdown of them all.
	counter.reset()
	form := c.Get("/instrumentview/add")
	form.ExpectStatus(t, "add form", http.StatusOK)
	if n := form.Doc.Find("select#f-maker option").Length(); n != admin.ChoicesThreshold+1 {
		t.Errorf("add form at the threshold: %d options", n)
	}
	if lists, gets := counter.reset(); len(lists) != 2 || !sameQuery(lists[0], past) || gets != 0 {
		t.Errorf("add form at the threshold read %+v and %d records by id", lists, gets)
	}

	// Above it: the one read, for the add and the edit form alike.
	if _, err := makers.Create(ctx, datamodel.Values{"name": "Zither Works"}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/instrumentview/add", "/instrumentview/edit/" + guitar} {
		counter.reset()
		form := c.Get(path)
		form.ExpectStatus(t, path, http.StatusOK)
		if form.Doc.Find(".lookup input#f-maker").Length() != 1 {
			t.Fatalf("%s: no searchable maker input", path)
		}
		if lists, gets := counter.reset(); len(lists) != 1 || !sameQuery(lists[0], past) || gets != 0 {
			t.Errorf("%s read %+v and %d records by id, want the record past the threshold only", path, lists, gets)
		}
	}
	if got := c.Get("/instrumentview/edit/" + guitar).Text(".lookup-current"); got != "Maker 000" {
		t.Errorf("edit form shows the maker as %q, want Maker 000", got)
	}
}

func sameQuery(a, b datamodel.Query) bool {
	return len(a.Filters) == 0 && len(b.Filters) == 0 && a.Search == b.Search && a.Sort == b.Sort &&
		a.Desc == b.Desc && a.Offset == b.Offset && a.Limit == b.Limit && a.NoCount == b.NoCount
}
