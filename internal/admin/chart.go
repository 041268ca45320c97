package admin

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"musicadmin/internal/access"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
	"musicadmin/internal/view"
)

// ChartCategory is the menu category of the charts.
const ChartCategory = "Charts"

// Chart declares a chart of a model view's records, as a ModelView
// declares a list: the records grouped by a field, a series of aggregates
// per group, computed by the database (datamodel.Interface.Group) with the
// view's filters and search, drawn as SVG beside its numbers. Whoever may
// list the view may see the chart (its can_list).
type Chart struct {
	Name   string // URL segment: /charts/{Name}/
	Title  string // menu entry and heading
	View   *ModelView
	By     string        // the field grouped by: a number or a reference
	Series []ChartSeries // the first is drawn; every one is in the table
	// ByKey orders the groups by key; otherwise by the first series,
	// largest first.
	ByKey bool
	// Top keeps that many groups, the rest shown as one "Other" (0:
	// every group).
	Top int
	// Kind is how the first series is drawn: "bar" (horizontal, the
	// default), "column", "pie" or "line".
	Kind string

	by     *datamodel.Field
	series []datamodel.Series
}

// ChartSeries is one aggregate of a chart: Agg of Field ("" for a count),
// headed Label.
type ChartSeries struct {
	Agg   datamodel.Agg
	Field string
	Label string
}

// ChartsURL is the path the charts are under.
const ChartsURL = "/charts"

func (c *Chart) url() string    { return ChartsURL + "/" + c.Name + "/" }
func (c *Chart) csvURL() string { return c.url() + "data.csv" }

// AddCharts declares charts over a's views, checked as the views are: a
// name that does not exist is an error at start-up.
func (a *Admin) AddCharts(charts ...*Chart) error {
	for _, c := range charts {
		if err := c.resolve(a); err != nil {
			return err
		}
		if slices.ContainsFunc(a.charts, func(o *Chart) bool { return o.Name == c.Name }) {
			return fmt.Errorf("admin: chart %q declared twice", c.Name)
		}
		a.charts = append(a.charts, c)
	}
	return nil
}

func (c *Chart) resolve(a *Admin) error {
	if c.Name == "" || c.View == nil || !slices.Contains(a.views, c.View) || len(c.Series) == 0 {
		return fmt.Errorf("admin: chart %q needs a name, a declared view and a series", c.Name)
	}
	if c.Title == "" {
		c.Title = c.Name
	}
	switch c.Kind {
	case "":
		c.Kind = "bar"
	case "bar", "column", "pie", "line":
	default:
		return fmt.Errorf("admin: chart %s: unknown kind %q", c.Name, c.Kind)
	}
	schema := c.View.schema
	if c.by = schema.Field(c.By); c.by == nil {
		return fmt.Errorf("admin: chart %s: %q is not a field of %s", c.Name, c.By, schema.Name)
	}
	c.series = nil
	for i, s := range c.Series {
		sr := datamodel.Series{Agg: s.Agg}
		if s.Field != "" {
			if sr.Field = schema.Field(s.Field); sr.Field == nil {
				return fmt.Errorf("admin: chart %s: %q is not a field of %s", c.Name, s.Field, schema.Name)
			}
		}
		if s.Label == "" {
			return fmt.Errorf("admin: chart %s: series %d needs a label", c.Name, i)
		}
		c.series = append(c.series, sr)
	}
	q := c.query(listParams{})
	if err := q.Check(schema); err != nil {
		return fmt.Errorf("admin: chart %s: %w", c.Name, err)
	}
	return nil
}

// query is the grouping of the chart for the list parameters p (its
// filters and search).
func (c *Chart) query(p listParams) datamodel.GroupQuery {
	q := datamodel.GroupQuery{Filters: p.filters, Search: p.q, SearchFields: c.View.search, By: c.by,
		Series: c.series, Limit: c.Top}
	if c.ByKey {
		q.Rank = datamodel.ByKey
	}
	return q
}

// Charts returns the declared charts.
func (a *Admin) Charts() []*Chart { return slices.Clone(a.charts) }

// chartMenu is the menu category of the charts, each shown to whoever may
// list its view.
func (a *Admin) chartMenu() []view.MenuCategory {
	if len(a.charts) == 0 {
		return nil
	}
	cat := view.MenuCategory{Name: ChartCategory}
	for _, c := range a.charts {
		cat.Items = append(cat.Items, view.MenuItem{Title: c.Title, URL: c.url(), View: c.View.Name, Action: access.CanList})
	}
	return []view.MenuCategory{cat}
}

// mountCharts registers the charts' routes on r, each behind can_list on
// its view.
func (a *Admin) mountCharts(r *access.Router) {
	for _, c := range a.charts {
		perm := access.On(c.View.Name, access.CanList)
		r.Get(ChartsURL+"/"+c.Name, perm, view.Redirect(c.url()))
		r.Get(c.url(), perm, c.handle)
		r.Get(c.csvURL(), perm, c.handleCSV)
	}
}

