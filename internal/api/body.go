package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"musicadmin/internal/datamodel"
)

// Media types of the bodies a write takes.
const (
	mediaJSON       = "application/json"
	mediaMergePatch = "application/merge-patch+json"
)

// versionKey is the body's key for the version a write was read at, as an
// alternative to If-Match.
const versionKey = "version"

// body is a write's JSON object: its members by key, each as sent.
type body map[string]json.RawMessage

// readBody reads the JSON object of a write, whose Content-Type must be
// one of types: 415 for another, 413 for a body over the server's cap,
// 400 for what is not one JSON object of valid UTF-8 with each key once.
func readBody(r *http.Request, types ...string) (body, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(types, mt) {
		return nil, refusal(http.StatusUnsupportedMediaType, "Send a JSON object with Content-Type: "+strings.Join(types, " or ")+".")
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, refusal(http.StatusRequestEntityTooLarge, fmt.Sprintf("The body is over %d bytes.", tooLarge.Limit))
		}
		return nil, refusal(http.StatusBadRequest, "The body could not be read.")
	}
	if !utf8.Valid(raw) {
		return nil, refusal(http.StatusBadRequest, "The body is not valid UTF-8.")
	}
	return parseObject(raw)
}

// parseObject reads one JSON object and nothing after it. Members are
// kept as sent, each checked later by its field's kind; a key sent twice
// is refused, since which one counts differs between parsers. The
// decoder's own bound on nesting (10,000) stops a deep value without
// recursion here.
func parseObject(raw []byte) (body, error) {
	malformed := func(err error) error {
		return refusal(http.StatusBadRequest, "The body is not a JSON object: "+jsonProblem(err))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		if err == nil {
			err = errors.New("it does not start with {")
		}
		return nil, malformed(err)
	}
	b := body{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed(err)
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, malformed(err)
		}
		if _, twice := b[key]; twice {
			return nil, refusal(http.StatusBadRequest, fmt.Sprintf("The key %q is sent twice.", clip(key)))
		}
		b[key] = val
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed(errors.New("something follows the object"))
	}
	return b, nil
}

// jsonProblem says what is wrong with a body in words a client can act
// on, without echoing it.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("%s (at byte %d).", strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "it ends too early."
	}
	return strings.TrimPrefix(err.Error(), "json: ") + "."
}

// clip keeps a key in a message short.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	return string([]rune(s)[:60]) + "…"
}

// version takes the version member out of b: the version the write was
// read at, or "" for none.
func (b body) version() (string, error) {
	raw, ok := b[versionKey]
	if !ok {
		return "", nil
	}
	delete(b, versionKey)
	var s *string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &apiError{status: http.StatusUnprocessableEntity, Problem: Problem{Message: "version must be a string.",
			Errors: map[string]string{versionKey: "Must be a string: the version a read gave."}}}
	}
	if s == nil {
		return "", nil
	}
	return *s, nil
}

// unknown refuses the members of b that are not among fields: a field
// that does not exist, is read-only, or is not written this way (a
// password after the add).
func (b body) unknown(fields []*datamodel.Field) error {
	var bad []string
	for key := range b {
		if !slices.ContainsFunc(fields, func(f *datamodel.Field) bool { return f.Name == key }) {
			bad = append(bad, key)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	errs := make(map[string]string, len(bad))
	for i, k := range bad {
		bad[i] = clip(k)
		errs[bad[i]] = "Unknown or read-only field."
	}
	return &apiError{status: http.StatusBadRequest, Problem: Problem{
		Message: "Unknown or read-only fields: " + strings.Join(bad, ", ") + ".", Errors: errs}}
}

// posted writes the members of b for fields into form values, as the form
// of the view would post them, so that the form's decoding and validation
// read them: the same rules and messages on both. A member of the wrong
// JSON type is refused beside its field (422); a field not in b is left
// out, which the form reads as an empty input.
func (b body) posted(fields []*datamodel.Field, into url.Values) error {
	errs := map[string]string{}
	for _, f := range fields {
		raw, ok := b[f.Name]
		if !ok {
			continue
		}
		texts, problem := formTexts(f, raw)
		if problem != "" {
			errs[f.Name] = problem
			continue
		}
		into.Del(f.Name)
		for _, t := range texts {
			into.Add(f.Name, t)
		}
		if _, twice := f.Kind.(datamodel.Confirmed); twice {
			// A program sends a secret once; the form's second input
			// is for typing mistakes.
			into[f.Name+"_confirm"] = texts
		}
	}
	if len(errs) > 0 {
		return &apiError{status: http.StatusUnprocessableEntity,
			Problem: Problem{Message: "Some fields have the wrong JSON type: see errors.", Errors: errs}}
	}
	return nil
}

// defaults posts, for each field of fields that b leaves out and whose
// kind has a default (a box that starts ticked: a user's Active), that
// default, as the add form would post it untouched: what the OpenAPI
// document's default says a create leaves out. Other fields left out
// stay empty inputs.
func (b body) defaults(fields []*datamodel.Field, into url.Values) {
	for _, f := range fields {
		d, ok := f.Kind.(datamodel.Defaulter)
		if _, sent := b[f.Name]; ok && !sent {
			postValue(f, d.Default(), into)
		}
	}
}

// formTexts is a member as the texts a form would post for f, or the
// problem with its JSON type. null is an empty input.
func formTexts(f *datamodel.Field, raw json.RawMessage) ([]string, string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, "Not valid JSON."
	}
	if v == nil {
		return nil, ""
	}
	switch f.Kind.Input().Type {
	case "set":
		items, ok := v.([]any)
		if !ok {
			return nil, "Must be a list of ids (strings)."
		}
		texts := make([]string, 0, len(items))
		for _, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, "Must be a list of ids (strings)."
			}
			texts = append(texts, s)
		}
		return texts, ""
	case "number":
		n, ok := v.(json.Number)
		if !ok {
			return nil, "Must be a number."
		}
		return []string{n.String()}, ""
	case "checkbox":
		b, ok := v.(bool)
		if !ok {
			return nil, "Must be true or false."
		}
		if !b {
			return nil, "" // an unticked box posts nothing
		}
		return []string{"true"}, ""
	case "select":
		s, ok := v.(string)
		if !ok {
			return nil, "Must be an id (a string) or null."
		}
		return []string{s}, ""
	}
	s, ok := v.(string)
	if !ok {
		return nil, "Must be a string."
	}
	return []string{s}, ""
}

// ifMatch returns the version of an If-Match header ("" when none): the
// ETag a read gave, quoted, weak or not.
func ifMatch(r *http.Request) string {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	v = strings.TrimPrefix(v, "W/")
	return strings.Trim(v, `"`)
}
