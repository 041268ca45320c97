package admin

import (
	"context"
	"fmt"
	"math"
	"strings"

	"musicadmin/internal/i18n"
	"musicadmin/internal/textutil"
)

// chartSVG is a chart's drawing, every coordinate computed here: the
// template only writes them out (web/templates/pages/chart.html), escaped,
// with no script and no style attribute (the Content-Security-Policy
// allows neither inline); the colours are classes of chart.css, light and
// dark.
//
// Right to left (Arabic), the drawing is mirrored, as the page around it
// is: a bar chart's labels stand on the right and its bars grow to the
// left; a column or line chart's first group is on the right, as the
// table's first row is read first, and its labels slant the other way; a
// pie's legend is on its left. Dir is the SVG's direction, so a label's
// text-anchor (start, end) is read in the label's own direction and
// mirrors with it. Nothing misleads: no axis carries a scale, every value
// is written at its mark, and the table below has the numbers.
type chartSVG struct {
	Kind, Dir     string
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

// draw lays out the chart of rows: the first series, by c.Kind, in the
// language of ctx (its title, its description, its direction).
func (c *Chart) draw(ctx context.Context, rows []chartRow) chartSVG {
	s := chartSVG{Kind: c.Kind, Dir: i18n.Dir(i18n.Of(ctx)), Title: i18n.Text(ctx, c.Title),
		Desc: i18n.Plural(ctx, "{{.Series}} by {{.By}}, {{.Count}} groups; the numbers are in the table below.", len(rows),
			"Series", i18n.Text(ctx, c.Series[0].Label), "By", i18n.Text(ctx, c.by.Label))}
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
		const r, cy, pieW = 110.0, 130.0, 260.0
		cx := pieW / 2
		total := 0.0
		for _, row := range rows {
			if v := row.Values[0]; !math.IsNaN(v) && v > 0 {
				total += v
			}
		}
		s.Width, s.Height = 520, int(math.Max(2*cy, 30+22*float64(len(rows))))
		// The legend's column, right of the pie; left of it right to left.
		swatchX, labelX := pieW+20, pieW+42
		if s.Dir == "rtl" {
			cx = float64(s.Width) - pieW/2
			swatchX, labelX = float64(s.Width)-pieW-20-14, float64(s.Width)-pieW-42
		}
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
			m.X, m.Y, m.W, m.H = swatchX, 20+22*float64(i), 14, 14
			m.LX, m.LY, m.Anchor = labelX, 32+22*float64(i), "start"
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
	if s.Dir == "rtl" {
		s.mirror()
	}
	return s
}

// mirror turns the drawing around its vertical middle, for a reader of
// a right-to-left language: every x from the other side, a rotated
// label turned the other way. (A pie is drawn with its legend on the
// left in the first place: its slices' order round the circle is not
// read in a direction.) The anchors stay: under the SVG's direction rtl,
// start is a label's right end.
func (s *chartSVG) mirror() {
	w := float64(s.Width)
	flip := func(x float64) float64 { return w - x }
	if s.Kind == "pie" {
		return // drawn mirrored already (draw)
	}
	s.Baseline.X1, s.Baseline.X2 = flip(s.Baseline.X1), flip(s.Baseline.X2)
	var pts []string
	for i := range s.Marks {
		m := &s.Marks[i]
		if s.Kind == "line" {
			m.X = flip(m.X)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", m.X, m.Y))
		} else {
			m.X = flip(m.X) - m.W
		}
		m.LX, m.VX, m.Rotate = flip(m.LX), flip(m.VX), -m.Rotate
	}
	if s.Kind == "line" {
		s.Line = strings.Join(pts, " ")
	}
}
