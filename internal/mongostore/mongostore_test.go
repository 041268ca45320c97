package mongostore_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"musicadmin/internal/catalog"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/datamodel/modeltest"
	"musicadmin/internal/mongostore"
	"musicadmin/internal/mongostore/mongotest"
	"musicadmin/internal/store"
	"musicadmin/internal/textindex"
)

// commands records the commands a client sends, for the tests that check
// what reaches the server (hints, skips).
type commands struct {
	mu   sync.Mutex
	list []*event.CommandStartedEvent
}

func (c *commands) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.list = append(c.list, e)
	}}
}

// take returns the commands sent since the last take.
func (c *commands) take() []*event.CommandStartedEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.list
	c.list = nil
	return out
}

// catalogue is the catalogue's two models on a fresh database.
type catalogue struct {
	st            *mongostore.Store
	db            *mongo.Database
	albums, songs *mongostore.Model
	cmds          *commands
}

func newCatalogue(t *testing.T) *catalogue {
	t.Helper()
	cmds := &commands{}
	db := mongotest.Database(t, mongotest.Connect(t, options.Client().SetMonitor(cmds.monitor())))
	st := mongostore.New(db)
	albums, err := st.Declare(catalog.AlbumSchema)
	if err != nil {
		t.Fatal(err)
	}
	songs, err := st.Declare(catalog.SongSchema)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureIndexes(context.Background()); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	return &catalogue{st: st, db: db, albums: albums, songs: songs, cmds: cmds}
}

func (c *catalogue) song(t *testing.T, title string, rating int64, album string) string {
	t.Helper()
	var ref *datamodel.Ref
	if album != "" {
		ref = &datamodel.Ref{ID: album}
	}
	id, err := c.songs.Create(context.Background(), datamodel.Values{"title": title, "rating": rating, "album": ref})
	if err != nil {
		t.Fatalf("create song %q: %v", title, err)
	}
	return id
}

func (c *catalogue) album(t *testing.T, name string) string {
	t.Helper()
	id, err := c.albums.Create(context.Background(), datamodel.Values{"name": name})
	if err != nil {
		t.Fatalf("create album %q: %v", name, err)
	}
	return id
}

// raw reads one stored document as the shell would show it.
func (c *catalogue) raw(t *testing.T, coll, id string) bson.D {
	t.Helper()
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		t.Fatal(err)
	}
	var doc bson.D
	if err := c.db.Collection(coll).FindOne(context.Background(), bson.D{{Key: "_id", Value: oid}}).Decode(&doc); err != nil {
		t.Fatalf("read %s %s: %v", coll, id, err)
	}
	return doc
}

func ids(p datamodel.Page) []string {
	out := make([]string, 0, len(p.Records))
	for _, r := range p.Records {
		out = append(out, r.ID)
	}
	return out
}

func TestCountLimitIsTheSQLStoresBound(t *testing.T) {
	if mongostore.CountLimit != store.CountLimit {
		t.Fatalf("CountLimit %d, SQL store's %d: lists would count differently", mongostore.CountLimit, store.CountLimit)
	}
}