// chartRow is one group of a chart as shown: its label and its values,
// each as a number and as text.
type chartRow struct {
	Label  string
	Values []float64
	Texts  []string
	Other  bool
}

// rowsOf are the chart's rows for g: the groups, then Other, named in
// the language of ctx.
func (c *Chart) rowsOf(ctx context.Context, g datamodel.Grouping) []chartRow {
	var out []chartRow
	for _, grp := range g.Groups {
		label := i18n.Text(ctx, "(none)")
		if grp.Key != nil {
			if ref, isRef := grp.Key.(*datamodel.Ref); !isRef || ref != nil {
				label = c.by.Kind.Text(grp.Key)
			}
		}
		out = append(out, chartRow{Label: label, Values: grp.Values, Texts: c.texts(grp.Values)})
	}
	if g.Other != nil {
		// "Other" in English: go-i18n reserves that id.
		out = append(out, chartRow{Label: i18n.Text(ctx, "Other groups"), Values: g.Other.Values, Texts: c.texts(g.Other.Values), Other: true})
	}
	return out
}

// texts are values as the table and the CSV show them: counts, sums,
// minimums and maximums of whole numbers as such, averages to two places,
// nothing for no value.
func (c *Chart) texts(values []float64) []string {
	out := make([]string, len(values))
	for i, v := range values {
		switch {
		case math.IsNaN(v):
		case c.series[i].Agg == datamodel.AggAvg:
			out[i] = strconv.FormatFloat(v, 'f', 2, 64)
		default:
			out[i] = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return out
}

type chartPage struct {
	Title, ChartURL, CSVURL, ListURL string
	Q, SearchLabel                   string
	SearchMax                        int
	Keep                             []hidden // the chart's filters, for its GET forms
	Filtered                         bool
	Notices                          []i18n.Message
	Chips                            []chipLink
	FilterMenu                       []filterMenu
	Columns                          []string // the key's label, then the series' (ids, for t)
	Rows                             []chartRow
	SVG                              chartSVG
}

// FilterAction is where the filter menu's forms go: the chart.
func (p chartPage) FilterAction() string { return p.ChartURL }

// handle handles "GET /charts/{name}/": the chart of the records the
// list's filters and search keep. A submitted filter menu form is
// answered with a redirect to the chart URL it stands for, as on a list.
func (c *Chart) handle(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if query.Has(menuField) || query.Has(menuOp) || query.Has(menuValue) {
		http.Redirect(w, r, addFilterURLAt(c.url(), query), http.StatusFound)
		return
	}
	v := c.View
	p := v.parseList(query)
	g, err := v.Data.Group(r.Context(), c.query(p))
	if err != nil {
		v.admin.ui.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	data := chartPage{Title: c.Title, ChartURL: c.url(), CSVURL: urlAt(c.csvURL(), p, 1, ""),
		Q: p.q, SearchLabel: v.searchLabel(ctx), SearchMax: MaxSearchRunes, Notices: p.notices,
		Filtered: p.q != "" || len(p.filters) > 0, FilterMenu: v.filterMenu(ctx), Rows: c.rowsOf(ctx, g)}
	if data.Chips, err = v.chipLinksAt(r.Context(), p, c.url(), ""); err != nil {
		v.admin.ui.Fail(w, r, err)
		return
	}
	if v.allowed(r).list {
		data.ListURL = urlAt(v.listURL(), p, 1, "")
	}
	for _, k := range sortedKeys(p.keep) {
		data.Keep = append(data.Keep, hidden{k, p.keep.Get(k)})
	}
	data.Columns = append(data.Columns, c.by.Label)
	for _, s := range c.Series {
		data.Columns = append(data.Columns, s.Label)
	}
	data.SVG = c.draw(ctx, data.Rows)
	v.admin.ui.Render(w, r, http.StatusOK, "chart", c.Title, data)
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// handleCSV handles "GET /charts/{name}/data.csv": the chart's numbers,
// a row per group and one for Other, with the same filters and search;
// its header and Other are in the request's language.
func (c *Chart) handleCSV(w http.ResponseWriter, r *http.Request) {
	v := c.View
	p := v.parseList(r.URL.Query())
	g, err := v.Data.Group(r.Context(), c.query(p))
	if err != nil {
		v.admin.ui.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+c.Name+`.csv"`)
	out := bufio.NewWriter(w)
	ctx := r.Context()
	head := []string{csvCell(i18n.Text(ctx, c.by.Label))}
	for _, s := range c.Series {
		head = append(head, csvCell(i18n.Text(ctx, s.Label)))
	}
	if err := writeCSVRecord(out, head); err != nil {
		return
	}
	for _, row := range c.rowsOf(ctx, g) {
		if err := writeCSVRecord(out, append([]string{csvCell(row.Label)}, row.Texts...)); err != nil {
			return
		}
	}
	if err := out.Flush(); err != nil {
		v.admin.log.Info("chart export cut short", "chart", c.Name, "err", err)
	}
}
