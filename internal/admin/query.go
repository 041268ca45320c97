package admin

import (
	"maps"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
	"musicadmin/internal/textutil"
)

// listParams is a list request after every parameter has been checked
// against the view's allow-lists. Nothing from the query string reaches the
// data layer except as a declared field or a typed value.
type listParams struct {
	pager   pagination
	sort    *datamodel.Field
	desc    bool
	q       string
	filters []datamodel.Filter
	keep    url.Values     // the accepted filters, to carry into links
	notices []i18n.Message // parameters that were ignored, for the user
	chips   []chip         // the accepted filters, for the user
}

// chip is one accepted filter, with the query key that removing it
// drops, and the filter itself: it is shown as the field's label, the
// operator and the value in the reader's language, and a filter by a
// related record by that record's label (chipLinksAt).
type chip struct {
	key    string
	shown  string // the value as shown: as typed, cut
	yesNo  bool   // shown is "Yes" or "No", a word to translate
	filter datamodel.Filter
	raw    string // the value as typed
}

// The filter menu's forms send these: the list answers them with a
// redirect to the same list with FIELD__OP=VALUE added, so a filter added
// from the menu has the URL a typed one has.
const (
	menuField = "filter_field"
	menuOp    = "filter_op"
	menuValue = "filter_value"
	// menuNotEmpty is the menu's operator for FIELD__empty=false; its
	// "empty" stands for FIELD__empty=true. Neither needs a value typed.
	menuNotEmpty = "notempty"
)

// reserved are the list's own parameters: never a filter.
var reserved = map[string]bool{"page": true, "page_size": true, "sort": true, "q": true,
	menuField: true, menuOp: true, menuValue: true}

// maxPage bounds page so the offset stays far from overflowing.
const maxPage = 1_000_000_000

// parseList reads page, page_size, sort, q and FIELD__OP=VALUE filters. Bad
// values never fail the request: they fall back to defaults or are ignored
// with a notice, as Django admin does.
func (v *ModelView) parseList(query url.Values) listParams {
	p := listParams{pager: pagination{page: 1, size: DefaultPageSize}, sort: v.defSort, desc: v.defDesc, keep: url.Values{}}
	if n, ok := clampedPositive(query.Get("page"), maxPage); ok {
		p.pager.page = n
	}
	if n, ok := clampedPositive(query.Get("page_size"), MaxPageSize); ok {
		p.pager.size = n
	}
	if s := query.Get("sort"); s != "" {
		name, desc := strings.CutPrefix(s, "-")
		if f := v.orderField(name); f != nil {
			p.sort, p.desc = f, desc
		}
	}
	p.q = cleanSearch(query.Get("q"))

	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable order for notices and links
	for _, key := range keys {
		if reserved[key] {
			continue
		}
		name, opText, hasOp := strings.Cut(key, "__")
		op := datamodel.OpEq
		if hasOp {
			op = datamodel.Op(opText)
		}
		f := v.filterField(name)
		if f == nil || !datamodel.Allows(f.Kind, op) {
			p.notices = append(p.notices, i18n.Msg("Ignored unknown filter {{.Key}}.", "Key", strconv.Quote(textutil.Truncate(key, 60))))
			continue
		}
		raw := query.Get(key) // the first value when one is repeated
		if strings.TrimSpace(raw) == "" {
			continue // a filter form's field left empty: no filter
		}
		val, ok := v.filterValue(f, op, raw)
		if !ok {
			p.notices = append(p.notices, i18n.Msg("Ignored filter {{.Key}}: {{.Value}} is not a valid value.",
				"Key", strconv.Quote(textutil.Truncate(key, 60)), "Value", strconv.Quote(textutil.Truncate(raw, 60))))
			continue
		}
		p.filters = append(p.filters, datamodel.Filter{Field: f, Op: op, Value: val})
		p.keep.Set(key, raw)
		c := chip{key: key, shown: textutil.Truncate(raw, 60), filter: p.filters[len(p.filters)-1], raw: raw}
		if _, yesNo := f.Kind.(datamodel.Bool); yesNo && op != datamodel.OpEmpty {
			c.shown, c.yesNo = f.Kind.Text(val), true // "Yes", not whichever of "true", "on", "1" was typed
		}
		p.chips = append(p.chips, c)
	}
	return p
}

// clampedPositive reads a whole number above zero and caps it at limit: a
// number of any length, even one too large for int, is capped rather than
// ignored.
func clampedPositive(s string, limit int) (int, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return min(n, limit), n > 0
	}
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return limit, true // a number too large for int
	}
	return 0, false
}

