package admin

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
	"musicadmin/internal/textutil"
)

// hidden is one of the list's parameters that its GET forms carry.
type hidden struct{ Name, Value string }

// pageLink is one entry of the numbered pager: a page with its URL, the
// current page (no URL), or a gap (Number 0).
type pageLink struct {
	Number int
	URL    string
}

// sizeLink offers one page size; the current one has no URL.
type sizeLink struct {
	Size int
	URL  string
}

// chipLink shows one active filter and the list without it.
type chipLink struct {
	Text, RemoveURL string
}

// filterMenu is one row of the filter menu: a GET form for one field, with
// only the operators its kind allows and an input of its kind.
type filterMenu struct {
	Field, Label string
	Ops          []opChoice
	Input        string // "text", "number" or "bool" (a yes/no choice)
	MaxLength    int
	Min, Max     int64 // a "number" input's range, when Min < Max
	Ref          bool  // the value is the id of a record of Target
	Target       string
	// Lookup, for a reference whose target can be searched by label, is
	// the forms' searchable input in place of the plain id input: the
	// same control, whatever the number of records (lookup.go).
	Lookup *input
}

type opChoice struct{ Value, Label string }

type listPage struct {
	Title, Singular string
	// Noun is Singular as a word inside a sentence, in the request's
	// language ("song", "Song", "canción"): "Add {{.Singular}}" reads
	// "Añadir canción" in Spanish.
	Noun            string
	ListURL, AddURL string
	// SearchLabel names the fields q searches, in the request's language.
	Q, SearchLabel string
	// SearchHint is the search box's placeholder: "Search" and the
	// fields it searches when that fits a phone's box, else "Search…"
	// (the label, read aloud, and the tooltip still name them).
	SearchHint       string
	SearchMax        int
	Keep             []hidden // the list's parameters but q and page, for its GET forms
	Filtered         bool
	Notices          []i18n.Message
	Chips            []chipLink
	FilterMenu       []filterMenu
	Columns          []column
	Rows             []row
	Total            int64
	Count            int  // Total, for the plural form of "{{.Count}} records"
	AtLeast          bool // Total is a lower bound
	Page, Pages      int
	PrevURL, NextURL string
	PageLinks        []pageLink
	Sizes            []sizeLink // empty when no choice would change the list
	ExportURL        string     // the export of every row with this list's filters, search and sort
	Actions          []actionButton
	ListQuery        string // this list's query, for the bulk form to come back to (bulk.go)
}

// FilterAction is where the filter menu's forms go: the list.
func (p listPage) FilterAction() string { return p.ListURL }

// handleList handles "GET /{view}/list/". A submitted filter menu form is
// answered with a redirect to the list URL it stands for.
func (v *ModelView) handleList(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if query.Has(menuField) || query.Has(menuOp) || query.Has(menuValue) {
		http.Redirect(w, r, v.addFilterURL(query), http.StatusFound)
		return
	}
	p := v.parseList(query)
	res, err := v.listRecords(r.Context(), &p)
	if err != nil {
		v.admin.ui.Fail(w, r, err)
		return
	}
	data := v.listPageOf(r, p, res)
	if data.Chips, err = v.chipLinks(r.Context(), p); err != nil {
		v.admin.ui.Fail(w, r, err)
		return
	}
	data.PrevURL, data.NextURL, data.PageLinks = v.pagerLinks(p, len(res.Records))
	data.Sizes = v.sizeLinks(p, res)
	v.admin.ui.RenderTrail(w, r, http.StatusOK, "list", v.Title, v.trail(r, nil, ""), data)
}

// listRecords reads the page of records p asks for. A page past the end,
// which only the count read with it reveals, is read again as the last
// page, and p moves there.
func (v *ModelView) listRecords(ctx context.Context, p *listParams) (datamodel.Page, error) {
	q := datamodel.Query{Filters: p.filters, Search: p.q, SearchFields: v.search, Sort: p.sort, Desc: p.desc,
		Limit: p.pager.size, Offset: p.pager.offset()}
	res, err := v.Data.List(ctx, q)
	if err != nil {
		return datamodel.Page{}, err
	}
	p.pager.total, p.pager.atLeast = res.Total, res.AtLeast
	if !p.pager.pastEnd(len(res.Records)) {
		return res, nil
	}
	p.pager = p.pager.last()
	q.Offset = p.pager.offset()
	return v.Data.List(ctx, q)
}

