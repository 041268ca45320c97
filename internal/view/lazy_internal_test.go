package view

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"musicadmin/internal/i18n"
)

// TestLanguagesParsedOnFirstUse: New parses English only; another
// language's pages are parsed by its first page, once however many
// requests ask at the same time, and render in that language.
func TestLanguagesParsedOnFirstUse(t *testing.T) {
	e, err := New("Test Admin", slog.New(slog.DiscardHandler), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Shipped {
		if parsed := e.languages[lang].pages != nil; parsed != (lang == i18n.Default) {
			t.Errorf("%s parsed at New: %v", lang, parsed)
		}
	}
	var wg sync.WaitGroup
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Go(func() {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r = r.WithContext(i18n.With(r.Context(), "de"))
			w := httptest.NewRecorder()
			e.Render(w, r, http.StatusOK, "index", "Home", nil)
			bodies[i] = w.Body.String()
		})
	}
	wg.Wait()
	for _, body := range bodies {
		if !strings.Contains(body, `lang="de"`) || body != bodies[0] {
			t.Fatalf("a German page:\n%s", body)
		}
	}
	if e.languages["de"].pages == nil || e.languages["es"].pages != nil {
		t.Errorf("after a German page: de parsed %v, es parsed %v", e.languages["de"].pages != nil, e.languages["es"].pages != nil)
	}
}
