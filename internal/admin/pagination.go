package admin

// pagination is where a list page stands: which page, of what size, out of
// how many. When the count stopped at its bound (atLeast), the pages go on
// at least while they come back full.
type pagination struct {
	page, size int
	total      int64
	atLeast    bool
}

// offset is the number of records before the page.
func (p pagination) offset() int { return (p.page - 1) * p.size }

// pages is the number of pages known to exist, at least 1.
func (p pagination) pages(rows int) int {
	n := int((p.total + int64(p.size) - 1) / int64(p.size))
	if p.atLeast {
		n = max(n, p.page)
		if rows == p.size {
			n = p.page + 1
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
