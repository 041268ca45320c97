package admin_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/go-chi/chi/v5"

	"musicadmin/internal/access"
	"musicadmin/internal/admin"
	"musicadmin/internal/apptest"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/memstore"
	"musicadmin/internal/view"
)

// TestChartDeclarations checks that a chart that cannot work is refused
// when it is declared, not when it is asked for.
func TestChartDeclarations(t *testing.T) {
	st := memstore.New()
	makers, _ := st.Declare(makerSchema)
	instruments, _ := st.Declare(instrumentSchema)
	makerView, instrumentView := declare(makers, instruments)
	adm, err := admin.New(slog.New(slog.DiscardHandler), makerView, instrumentView)
	if err != nil {
		t.Fatal(err)
	}
	count := []admin.ChartSeries{{Agg: datamodel.AggCount, Label: "Instruments"}}
	other := &admin.ModelView{Name: "other", Singular: "Other", Data: instruments}
	for name, c := range map[string]*admin.Chart{
		"no name":             {View: instrumentView, By: "maker", Series: count},
		"no view":             {Name: "x", By: "maker", Series: count},
		"an undeclared view":  {Name: "x", View: other, By: "maker", Series: count},
		"no series":           {Name: "x", View: instrumentView, By: "maker"},
		"an unknown field":    {Name: "x", View: instrumentView, By: "colour", Series: count},
		"by a text":           {Name: "x", View: instrumentView, By: "name", Series: count},
		"a series of a text":  {Name: "x", View: instrumentView, By: "maker", Series: []admin.ChartSeries{{Agg: datamodel.AggSum, Field: "name", Label: "S"}}},
		"a series' unknown":   {Name: "x", View: instrumentView, By: "maker", Series: []admin.ChartSeries{{Agg: datamodel.AggSum, Field: "colour", Label: "S"}}},
		"a series, no label":  {Name: "x", View: instrumentView, By: "maker", Series: []admin.ChartSeries{{Agg: datamodel.AggCount}}},
		"an unknown kind":     {Name: "x", View: instrumentView, By: "maker", Series: count, Kind: "donut"},
		"an unknown agg":      {Name: "x", View: instrumentView, By: "maker", Series: []admin.ChartSeries{{Agg: "median", Field: "strings", Label: "M"}}},
		"a count of a field ": {Name: "x", View: instrumentView, By: "maker", Series: []admin.ChartSeries{{Agg: datamodel.AggCount, Field: "strings", Label: "C"}}},
	} {
		if err := adm.AddCharts(c); err == nil {
			t.Errorf("%s: declared", name)
		}
	}
	ok := &admin.Chart{Name: "ok", View: instrumentView, By: "maker", Series: count}
	if err := adm.AddCharts(ok); err != nil {
		t.Fatal(err)
	}
	if err := adm.AddCharts(&admin.Chart{Name: "ok", View: instrumentView, By: "strings", Series: count}); err == nil {
		t.Error("a second chart of the same name: declared")
	}
}

// TestChartKinds draws a chart of each kind over the memory store: the
// marks the SVG holds (a rectangle per group for bars and columns, a slice
// per group with a share for a pie, a point per group on a line), the
// numbers table beside it, Other past the top, and "(none)" for the
// instruments of no maker.
func TestChartKinds(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	makers, _ := st.Declare(makerSchema)
	instruments, _ := st.Declare(instrumentSchema)
	makerView, instrumentView := declare(makers, instruments)
	for i := range 5 {
		m, err := makers.Create(ctx, datamodel.Values{"name": fmt.Sprintf("Maker %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		for j := range i + 1 {
			if _, err := instruments.Create(ctx, datamodel.Values{"name": fmt.Sprintf("I %d-%d", i, j),
				"strings": int64(j + 4), "maker": &datamodel.Ref{ID: m}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := instruments.Create(ctx, datamodel.Values{"name": "Orphan", "strings": int64(1), "maker": (*datamodel.Ref)(nil)}); err != nil {
		t.Fatal(err)
	}
	adm, err := admin.New(slog.New(slog.DiscardHandler), makerView, instrumentView)
	if err != nil {
		t.Fatal(err)
	}
	series := []admin.ChartSeries{{Agg: datamodel.AggCount, Label: "Instruments"},
		{Agg: datamodel.AggMax, Field: "strings", Label: "Most strings"}}
	charts := []*admin.Chart{
		{Name: "bar", View: instrumentView, By: "maker", Series: series, Top: 3, Kind: "bar"},
		{Name: "column", View: instrumentView, By: "strings", ByKey: true, Series: series[:1], Kind: "column"},
		{Name: "pie", View: instrumentView, By: "maker", Series: series, Top: 3, Kind: "pie"},
		{Name: "line", View: instrumentView, By: "strings", ByKey: true, Series: series[:1], Kind: "line"},
	}
	if err := adm.AddCharts(charts...); err != nil {
		t.Fatal(err)
	}
	ui, err := view.New("Test Admin", slog.New(slog.DiscardHandler), adm.Menu(), func(_ http.ResponseWriter, r *http.Request) view.Common {
		return view.Common{User: "tester", Grants: access.GrantsOf(r)}
	})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(asAdmin)
	adm.Mount(access.NewRouter(r, forbidden), ui, func(http.ResponseWriter, *http.Request, string) {})
	c := apptest.Serve(t, r).Client()

	byMaker := [][]string{{"Maker 4", "5", "8"}, {"Maker 3", "4", "7"}, {"Maker 2", "3", "6"}, {"Other", "4", "5"}}
	byStrings := [][]string{{"1", "1"}, {"4", "5"}, {"5", "4"}, {"6", "3"}, {"7", "2"}, {"8", "1"}}
	for _, tc := range []struct {
		name, marks string
		n           int
		want        [][]string
	}{
		{"bar", "svg rect.mark", 4, byMaker},
		{"column", "svg rect.mark", 6, byStrings},
		{"pie", "svg path.mark", 4, byMaker},
		{"line", "svg circle.mark", 6, byStrings},
	} {
		res := c.Get("/charts/" + tc.name + "/")
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d", tc.name, res.Status)
		}
		if n := res.Doc.Find(tc.marks).Length(); n != tc.n {
			t.Errorf("%s: %d %s, want %d", tc.name, n, tc.marks, tc.n)
		}
		if tc.name == "line" && res.Doc.Find("svg polyline.line").Length() != 1 {
			t.Error("line: no polyline")
		}
		var got [][]string
		res.Doc.Find("table.chart-table tbody tr").Each(func(_ int, tr *goquery.Selection) {
			row := []string{strings.TrimSpace(tr.Find("th").Text())}
			tr.Find("td").Each(func(_ int, td *goquery.Selection) { row = append(row, strings.TrimSpace(td.Text())) })
			got = append(got, row)
		})
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: table %q, want %q", tc.name, got, tc.want)
		}
		// No style attribute: the CSP forbids inline style.
		if strings.Contains(res.Body, "style=") {
			t.Errorf("%s: an inline style attribute", tc.name)
		}
	}
	// With every group kept, the instruments of no maker are "(none)".
	res := c.Get("/charts/bar/?strings__lt=2")
	if got := strings.TrimSpace(res.Doc.Find("table.chart-table tbody th").First().Text()); got != "(none)" {
		t.Errorf("the group of no maker is %q", got)
	}
}
