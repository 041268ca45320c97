package i18n

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/text/number"
)

// TestNumber: counts as each language writes them, from x/text's CLDR
// data; Arabic in Latin digits (see format.go).
func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int64
		want string
	}{
		{"en", 20010, "20,010"}, {"de", 20010, "20.010"}, {"es", 20010, "20.010"}, {"ar", 20010, "20,010"},
		{"en", 999, "999"}, {"de", 1234567, "1.234.567"}, {"en", 0, "0"}, {"xx", 20010, "20,010"},
	} {
		if got := Number(tc.lang, tc.n); got != tc.want {
			t.Errorf("Number(%s, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}

// TestNumberBelowAThousand: Number's short cut for 0-999 writes what
// x/text's printer of each shipped language writes (a language whose
// digits are not Latin would fail here).
func TestNumberBelowAThousand(t *testing.T) {
	for lang := range numberTags {
		p := printers()[lang]
		for n := range int64(1000) {
			if got, want := Number(lang, n), p.Sprint(number.Decimal(n)); got != want {
				t.Fatalf("Number(%s, %d) = %q, x/text writes %q", lang, n, got, want)
			}
		}
	}
}

// TestTime: a time in each language's order and month names, in its own
// zone, labelled with it; English as the pages wrote it before.
func TestTime(t *testing.T) {
	c := Std()
	at := time.Date(2026, 12, 7, 14, 5, 6, 0, time.UTC)
	for _, tc := range []struct{ lang, want string }{
		{"en", "7 Dec 2026, 14:05:06 UTC"},
		{"de", "7. Dez. 2026, 14:05:06 UTC"},
		{"es", "7 dic 2026, 14:05:06 UTC"},
		{"ar", "7 ديسمبر 2026، 14:05:06 UTC"},
		{"xx", "7 Dec 2026, 14:05:06 UTC"},
	} {
		if got := c.Time(tc.lang, at); got != tc.want {
			t.Errorf("Time(%s) = %q, want %q", tc.lang, got, tc.want)
		}
	}
	berlin, err := LoadZone("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithZone(With(context.Background(), "de"), berlin)
	if got, want := TimeIn(ctx, at), "7. Dez. 2026, 15:05:06 CET"; got != want {
		t.Errorf("TimeIn(de, Berlin) = %q, want %q", got, want)
	}
	if got, want := TimeIn(context.Background(), at.In(berlin)), "7 Dec 2026, 14:05:06 UTC"; got != want {
		t.Errorf("TimeIn(no zone) = %q, want %q", got, want)
	}
	may := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if got, want := c.Time("es", may), "1 may 2026, 00:00:00 UTC"; got != want {
		t.Errorf("es May = %q, want %q", got, want)
	}
}

// TestLoadZone: IANA names load (from the embedded database where the
// system has none); anything else, "Local" and paths included, is
// ErrZone.
func TestLoadZone(t *testing.T) {
	for _, name := range []string{"Europe/Berlin", "America/Argentina/Buenos_Aires", "Asia/Riyadh", "UTC", "Etc/GMT+3"} {
		loc, err := LoadZone(name)
		if err != nil || loc.String() != name {
			t.Errorf("LoadZone(%q) = %v, %v", name, loc, err)
		}
	}
	if loc, err := LoadZone(""); err != nil || loc != time.UTC {
		t.Errorf("LoadZone(\"\") = %v, %v; want UTC", loc, err)
	}
	for _, name := range []string{"Local", "Europe/Nowhere", "../../etc/passwd", "/etc/localtime", "Europe/../Berlin",
		"<script>", "Europe/Berlin\x00", " Europe/Berlin", "europe berlin"} {
		if loc, err := LoadZone(name); !errors.Is(err, ErrZone) {
			t.Errorf("LoadZone(%q) = %v, %v; want ErrZone", name, loc, err)
		}
	}
}

// TestCommonZones: every zone the settings page offers loads, in order,
// once.
func TestCommonZones(t *testing.T) {
	for i, name := range CommonZones {
		if _, err := LoadZone(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if i > 0 && CommonZones[i-1] >= name {
			t.Errorf("%s after %s: not in order, or twice", name, CommonZones[i-1])
		}
	}
}
