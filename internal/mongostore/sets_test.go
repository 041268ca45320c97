package mongostore_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/audit"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/mongostore"
	"musicadmin/internal/mongostore/mongotest"
)

// Two models of the shape users and roles have: a set of another model's
// records and a write-only password.
var (
	tagSchema = datamodel.Schema{Name: "tag", Label: "name", Fields: []datamodel.Field{
		{Name: "name", Label: "Name", Kind: datamodel.Text{MaxRunes: 50}, Required: true, Unique: true},
	}}
	postSchema = datamodel.Schema{Name: "post", Label: "title", Fields: []datamodel.Field{
		{Name: "title", Label: "Title", Kind: datamodel.Text{MaxRunes: 50}, Required: true, Unique: true},
		{Name: "tags", Label: "Tags", Kind: datamodel.Set{Of: "tag"}},
		{Name: "secret", Label: "Secret", Kind: datamodel.Password{MaxBytes: 72}, Required: true, WriteOnly: true},
	}}
)

type posts struct {
	st          *mongostore.Store
	db          *mongo.Database
	tags, posts *mongostore.Model
	log         *mongostore.AuditLog
	cmds        *commands
}

func newPosts(t *testing.T) *posts {
	t.Helper()
	cmds := &commands{}
	db := mongotest.Database(t, mongotest.Connect(t, options.Client().SetMonitor(cmds.monitor())))
	st := mongostore.New(db)
	tags, err := st.Declare(tagSchema)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := st.DeclareIndexed(postSchema, []string{"title", "tags"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.KeepCreated("created_at"); err != nil {
		t.Fatal(err)
	}
	log, err := st.DeclareAuditLog()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &posts{st: st, db: db, tags: tags, posts: ps, log: log, cmds: cmds}
}

func (p *posts) tag(t *testing.T, name string) string {
	t.Helper()
	id, err := p.tags.Create(context.Background(), datamodel.Values{"name": name})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (p *posts) raw(t *testing.T, id string) bson.M {
	t.Helper()
	oid, _ := bson.ObjectIDFromHex(id)
	var doc bson.M
	if err := p.db.Collection("post").FindOne(context.Background(), bson.D{{Key: "_id", Value: oid}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func refs(ids ...string) []datamodel.Ref {
	out := make([]datamodel.Ref, len(ids))
	for i, id := range ids {
		out[i] = datamodel.Ref{ID: id}
	}
	return out
}

// labelsOf returns the labels of a set as read.
func labelsOf(v any) []string {
	var out []string
	for _, r := range v.([]datamodel.Ref) {
		out = append(out, r.Label)
	}
	return out
}

// TestSetsAndPasswords: a set is an array of the options' ObjectIds, read
// back by label with one find per page; a password is its hash under
// <field>_hash and never read back; ids that name nothing are refused.
func TestSetsAndPasswords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newPosts(t)
	rock, jazz, blues := p.tag(t, "rock"), p.tag(t, "jazz"), p.tag(t, "blues")
	id, err := p.posts.Create(ctx, datamodel.Values{"title": "One", "tags": refs(rock, jazz, rock),
		"secret": datamodel.Hash("$2a$04$hash")})
	if err != nil {
		t.Fatal(err)
	}
	doc := p.raw(t, id)
	want := []string{min(rock, jazz), max(rock, jazz)}
	var got []string
	for _, e := range doc["tags"].(bson.A) {
		got = append(got, e.(bson.ObjectID).Hex())
	}
	if !slices.Equal(got, want) || doc["secret_hash"] != "$2a$04$hash" || doc["secret"] != nil {
		t.Errorf("stored %v, want tags %v sorted once and secret_hash", doc, want)
	}
	if _, ok := doc["created_at"].(bson.DateTime); !ok {
		t.Errorf("created_at %T, want a date", doc["created_at"])
	}
	// No set given: an empty array, not null; no password: no hash.
	bare, err := p.posts.Create(ctx, datamodel.Values{"title": "Bare"})
	if err != nil {
		t.Fatal(err)
	}
	if arr, ok := p.raw(t, bare)["tags"].(bson.A); !ok || len(arr) != 0 {
		t.Errorf("a post created without tags holds %v, want []", p.raw(t, bare)["tags"])
	}

	rec, err := p.posts.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := labelsOf(rec.Values["tags"]); !slices.Equal(got, []string{"jazz", "rock"}) {
		t.Errorf("tags read as %v, want jazz, rock by label", got)
	}
	if _, ok := rec.Values["secret"]; ok {
		t.Errorf("a read returned the password: %v", rec.Values)
	}

	for _, c := range []struct {
		what string
		v    datamodel.Values
	}{
		{"malformed id", datamodel.Values{"title": "Two", "tags": refs("nope")}},
		{"unknown id", datamodel.Values{"title": "Two", "tags": refs(jazz, "650000000000000000000999")}},
	} {
		var bad *datamodel.InvalidRefError
		if _, err := p.posts.Create(ctx, c.v); !errors.As(err, &bad) || bad.Field != "tags" {
			t.Errorf("%s: %v, want an InvalidRefError of tags", c.what, err)
		}
		if err := p.posts.Update(ctx, id, datamodel.Values{"tags": c.v["tags"]}); !errors.As(err, &bad) || bad.Field != "tags" {
			t.Errorf("update, %s: %v, want an InvalidRefError of tags", c.what, err)
		}
	}
	for _, secret := range []any{datamodel.Secret("typed"), datamodel.Hash(""), "text"} {
		if err := p.posts.Update(ctx, id, datamodel.Values{"secret": secret}); err == nil || !strings.Contains(err.Error(), "hash") {
			t.Errorf("password %T %q: %v, want refused", secret, secret, err)
		}
	}
	if p.raw(t, id)["secret_hash"] != "$2a$04$hash" {
		t.Error("a refused password was written")
	}
	if err := p.posts.Update(ctx, id, datamodel.Values{"secret": datamodel.Hash("$2a$04$new"), "tags": refs(blues)}); err != nil {
		t.Fatal(err)
	}
	if doc := p.raw(t, id); doc["secret_hash"] != "$2a$04$new" || len(doc["tags"].(bson.A)) != 1 {
		t.Errorf("after update: %v", doc)
	}

	choices, err := p.posts.Choices(ctx, p.posts.Schema().Field("tags"))
	if err != nil {
		t.Fatal(err)
	}
	if got := labelsOf(choices); !slices.Equal(got, []string{"blues", "jazz", "rock"}) {
		t.Errorf("choices %v, want every tag by label", got)
	}
}

// TestSetHoldsFilter: OpEq on a set matches the records whose set holds
// the option, in List, Count and Each; an id that is no document's
// matches nothing; a page's sets are read with one find.
func TestSetHoldsFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newPosts(t)
	rock, jazz := p.tag(t, "rock"), p.tag(t, "jazz")
	for i, tags := range [][]string{{rock}, {rock, jazz}, {jazz}, {}} {
		if _, err := p.posts.Create(ctx, datamodel.Values{"title": string(rune('A' + i)), "tags": refs(tags...),
			"secret": datamodel.Hash("h")}); err != nil {
			t.Fatal(err)
		}
	}
	tags := p.posts.Schema().Field("tags")
	title := p.posts.Schema().Field("title")
	var sent []*event.CommandStartedEvent
	holds := func(id string) []datamodel.Filter {
		return []datamodel.Filter{{Field: tags, Op: datamodel.OpEq, Value: refs(id)}}
	}
	for _, c := range []struct {
		option string
		want   []string
	}{{rock, []string{"A", "B"}}, {jazz, []string{"B", "C"}}, {"-", nil}, {"650000000000000000000999", nil}} {
		sent = append(sent, p.cmds.take()...)
		page, err := p.posts.List(ctx, datamodel.Query{Filters: holds(c.option), Sort: title, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range page.Records {
			got = append(got, r.Values["title"].(string))
		}
		if !slices.Equal(got, c.want) || page.Total != int64(len(c.want)) {
			t.Errorf("holding %s: %v (total %d), want %v", c.option, got, page.Total, c.want)
		}
		finds := 0
		listed := p.cmds.take()
		sent = append(sent, listed...)
		for _, e := range listed {
			if coll, _ := e.Command.Lookup("find").StringValueOK(); coll == "tag" {
				finds++
			}
		}
		if len(got) > 0 && finds != 1 {
			t.Errorf("a page of %d posts read their tags with %d finds, want 1", len(got), finds)
		}
		if n, err := p.posts.Count(ctx, holds(c.option)); err != nil || n != int64(len(c.want)) {
			t.Errorf("count holding %s: %d, %v", c.option, n, err)
		}
		var each []string
		err = p.posts.Each(ctx, datamodel.Query{Filters: holds(c.option), Sort: title}, func(r datamodel.Record) error {
			each = append(each, r.Values["title"].(string))
			if len(labelsOf(r.Values["tags"])) == 0 {
				t.Errorf("Each gave %s without its tags", r.Values["title"])
			}
			return nil
		})
		if err != nil || !slices.Equal(each, c.want) {
			t.Errorf("each holding %s: %v, %v", c.option, each, err)
		}
	}
	if checkHints(t, append(sent, p.cmds.take()...), serverIndexes(t, p.db)) < 8 {
		t.Error("too few commands checked")
	}
}

// TestDeletePullsFromSets: deleting an option, alone or with others, takes
// it out of every set that holds it; the holders stay.
func TestDeletePullsFromSets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newPosts(t)
	rock, jazz, blues := p.tag(t, "rock"), p.tag(t, "jazz"), p.tag(t, "blues")
	a, err := p.posts.Create(ctx, datamodel.Values{"title": "A", "tags": refs(rock, jazz, blues), "secret": datamodel.Hash("h")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.posts.Create(ctx, datamodel.Values{"title": "B", "tags": refs(rock), "secret": datamodel.Hash("h")})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.tags.Delete(ctx, rock); err != nil {
		t.Fatal(err)
	}
	if n, err := p.tags.DeleteMany(ctx, []string{jazz, "bogus"}); err != nil || n != 1 {
		t.Fatalf("DeleteMany: %d, %v", n, err)
	}
	if checkHints(t, p.cmds.take(), serverIndexes(t, p.db)) < 8 {
		t.Error("too few commands checked")
	}
	for id, want := range map[string]int{a: 1, b: 0} {
		if got := len(p.raw(t, id)["tags"].(bson.A)); got != want {
			t.Errorf("post %s holds %d tags after the deletes, want %d", id, got, want)
		}
	}
	if rec, err := p.posts.Get(ctx, a); err != nil || !slices.Equal(labelsOf(rec.Values["tags"]), []string{"blues"}) {
		t.Errorf("post A reads %v, %v", rec.Values["tags"], err)
	}
}

// TestSetsVersionAndAudit: UpdateIf compares a set as read (an array
// stored in another order, or holding an option since deleted, is the
// same set); an audit entry shows a set by its labels and never a
// password or its hash, nor does an intent.
func TestSetsVersionAndAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newPosts(t)
	rock, jazz := p.tag(t, "rock"), p.tag(t, "jazz")
	actx := audit.With(ctx, audit.Actor{Username: "ada", View: "postview"})
	id, err := p.posts.Create(actx, datamodel.Values{"title": "A", "tags": refs(rock), "secret": datamodel.Hash("$2a$04$secret")})
	if err != nil {
		t.Fatal(err)
	}
	// Stored by another writer, unsorted and with an id that names
	// nothing (as $addToSet and a crash could leave it).
	oid, _ := bson.ObjectIDFromHex(id)
	r, j := mustOID(t, rock), mustOID(t, jazz)
	unsorted := bson.A{max(r.Hex(), j.Hex()), bson.NewObjectID(), min(r.Hex(), j.Hex())}
	for i, e := range unsorted {
		if h, ok := e.(string); ok {
			unsorted[i] = mustOID(t, h)
		}
	}
	if _, err := p.db.Collection("post").UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "tags", Value: unsorted}}}}); err != nil {
		t.Fatal(err)
	}
	rec, err := p.posts.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	version := p.posts.Schema().Version(rec)
	if err := p.posts.UpdateIf(actx, id, version, datamodel.Values{"tags": refs(jazz)}); err != nil {
		t.Fatalf("UpdateIf with the version read: %v", err)
	}
	if err := p.posts.UpdateIf(actx, id, version, datamodel.Values{"tags": refs(rock)}); !errors.Is(err, datamodel.ErrStale) {
		t.Errorf("UpdateIf with an old version: %v, want ErrStale", err)
	}
	if err := p.posts.Update(actx, id, datamodel.Values{"secret": datamodel.Hash("$2a$04$other")}); err != nil {
		t.Fatal(err)
	}
	var changes []string
	err = p.log.Entries().Each(ctx, datamodel.Query{}, func(e datamodel.Record) error {
		changes = append(changes, e.Values["action"].(string)+" "+e.Values["changes"].(string))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(changes, "\n")
	if len(changes) != 2 || !strings.Contains(all, `"new":"rock"`) || !strings.Contains(all, `"field":"tags","old":"rock","new":""`) {
		t.Errorf("entries:\n%s\nwant a create with tags rock and an update from jazz, rock to jazz, which removed rock (a password alone changes nothing shown)", all)
	}
	if strings.Contains(all, "secret") || strings.Contains(all, "$2a$") {
		t.Errorf("an entry names the password:\n%s", all)
	}
	var intents []bson.M
	cur, err := p.db.Collection("audit_pending").Find(ctx, bson.D{})
	if err == nil {
		err = cur.All(ctx, &intents)
	}
	js, _ := json.Marshal(intents)
	if err != nil || len(intents) != 0 || strings.Contains(string(js), "$2a$") {
		t.Errorf("intents left: %s, %v", js, err)
	}
}

func mustOID(t *testing.T, id string) bson.ObjectID {
	t.Helper()
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

// TestDeclareSetsAndPasswords: a set of an undeclared model, a write-only
// field that is no password, or a field named as another's hash are
// refused at declaration.
func TestDeclareSetsAndPasswords(t *testing.T) {
	t.Parallel()
	st := mongostore.New(mongotest.Database(t, mongotest.Connect(t)))
	for _, s := range []datamodel.Schema{
		{Name: "a", Label: "n", Fields: []datamodel.Field{{Name: "n", Kind: datamodel.Text{}}, {Name: "s", Kind: datamodel.Set{Of: "zz"}}}},
		{Name: "b", Label: "n", Fields: []datamodel.Field{{Name: "n", Kind: datamodel.Text{}}, {Name: "w", Kind: datamodel.Text{}, WriteOnly: true}}},
		{Name: "c", Label: "n", Fields: []datamodel.Field{{Name: "n", Kind: datamodel.Text{}}, {Name: "p", Kind: datamodel.Password{}, WriteOnly: true},
			{Name: "p_hash", Kind: datamodel.Text{}}}},
	} {
		if _, err := st.Declare(s); err == nil {
			t.Errorf("model %s declared", s.Name)
		}
	}
}
