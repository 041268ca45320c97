package admin_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"musicadmin/internal/datamodel"
)

// batched is a store whose Each reads in batches of a size tests may lower.
type batched interface{ SetEachBatch(n int) }

// describe is an instrument record as text: its id and every value, a
// reference's id and label included.
func describe(r datamodel.Record) string {
	maker := "-"
	if ref, _ := r.Values["maker"].(*datamodel.Ref); ref != nil {
		maker = ref.ID + " " + ref.Label
	}
	return fmt.Sprintf("%s %v %v %s", r.ID, r.Values["name"], r.Values["strings"], maker)
}

// TestThirdModelEach: Each visits every record matching a query's filters
// and search, in its sort order with ties by id and records without a
// reference first ascending (last descending), on every store, across
// batch boundaries (batches of 2 records), and stops at fn's error.
func TestThirdModelEach(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		makers, instruments := models(t, b)
		ctx := context.Background()
		if bt, ok := instruments.(batched); ok {
			bt.SetEachBatch(2)
		} else if b.name != "memory" {
			t.Fatalf("%s: the store's models cannot lower their Each batch", b.name)
		}
		// made is each instrument in creation order, which is id order on
		// every store (autoincrement, ObjectIds of one process, a counter).
		type made struct {
			name    string
			strings int64
			maker   int // index in makerIDs; -1: none
		}
		var makerIDs []string
		for _, name := range []string{"Yamaha", "Fender"} {
			id, err := makers.Create(ctx, datamodel.Values{"name": name})
			if err != nil {
				t.Fatal(err)
			}
			makerIDs = append(makerIDs, id)
		}
		all := []made{
			{"Violin", 4, 0}, {"Cello", 4, -1}, {"Harp", 20, 0}, {"Banjo", 5, 1}, {"Ukulele", 4, -1},
			{"Guitar", 6, 1}, {"Bass", 4, 1}, {"Lute", 8, -1}, {"Viola", 4, 0},
		}
		for _, m := range all {
			v := datamodel.Values{"name": m.name, "strings": m.strings}
			if m.maker >= 0 {
				v["maker"] = &datamodel.Ref{ID: makerIDs[m.maker]}
			}
			if _, err := instruments.Create(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		s := instruments.Schema()
		name, strs, maker := s.Field("name"), s.Field("strings"), s.Field("maker")
		// want lists the names of the instruments keep picks, ordered by
		// less and then by id (creation order), all of it reversed by desc.
		want := func(keep func(made) bool, less func(a, b made) int, desc bool) []string {
			idx := []int{}
			for i, m := range all {
				if keep == nil || keep(m) {
					idx = append(idx, i)
				}
			}
			slices.SortStableFunc(idx, func(i, j int) int {
				c := 0
				if less != nil {
					c = less(all[i], all[j])
				}
				if c == 0 {
					c = cmp.Compare(i, j)
				}
				if desc {
					c = -c
				}
				return c
			})
			var out []string
			for _, i := range idx {
				out = append(out, all[i].name)
			}
			return out
		}
		byName := func(a, b made) int { return strings.Compare(a.name, b.name) }
		byStrings := func(a, b made) int { return cmp.Compare(a.strings, b.strings) }
		// Makers sort by the id the reference holds (their creation
		// order); none first.
		byMaker := func(a, b made) int { return cmp.Compare(a.maker, b.maker) }
		cases := []struct {
			name string
			q    datamodel.Query
			want []string
		}{
			{"by id", datamodel.Query{}, want(nil, nil, false)},
			{"by id desc", datamodel.Query{Desc: true}, want(nil, nil, true)},
			{"by name", datamodel.Query{Sort: name}, want(nil, byName, false)},
			{"by name desc", datamodel.Query{Sort: name, Desc: true}, want(nil, byName, true)},
			{"by strings", datamodel.Query{Sort: strs}, want(nil, byStrings, false)},
			{"by strings desc", datamodel.Query{Sort: strs, Desc: true}, want(nil, byStrings, true)},
			{"by maker", datamodel.Query{Sort: maker}, want(nil, byMaker, false)},
			{"by maker desc", datamodel.Query{Sort: maker, Desc: true}, want(nil, byMaker, true)},
			{"strings >= 5 by name", datamodel.Query{Sort: name,
				Filters: []datamodel.Filter{{Field: strs, Op: datamodel.OpGte, Value: int64(5)}}},
				want(func(m made) bool { return m.strings >= 5 }, byName, false)},
			{"search VIOL by strings desc", datamodel.Query{Sort: strs, Desc: true, Search: "VIOL",
				SearchFields: []*datamodel.Field{name}},
				want(func(m made) bool { return strings.Contains(m.name, "Viol") }, byStrings, true)},
			{"maker Fender by name", datamodel.Query{Sort: name,
				Filters: []datamodel.Filter{{Field: maker, Op: datamodel.OpEq, Value: &datamodel.Ref{ID: makerIDs[1]}}}},
				want(func(m made) bool { return m.maker == 1 }, byName, false)},
			{"no maker by strings", datamodel.Query{Sort: strs,
				Filters: []datamodel.Filter{{Field: maker, Op: datamodel.OpEmpty, Value: true}}},
				want(func(m made) bool { return m.maker < 0 }, byStrings, false)},
			{"offset and limit ignored", datamodel.Query{Offset: 3, Limit: 2}, want(nil, nil, false)},
		}
		for _, c := range cases {
			var got []string
			err := instruments.Each(ctx, c.q, func(r datamodel.Record) error {
				got = append(got, r.Values["name"].(string))
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
			}
			// EachReused (what the export reads through) hands the same
			// records, whether or not the store refills one.
			var fresh, reused []string
			if err := instruments.Each(ctx, c.q, func(r datamodel.Record) error {
				fresh = append(fresh, describe(r))
				return nil
			}); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if err := datamodel.EachReused(ctx, instruments, c.q, func(r datamodel.Record) error {
				reused = append(reused, describe(r))
				return nil
			}); err != nil {
				t.Fatalf("%s: EachReused: %v", c.name, err)
			}
			if !slices.Equal(reused, fresh) {
				t.Errorf("%s: EachReused:\n got %q\nwant %q", c.name, reused, fresh)
			}
		}

		// Labels of references come with the records.
		labels := map[string]string{}
		err := instruments.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
			if ref, _ := r.Values["maker"].(*datamodel.Ref); ref != nil {
				labels[r.Values["name"].(string)] = ref.Label
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if labels["Harp"] != "Yamaha" || labels["Bass"] != "Fender" || labels["Cello"] != "" {
			t.Errorf("labels = %v", labels)
		}

		// fn's error stops the walk and comes back as it is.
		stop := errors.New("stop")
		calls := 0
		err = instruments.Each(ctx, datamodel.Query{}, func(datamodel.Record) error {
			calls++
			if calls == 3 {
				return stop
			}
			return nil
		})
		if err != stop || calls != 3 {
			t.Errorf("Each after fn's error: err %v, %d calls; want stop after 3", err, calls)
		}
	})
}
