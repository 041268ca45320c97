package main

// pager is where a list page stands, as the app's admin.pagination: which
// page, of what size, out of how many; when the count stopped at its bound
// (atLeast), the pages go on at least while they come back full.
type pager struct {
	page, size int
	total      int64
	atLeast    bool
}

// pageWindow is the app's: the numbered pages shown on each side of the
// current one, besides the first and the last.
const pageWindow = 2

// pages is the number of pages known to exist, at least 1.
func (g pager) pages(rows int) int {
	n := int((g.total + int64(g.size) - 1) / int64(g.size))
	if g.atLeast {
		n = max(n, g.page)
		if rows == g.size {
			n = max(n, g.page+1)
		}
	}
	return max(n, 1)
}

// pastEnd reports whether the page lies beyond the last one of an exactly
// counted list that has records: the app shows the last page instead.
func (g pager) pastEnd(rows int) bool {
	return rows == 0 && !g.atLeast && g.total > 0 && g.page > g.pages(rows)
}

// numbers lists the page numbers the pager links to, 0 standing for a gap,
// as the app's: the first page, a window around the current one, and the
// last page when the count is exact, else a gap while there is a next page.
// A gap never hides a single page.
func (g pager) numbers(rows int) []int {
	last := g.pages(rows)
	lo, hi := max(1, g.page-pageWindow), min(last, g.page+pageWindow)
	var out []int
	switch {
	case lo == 3:
		out = append(out, 1, 2)
	case lo > 3:
		out = append(out, 1, 0)
	case lo == 2:
		out = append(out, 1)
	}
	for n := lo; n <= hi; n++ {
		out = append(out, n)
	}
	if g.atLeast {
		if g.page < last {
			out = append(out, 0)
		}
		return out
	}
	switch {
	case hi == last-2:
		out = append(out, last-1, last)
	case hi < last-2:
		out = append(out, 0, last)
	case hi == last-1:
		out = append(out, last)
	}
	return out
}