// TestSeedDocuments: the documents are the seed's, as its Mongo shell showed
// them after Album1 and Song1 (rating 9, on Album1) were added: album
// {_id, name}, song {_id, title, rating, album: the album's _id or null},
// with the rating a plain 32-bit integer.
func TestSeedDocuments(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	ctx := context.Background()
	album := c.album(t, "Album1")
	song := c.song(t, "Song1", 9, album)
	loose := c.song(t, "Song2", 0, "")

	albumOID, _ := bson.ObjectIDFromHex(album)
	songOID, _ := bson.ObjectIDFromHex(song)
	looseOID, _ := bson.ObjectIDFromHex(loose)
	for _, c := range []struct {
		got, want bson.D
	}{
		{c.raw(t, "album", album), bson.D{{Key: "_id", Value: albumOID}, {Key: "name", Value: "Album1"}}},
		{c.raw(t, "song", song), bson.D{{Key: "_id", Value: songOID}, {Key: "title", Value: "Song1"},
			{Key: "rating", Value: int32(9)}, {Key: "album", Value: albumOID}}},
		{c.raw(t, "song", loose), bson.D{{Key: "_id", Value: looseOID}, {Key: "title", Value: "Song2"},
			{Key: "rating", Value: int32(0)}, {Key: "album", Value: nil}}},
	} {
		if fmt.Sprintf("%#v", c.got) != fmt.Sprintf("%#v", c.want) {
			t.Errorf("document\n got %#v\nwant %#v", c.got, c.want)
		}
	}
	// An update keeps the shape: the same keys, in the same order.
	if err := c.songs.Update(ctx, song, datamodel.Values{"title": "Song1", "rating": int64(7), "album": (*datamodel.Ref)(nil)}); err != nil {
		t.Fatal(err)
	}
	want := bson.D{{Key: "_id", Value: songOID}, {Key: "title", Value: "Song1"}, {Key: "rating", Value: int32(7)}, {Key: "album", Value: nil}}
	if got := c.raw(t, "song", song); fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Errorf("after update\n got %#v\nwant %#v", got, want)
	}

	// A document written from the shell, as the seed's users did, reads
	// back through the seam (int64 rating included).
	shellOID := bson.NewObjectID()
	if _, err := c.db.Collection("song").InsertOne(ctx, bson.D{{Key: "_id", Value: shellOID}, {Key: "title", Value: "Shell Song"},
		{Key: "rating", Value: int64(3)}, {Key: "album", Value: albumOID}}); err != nil {
		t.Fatal(err)
	}
	rec, err := c.songs.Get(ctx, shellOID.Hex())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Values["title"] != "Shell Song" || rec.Values["rating"] != int64(3) ||
		*rec.Values["album"].(*datamodel.Ref) != (datamodel.Ref{ID: album, Label: "Album1"}) {
		t.Errorf("shell document read as %+v", rec.Values)
	}

	// EnsureIndexes is idempotent, and the server holds what it lists.
	if err := c.st.EnsureIndexes(ctx); err != nil {
		t.Fatalf("second EnsureIndexes: %v", err)
	}
	onServer := serverIndexes(t, c.db)
	for _, ix := range c.st.Indexes() {
		if !slices.Contains(onServer[ix.Collection], ix.Name) {
			t.Errorf("index %s.%s not on the server (%v)", ix.Collection, ix.Name, onServer[ix.Collection])
		}
	}
}

// serverIndexes lists the indexes of every collection of db, by name.
func serverIndexes(t *testing.T, db *mongo.Database) map[string][]string {
	t.Helper()
	ctx := context.Background()
	colls, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, coll := range colls {
		specs, err := db.Collection(coll).Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range specs {
			out[coll] = append(out[coll], s.Name)
		}
	}
	return out
}

// TestWrites: the seam's errors for conflicts, broken references, unknown
// and malformed ids; labels and choices.
func TestWrites(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	ctx := context.Background()
	a := c.album(t, "b")
	for _, name := range []string{"B", "é", "a", "Z"} {
		c.album(t, name)
	}
	s := c.song(t, "Song", 1, a)

	var conflict *datamodel.ConflictError
	if _, err := c.albums.Create(ctx, datamodel.Values{"name": "B"}); !errors.As(err, &conflict) || conflict.Field != "name" {
		t.Errorf("duplicate album: %v", err)
	}
	other := c.song(t, "Other", 2, "")
	if err := c.songs.Update(ctx, other, datamodel.Values{"title": "Song"}); !errors.As(err, &conflict) || conflict.Field != "title" {
		t.Errorf("rename onto a taken title: %v", err)
	}
	if err := c.songs.Update(ctx, s, datamodel.Values{"title": "Song", "rating": int64(4)}); err != nil {
		t.Errorf("saving a song under its own title: %v", err)
	}

	missing := bson.NewObjectID().Hex()
	for _, ref := range []string{missing, "not-an-id", strings.ToUpper(a)} {
		_, err := c.songs.Create(ctx, datamodel.Values{"title": "Dangling " + ref, "rating": int64(0), "album": &datamodel.Ref{ID: ref}})
		var bad *datamodel.InvalidRefError
		if !errors.As(err, &bad) || bad.Field != "album" || !errors.Is(err, datamodel.ErrInvalidRef) {
			t.Errorf("create with album %q: %v", ref, err)
		}
		if err := c.songs.Update(ctx, s, datamodel.Values{"album": &datamodel.Ref{ID: ref}}); !errors.As(err, &bad) {
			t.Errorf("update to album %q: %v", ref, err)
		}
	}
	if n, err := c.songs.Count(ctx, nil); err != nil || n != 2 {
		t.Errorf("songs after refused writes: %d, %v", n, err)
	}

	for _, id := range []string{missing, "abc", "", strings.ToUpper(s), s + "0"} {
		if _, err := c.songs.Get(ctx, id); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("Get(%q): %v", id, err)
		}
		if err := c.songs.Update(ctx, id, datamodel.Values{"rating": int64(1)}); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("Update(%q): %v", id, err)
		}
		if err := c.songs.Delete(ctx, id); !errors.Is(err, datamodel.ErrNotFound) {
			t.Errorf("Delete(%q): %v", id, err)
		}
	}
	if c.songs.ValidID(strings.ToUpper(s)) || !c.songs.ValidID(s) || c.songs.ValidID("12") {
		t.Error("ValidID accepts other forms than the store's ids")
	}

	rec, err := c.songs.Get(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if got := *rec.Values["album"].(*datamodel.Ref); got != (datamodel.Ref{ID: a, Label: "b"}) {
		t.Errorf("album of the song: %+v", got)
	}
	title := c.songs.Schema().Field("title")
	if ok, err := c.songs.Exists(ctx, title, "Song", ""); err != nil || !ok {
		t.Errorf("Exists(Song): %v %v", ok, err)
	}
	if ok, err := c.songs.Exists(ctx, title, "Song", s); err != nil || ok {
		t.Errorf("Exists(Song) except itself: %v %v", ok, err)
	}
	if ok, err := c.songs.Exists(ctx, title, "song", ""); err != nil || ok {
		t.Errorf("Exists is exact, yet found %q: %v", "song", err)
	}

	// Choices: by label in byte order (upper case first, then lower case,
	// then beyond ASCII).
	choices, err := c.songs.Choices(ctx, c.songs.Schema().Field("album"))
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, ch := range choices {
		labels = append(labels, ch.Label)
	}
	if !slices.Equal(labels, []string{"B", "Z", "a", "b", "é"}) {
		t.Errorf("choices %q", labels)
	}
}

