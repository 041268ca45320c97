package transfer

import (
	"fmt"
	"strings"
)

// Progress is told how many records of the total a stage ("dump", "check",
// "load") has done so far. Total may be an estimate while records are
// written meanwhile.
type Progress func(stage string, done, total int)

// Counts is how many records of each model a dump or a load handled, in
// the file's order.
type Counts []Count

// Count is one model's records.
type Count struct {
	Model string
	N     int
}

func (c Counts) String() string {
	s := ""
	for i, m := range c {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%d %s", m.N, plural(m.Model, m.N))
	}
	return s
}

// Total is the number of records of every model.
func (c Counts) Total() int {
	n := 0
	for _, m := range c {
		n += m.N
	}
	return n
}

// plural names n records of model as a person reads it: "1 song",
// "2 songs", "3 audit entries".
func plural(model string, n int) string {
	name := strings.ReplaceAll(model, "_", " ")
	switch {
	case n == 1 && strings.HasSuffix(name, "ies"):
		return strings.TrimSuffix(name, "ies") + "y" // identities
	case n == 1:
		return strings.TrimSuffix(name, "s") // a model named in the plural: tokens
	case strings.HasSuffix(name, "s"):
		return name
	case strings.HasSuffix(name, "y"):
		return strings.TrimSuffix(name, "y") + "ies"
	}
	return name + "s"
}

func (c *Counts) add(model string) {
	if k := len(*c); k > 0 && (*c)[k-1].Model == model {
		(*c)[k-1].N++
		return
	}
	*c = append(*c, Count{Model: model, N: 1})
}
