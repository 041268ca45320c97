package mongostore_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/mongostore"
	"musicadmin/internal/mongostore/mongotest"
)

// TestSchemaVersion: a fresh database has no version (0); MarkSchema
// records one, and a later one replaces it in the one document
// { _id: "schema", version, applied_at }; both read by _id, with a hint.
func TestSchemaVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cmds := &commands{}
	db := mongotest.Database(t, mongotest.Connect(t, options.Client().SetMonitor(cmds.monitor())))
	st := mongostore.New(db)

	if v, at, err := st.SchemaVersion(ctx); err != nil || v != 0 || !at.IsZero() {
		t.Fatalf("fresh database: version %d at %s, %v; want 0, zero time", v, at, err)
	}
	for _, version := range []int{1, 2} {
		before := time.Now().Truncate(time.Millisecond)
		if err := st.MarkSchema(ctx, version); err != nil {
			t.Fatalf("MarkSchema(%d): %v", version, err)
		}
		after := time.Now()
		v, at, err := st.SchemaVersion(ctx)
		if err != nil || v != version || at.Before(before) || at.After(after) {
			t.Errorf("after MarkSchema(%d): version %d at %s, %v; want %d between %s and %s",
				version, v, at, err, version, before, after)
		}
	}
	for _, bad := range []int{0, -1, 1 << 40} {
		if err := st.MarkSchema(ctx, bad); err == nil {
			t.Errorf("MarkSchema(%d) accepted", bad)
		}
	}
	if n := checkHints(t, cmds.take(), serverIndexes(t, db)); n < 5 {
		t.Errorf("only %d hints checked", n)
	}

	cur, err := db.Collection("schema_version").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 {
		t.Fatalf("%d schema_version documents, want 1: %v", len(docs), docs)
	}
	doc := docs[0]
	if id, _ := doc.Lookup("_id").StringValueOK(); id != "schema" {
		t.Errorf("schema document _id %v", doc.Lookup("_id"))
	}
	if v, ok := doc.Lookup("version").Int32OK(); !ok || v != 2 {
		t.Errorf("schema document version %v, want the 32-bit integer 2", doc.Lookup("version"))
	}
	if _, ok := doc.Lookup("applied_at").TimeOK(); !ok {
		t.Errorf("schema document applied_at %v, want a date", doc.Lookup("applied_at"))
	}
}
