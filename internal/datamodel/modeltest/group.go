package modeltest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"musicadmin/internal/datamodel"
)

// groupSong is a song of Group's catalogue as the test wrote it.
type groupSong struct {
	title  string
	rating int64
	album  string // "" for none, else the album's name
}

// groupRow is a group as the test expects it: the key's text (an album's
// name, a rating's digits, "" for no album) and its values.
type groupRow struct {
	key    string
	values []float64
}

// Group checks Interface.Group on a store of the catalogue's models, both
// empty: every answer is compared with the same numbers computed here
// from the songs the test wrote (the direct computation), for keys that
// are numbers and references (labels included, the missing reference its
// own group), each aggregate, both rankings, a limit with the rest as
// Other (with and without the empty key among the kept groups), filters
// and search, and a write seen at once by this process.
func Group(t *testing.T, albums, songs datamodel.Interface) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Album i has 6-i songs, and 7 songs have none: every group's count
	// differs, so the ranking has no ties to break.
	names := []string{"Alpha", `<b>"Beta" & 'co'</b>`, "Gamma", "Delta", "Epsilon"}
	ids := map[string]string{}
	for _, n := range names {
		id, err := albums.Create(ctx, datamodel.Values{"name": n})
		must(err)
		ids[n] = id
	}
	var written []groupSong
	k := 0
	add := func(album string, n int) {
		for range n {
			s := groupSong{title: fmt.Sprintf("Song %02d", k), rating: int64(k * 7 % 10), album: album}
			if k%4 == 0 {
				s.title += " love"
			}
			k++
			written = append(written, s)
		}
	}
	add("", 7)
	for i, n := range names {
		add(n, 5-i)
	}
	for _, s := range written {
		var ref *datamodel.Ref
		if s.album != "" {
			ref = &datamodel.Ref{ID: ids[s.album]}
		}
		_, err := songs.Create(ctx, datamodel.Values{"title": s.title, "rating": s.rating, "album": ref})
		must(err)
	}
	schema := songs.Schema()
	rating, album, title := schema.Field("rating"), schema.Field("album"), schema.Field("title")
	all := []datamodel.Series{{Agg: datamodel.AggCount}, {Agg: datamodel.AggSum, Field: rating},
		{Agg: datamodel.AggAvg, Field: rating}, {Agg: datamodel.AggMin, Field: rating}, {Agg: datamodel.AggMax, Field: rating}}

	check := func(name string, q datamodel.GroupQuery, keep func(groupSong) bool) {
		t.Helper()
		got, err := songs.Group(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, wantOther := expectGroups(q, written, keep)
		var rows []groupRow
		for _, g := range got.Groups {
			key := ""
			switch x := g.Key.(type) {
			case *datamodel.Ref:
				if x == nil {
					break
				}
				key = x.Label
				if x.ID != ids[x.Label] {
					t.Errorf("%s: group %q has id %q, want %q", name, x.Label, x.ID, ids[x.Label])
				}
			case nil:
			default:
				key = q.By.Kind.Text(x)
			}
			rows = append(rows, groupRow{key, g.Values})
		}
		if !sameRows(rows, want) {
			t.Errorf("%s: groups\n%v\nwant\n%v", name, rows, want)
		}
		switch {
		case (got.Other == nil) != (wantOther == nil):
			t.Errorf("%s: other %v, want %v", name, got.Other, wantOther)
		case got.Other != nil && !sameValues(got.Other.Values, wantOther):
			t.Errorf("%s: other %v, want %v", name, got.Other.Values, wantOther)
		}
	}
	every := func(groupSong) bool { return true }

	check("count by rating", datamodel.GroupQuery{By: rating, Series: all[:1], Rank: datamodel.ByKey}, every)
	check("every aggregate by rating", datamodel.GroupQuery{By: rating, Series: all, Rank: datamodel.ByKey}, every)
	check("every aggregate by album", datamodel.GroupQuery{By: album, Series: all, Rank: 0}, every)
	check("by album, ranked by average", datamodel.GroupQuery{By: album, Series: all[:3], Rank: 2}, every)
	// The empty key (7 songs) ranks first and is kept: the others are the
	// albums past the first two.
	check("top 3 albums by count", datamodel.GroupQuery{By: album, Series: all, Rank: 0, Limit: 3}, every)
	check("first 3 ratings by key", datamodel.GroupQuery{By: rating, Series: all, Rank: datamodel.ByKey, Limit: 3}, every)
	check("top 2 ratings by count", datamodel.GroupQuery{By: rating, Series: all[:3], Rank: 0, Limit: 2}, every)
	check("every group within the limit", datamodel.GroupQuery{By: rating, Series: all[:1], Rank: 0, Limit: 10}, every)

	// Filters and search, as a list's.
	gte5 := datamodel.Filter{Field: rating, Op: datamodel.OpGte, Value: int64(5)}
	check("rating ≥ 5 by album", datamodel.GroupQuery{By: album, Series: all, Rank: 0, Limit: 2,
		Filters: []datamodel.Filter{gte5}}, func(s groupSong) bool { return s.rating >= 5 })
	hasAlbum := datamodel.Filter{Field: album, Op: datamodel.OpEmpty, Value: false}
	check("with an album, top 1", datamodel.GroupQuery{By: album, Series: all[:3], Rank: 0, Limit: 1,
		Filters: []datamodel.Filter{hasAlbum}}, func(s groupSong) bool { return s.album != "" })
	check("one album by rating", datamodel.GroupQuery{By: rating, Series: all[:1], Rank: datamodel.ByKey,
		Filters: []datamodel.Filter{{Field: album, Op: datamodel.OpEq, Value: &datamodel.Ref{ID: ids["Gamma"]}}}},
		func(s groupSong) bool { return s.album == "Gamma" })
	check("search love by album", datamodel.GroupQuery{By: album, Series: all, Rank: 4, Limit: 2,
		Search: "LOVE", SearchFields: []*datamodel.Field{title}},
		func(s groupSong) bool { return strings.Contains(s.title, "love") })
	check("nothing matches", datamodel.GroupQuery{By: album, Series: all, Rank: 0, Limit: 2,
		Search: "no such song", SearchFields: []*datamodel.Field{title}}, func(groupSong) bool { return false })

	// A write of this process is seen at once, cache or not.
	q := datamodel.GroupQuery{By: rating, Series: all[:1], Rank: datamodel.ByKey}
	check("before a write", q, every)
	s := groupSong{title: "Late", rating: 9, album: "Alpha"}
	_, err := songs.Create(ctx, datamodel.Values{"title": s.title, "rating": s.rating, "album": &datamodel.Ref{ID: ids["Alpha"]}})
	must(err)
	written = append(written, s)
	check("after a write", q, every)
	must(albums.Update(ctx, ids["Alpha"], datamodel.Values{"name": "Alpha II"}))
	for i := range written {
		if written[i].album == "Alpha" {
			written[i].album = "Alpha II"
		}
	}
	ids["Alpha II"] = ids["Alpha"]
	check("after an album's rename", datamodel.GroupQuery{By: album, Series: all[:1], Rank: 0}, every)

	// What cannot be grouped is refused.
	for name, bad := range map[string]datamodel.GroupQuery{
		"by a text":          {By: title, Series: all[:1]},
		"no series":          {By: rating},
		"the sum of a text":  {By: rating, Series: []datamodel.Series{{Agg: datamodel.AggSum, Field: title}}},
		"an unknown rank":    {By: rating, Series: all[:1], Rank: 1},
		"an unknown agg":     {By: rating, Series: []datamodel.Series{{Agg: "median", Field: rating}}},
		"a field of another": {By: albums.Schema().Field("name"), Series: all[:1]},
	} {
		if _, err := songs.Group(ctx, bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// expectGroups computes q's groups from the songs written, those keep
// keeps: the direct computation Group is held to.
func expectGroups(q datamodel.GroupQuery, songs []groupSong, keep func(groupSong) bool) ([]groupRow, []float64) {
	type acc struct {
		n             float64
		sum, min, max float64
	}
	type group struct {
		key  string
		num  int64 // the rating, for a key order by number
		accs []acc
	}
	byKey := map[string]*group{}
	var order []*group
	for _, s := range songs {
		if !keep(s) {
			continue
		}
		key := s.album
		if q.By.Name == "rating" {
			key = fmt.Sprint(s.rating)
		}
		g := byKey[key]
		if g == nil {
			g = &group{key: key, num: s.rating, accs: make([]acc, len(q.Series))}
			byKey[key] = g
			order = append(order, g)
		}
		for i := range g.accs {
			a := &g.accs[i]
			v := float64(s.rating)
			if a.n == 0 || v < a.min {
				a.min = v
			}
			if a.n == 0 || v > a.max {
				a.max = v
			}
			a.n++
			a.sum += v
		}
	}
	values := func(accs []acc) []float64 {
		out := make([]float64, len(q.Series))
		for i, s := range q.Series {
			a := accs[i]
			switch {
			case s.Agg == datamodel.AggCount:
				out[i] = a.n
			case a.n == 0:
				out[i] = math.NaN()
			case s.Agg == datamodel.AggSum:
				out[i] = a.sum
			case s.Agg == datamodel.AggAvg:
				out[i] = a.sum / a.n
			case s.Agg == datamodel.AggMin:
				out[i] = a.min
			default:
				out[i] = a.max
			}
		}
		return out
	}
	slices.SortFunc(order, func(a, b *group) int {
		if q.Rank != datamodel.ByKey {
			x, y := values(a.accs)[q.Rank], values(b.accs)[q.Rank]
			if x != y {
				if x > y {
					return -1
				}
				return 1
			}
		}
		switch {
		case a.key == "" || b.key == "":
			return strings.Compare(a.key, b.key) // the empty key first
		case q.By.Name == "rating":
			return int(a.num - b.num)
		}
		return 0 // albums tie only where the data makes sure the order does not matter
	})
	var rows []groupRow
	var other []float64
	rest := make([]acc, len(q.Series))
	for i, g := range order {
		if q.Limit > 0 && i >= q.Limit {
			for j := range rest {
				r, a := &rest[j], g.accs[j]
				if r.n == 0 || a.min < r.min {
					r.min = a.min
				}
				if r.n == 0 || a.max > r.max {
					r.max = a.max
				}
				r.n += a.n
				r.sum += a.sum
			}
			other = []float64{}
			continue
		}
		rows = append(rows, groupRow{g.key, values(g.accs)})
	}
	if other != nil {
		other = values(rest)
	}
	return rows, other
}

func sameRows(got, want []groupRow) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].key != want[i].key || !sameValues(got[i].values, want[i].values) {
			return false
		}
	}
	return true
}

func sameValues(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.IsNaN(got[i]) != math.IsNaN(want[i]) || math.Abs(got[i]-want[i]) > 1e-9 {
			return false
		}
	}
	return true
}
