package i18n

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// A message with placeholders is filled in by go-i18n with a text/template
// execution, after a language match, on every call: a page makes some
// thirty such calls, and they were a tenth of a list page's CPU. Every
// message of the shipped catalogue uses plain {{.Name}} placeholders
// only, so each is cut once, at Load, into its literal text and its
// placeholders, and filled in by appending. A message that uses anything
// else (none today) keeps go-i18n's path; TestCompiledMatchesGoI18n holds
// the two paths to the same output for every message and language.

// forms are go-i18n's plural forms, in the order of compiled.forms.
var forms = [...]string{"zero", "one", "two", "few", "many", "other"}

const otherForm = len(forms) - 1

// part is a piece of a compiled message: literal text, or (key != "") a
// placeholder filled with that value.
type part struct{ text, key string }

// compiled is a message cut into parts, one list per plural form it has
// (nil for a form it lacks).
type compiled struct {
	forms   [len(forms)][]part
	literal bool // no placeholders in any form
}

var placeholder = regexp.MustCompile(`\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// compile cuts m into parts; ok is false when a form uses anything but
// {{.Name}} placeholders or delimiters of its own.
func compile(m *goi18n.Message) (c *compiled, ok bool) {
	if m.LeftDelim != "" || m.RightDelim != "" {
		return nil, false
	}
	c = &compiled{literal: true}
	for i, text := range [...]string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		if text == "" {
			continue
		}
		var parts []part
		rest := text
		for _, loc := range placeholder.FindAllStringSubmatchIndex(text, -1) {
			lit := text[len(text)-len(rest) : loc[0]]
			if strings.Contains(lit, "{{") || strings.Contains(lit, "}}") {
				return nil, false
			}
			if lit != "" {
				parts = append(parts, part{text: lit})
			}
			parts = append(parts, part{key: text[loc[2]:loc[3]]})
			rest = text[loc[1]:]
			c.literal = false
		}
		if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
			return nil, false
		}
		if rest != "" || len(parts) == 0 {
			parts = append(parts, part{text: rest})
		}
		c.forms[i] = parts
	}
	return c, true
}

// values are a message's placeholder values: a map (T, N) or name, value
// pairs as a template passes them (t).
// count is N's count as the language writes it, {{.Count}} unless the
// values name a Count of their own.
type values struct {
	m       map[string]any
	kv      []any
	count   string
	counted bool
}

func (v values) get(key string) (x any, ok bool) {
	if v.m != nil {
		x, ok = v.m[key]
	}
	for i := 0; i+1 < len(v.kv); i += 2 {
		if k, _ := v.kv[i].(string); k == key {
			x, ok = v.kv[i+1], true // the last wins, as in Pairs' map
		}
	}
	if !ok && v.counted && key == "Count" {
		return v.count, true
	}
	return x, ok
}

// fill writes form's parts with v's values, as text/template prints them
// (a missing value as "<no value>", its missingkey=default).
func (c *compiled) fill(form int, v values) string {
	parts := c.forms[form]
	if len(parts) == 1 && parts[0].key == "" {
		return parts[0].text
	}
	b := make([]byte, 0, 64)
	for _, p := range parts {
		if p.key == "" {
			b = append(b, p.text...)
			continue
		}
		x, ok := v.get(p.key)
		switch x := x.(type) {
		case string:
			b = append(b, x...)
		case int:
			b = strconv.AppendInt(b, int64(x), 10)
		case int64:
			b = strconv.AppendInt(b, x, 10)
		default:
			if !ok {
				b = append(b, "<no value>"...)
			} else {
				b = fmt.Append(b, x)
			}
		}
	}
	return string(b)
}

// formProbe is a message whose every plural form is its own name: asked
// for a count, go-i18n answers with the form its CLDR rules choose, so
// the compiled path picks forms by exactly go-i18n's rules.
const formProbe = "\x00plural form"

func probeMessage() *goi18n.Message {
	return &goi18n.Message{ID: formProbe, Zero: forms[0], One: forms[1], Two: forms[2], Few: forms[3],
		Many: forms[4], Other: forms[5]}
}

// formCache remembers the plural form of the counts below its size, per
// language (0: not known yet, else the form's index + 1).
type formCache [1024]atomic.Int32

// pluralForm returns the index in forms of n's plural form in lang.
func (c *Catalogue) pluralForm(lang string, n int) int {
	cache := c.formCaches[lang]
	if cache != nil && n >= 0 && n < len(cache) {
		if f := cache[n].Load(); f != 0 {
			return int(f - 1)
		}
	}
	f := otherForm
	if l, ok := c.localizers[lang]; ok {
		if s, err := l.Localize(&goi18n.LocalizeConfig{MessageID: formProbe, PluralCount: n}); err == nil {
			for i, name := range forms {
				if name == s {
					f = i
				}
			}
		}
	}
	if cache != nil && n >= 0 && n < len(cache) {
		cache[n].Store(int32(f + 1))
	}
	return f
}

// addCompiled compiles the messages of one catalogue file of lang.
func (c *Catalogue) addCompiled(lang string, msgs []*goi18n.Message) {
	if c.compiled[lang] == nil {
		c.compiled[lang] = map[string]*compiled{}
		c.formCaches[lang] = new(formCache)
		_ = c.bundle.AddMessages(language.Make(lang), probeMessage())
	}
	for _, m := range msgs {
		if cm, ok := compile(m); ok {
			c.compiled[lang][m.ID] = cm
		}
	}
}
