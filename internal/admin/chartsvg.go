package admin

import (
	"fmt"
	"math"
	"strings"

	"musicadmin/internal/textutil"
)

// chartSVG is a chart's drawing, every coordinate computed here: the
// template only writes them out (web/templates/pages/chart.html), escaped,
// with no script and no style attribute (the Content-Security-Policy
// allows neither inline); the colours are classes of chart.css, light and
// dark.
type chartSVG struct {
	Kind          string
	Width, Height int
	Title, Desc   string
	Marks         []svgMark // a bar, a column, a slice or a point per row
	Line          string    // a line chart's polyline points
	Baseline      svgLine   // the axis values grow from
}

// svgMark is one row drawn: its shape (a rectangle X, Y, W, H; a pie
// slice's path; a point at X, Y), its label at LX, LY (rotated by Rotate
// degrees about that point when not 0) and its value's text at VX, VY.
type svgMark struct {
	X, Y, W, H     float64
	Path           string
	Label, Value   string
	LX, LY, VX, VY float64
	Rotate         float64
	Anchor         string // the label's text-anchor
	Class          string // its colour: c0 ... c7, other for Other
}

type svgLine struct{ X1, Y1, X2, Y2 float64 }

// maxLabelRunes is how much of a group's label the drawing shows; the
// table beside it has all of it.
const maxLabelRunes = 24

// draw lays out the chart of rows: the first series, by c.Kind.
func (c *Chart) draw(rows []chartRow) chartSVG {
	s := chartSVG{Kind: c.Kind, Title: c.Title,
		Desc: fmt.Sprintf("%s by %s, %d groups; the numbers are in the table below.", c.Series[0].Label, c.by.Label, len(rows))}
	peak := 0.0
	for _, r := range rows {
		if v := r.Values[0]; !math.IsNaN(v) && v > peak {
			peak = v
		}
	}
	frac := func(r chartRow) float64 {
		v := r.Values[0]
		if math.IsNaN(v) || v <= 0 || peak == 0 {
			return 0
		}
		return v / peak
	}
	mark := func(i int, r chartRow) svgMark {
		// One colour for the bars, columns and points (the axis tells
		// them apart); a colour per slice of a pie, whose legend needs it.
		m := svgMark{Label: textutil.Truncate(r.Label, maxLabelRunes), Value: r.Texts[0], Class: "c0"}
		if c.Kind == "pie" {
			m.Class = fmt.Sprintf("c%d", i%8)
		}
		if r.Other {
			m.Class = "other"
		}
		return m
	}
	switch c.Kind {
	case "column", "line":
		const left, top, plot, step = 40.0, 20.0, 220.0, 48.0
		s.Width, s.Height = int(left+step*float64(len(rows))+20), int(top+plot+110)
		base := top + plot
		s.Baseline = svgLine{left, base, float64(s.Width) - 10, base}
		var pts []string
		for i, r := range rows {
			m := mark(i, r)
			h := frac(r) * plot
			cx := left + step*float64(i) + step/2
			m.LX, m.LY, m.Rotate, m.Anchor = cx, base+14, -45, "end"
			m.VX, m.VY = cx, base-h-6
			if c.Kind == "column" {
				m.X, m.Y, m.W, m.H = cx-step*0.35, base-h, step*0.7, h
			} else {
				m.X, m.Y = cx, base-h
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", cx, base-h))
			}
			s.Marks = append(s.Marks, m)
		}
		s.Line = strings.Join(pts, " ")
	case "pie":
		const r, cx, cy = 110.0, 130.0, 130.0
		total := 0.0
		for _, row := range rows {
			if v := row.Values[0]; !math.IsNaN(v) && v > 0 {
				total += v
			}
		}
		s.Width, s.Height = 520, int(math.Max(2*cy, 30+22*float64(len(rows))))
		angle := -math.Pi / 2
		for i, row := range rows {
			m := mark(i, row)
			share := 0.0
			if v := row.Values[0]; total > 0 && !math.IsNaN(v) && v > 0 {
				share = v / total
			}
			next := angle + share*2*math.Pi
			switch {
			case share >= 0.9999:
				m.Path = fmt.Sprintf("M %.2f %.2f m -%.2f 0 a %.2f %.2f 0 1 0 %.2f 0 a %.2f %.2f 0 1 0 -%.2f 0 Z",
					cx, cy, r, r, r, 2*r, r, r, 2*r)
			case share > 0:
				large := 0
				if share > 0.5 {
					large = 1
				}
				m.Path = fmt.Sprintf("M %.2f %.2f L %.2f %.2f A %.2f %.2f 0 %d 1 %.2f %.2f Z", cx, cy,
					cx+r*math.Cos(angle), cy+r*math.Sin(angle), r, r, large, cx+r*math.Cos(next), cy+r*math.Sin(next))
			}
			angle = next
			// The legend: a swatch and the label with its value.
			m.X, m.Y, m.W, m.H = 2*cx+20, 20+22*float64(i), 14, 14
			m.LX, m.LY, m.Anchor = 2*cx+42, 32+22*float64(i), "start"
			s.Marks = append(s.Marks, m)
		}
	default: // bar
		const labelW, barMax, step = 200.0, 260.0, 28.0
		s.Width, s.Height = int(labelW+barMax+80), int(step*float64(len(rows))+10)
		s.Baseline = svgLine{labelW, 0, labelW, float64(s.Height)}
		for i, r := range rows {
			m := mark(i, r)
			y := 5 + step*float64(i)
			w := frac(r) * barMax
			m.X, m.Y, m.W, m.H = labelW, y+4, w, step-8
			m.LX, m.LY, m.Anchor = labelW-8, y+step/2+4, "end"
			m.VX, m.VY = labelW+w+6, y+step/2+4
			s.Marks = append(s.Marks, m)
		}
	}
	return s
}
