package admin

import (
	"slices"
	"testing"
)

func TestPagination(t *testing.T) {
	for _, c := range []struct {
		name              string
		p                 pagination
		rows              int
		pages             int
		pastEnd, prev, nx bool
	}{
		{"empty list", pagination{page: 1, size: 25}, 0, 1, false, false, false},
		{"one full page", pagination{page: 1, size: 25, total: 25}, 25, 1, false, false, false},
		{"first of three", pagination{page: 1, size: 10, total: 21}, 10, 3, false, false, true},
		{"last of three", pagination{page: 3, size: 10, total: 21}, 1, 3, false, true, false},
		{"past the end", pagination{page: 9, size: 10, total: 21}, 0, 3, true, true, false},
		{"bounded count, full page", pagination{page: 4, size: 10, total: 30, atLeast: true}, 10, 5, false, true, true},
		{"bounded count, short page", pagination{page: 4, size: 10, total: 30, atLeast: true}, 3, 4, false, true, false},
		{"bounded count past the end is not re-fetched", pagination{page: 9, size: 10, total: 30, atLeast: true}, 0, 9, false, true, false},
	} {
		if got := c.p.pages(c.rows); got != c.pages {
			t.Errorf("%s: pages %d, want %d", c.name, got, c.pages)
		}
		if got := c.p.pastEnd(c.rows); got != c.pastEnd {
			t.Errorf("%s: pastEnd %v, want %v", c.name, got, c.pastEnd)
		}
		if got := c.p.hasPrev(); got != c.prev {
			t.Errorf("%s: hasPrev %v, want %v", c.name, got, c.prev)
		}
		if got := c.p.hasNext(c.rows); got != c.nx {
			t.Errorf("%s: hasNext %v, want %v", c.name, got, c.nx)
		}
	}
	if got := (pagination{page: 9, size: 10, total: 21}).last(); got.page != 3 || got.offset() != 20 {
		t.Errorf("last: page %d offset %d, want 3 and 20", got.page, got.offset())
	}
}

func TestPageNumbers(t *testing.T) {
	for _, c := range []struct {
		name string
		p    pagination
		rows int
		want []int // 0 is a gap
	}{
		{"one page", pagination{page: 1, size: 25, total: 3}, 3, []int{1}},
		{"first of five", pagination{page: 1, size: 25, total: 105}, 25, []int{1, 2, 3, 4, 5}},
		{"first of twenty", pagination{page: 1, size: 10, total: 200}, 10, []int{1, 2, 3, 0, 20}},
		{"middle of twenty", pagination{page: 10, size: 10, total: 200}, 10, []int{1, 0, 8, 9, 10, 11, 12, 0, 20}},
		{"a gap of one page is that page", pagination{page: 4, size: 10, total: 70}, 10, []int{1, 2, 3, 4, 5, 6, 7}},
		{"last of twenty", pagination{page: 20, size: 10, total: 200}, 10, []int{1, 0, 18, 19, 20}},
		{"bounded count, first page", pagination{page: 1, size: 25, total: 10000, atLeast: true}, 25, []int{1, 2, 3, 0}},
		{"bounded count, past what was counted", pagination{page: 401, size: 25, total: 10000, atLeast: true}, 25, []int{1, 0, 399, 400, 401, 402, 0}},
		{"bounded count, its real end", pagination{page: 403, size: 25, total: 10000, atLeast: true}, 7, []int{1, 0, 401, 402, 403}},
	} {
		got := c.p.numbers(c.rows)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
