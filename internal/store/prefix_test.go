package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"musicadmin/internal/apptest"
	"musicadmin/internal/catalog"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/seed"
	"musicadmin/internal/store"
	"musicadmin/internal/textindex"
)

// prefixNames spell the same starts in many ways: every case, the Kelvin
// sign and the dotted İ (which fold into ASCII), a start that is the whole
// name, and names around those that must stay out.
var prefixNames = []string{
	"gold", "Gold Rush", "GOLD", "gOLDEN hour", "Golden Hour", "golden hour 2", "GOLDEN HOUR 3", "Goldfinch",
	"Gol", "Go", "Gom", "Gnome", "\u212Aelvin Gold", "Kelvin", "kELVIN", "İstanbul", "Istanbul", "istanbul 2",
	"Iß", "iss", "Zebra", "golden\thour", "Golden Hou",
}

// TestPrefixPagesReadRanges checks the pages of a prefix filter sorted by
// the (unique) field it filters, read as one index range per spelling of
// the text's start: against the rule computed in Go (the folded name starts
// with the folded text), in either direction, at any offset, with a text of
// more spellings than the ranges (its rest checked in them), and the plan
// of each range on every dialect: a seek in the unique index.
func TestPrefixPagesReadRanges(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		ctx := context.Background()
		db, _ := apptest.OpenMigrated(t, b)
		models, err := catalog.Declare(store.New(db))
		if err != nil {
			t.Fatal(err)
		}
		albums := models.Albums.(*store.Model[store.Album])
		name := albums.Schema().Field("name")
		names := map[string]string{}
		for _, n := range prefixNames {
			id, err := albums.Create(ctx, datamodel.Values{"name": n})
			if err != nil {
				t.Fatalf("create %q: %v", n, err)
			}
			names[id] = n
		}
		for _, q := range []string{"gol", "GOLD", "golden hour", "Golden Hour 3", "k", "kel", "ist", "İST", "is",
			"go", "zzz", "g", "golden\th", "Ω"} {
			var want []string
			for id, n := range names {
				if strings.HasPrefix(textindex.Fold(n), textindex.Fold(q)) {
					want = append(want, id)
				}
			}
			slices.SortFunc(want, func(a, b string) int { return strings.Compare(names[a], names[b]) })
			for _, desc := range []bool{false, true} {
				all := slices.Clone(want)
				if desc {
					slices.Reverse(all)
				}
				for _, page := range []struct{ offset, limit int }{{0, 25}, {0, 2}, {1, 2}, {3, 4}} {
					query := datamodel.Query{Filters: []datamodel.Filter{{Field: name, Op: datamodel.OpStartsWith, Value: q}},
						Sort: name, Desc: desc, Offset: page.offset, Limit: page.limit, NoCount: page.offset == 0}
					got, err := albums.List(ctx, query)
					if err != nil {
						t.Fatalf("%q: %v", q, err)
					}
					wantPage := all[min(page.offset, len(all)):min(page.offset+page.limit, len(all))]
					if !slices.Equal(ids(got), wantPage) {
						t.Errorf("startswith %q desc %v offset %d limit %d: %q, want %q", q, desc, page.offset, page.limit,
							labelsOf(got, names), labelsOf(datamodel.Page{Records: recordsOf(wantPage)}, names))
					}
					if !query.NoCount && (got.AtLeast || got.Total != int64(len(want))) {
						t.Errorf("startswith %q: total %d at least %v, want %d", q, got.Total, got.AtLeast, len(want))
					}
				}
			}
		}
	})
}