// listPageOf is the list page of res, read for p, but for its chips and its
// pager: the heading, the forms, the columns and the rows, with the links
// and buttons the request's user may follow.
func (v *ModelView) listPageOf(r *http.Request, p listParams, res datamodel.Page) listPage {
	can := v.allowed(r)
	ctx := r.Context()
	label := v.searchLabel(ctx)
	data := listPage{Title: v.Title, Singular: v.Singular, Noun: noun(ctx, v.Singular), ListURL: v.listURL(),
		Q: p.q, SearchLabel: label, SearchHint: searchHint(ctx, label), SearchMax: MaxSearchRunes, Notices: p.notices,
		Filtered: p.q != "" || len(p.filters) > 0, Total: res.Total, Count: int(res.Total), AtLeast: res.AtLeast,
		Page: p.pager.page, Pages: p.pager.pages(len(res.Records)), FilterMenu: v.filterMenu(ctx),
		Actions: v.actionButtons(can.grants), Keep: keptParams(p), Columns: v.sortableColumns(ctx, p)}
	if len(data.Actions) > 0 {
		data.ListQuery = v.listQuery(p)
	}
	if can.add {
		data.AddURL = v.addURL()
	}
	if can.export {
		data.ExportURL = v.exportURL(p)
	}
	data.Rows = v.rows(r.Context(), can, res.Records, v.list)
	return data
}

// keptParams are the list's parameters but q and page, as hidden inputs:
// the search form keeps the filters, the sort and the page size.
func keptParams(p listParams) []hidden {
	var out []hidden
	for _, k := range slices.Sorted(maps.Keys(p.keep)) {
		out = append(out, hidden{k, p.keep.Get(k)})
	}
	if p.sort != nil {
		out = append(out, hidden{"sort", sortKey(p.sort, p.desc)})
	}
	if p.pager.size != DefaultPageSize {
		out = append(out, hidden{"page_size", strconv.Itoa(p.pager.size)})
	}
	return out
}

// sortableColumns are the list's column headings. An order column links to
// the list sorted by it, ascending, or descending when it is sorted by it
// ascending already.
func (v *ModelView) sortableColumns(ctx context.Context, p listParams) []column {
	var out []column
	for _, f := range v.list {
		c := column{Label: v.fieldLabel(ctx, f)}
		if v.orderField(f.Name) != nil {
			next := f.Name
			if p.sort == f {
				c.SortDir = "asc"
				if p.desc {
					c.SortDir = "desc"
				} else {
					next = "-" + f.Name
				}
			}
			c.SortURL = v.urlFor(p, 1, next)
		}
		out = append(out, c)
	}
	return out
}

// chipLinks show the filters in force, each with the list without it, in
// the language of ctx. A filter by a related record names it by its
// label, not its id.
func (v *ModelView) chipLinks(ctx context.Context, p listParams) ([]chipLink, error) {
	return v.chipLinksAt(ctx, p, v.listURL(), sortKey(p.sort, p.desc))
}

// chipLinksAt is chipLinks for the page at base (a list, a chart), sorted
// by current.
func (v *ModelView) chipLinksAt(ctx context.Context, p listParams, base, current string) ([]chipLink, error) {
	var out []chipLink
	for _, c := range p.chips {
		shown := c.shown
		switch {
		case c.filter.Op == datamodel.OpEmpty:
			// Yes or no, as typed in English ("true", "1"); in the
			// words of another language.
			if b, _ := c.filter.Value.(bool); i18n.Of(ctx) != i18n.Default {
				shown = i18n.Text(ctx, yesNo(b))
			}
		case c.yesNo:
			shown = i18n.Text(ctx, shown)
		}
		label, err := v.refLabel(ctx, c)
		if err != nil {
			return nil, err
		}
		if label == "" && v.Name == v.admin.historyView && c.filter.Field.Name == "view_name" {
			// The audit log by view: the view by its title, as its column.
			if s, _ := c.filter.Value.(string); v.admin.ViewTitle(s) != "" {
				label = v.admin.ViewTitle(s)
			}
		}
		if label != "" {
			shown = textutil.Truncate(label, 60)
		}
		text := fmt.Sprintf("%s %s %s", i18n.Text(ctx, c.filter.Field.Label), i18n.Text(ctx, opWords(c.filter.Field, c.filter.Op)), shown)
		out = append(out, chipLink{Text: text, RemoveURL: urlAt(base, p.without(c.key), 1, current)})
	}
	return out, nil
}

