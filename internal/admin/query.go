package admin

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"musicadmin/internal/datamodel"
)

// listParams is a list request after every parameter has been checked
// against the view's allow-lists. Nothing from the query string reaches the
// data layer except as a declared field or a typed value.
type listParams struct {
	page, pageSize int
	sort           *datamodel.Field
	desc           bool
	q              string
	filters        []datamodel.Filter
	keep           url.Values // the accepted filters, to carry into links
	notices        []string   // parameters that were ignored, for the user
	described      []string   // the accepted filters, for the user
}

// maxPage bounds page so the offset stays far from overflowing.
const maxPage = 1_000_000_000

// parseList reads page, page_size, sort, q and FIELD__OP=VALUE filters. Bad
// values never fail the request: they fall back to defaults or are ignored
// with a notice, as Django admin does.
func (v *ModelView) parseList(query url.Values) listParams {
	p := listParams{page: 1, pageSize: DefaultPageSize, sort: v.defSort, desc: v.defDesc, keep: url.Values{}}
	if n, ok := positive(query.Get("page"), maxPage); ok {
		p.page = n
	}
	if n, ok := positive(query.Get("page_size"), MaxPageSize); ok {
		p.pageSize = n
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
		switch key {
		case "page", "page_size", "sort", "q":
			continue
		}
		name, opText, hasOp := strings.Cut(key, "__")
		op := datamodel.OpEq
		if hasOp {
			op = datamodel.Op(opText)
		}
		f := v.filterField(name)
		if f == nil || !allowed(f.Kind, op) {
			p.notices = append(p.notices, fmt.Sprintf("Ignored unknown filter %q.", truncate(key, 60)))
			continue
		}
		raw := query.Get(key) // the first value when one is repeated
		val, ok := filterValue(f, op, raw)
		if !ok {
			p.notices = append(p.notices, fmt.Sprintf("Ignored filter %q: %q is not a valid value.", truncate(key, 60), truncate(raw, 60)))
			continue
		}
		p.filters = append(p.filters, datamodel.Filter{Field: f, Op: op, Value: val})
		p.keep.Set(key, raw)
		p.described = append(p.described, fmt.Sprintf("%s %s %s", f.Label, opLabel(op), truncate(raw, 60)))
	}
	return p
}

// positive reads a whole number above zero capped at limit: a number of
// any length, even one too large for int, is capped rather than ignored.
func positive(s string, limit int) (int, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return min(n, limit), n > 0
	}
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return limit, true // a number too large for int
	}
	return 0, false
}

func allowed(k datamodel.Kind, op datamodel.Op) bool {
	for _, o := range datamodel.OpsFor(k) {
		if o == op {
			return true
		}
	}
	return false
}

// filterValue converts raw to the type the field and operator need.
func filterValue(f *datamodel.Field, op datamodel.Op, raw string) (any, bool) {
	raw = strings.TrimSpace(raw)
	if !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
		return nil, false
	}
	switch {
	case op == datamodel.OpEmpty:
		b, err := strconv.ParseBool(raw)
		return b, err == nil
	case f.Kind == datamodel.KindText:
		return truncate(raw, maxSearchRunes), raw != ""
	default:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || (f.Kind == datamodel.KindRef && n <= 0) {
			return nil, false
		}
		return n, true
	}
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
	return truncate(strings.TrimSpace(q), maxSearchRunes)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// url returns the list URL for p with the given changes.
func (v *ModelView) urlFor(p listParams, page int, sortKey string) string {
	q := url.Values{}
	for k, vals := range p.keep {
		q[k] = vals
	}
	if p.q != "" {
		q.Set("q", p.q)
	}
	if p.pageSize != DefaultPageSize {
		q.Set("page_size", strconv.Itoa(p.pageSize))
	}
	if sortKey != "" {
		q.Set("sort", sortKey)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return v.listURL()
	}
	return v.listURL() + "?" + q.Encode()
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