// TestPrefixPagePlanSeeksRanges checks the plan of a prefix page sorted by
// the name, the lookup's first search, at a few thousand albums on every
// dialect: each spelling's range is a seek in the unique index of names,
// read from the index alone, and no scan of the table.
func TestPrefixPagePlanSeeksRanges(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		db, _ := apptest.OpenMigrated(t, b)
		sqlDB, _ := db.DB()
		if err := seed.Run(context.Background(), sqlDB, seed.Options{Albums: 3000}, nil); err != nil {
			t.Fatal(err)
		}
		switch b.Driver {
		case "mysql":
			if err := db.Exec("ANALYZE TABLE albums").Error; err != nil {
				t.Fatal(err)
			}
		case "postgres":
			if err := db.Exec("VACUUM ANALYZE albums").Error; err != nil {
				t.Fatal(err)
			}
		}
		models, err := catalog.Declare(store.New(db))
		if err != nil {
			t.Fatal(err)
		}
		albums := models.Albums.(*store.Model[store.Album])
		name := albums.Schema().Field("name")
		query, args, ok := store.PrefixPage(albums, datamodel.Query{Filters: []datamodel.Filter{{Field: name,
			Op: datamodel.OpStartsWith, Value: "golden hour"}}, Sort: name, Limit: 21})
		if !ok {
			t.Fatal("a prefix sorted by the name is not read by ranges")
		}
		switch b.Driver {
		case "mysql":
			// One range scan of the index of names, in its 8 intervals
			// and in its order (no sort of what it reads), then the
			// page's rows by key.
			var plan []struct{ Table, Type, Key, Extra string }
			if err := db.Raw("EXPLAIN "+query, args...).Scan(&plan).Error; err != nil {
				t.Fatal(err)
			}
			ranges := 0
			for _, p := range plan {
				if p.Table == "albums" && p.Type == "range" && p.Key == "ux_albums_name" && !strings.Contains(p.Extra, "filesort") {
					ranges++
				} else if p.Table == "albums" && p.Type != "eq_ref" {
					t.Errorf("plan reads albums by %s %s (%s): %+v", p.Type, p.Key, p.Extra, plan)
				}
			}
			if ranges != 1 {
				t.Errorf("plan has %d ordered range scans of ux_albums_name, want 1: %+v", ranges, plan)
			}
		case "postgres":
			// The statement is prepared: PostgreSQL plans it with its
			// values five times, then may keep a generic plan. Both must
			// read each range from the index of names (one LATERAL scan
			// of it, run once per range: Index Only Scan or Index Scan,
			// as the visibility map, which a shared test server's other
			// sessions keep VACUUM from setting, allows), then the page's
			// rows by key, and never scan the table. Where it expects
			// a range to hold a row or two (no all-visible pages, its
			// index-only scan dearer), it may read the range as a
			// bitmap of the same index and sort that instead.
			custom := postgresPlan(t, db, query, args...)
			var generic string
			if err := db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Exec("SET LOCAL plan_cache_mode = force_generic_plan").Error; err != nil {
					return err
				}
				generic = postgresPlan(t, tx, query, args...)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for _, plan := range []string{custom, generic} {
				ranges := strings.Contains(plan, "Scan using ux_albums_name") ||
					strings.Contains(plan, "Bitmap Index Scan on ux_albums_name")
				if !strings.Contains(plan, "Function Scan on r") || !ranges ||
					!strings.Contains(plan, "Index Scan using albums_pkey") || strings.Contains(plan, "Seq Scan") {
					t.Errorf("plan does not read the ranges from ux_albums_name and the page by key:\n%s", plan)
				}
			}
		default:
			var plan []struct{ Detail string }
			if err := db.Raw("EXPLAIN QUERY PLAN "+query, args...).Scan(&plan).Error; err != nil {
				t.Fatal(err)
			}
			text := fmt.Sprint(plan)
			if n := strings.Count(text, "SEARCH albums USING COVERING INDEX ux_albums_name (name>? AND name<?)"); n != 8 ||
				strings.Contains(text, "SCAN albums") {
				t.Errorf("plan has %d range searches of ux_albums_name, want 8: %s", n, text)
			}
		}
	})
}

func labelsOf(p datamodel.Page, names map[string]string) []string {
	out := []string{}
	for _, r := range p.Records {
		out = append(out, names[r.ID])
	}
	return out
}

func recordsOf(ids []string) []datamodel.Record {
	out := make([]datamodel.Record, len(ids))
	for i, id := range ids {
		out[i].ID = id
	}
	return out
}
