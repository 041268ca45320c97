package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"musicadmin/internal/datamodel"
)

// bounded is a model whose counts stop at limit, as the stores' do past
// CountLimit on a large table.
type bounded struct {
	datamodel.Interface
	limit int64
}

func (b bounded) List(ctx context.Context, q datamodel.Query) (datamodel.Page, error) {
	p, err := b.Interface.List(ctx, q)
	if p.Total > b.limit {
		p.Total, p.AtLeast = b.limit, true
	}
	return p, err
}

// TestBoundedCountPager: when the count is only a lower bound, the pager
// shows the first page and a window, and ends in a gap with "Next" instead
// of a last page number it does not know.
func TestBoundedCountPager(t *testing.T) {
	v, _ := benchSongs(t) // 1,000 songs
	v.Data = bounded{v.Data, 100}
	for _, c := range []struct {
		query, status string
		pages         []string
	}{
		{"page=3&page_size=10", "Page 3", []string{"‹ Previous", "1", "2", "3", "4", "5", "…", "Next ›"}},
		// Past what was counted: a full page proves only that one more may
		// exist, so the window stops there.
		{"page=12&page_size=10", "Page 12", []string{"‹ Previous", "1", "…", "10", "11", "12", "13", "…", "Next ›"}},
	} {
		rec := httptest.NewRecorder()
		v.handleList(rec, httptest.NewRequest(http.MethodGet, "/songsview/list/?"+c.query, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", c.query, rec.Code)
		}
		doc, err := goquery.NewDocumentFromReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(doc.Find(".count").Text()); got != "More than 100 records" {
			t.Errorf("%s: count %q", c.query, got)
		}
		if got := strings.TrimSpace(doc.Find(".pager .status").Text()); got != c.status {
			t.Errorf("%s: status %q, want %q", c.query, got, c.status)
		}
		var pages []string
		doc.Find(".pager .pages li").Each(func(_ int, li *goquery.Selection) {
			pages = append(pages, strings.TrimSpace(li.Text()))
		})
		if !slices.Equal(pages, c.pages) {
			t.Errorf("%s: pager %q, want %q", c.query, pages, c.pages)
		}
		if got := doc.Find(".sizes a").Length(); got != 3 {
			t.Errorf("%s: %d page size links, want 3", c.query, got)
		}
	}
}
