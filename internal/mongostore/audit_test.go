package mongostore_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/audit"
	"musicadmin/internal/catalog"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/mongostore"
	"musicadmin/internal/mongostore/mongotest"
)

// TestAuditQueriesNameAnIndex: the audit log keeps only the indexes its
// list uses (filters by user, action, view and record, a search of labels,
// the sort by time), and every query the list, a history page, an audited
// write and the settling of intents send names one of them.
func TestAuditQueriesNameAnIndex(t *testing.T) {
	t.Parallel()
	cmds := &commands{}
	db := mongotest.Database(t, mongotest.Connect(t, options.Client().SetMonitor(cmds.monitor())))
	st := mongostore.New(db)
	albums, err := st.Declare(catalog.AlbumSchema)
	if err != nil {
		t.Fatal(err)
	}
	log, err := st.DeclareAuditLog()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ix := range st.Indexes() {
		if ix.Collection == "audit_log" {
			n++
		}
	}
	// One per filtered, searched or sorted field (6), and one per filter
	// and the sort (5): not 7 fields' and their 42 pairs'.
	if n != 11 {
		t.Errorf("the audit log keeps %d indexes, want only its list's 11", n)
	}

	actx := audit.With(ctx, audit.Actor{Username: "ada", View: "albumview"})
	id, err := albums.Create(actx, datamodel.Values{"name": "Abbey Road"})
	if err != nil {
		t.Fatal(err)
	}
	if err := albums.Update(actx, id, datamodel.Values{"name": "Let It Be"}); err != nil {
		t.Fatal(err)
	}
	if _, err := albums.DeleteMany(actx, []string{id}); err != nil {
		t.Fatal(err)
	}
	if err := log.Append(ctx, audit.Entry{Time: time.Now(), Username: "ada", Action: audit.ActionLogin}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecoverAudit(ctx, 0); err != nil {
		t.Fatal(err)
	}
	entries := log.Entries()
	f := entries.Schema().Field
	at := f("at")
	var queries []datamodel.Query
	for _, name := range []string{"username", "action", "view_name", "record_id"} {
		queries = append(queries, datamodel.Query{Filters: []datamodel.Filter{{Field: f(name), Op: datamodel.OpEq, Value: "x"}},
			Sort: at, Desc: true, Limit: 25})
	}
	queries = append(queries,
		datamodel.Query{Sort: at, Desc: true, Limit: 25},
		datamodel.Query{Sort: at, Desc: true, Limit: 25, Offset: 25},
		datamodel.Query{Search: "abbey", SearchFields: []*datamodel.Field{f("record_label")}, Sort: at, Desc: true, Limit: 25},
		// A history page.
		datamodel.Query{Filters: []datamodel.Filter{{Field: f("record_id"), Op: datamodel.OpEq, Value: id},
			{Field: f("view_name"), Op: datamodel.OpEq, Value: "albumview"}}, Sort: at, Desc: true, Limit: 101, NoCount: true})
	for _, q := range queries {
		if _, err := entries.List(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	res, err := entries.List(ctx, queries[len(queries)-1])
	if err != nil || len(res.Records) != 3 {
		t.Fatalf("history of the album: %d entries, %v; want create, update, delete", len(res.Records), err)
	}
	if checkHints(t, cmds.take(), serverIndexes(t, db)) < 10 {
		t.Error("too few commands checked")
	}
}
