package admin

// pagination is where a list page stands: which page, of what size, out of
// how many. When the count stopped at its bound (atLeast), the pages go on
// at least while they come back full.
type pagination struct {
	page, size int
	total      int64
	atLeast    bool
}

// pageWindow is how many numbered pages the pager shows on each side of the
// current one, besides the first and the last.
const pageWindow = 2

// offset is the number of records before the page.
func (p pagination) offset() int { return (p.page - 1) * p.size }

// pages is the number of pages known to exist, at least 1. A bounded count
// still proves its own pages exist, and a full page proves one more may.
func (p pagination) pages(rows int) int {
	n := int((p.total + int64(p.size) - 1) / int64(p.size))
	if p.atLeast {
		n = max(n, p.page)
		if rows == p.size {
			n = max(n, p.page+1)
		}
	}
	return max(n, 1)
}

// pastEnd reports whether the page asked for lies beyond the last one of an
// exactly counted list that has records: the last page is shown instead of
// an empty one.
func (p pagination) pastEnd(rows int) bool {
	return rows == 0 && !p.atLeast && p.total > 0 && p.page > p.pages(rows)
}

// last returns p moved to its last page.
func (p pagination) last() pagination {
	p.page = p.pages(0)
	return p
}

func (p pagination) hasPrev() bool         { return p.page > 1 }
func (p pagination) hasNext(rows int) bool { return p.page < p.pages(rows) }

// numbers lists the page numbers the pager links to, 0 standing for a gap:
// the first page, a window around the current one, and the last page when
// the count is exact. A bounded count has no known last page, so the list
// ends in a gap instead: the pages go on past what was counted, and "Next"
// walks there. A gap never hides a single page: that page is shown instead.
func (p pagination) numbers(rows int) []int {
	last := p.pages(rows)
	lo, hi := max(1, p.page-pageWindow), min(last, p.page+pageWindow)
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
	if p.atLeast {
		if p.hasNext(rows) {
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