// key returns the value of k in doc, and whether doc has k.
func key(doc bson.D, k string) (any, bool) {
	for _, e := range doc {
		if e.Key == k {
			return e.Value, true
		}
	}
	return nil, false
}

// TestDeleteClearsReferences: deleting an album keeps its songs, with no
// album, and leaves other albums' songs alone.
func TestDeleteClearsReferences(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	ctx := context.Background()
	gone, kept := c.album(t, "Gone"), c.album(t, "Kept")
	var onGone []string
	for i := range 3 {
		onGone = append(onGone, c.song(t, fmt.Sprintf("On gone %d", i), int64(i), gone))
	}
	onKept := c.song(t, "On kept", 5, kept)
	albumField := c.songs.Schema().Field("album")
	byGone := []datamodel.Filter{{Field: albumField, Op: datamodel.OpEq, Value: &datamodel.Ref{ID: gone}}}
	if n, err := c.songs.Count(ctx, byGone); err != nil || n != 3 {
		t.Fatalf("songs on the album before: %d, %v", n, err)
	}
	if err := c.albums.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if _, err := c.albums.Get(ctx, gone); !errors.Is(err, datamodel.ErrNotFound) {
		t.Errorf("deleted album still there: %v", err)
	}
	for _, id := range onGone {
		if v, ok := key(c.raw(t, "song", id), "album"); !ok || v != nil {
			t.Errorf("song %s after its album was deleted: album %v (present: %v)", id, v, ok)
		}
	}
	if v, _ := key(c.raw(t, "song", onKept), "album"); v == nil {
		t.Error("the song on another album lost it")
	}
	if n, err := c.songs.Count(ctx, byGone); err != nil || n != 0 {
		t.Errorf("songs on the deleted album: %d, %v", n, err)
	}
	if n, err := c.songs.Count(ctx, nil); err != nil || n != 4 {
		t.Errorf("songs after the delete: %d, %v", n, err)
	}
	empty := []datamodel.Filter{{Field: albumField, Op: datamodel.OpEmpty, Value: true}}
	if page, err := c.songs.List(ctx, datamodel.Query{Filters: empty}); err != nil || !slices.Equal(ids(page), onGone) {
		t.Errorf("songs with no album: %v %v, want %v", ids(page), err, onGone)
	}
	if err := c.albums.Delete(ctx, gone); !errors.Is(err, datamodel.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

// TestCountsFollowWrites: a filtered list's count is remembered, and every
// write through the store, to any model, forgets it: deleting an album
// changes how many songs have none.
func TestCountsFollowWrites(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	ctx := context.Background()
	album := c.album(t, "Counted")
	c.song(t, "One", 1, album)
	noAlbum := datamodel.Query{Filters: []datamodel.Filter{{Field: c.songs.Schema().Field("album"), Op: datamodel.OpEmpty, Value: true}}, Limit: 10}
	total := func(want int64) {
		t.Helper()
		for range 2 { // counted, then remembered
			page, err := c.songs.List(ctx, noAlbum)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != want || int64(len(page.Records)) != want {
				t.Fatalf("songs without an album: total %d, %d records, want %d", page.Total, len(page.Records), want)
			}
		}
	}
	total(0)
	two := c.song(t, "Two", 2, "")
	total(1)
	if err := c.albums.Delete(ctx, album); err != nil {
		t.Fatal(err)
	}
	total(2)
	if err := c.songs.Delete(ctx, two); err != nil {
		t.Fatal(err)
	}
	total(1)
}

// TestWriteRacingADelete: an album deleted between a song's reference check
// and its write (no transaction can prevent it: the check locks nothing)
// leaves no song pointing at it: the write's re-check clears the reference,
// as the delete would have had it come after the write.
func TestWriteRacingADelete(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	ctx := context.Background()
	for _, op := range []string{"create", "update"} {
		album := c.album(t, "Racing "+op)
		song := ""
		if op == "update" {
			song = c.song(t, "Racer", 1, "")
		}
		mongostore.SetChecked(c.st, func() {
			mongostore.SetChecked(c.st, nil)
			if err := c.albums.Delete(ctx, album); err != nil {
				t.Errorf("racing delete: %v", err)
			}
		})
		v := datamodel.Values{"title": "Racer", "rating": int64(2), "album": &datamodel.Ref{ID: album}}
		var err error
		if op == "create" {
			song, err = c.songs.Create(ctx, v)
		} else {
			err = c.songs.Update(ctx, song, v)
		}
		if err != nil {
			t.Fatalf("%s racing a delete: %v", op, err)
		}
		if v, ok := key(c.raw(t, "song", song), "album"); !ok || v != nil {
			t.Errorf("%s racing a delete: the song points at the deleted album: %v", op, v)
		}
		if err := c.songs.Delete(ctx, song); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnavailable: a server that does not answer is ErrUnavailable (a 503),
// not an internal error.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1").
		SetServerSelectionTimeout(200 * time.Millisecond).SetConnectTimeout(200 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	st := mongostore.New(client.Database("nowhere"))
	songs, err := st.Declare(datamodel.Schema{Name: "song", Label: "title", Fields: []datamodel.Field{
		{Name: "title", Label: "Title", Kind: datamodel.Text{}, Required: true, Unique: true}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, listErr := songs.List(ctx, datamodel.Query{Limit: 10})
	_, createErr := songs.Create(ctx, datamodel.Values{"title": "x"})
	deleteErr := songs.Delete(ctx, bson.NewObjectID().Hex())
	_, _, versionErr := st.SchemaVersion(ctx)
	for what, err := range map[string]error{"list": listErr, "create": createErr, "delete": deleteErr,
		"ensure indexes": st.EnsureIndexes(ctx), "schema version": versionErr, "mark schema": st.MarkSchema(ctx, 1)} {
		if !errors.Is(err, datamodel.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", what, err)
		}
	}
}

// searchTitles trip up a case-insensitive match: the SQL store's tricky
// titles, and characters whose case folding differs between Go's ToLower and
// a regular expression's (?i) (final sigma, long s, the Kelvin sign, title
// case digraphs, capital sharp s), plus regular expression syntax.
var searchTitles = []string{
	"Love Song", "LOVELY Day", "Glove Box", "Ünïcödé Straße", "ÜNÏCÖDÉ STRASSE", "100% Pure", "under_score",
	"Ab", "Café del Mar", "ΣΊΣΥΦΟΣ", "σίσυφος", "日本語の歌", "🎸 Rock 🎸", "İstanbul", "a!b%c_d", "love love love",
	"Kelvin \u212A", "ſong of ſix", "ǅungla ǄUNGLA ǆ", "GROẞE Straße", "a.b (c) [d] {e} ^f$ \\g | h*+?", "Ωmega Ω",
}

var searchQueries = []string{
	"love", "LOVE", "ove", "lo", "o", "straße", "STRASSE", "ünï", "ÜNÏ", "100%", "0% p", "%", "_", "r_s", "r_x",
	"café", "CAFÉ DEL", "σίσ", "ΣΊΣΥΦΟΣ", "ς", "σ", "Σ", "日本語", "の歌", "🎸 r", "🎸", "istanbul", "i̇stan", "İ",
	"a!b%c_d", "!b%", "glove", "mitten", "zzz", "ve lo", "k", "K", "\u212A", "s", "ſ", "ſong", "song", "ǆ", "Ǆ",
	"ǅu", "ß", "ẞ", "große", ".", "a.b", "(c)", "[d]", "{e}", "^f$", "\\g", "|", "h*+?", "ω", "Ω", "\u2126", "",
}

// TestSearchIsExact checks search, contains and startswith against the rule
// the SQL stores keep, computed in Go: the folded text contains (starts
// with) the folded query.
func TestSearchIsExact(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	ctx := context.Background()
	titles := map[string]string{}
	for _, s := range searchTitles {
		titles[c.song(t, s, 1, "")] = s
	}
	title := c.songs.Schema().Field("title")
	want := func(q string, match func(s, q string) bool) []string {
		var out []string
		for id, s := range titles {
			if match(textindex.Fold(s), textindex.Fold(q)) {
				out = append(out, id)
			}
		}
		slices.Sort(out) // ObjectID hex sorts as the _id does
		return out
	}
	for _, q := range searchQueries {
		for _, c2 := range []struct {
			name  string
			query datamodel.Query
			want  []string
		}{
			{"q", datamodel.Query{Search: q, SearchFields: []*datamodel.Field{title}}, want(q, strings.Contains)},
			{"contains", datamodel.Query{Filters: []datamodel.Filter{{Field: title, Op: datamodel.OpContains, Value: q}}}, want(q, strings.Contains)},
			{"startswith", datamodel.Query{Filters: []datamodel.Filter{{Field: title, Op: datamodel.OpStartsWith, Value: q}}}, want(q, strings.HasPrefix)},
		} {
			if q == "" && c2.name == "q" {
				c2.want = want("", func(string, string) bool { return true })
			}
			page, err := c.songs.List(ctx, c2.query)
			if err != nil {
				t.Fatalf("%s %q: %v", c2.name, q, err)
			}
			if got := ids(page); !slices.Equal(got, c2.want) {
				t.Errorf("%s %q: %d matches %v, want %d", c2.name, q, len(got), titlesOf(titles, got), len(c2.want))
			}
			if page.Total != int64(len(c2.want)) || page.AtLeast {
				t.Errorf("%s %q: total %d (at least: %v), want %d", c2.name, q, page.Total, page.AtLeast, len(c2.want))
			}
		}
	}
}

func titlesOf(titles map[string]string, ids []string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, titles[id])
	}
	return out
}

// TestFoldPatternCoversUnicode checks the pattern of every single character
// against Go's regexp (whose syntax PCRE shares for it) and the fold rule,
// over all of Unicode's letters that change case, without a server.
func TestFoldPatternCoversUnicode(t *testing.T) {
	var cased []rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if utf8.ValidRune(r) && (unicode.ToLower(r) != r || unicode.ToUpper(r) != r) {
			cased = append(cased, r)
		}
	}
	for _, q := range cased {
		p, ok := mongostore.FoldPattern(string(q), false)
		if !ok {
			t.Fatalf("%U: no pattern", q)
		}
		re := regexp.MustCompile(p)
		for _, r := range []rune{q, unicode.ToLower(q), unicode.ToUpper(q), unicode.ToTitle(q), unicode.SimpleFold(q)} {
			want := textindex.Fold(string(r)) == textindex.Fold(string(q))
			if got := re.MatchString(string(r)); got != want {
				t.Errorf("pattern %q of %U on %U: %v, want %v", p, q, r, got, want)
			}
		}
	}
}

// TestPagesMatchOneOrderedScan pages through sorted lists forward, backward
// and by jumps, and checks every page against one ordered scan and against
// the order computed in Go (byte order, ties by _id). Walking forward or
// backward page by page must skip nothing: each page starts from the
// previous one's bookmark.
func TestPagesMatchOneOrderedScan(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	albums := []string{"", c.album(t, "Alpha"), c.album(t, "beta")}
	type song struct {
		id, title string
		rating    int64
		album     string
	}
	var songs []song
	words := []string{"river", "River", "ß", "Ärger", "zebra", "Zebra", "ſ", "🎸", "a", "_", "%"}
	for i := range 90 {
		s := song{title: fmt.Sprintf("%s %s %03d", words[rng.IntN(len(words))], words[rng.IntN(len(words))], i),
			rating: int64(rng.IntN(10)), album: albums[rng.IntN(len(albums))]}
		s.id = c.song(t, s.title, s.rating, s.album)
		songs = append(songs, s)
	}
	f := c.songs.Schema().Field
	sorts := []struct {
		name  string
		field *datamodel.Field
		cmp   func(a, b song) int
	}{
		{"id", nil, func(a, b song) int { return 0 }},
		{"title", f("title"), func(a, b song) int { return strings.Compare(a.title, b.title) }},
		{"rating", f("rating"), func(a, b song) int { return cmp.Compare(a.rating, b.rating) }},
		{"album", f("album"), func(a, b song) int { return strings.Compare(a.album, b.album) }},
	}
	filters := []struct {
		name    string
		filters []datamodel.Filter
		keep    func(s song) bool
	}{
		{"all", nil, func(song) bool { return true }},
		{"rating>=4", []datamodel.Filter{{Field: f("rating"), Op: datamodel.OpGte, Value: int64(4)}}, func(s song) bool { return s.rating >= 4 }},
		{"album", []datamodel.Filter{{Field: f("album"), Op: datamodel.OpEq, Value: &datamodel.Ref{ID: albums[1]}}}, func(s song) bool { return s.album == albums[1] }},
	}
	const size = 20
	for _, flt := range filters {
		for _, srt := range sorts {
			if flt.name != "all" && (srt.name == "album" || srt.name == "id" && flt.name != "album") {
				continue // each sort is paged unfiltered; filtered lists with two
			}
			for _, desc := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/desc=%v", flt.name, srt.name, desc)
				var want []string
				var kept []song
				for _, s := range songs {
					if flt.keep(s) {
						kept = append(kept, s)
					}
				}
				slices.SortFunc(kept, func(a, b song) int {
					r := cmp.Or(srt.cmp(a, b), strings.Compare(a.id, b.id))
					if desc {
						r = -r
					}
					return r
				})
				for _, s := range kept {
					want = append(want, s.id)
				}
				q := datamodel.Query{Filters: flt.filters, Sort: srt.field, Desc: desc}
				all, err := c.songs.List(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids(all), want) {
					t.Errorf("%s: one scan differs from Go's order", name)
					continue
				}
				pages := (len(want) + size - 1) / size
				check := func(how string, p int) {
					t.Helper()
					q.Offset, q.Limit = p*size, size
					page, err := c.songs.List(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if got, w := ids(page), want[min(p*size, len(want)):min((p+1)*size, len(want))]; !slices.Equal(got, w) {
						t.Errorf("%s: %s page %d: %d ids differ from the scan's", name, how, p+1, len(got))
					}
					if page.Total != int64(len(want)) || page.AtLeast {
						t.Errorf("%s: total %d, want %d", name, page.Total, len(want))
					}
				}
				c.cmds.take()
				for p := range pages {
					check("forward", p)
				}
				for p := pages - 1; p >= 0; p-- {
					check("backward", p)
				}
				if srt.name != "album" {
					// Each page after the first came from a bookmark.
					if skips := skipsOf(c.cmds.take()); len(skips) > 2 && slices.Max(skips[1:]) > 0 {
						t.Errorf("%s: stepping page by page skipped %v", name, skips)
					}
				}
				for _, p := range []int{pages / 2, pages + 3, 0} {
					check("jump", p)
				}
			}
		}
	}

	// Past the count bound the total is "at least", and pages still follow
	// the order.
	mongostore.SetCountLimit(c.songs, 30)
	q := datamodel.Query{Filters: []datamodel.Filter{{Field: f("rating"), Op: datamodel.OpGte, Value: int64(0)}}, Sort: f("title")}
	all, err := c.songs.List(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if !all.AtLeast || all.Total != 30 || len(all.Records) != len(songs) {
		t.Errorf("bounded count: total %d at least %v, %d records", all.Total, all.AtLeast, len(all.Records))
	}
	for p := 0; p*size < len(songs); p++ {
		q.Offset, q.Limit = p*size, size
		page, err := c.songs.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got, w := ids(page), ids(all)[p*size:min((p+1)*size, len(songs))]; !slices.Equal(got, w) {
			t.Errorf("bounded page %d differs", p+1)
		}
	}
}

// skipsOf returns the skip of every find among cmds (0 when none).
func skipsOf(cmds []*event.CommandStartedEvent) []int64 {
	var out []int64
	for _, e := range cmds {
		if e.CommandName != "find" {
			continue
		}
		var n int64
		if v, err := e.Command.LookupErr("skip"); err == nil {
			n, _ = v.AsInt64OK()
		}
		if _, err := e.Command.LookupErr("sort"); err == nil { // label lookups have no sort
			out = append(out, n)
		}
	}
	return out
}

// TestEveryQueryNamesAnIndex runs every query shape the store sends (each
// filter operator on each field, search, every sort, counts, reads, writes,
// reference checks, label lookups, choices, deletes) and checks that every
// find, aggregate, count, update and delete names in its hint an index the
// server holds: a missing index fails here, not in production. (FerretDB
// ignores hints, MongoDB refuses a hint naming no index.)
func TestEveryQueryNamesAnIndex(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	ctx := context.Background()
	a := c.album(t, "Alpha")
	s := c.song(t, "Song", 3, a)
	c.song(t, "Other", 4, "")
	f := c.songs.Schema().Field
	var queries []datamodel.Query
	for _, fld := range c.songs.Schema().Fields {
		for _, op := range fld.Kind.Ops() {
			var v any
			switch {
			case op == datamodel.OpEmpty:
				v = true
			case fld.Target() != "":
				v = &datamodel.Ref{ID: a}
			default:
				v, _ = fld.Kind.Parse("3")
			}
			for _, srt := range []*datamodel.Field{nil, f("title"), f("rating"), f("album")} {
				queries = append(queries, datamodel.Query{Filters: []datamodel.Filter{{Field: &fld, Op: op, Value: v}}, Sort: srt, Limit: 1})
			}
		}
	}
	queries = append(queries, datamodel.Query{Search: "so", SearchFields: []*datamodel.Field{f("title")}, Limit: 25},
		datamodel.Query{Sort: f("rating"), Desc: true, Offset: 1, Limit: 1}, datamodel.Query{Sort: f("title"), Offset: 1, Limit: 1},
		datamodel.Query{Sort: f("title")})
	for _, q := range queries {
		if _, err := c.songs.List(ctx, q); err != nil {
			t.Fatal(err)
		}
		if _, err := c.songs.Count(ctx, q.Filters); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.albums.List(ctx, datamodel.Query{Search: "AL", SearchFields: []*datamodel.Field{c.albums.Schema().Field("name")}, Sort: c.albums.Schema().Field("name")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.songs.Get(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := c.songs.Exists(ctx, f("title"), "Song", s); err != nil {
		t.Fatal(err)
	}
	if _, err := c.songs.Choices(ctx, f("album")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.songs.CreateBatch(ctx, []datamodel.Values{{"title": "B1", "rating": int64(1), "album": &datamodel.Ref{ID: a}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.songs.CreateBatch(ctx, []datamodel.Values{{"title": "B2", "rating": int64(1), "album": nil},
		{"title": "B1", "rating": int64(1), "album": nil}}); err == nil {
		t.Fatal("batch with a duplicate title accepted")
	}
	if err := c.songs.Update(ctx, s, datamodel.Values{"album": &datamodel.Ref{ID: a}, "title": "Other"}); err == nil {
		t.Fatal("duplicate title accepted")
	}
	if err := c.albums.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := c.songs.Delete(ctx, s); err != nil {
		t.Fatal(err)
	}

	checked := checkHints(t, c.cmds.take(), serverIndexes(t, c.db))
	if checked < 100 {
		t.Errorf("only %d commands checked", checked)
	}
}

// checkHints checks that every find, aggregate, update and delete among
// cmds names in its hint one of the indexes of its collection, and that
// counts carry no query (estimatedDocumentCount); it returns how many hints
// it checked.
func checkHints(t *testing.T, cmds []*event.CommandStartedEvent, indexes map[string][]string) int {
	t.Helper()
	checked := 0
	for _, e := range cmds {
		coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
		var hints []bson.RawValue
		switch e.CommandName {
		case "find", "aggregate":
			hints = []bson.RawValue{e.Command.Lookup("hint")}
		case "count":
			// estimatedDocumentCount: the collection's metadata, no query.
			if q, err := e.Command.LookupErr("query"); err == nil && len(q.Document()) > 5 {
				t.Errorf("count with a query: %s", e.Command)
			}
			continue
		case "update", "delete":
			docs, _ := e.Command.Lookup(e.CommandName + "s").Array().Values()
			for _, d := range docs {
				hints = append(hints, d.Document().Lookup("hint"))
			}
		default:
			continue
		}
		for _, h := range hints {
			name, ok := h.StringValueOK()
			if !ok || !slices.Contains(indexes[coll], name) {
				t.Errorf("%s on %s: hint %v is not one of its indexes %v\n%s", e.CommandName, coll, h, indexes[coll], e.Command)
			}
			checked++
		}
	}
	return checked
}

// TestCreateBatch: a batch is written with its references checked, and a
// batch that fails part way leaves none of its documents behind, naming
// the record that failed.
func TestCreateBatch(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	ctx := context.Background()
	a := c.album(t, "Alpha")
	c.song(t, "Taken", 1, "")
	song := func(title string, album string) datamodel.Values {
		v := datamodel.Values{"title": title, "rating": int64(4), "album": (*datamodel.Ref)(nil)}
		if album != "" {
			v["album"] = &datamodel.Ref{ID: album}
		}
		return v
	}
	ids, err := c.songs.CreateBatch(ctx, []datamodel.Values{song("One", a), song("Two", ""), song("Three", a)})
	if err != nil || len(ids) != 3 {
		t.Fatalf("CreateBatch: %v, %v", ids, err)
	}
	albumOID, _ := bson.ObjectIDFromHex(a)
	if doc := c.raw(t, "song", ids[2]); fmt.Sprint(doc[1:]) != fmt.Sprint(bson.D{{Key: "title", Value: "Three"},
		{Key: "rating", Value: int32(4)}, {Key: "album", Value: albumOID}}) {
		t.Errorf("third document %v", doc)
	}
	count := func() int64 {
		n, err := c.db.Collection("song").CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	for _, tc := range []struct {
		name  string
		batch []datamodel.Values
		index int
		check func(error) bool
	}{
		{"a dangling reference", []datamodel.Values{song("Four", a), song("Five", bson.NewObjectID().Hex())}, 1,
			func(err error) bool { return errors.Is(err, datamodel.ErrInvalidRef) }},
		{"a value taken in the database", []datamodel.Values{song("Four", a), song("Five", ""), song("Taken", "")}, 2,
			func(err error) bool {
				var ce *datamodel.ConflictError
				return errors.As(err, &ce) && ce.Field == "title"
			}},
		{"a value taken in the batch", []datamodel.Values{song("Six", ""), song("Six", "")}, 1,
			func(err error) bool { var ce *datamodel.ConflictError; return errors.As(err, &ce) }},
	} {
		_, err := c.songs.CreateBatch(ctx, tc.batch)
		var be *datamodel.BatchError
		if !errors.As(err, &be) || be.Index != tc.index || !tc.check(err) {
			t.Errorf("%s: %v, want a BatchError at %d", tc.name, err, tc.index)
		}
		if n := count(); n != before {
			t.Errorf("%s: %d songs after the failed batch, want %d", tc.name, n, before)
		}
	}
}

// TestUpdateIf checks the conditional write, races between its check and
// its write included.
func TestUpdateIf(t *testing.T) {
	c := newCatalogue(t)
	modeltest.UpdateIf(t, c.albums, c.songs, func(f func()) { mongostore.SetChecked(c.st, f) })
}

// TestFilteredPagesReadTheirPairIndex checks which index a filtered page
// names: an equality filter sorted by another field reads the pair's index
// (one range, in sort order); a range filter walks the sort's index; a
// filter on a unique field reads that field's.
func TestFilteredPagesReadTheirPairIndex(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	ctx := context.Background()
	a := c.album(t, "Alpha")
	c.song(t, "Song", 5, a)
	f := c.songs.Schema().Field
	for _, tc := range []struct {
		filter datamodel.Filter
		sort   string
		want   string
	}{
		{datamodel.Filter{Field: f("rating"), Op: datamodel.OpEq, Value: int64(5)}, "title", "ix_song_rating_title"},
		{datamodel.Filter{Field: f("album"), Op: datamodel.OpEq, Value: &datamodel.Ref{ID: a}}, "title", "ix_song_album_title"},
		{datamodel.Filter{Field: f("album"), Op: datamodel.OpEq, Value: &datamodel.Ref{ID: a}}, "rating", "ix_song_album_rating"},
		{datamodel.Filter{Field: f("rating"), Op: datamodel.OpEq, Value: int64(5)}, "rating", "ix_song_rating"},
		{datamodel.Filter{Field: f("rating"), Op: datamodel.OpGte, Value: int64(5)}, "title", "ux_song_title"},
		{datamodel.Filter{Field: f("title"), Op: datamodel.OpEq, Value: "Song"}, "rating", "ux_song_title"},
	} {
		c.cmds.take()
		for _, desc := range []bool{false, true} {
			q := datamodel.Query{Filters: []datamodel.Filter{tc.filter}, Sort: f(tc.sort), Desc: desc, Limit: 25, NoCount: true}
			if _, err := c.songs.List(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		var hints []string
		for _, e := range c.cmds.take() {
			if e.CommandName == "find" && e.Command.Lookup("sort").Type != 0 {
				hints = append(hints, e.Command.Lookup("hint").StringValue())
			}
		}
		if len(hints) != 2 || hints[0] != tc.want || hints[1] != tc.want {
			t.Errorf("%s %s %v sorted by %s: hints %v, want %s twice", tc.filter.Field.Name, tc.filter.Op, tc.filter.Value, tc.sort, hints, tc.want)
		}
	}
}

// TestGroup runs the seam's grouping checks on MongoDB.
func TestGroup(t *testing.T) {
	c := newCatalogue(t)
	modeltest.Group(t, c.albums, c.songs)
}
