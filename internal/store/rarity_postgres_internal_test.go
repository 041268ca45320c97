package store

import (
	"maps"
	"testing"
)

// TestParseElemStats reads pg_stats' most common elements as PostgreSQL
// writes them as text, and refuses lists that do not pair up (the
// statistics are then unknown: every token counts as common).
func TestParseElemStats(t *testing.T) {
	freq, minFreq, ok := parseElemStats("{564F4C,2E2034}", "{0.99,0.0125,0.0125,0.99,0}")
	if !ok || minFreq != 0.0125 || !maps.Equal(freq, map[string]float64{"564F4C": 0.99, "2E2034": 0.0125}) {
		t.Errorf("parse: %v %v %v", freq, minFreq, ok)
	}
	for _, c := range [][2]string{
		{"", ""},
		{"{564F4C}", "{0.5}"},                // no min, max and null fraction
		{"{564F4C,2E2034}", "{0.5,x,1,1,0}"}, // not a number
		{"{564F4C}", "{0.5,0.5,0.5,0,0}"},    // one too many
	} {
		if _, _, ok := parseElemStats(c[0], c[1]); ok {
			t.Errorf("parsed %q, %q", c[0], c[1])
		}
	}
}
