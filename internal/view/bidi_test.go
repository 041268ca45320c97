package view

import (
	"io/fs"
	"strings"
	"testing"

	"musicadmin/web"
)

// TestShowBidiControls: a direction control in a page's text is shown as
// its code point; in an attribute (a form's value) it stays, so saving
// the form keeps the data; a page without any is returned as it is.
func TestShowBidiControls(t *testing.T) {
	page := "<h1>Song “evil\u202Efdp.exe”</h1><input name=\"title\" value=\"evil\u202Efdp.exe\">" +
		"<td data-label=\"x\u2067\">a\u2067b</td><p>عربي؟ \u061C</p>"
	got := string(showBidiControls([]byte(page)))
	want := "<h1>Song “evil[U+202E]fdp.exe”</h1><input name=\"title\" value=\"evil\u202Efdp.exe\">" +
		"<td data-label=\"x\u2067\">a[U+2067]b</td><p>عربي؟ [U+061C]</p>"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	clean := []byte("<p>“quoted” › ▾ عربي</p>")
	if out := showBidiControls(clean); &out[0] != &clean[0] {
		t.Error("a page without controls was copied")
	}
}

// TestTemplatesHoldNoBidiControlOrTextarea: the render-time pass relies
// on both: no template brings a control of its own, and no textarea (its
// content is a value the pass would change).
func TestTemplatesHoldNoBidiControlOrTextarea(t *testing.T) {
	err := fs.WalkDir(web.FS, "templates", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.FS, name)
		if err != nil {
			return err
		}
		if hasBidiControl(b) {
			t.Errorf("%s holds a direction control character", name)
		}
		if strings.Contains(strings.ToLower(string(b)), "<textarea") {
			t.Errorf("%s has a textarea: showBidiControls would change its value", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
