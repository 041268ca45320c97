package view

import (
	"io/fs"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"

	"musicadmin/web"
)

// TestTemplatesHoldNoTextOutsideTheCatalogue: every word a template
// shows a user goes through the catalogue ({{t "..."}}, {{n "..."}}): the
// text between tags and the attributes a user reads or hears hold no
// letter once the template's actions are taken out. A new English string
// written straight into a template fails here, naming file and text.
func TestTemplatesHoldNoTextOutsideTheCatalogue(t *testing.T) {
	checked := 0
	err := fs.WalkDir(web.FS, "templates", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".html") {
			return err
		}
		src, err := fs.ReadFile(web.FS, name)
		if err != nil {
			return err
		}
		checked++
		// Each action becomes a mark with no letter: what is left is
		// what the template writes itself.
		check(t, name, withoutActions(string(src)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("checked %d templates", checked)
	}
}

// check fails for each text of the HTML fragment src that holds a
// letter, and for each attribute a user reads or hears that does. A
// <noscript>'s content, which the tokenizer reads as raw text, is
// checked as HTML of its own.
func check(t *testing.T, name, src string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(src))
	var raw string // inside script, style or noscript
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			if tok.Data == "script" || tok.Data == "style" || tok.Data == "noscript" {
				raw = tok.Data
			}
			isButtonValue := tok.Data == "input" && slicesHasAttr(tok, "type", "submit", "button", "reset")
			for _, a := range tok.Attr {
				if (visible[a.Key] || (a.Key == "value" && isButtonValue)) && hasLetter(a.Val) {
					t.Errorf("%s: <%s %s=%q> is not in the catalogue", name, tok.Data, a.Key, a.Val)
				}
			}
		case html.EndTagToken:
			if tok.Data == raw {
				raw = ""
			}
		case html.TextToken:
			switch {
			case raw == "noscript":
				check(t, name, tok.Data)
			case raw == "" && hasLetter(tok.Data):
				t.Errorf("%s: text %q is not in the catalogue", name, strings.TrimSpace(tok.Data))
			}
		}
	}
}

// visible are the attributes whose value a user reads or a screen
// reader speaks.
var visible = map[string]bool{"placeholder": true, "title": true, "aria-label": true, "alt": true,
	"aria-description": true, "aria-roledescription": true, "aria-valuetext": true, "label": true,
	"data-label": true}

func hasLetter(s string) bool { return strings.ContainsFunc(s, unicode.IsLetter) }

// slicesHasAttr reports whether tok's attribute key has one of values.
func slicesHasAttr(tok html.Token, key string, values ...string) bool {
	for _, a := range tok.Attr {
		if a.Key == key {
			for _, v := range values {
				if strings.EqualFold(a.Val, v) {
					return true
				}
			}
		}
	}
	return false
}

// withoutActions returns src with each {{action}} replaced by a mark with
// no letter. An action ends at the first "}}" outside its quoted strings:
// {{t "Your new token “{{.Name}}”" "Name" .X}} is one action.
func withoutActions(src string) string {
	var b strings.Builder
	for {
		i := strings.Index(src, "{{")
		if i < 0 {
			b.WriteString(src)
			return b.String()
		}
		b.WriteString(src[:i])
		b.WriteByte('\x01')
		j, quote := i+2, byte(0)
		for ; j < len(src); j++ {
			c := src[j]
			switch {
			case quote != 0:
				if c == '\\' && quote == '"' {
					j++
				} else if c == quote {
					quote = 0
				}
			case c == '"' || c == '`':
				quote = c
			case c == '}' && strings.HasPrefix(src[j:], "}}"):
				src = src[j+2:]
				j = -1
			}
			if j < 0 {
				break
			}
		}
		if j >= len(src) {
			return b.String()
		}
	}
}
