package view

import (
	"bytes"
	"unicode/utf8"

	"musicadmin/internal/textutil"
)

// showBidiControls rewrites a rendered page so that the direction
// controls in its text (which only data can bring: no template holds
// one) are shown as "[U+202E]" and not obeyed (SECURITY-TESTS 73).
// Attribute values are left as they are: an input's value is the user's
// data and must come back unchanged when the form is saved. The scan
// relies on html/template: every '<' and '>' a value brings is escaped,
// so a '<' in the output starts a tag and the next '>' ends it. The
// textarea's content would be a value too; no template has one (a test
// keeps it so).
func showBidiControls(page []byte) []byte {
	if !hasBidiControl(page) {
		return page
	}
	out := make([]byte, 0, len(page)+32)
	inTag := false
	for i := 0; i < len(page); {
		c := page[i]
		switch {
		case c == '<':
			inTag = true
		case c == '>':
			inTag = false
		case c >= utf8.RuneSelf && !inTag:
			r, size := utf8.DecodeRune(page[i:])
			if textutil.IsBidiControl(r) {
				out = append(out, textutil.ShowBidiControls(string(r))...)
			} else {
				out = append(out, page[i:i+size]...)
			}
			i += size
			continue
		}
		out = append(out, c)
		i++
	}
	return out
}

// hasBidiControl reports whether page holds a direction control: all of
// them are three bytes in UTF-8 starting 0xE2 0x80 or 0xE2 0x81, but for
// U+061C (0xD8 0x9C). It jumps from lead byte to lead byte (IndexByte),
// so a page without any costs two fast scans.
func hasBidiControl(page []byte) bool {
	for rest := page; ; {
		i := bytes.IndexByte(rest, 0xE2)
		if i < 0 {
			break
		}
		if r, _ := utf8.DecodeRune(rest[i:]); textutil.IsBidiControl(r) {
			return true
		}
		rest = rest[i+1:]
	}
	for rest := page; ; {
		i := bytes.IndexByte(rest, 0xD8)
		if i < 0 || i+1 >= len(rest) {
			return false
		}
		if rest[i+1] == 0x9C {
			return true
		}
		rest = rest[i+1:]
	}
}
