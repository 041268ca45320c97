package cli

import (
	"strings"
	"testing"
)

// TestSeedProgressLines: off a terminal, seed prints a line per report
// that crosses a tenth of the rows, with the rows done then, and no more
// when one report crosses several.
func TestSeedProgressLines(t *testing.T) {
	var out strings.Builder
	a := &runner{env: Env{Stdout: &out, IsTerminal: func() bool { return false }}}
	progress := a.seedProgress(1000)
	for _, done := range []int{0, 50, 330, 350, 990, 1000} {
		progress(done, 1000)
	}
	want := "seed: 0% (0/1000 rows)\nseed: 30% (330/1000 rows)\nseed: 90% (990/1000 rows)\nseed: 100% (1000/1000 rows)\n"
	if out.String() != want {
		t.Errorf("progress lines:\n%s\nwant:\n%s", out.String(), want)
	}
}
