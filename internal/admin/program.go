package admin

import (
	"context"
	"fmt"
	"net/url"
	"slices"

	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
)

// The programmatic surface of the views: what the JSON API (internal/api)
// reads of a declaration, and the list query it builds from the same
// parameters as a list page, so that a model declared once has both, with
// the same allow-lists. Its writes go through Validate, the Guard and
// WriteContext, as the forms' and the command line's do.

// Views returns the declared views, in the order they were declared.
func (a *Admin) Views() []*ModelView { return slices.Clone(a.views) }

// Schema is the view's model declaration.
func (v *ModelView) Schema() *datamodel.Schema { return v.schema }

// SearchFields are the fields q searches.
func (v *ModelView) SearchFields() []*datamodel.Field { return slices.Clone(v.search) }

// OrderFields are the fields a list may be sorted by.
func (v *ModelView) OrderFields() []*datamodel.Field { return slices.Clone(v.order) }

// FilterFields are the fields FIELD__OP filters may use.
func (v *ModelView) FilterFields() []*datamodel.Field { return slices.Clone(v.filter) }

// DefaultOrder is the sort of a list that names none: its field (nil: by
// id) and direction.
func (v *ModelView) DefaultOrder() (*datamodel.Field, bool) { return v.defSort, v.defDesc }

// WriteContext is ctx, whose actor now acts through v: the store records
// the write's audit entry under the view's name.
func (v *ModelView) WriteContext(ctx context.Context) context.Context { return v.writeContext(ctx) }

// Fixed returns the fields of rec (nil: a new record) that nobody may
// change, each with its note (Guard.Fixed): a save keeps them as stored.
func (v *ModelView) Fixed(rec *datamodel.Record) map[string]string { return v.fixedOf(rec) }

// ListQuery reads the list parameters of a list page (page, page_size,
// sort, q, FIELD__OP=VALUE) into the query of that page, and what a list
// page would ignore with a notice (an unknown filter, a value that is not
// one, a sort by a field that is not an order column) as problems, which a
// program is told rather than shown. The page and its size are returned
// for the answer to echo.
func (v *ModelView) ListQuery(query url.Values) (q datamodel.Query, page, size int, problems []string) {
	p := v.parseList(query)
	for _, m := range p.notices {
		problems = append(problems, m.In(i18n.Default)) // the API speaks English
	}
	if s := query.Get("sort"); s != "" && sortKey(p.sort, p.desc) != s {
		problems = append(problems, fmt.Sprintf("Unknown sort %q: sort by one of the order fields, - first for descending.", s))
	}
	for _, name := range []string{"page", "page_size"} {
		if s := query.Get(name); s != "" {
			if _, ok := clampedPositive(s, maxPage); !ok {
				problems = append(problems, fmt.Sprintf("%s must be a whole number above 0.", name))
			}
		}
	}
	q = datamodel.Query{Filters: p.filters, Search: p.q, SearchFields: v.search, Sort: p.sort, Desc: p.desc,
		Limit: p.pager.size, Offset: p.pager.offset()}
	return q, p.pager.page, p.pager.size, problems
}
