package i18n

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// areaOf is the area of a catalogue file: "base" of locales/base.de.yaml.
func areaOf(name string) string {
	area, _, _ := strings.Cut(path.Base(name), ".")
	return area
}

func probeLike(text string) *goi18n.Message { return &goi18n.Message{ID: "x", Other: text} }

// TestCompiledMatchesGoI18n holds the compiled messages to go-i18n's own
// output: every message of every language, with all its values, with one
// missing, with none, as T, TPairs and (for counts that reach every
// plural form of the four languages) N and NPairs.
func TestCompiledMatchesGoI18n(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	counts := []int{0, 1, 2, 3, 5, 10, 11, 12, 20, 99, 100, 101, 102, 111, 1000, 1001, 1023, 1024, 10_000,
		100_002, 1_000_000, 2_000_000, -1}
	for _, lang := range Shipped {
		ids, err := Files(lang)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, name := range ids {
			m, err := Area(areaOf(name), lang)
			if err != nil {
				t.Fatal(err)
			}
			total += len(m)
		}
		// Every message is compiled: the slow path is a fallback, not a
		// second way the catalogue is read.
		if got := len(c.compiled[lang]); got != total {
			t.Errorf("%s: %d of %d messages compiled", lang, got, total)
		}
		for id, cm := range c.compiled[lang] {
			keys := map[string]bool{}
			for _, parts := range cm.forms {
				for _, p := range parts {
					if p.key != "" {
						keys[p.key] = true
					}
				}
			}
			full := map[string]any{}
			var kv []any
			for _, k := range slices.Sorted(maps.Keys(keys)) {
				full[k] = "‹" + k + "›"
				kv = append(kv, k, "‹"+k+"›")
			}
			datas := []map[string]any{full, nil, {"Unrelated": 7}}
			for k := range keys {
				d := maps.Clone(full)
				delete(d, k)
				d["Other"] = 3
				datas = append(datas, d)
			}
			for _, d := range datas {
				if got, want := c.T(lang, id, d), c.slowT(lang, id, d); got != want {
					t.Errorf("%s T(%q, %v) = %q, go-i18n %q", lang, id, d, got, want)
				}
				for _, n := range counts {
					if got, want := c.N(lang, id, n, d), c.slowN(lang, id, n, d); got != want {
						t.Errorf("%s N(%q, %d, %v) = %q, go-i18n %q", lang, id, n, d, got, want)
					}
				}
			}
			if got, want := c.TPairs(lang, id, kv), c.slowT(lang, id, Pairs(kv)); got != want {
				t.Errorf("%s TPairs(%q) = %q, go-i18n %q", lang, id, got, want)
			}
			for _, n := range counts {
				if got, want := c.NPairs(lang, id, n, kv), c.slowN(lang, id, n, Pairs(kv)); got != want {
					t.Errorf("%s NPairs(%q, %d) = %q, go-i18n %q", lang, id, n, got, want)
				}
			}
		}
	}
	// An id no catalogue has is shown as it is, with or without values.
	for _, id := range []string{"No such message", "No {{.Such}} message"} {
		if got := c.T("de", id, map[string]any{"Such": 1}); got != id {
			t.Errorf("T(%q) = %q", id, got)
		}
		if got := c.NPairs("ar", id, 3, []any{"Such", 1}); got != id {
			t.Errorf("NPairs(%q) = %q", id, got)
		}
	}
}

// TestCompileRefusesTemplates keeps go-i18n's path for a message that is
// more than text and {{.Name}} placeholders.
func TestCompileRefusesTemplates(t *testing.T) {
	for _, text := range []string{"{{if .A}}x{{end}}", "a {{.A | printf \"%d\"}}", "{{- .A}}", "odd }} brace", "{{.A}} {{"} {
		if _, ok := compile(probeLike(text)); ok {
			t.Errorf("compiled %q", text)
		}
	}
	cm, ok := compile(probeLike("{{.A}} and {{ .B }}!"))
	if !ok || fmt.Sprint(cm.forms[otherForm]) != "[{ A} { and  } { B} {! }]" {
		t.Errorf("compile = %v, %v", cm, ok)
	}
}
