package i18n

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	// The IANA time zone database in the binary: a zone a user chose
	// loads on every machine, whether or not it has /usr/share/zoneinfo.
	_ "time/tzdata"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Numbers and times as the request's language writes them.
//
// Numbers are golang.org/x/text's CLDR formats: "20,010" in English,
// "20.010" in German and Spanish (x/text groups four-digit numbers too:
// "2.010", where CLDR's Spanish has a minimum of two digits before the
// first separator). Arabic is written with Latin digits ("20,010", CLDR's
// ar-u-nu-latn), not the Arabic-Indic ones CLDR's bare "ar" has: every
// other number a page shows is data (record ids, ratings, years in
// titles, dates, the values of a form's inputs and of the list's
// filters, which only Latin digits fill), and a table mixing two digit
// systems reads worse than one; Latin digits are also what Arabic
// software of the Maghreb and most of the web's Arabic interfaces show.
//
// A time reads "7 Dec 2026, 14:05:06 UTC" in English: the day, the
// month's abbreviated name and the year in the order of a catalogue
// pattern, and the clock time with the zone's abbreviation. Month names
// are catalogue ids ("Jan" ... "Dec").

// numberTags are the languages as x/text formats their numbers.
var numberTags = map[string]language.Tag{
	"en": language.English, "de": language.German, "es": language.Spanish,
	"ar": language.MustParse("ar-u-nu-latn"),
}

// printers are the number printers of the shipped languages, made once: a
// Printer is safe for concurrent use.
var printers = sync.OnceValue(func() map[string]*message.Printer {
	out := map[string]*message.Printer{}
	for lang, tag := range numberTags {
		out[lang] = message.NewPrinter(tag)
	}
	return out
})

// Number writes n as lang writes a count: with its thousands separator
// (English's for a language not shipped).
func Number(lang string, n int64) string {
	if n >= 0 && n < 1000 {
		// No separator and Latin digits in every shipped language
		// (TestNumberBelowAThousand): x/text's printer took 10 µs a
		// number, a list page's count among them, on every request.
		return strconv.FormatInt(n, 10)
	}
	p, ok := printers()[lang]
	if !ok {
		p = printers()[Default]
	}
	return p.Sprint(number.Decimal(n))
}

// Months are the catalogue ids of the months' abbreviated names, January
// first: as Go's time writes them in English.
var Months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// datePattern is the catalogue id of a time's order: each language
// places the day, month, year, clock time and zone as it writes them.
const datePattern = "{{.Day}} {{.Month}} {{.Year}}, {{.Time}} {{.Zone}}"

// piece is a part of a language's date pattern: literal text, or the
// field it names (one of the pattern's placeholders).
type piece struct {
	text  string
	field byte // 'D', 'M', 'Y', 'T', 'Z', or 0 for text
}

// patterns returns the pattern of lang cut into pieces, cut once per
// language: a page of fifty audit entries formats fifty times.
func (c *Catalogue) patterns(lang string) []piece {
	c.dateOnce.Do(func() {
		c.dates = map[string][]piece{}
		for _, l := range Shipped {
			// The placeholders filled with markers that no
			// translation holds, then cut at them.
			s := c.T(l, datePattern, map[string]any{"Day": "\x00D\x00", "Month": "\x00M\x00", "Year": "\x00Y\x00",
				"Time": "\x00T\x00", "Zone": "\x00Z\x00"})
			var out []piece
			for i, part := range strings.Split(s, "\x00") {
				switch {
				case i%2 == 1 && len(part) == 1:
					out = append(out, piece{field: part[0]})
				case part != "":
					out = append(out, piece{text: part})
				}
			}
			c.dates[l] = out
		}
	})
	if p, ok := c.dates[lang]; ok {
		return p
	}
	return c.dates[Default]
}

// Time writes t as a person reads it in lang, in t's own location, with
// its zone's abbreviation: "7 Dec 2026, 14:05:06 UTC" in English, "7.
// Dez. 2026, 14:05:06 UTC" in German.
func (c *Catalogue) Time(lang string, t time.Time) string {
	var b strings.Builder
	for _, p := range c.patterns(lang) {
		switch p.field {
		case 0:
			b.WriteString(p.text)
		case 'D':
			b.WriteString(t.Format("2"))
		case 'M':
			b.WriteString(c.T(lang, Months[t.Month()-1], nil))
		case 'Y':
			b.WriteString(t.Format("2006"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		}
	}
	return b.String()
}

// zoneName is the shape of an IANA zone's name: "Europe/Berlin",
// "America/Argentina/Buenos_Aires", "Etc/GMT+3", "UTC". A path
// ("../x", "/etc/x") or "Local" (the server's own zone) is not one.
var zoneName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$`)

// ErrZone is a name that is no IANA time zone.
var ErrZone = errors.New("i18n: not a time zone")

// zones are the zones loaded so far, by name: time.LoadLocation reads
// the database each time it is called.
var zones sync.Map

// LoadZone returns the IANA time zone called name, loaded once; "" is
// UTC. A name time.LoadLocation does not find, "Local", or a name of
// another shape is ErrZone.
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	if len(name) > 64 || name == "Local" || !zoneName.MatchString(name) {
		return nil, ErrZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, ErrZone
	}
	zones.Store(name, loc)
	return loc, nil
}

type zoneKey struct{}

// WithZone returns ctx carrying loc as the time zone its times are shown
// in: the logged-in user's own.
func WithZone(ctx context.Context, loc *time.Location) context.Context {
	return context.WithValue(ctx, zoneKey{}, loc)
}

// ZoneOf returns the time zone of ctx's times: UTC unless WithZone set
// another.
func ZoneOf(ctx context.Context) *time.Location {
	if loc, ok := ctx.Value(zoneKey{}).(*time.Location); ok && loc != nil {
		return loc
	}
	return time.UTC
}

// TimeIn writes t as the reader of ctx reads it: in their language and
// time zone (Time).
func TimeIn(ctx context.Context, t time.Time) string {
	return Std().Time(Of(ctx), t.In(ZoneOf(ctx)))
}