// filterValue reads the value of a filter on f with op as the field's kind
// does, or reports that it is not one: a reference must have the form of an
// id, and a text is cut to MaxSearchRunes.
func (v *ModelView) filterValue(f *datamodel.Field, op datamodel.Op, raw string) (any, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
		return nil, false
	}
	if op == datamodel.OpEmpty {
		b, err := strconv.ParseBool(raw)
		return b, err == nil
	}
	if f.Target() != "" && !v.Data.ValidID(raw) {
		return nil, false
	}
	val, err := f.Kind.Parse(textutil.Truncate(raw, MaxSearchRunes))
	return val, err == nil
}

// opWords is how the filter menu and a chip say op on f: "has" for a
// set's one operator (the records whose set holds the option).
func opWords(f *datamodel.Field, op datamodel.Op) string {
	if f.SetOf() != "" && op == datamodel.OpEq {
		return "has"
	}
	return opLabel(op)
}

func opLabel(op datamodel.Op) string {
	switch op {
	case datamodel.OpContains:
		return "contains"
	case datamodel.OpStartsWith:
		return "starts with"
	case datamodel.OpEq:
		return "="
	case datamodel.OpNe:
		return "≠"
	case datamodel.OpGt:
		return ">"
	case datamodel.OpGte:
		return "≥"
	case datamodel.OpLt:
		return "<"
	case datamodel.OpLte:
		return "≤"
	case datamodel.OpEmpty:
		return "is empty:"
	}
	return string(op)
}

// cleanSearch trims q, drops what is not valid UTF-8 or NUL, and caps it.
func cleanSearch(q string) string {
	q = strings.ToValidUTF8(q, "")
	q = strings.ReplaceAll(q, "\x00", "")
	return textutil.Truncate(strings.TrimSpace(q), MaxSearchRunes)
}

// addFilterURL is the list URL a filter menu form asks for: its query
// without the menu's parameters and the page (a new filter starts again at
// page 1), with the chosen filter set as FIELD__OP=VALUE, in place of the
// field's filter with the same operator however it is spelled (FIELD is
// FIELD__eq): choosing another album replaces the album filtered by.
// Whatever it names is checked as a typed URL is, when the list is shown.
func (v *ModelView) addFilterURL(query url.Values) string { return addFilterURLAt(v.listURL(), query) }

// addFilterURLAt is addFilterURL for the page at base (a list, a chart).
func addFilterURLAt(base string, query url.Values) string {
	out := url.Values{}
	for k, vals := range query {
		switch k {
		case menuField, menuOp, menuValue, "page":
			continue
		}
		out[k] = vals
	}
	field, op, value := query.Get(menuField), query.Get(menuOp), query.Get(menuValue)
	switch op {
	case string(datamodel.OpEmpty):
		value = "true"
	case menuNotEmpty:
		op, value = string(datamodel.OpEmpty), "false"
	}
	if field != "" && op != "" {
		out.Set(field+"__"+op, value)
		if op == string(datamodel.OpEq) {
			out.Del(field)
		}
	}
	if len(out) == 0 {
		return base
	}
	return base + "?" + out.Encode()
}

// without returns p with the filter of query key key dropped.
func (p listParams) without(key string) listParams {
	p.keep = maps.Clone(p.keep)
	p.keep.Del(key)
	return p
}

// sized returns p with page size n.
func (p listParams) sized(n int) listParams {
	p.pager.size = n
	return p
}

// urlFor returns the list URL of p at page, sorted by sortKey.
func (v *ModelView) urlFor(p listParams, page int, sortKey string) string {
	return urlAt(v.listURL(), p, page, sortKey)
}

// urlAt is urlFor for the page at base (a list, a chart).
func urlAt(base string, p listParams, page int, sortKey string) string {
	q := url.Values{}
	for k, vals := range p.keep {
		q[k] = vals
	}
	if p.q != "" {
		q.Set("q", p.q)
	}
	if p.pager.size != DefaultPageSize {
		q.Set("page_size", strconv.Itoa(p.pager.size))
	}
	if sortKey != "" {
		q.Set("sort", sortKey)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return base
	}
	return base + "?" + q.Encode()
}

func sortKey(f *datamodel.Field, desc bool) string {
	if f == nil {
		return ""
	}
	if desc {
		return "-" + f.Name
	}
	return f.Name
}