// pagerLinks are the previous and next pages' URLs ("" where there is none)
// and the numbered pager, for a page of p that holds rows records.
func (v *ModelView) pagerLinks(p listParams, rows int) (prev, next string, numbered []pageLink) {
	current := sortKey(p.sort, p.desc)
	if p.pager.hasPrev() {
		prev = v.urlFor(p, p.pager.page-1, current)
	}
	if p.pager.hasNext(rows) {
		next = v.urlFor(p, p.pager.page+1, current)
	}
	for _, n := range p.pager.numbers(rows) {
		l := pageLink{Number: n}
		if n != 0 && n != p.pager.page {
			l.URL = v.urlFor(p, n, current)
		}
		numbered = append(numbered, l)
	}
	return prev, next, numbered
}

// sizeLinks offer the page sizes once the list res counts is longer than
// the smallest, or when the page is of another size: a short list has
// nothing to choose.
func (v *ModelView) sizeLinks(p listParams, res datamodel.Page) []sizeLink {
	if res.Total <= int64(pageSizes[0]) && !res.AtLeast && p.pager.size == DefaultPageSize {
		return nil
	}
	current := sortKey(p.sort, p.desc)
	out := make([]sizeLink, 0, len(pageSizes))
	for _, n := range pageSizes {
		l := sizeLink{Size: n}
		if n != p.pager.size {
			l.URL = v.urlFor(p.sized(n), 1, current)
		}
		out = append(out, l)
	}
	return out
}

// filterMenu describes a form per filter field, each offering only the
// operators of the field's kind. Its labels are the catalogue's ids: the
// template translates them; the target of a reference is named in the
// language of ctx.
func (v *ModelView) filterMenu(ctx context.Context) []filterMenu {
	var out []filterMenu
	for _, f := range v.filter {
		m := filterMenu{Field: f.Name, Label: f.Label, Input: "text", MaxLength: MaxSearchRunes}
		in := f.Kind.Input()
		switch {
		case f.Target() != "":
			// An id, typed, or the searchable input of the forms, which
			// is a plain id input without script. A select of every
			// record would not scale.
			m.Ref, m.Target, m.MaxLength = true, f.Target(), 64
			if target := v.admin.byModel[f.Target()]; target != nil && i18n.Of(ctx) != i18n.Default {
				m.Target = noun(ctx, target.Singular) // English names the model, as it always has
			}
			if target := v.refTarget(f); target != nil {
				m.Lookup = v.filterLookup(ctx, f, target)
			}
		case in.Type == "number":
			m.Input, m.MaxLength, m.Min, m.Max = "number", 0, in.Min, in.Max
		case in.Type == "checkbox":
			m.Input, m.MaxLength = "bool", 0
		}
		for _, op := range f.Kind.Ops() {
			if op == datamodel.OpEmpty {
				m.Ops = append(m.Ops, opChoice{string(op), "is empty"}, opChoice{menuNotEmpty, "is not empty"})
				continue
			}
			m.Ops = append(m.Ops, opChoice{string(op), opWords(f, op)})
		}
		out = append(out, m)
	}
	return out
}

// searchLabel names the fields q searches, in the language of ctx:
// "Username, First name, Last name".
func (v *ModelView) searchLabel(ctx context.Context) string {
	labels := make([]string, len(v.search))
	for i, f := range v.search {
		labels[i] = i18n.Text(ctx, f.Label)
	}
	return joinList(ctx, labels)
}

// joinList joins items as a list in the language of ctx: "a, b, c"
// ("a، b، c" in Arabic).
func joinList(ctx context.Context, items []string) string {
	if len(items) == 0 {
		return ""
	}
	out := items[0]
	for _, it := range items[1:] {
		out = i18n.Text(ctx, "{{.Items}}, {{.Item}}", "Items", out, "Item", it)
	}
	return out
}

// noun is a view's Singular as a word inside a sentence in the language
// of ctx: lower-case in English ("album"), as the catalogue has it
// elsewhere ("Album" in German, "álbum" in Spanish).
func noun(ctx context.Context, singular string) string {
	return i18n.Text(ctx, strings.ToLower(singular))
}

// yesNo is the catalogue's word for b.
func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// maxSearchHint is the longest placeholder the search box of a 390 px
// phone shows whole, in characters.
const maxSearchHint = 32

// searchHint is the search box's placeholder for the fields label names,
// in the language of ctx.
func searchHint(ctx context.Context, label string) string {
	if hint := i18n.Text(ctx, "Search {{.Fields}}", "Fields", label); utf8.RuneCountInString(hint) <= maxSearchHint {
		return hint
	}
	return i18n.Text(ctx, "Search…")
}
