package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Charts are inline SVG drawn on the server: they show without a script,
// scale to the page's width, and carry their numbers as text (a <title>
// per bar, a table beside them) for screen readers.

// bar is one bar of a bar chart.
type bar struct {
	Label string // under the bar (may be "")
	Title string // its tooltip and accessible text
	Value float64
}

const (
	chartW, chartH = 720.0, 220.0
	padL, padB     = 56.0, 24.0
	padT, padR     = 10.0, 8.0
)

// barChart draws bars scaled to the largest, with a labelled y axis.
func barChart(id, label string, bars []bar, format func(float64) string) template.HTML {
	var b strings.Builder
	top := 0.0
	for _, x := range bars {
		top = math.Max(top, x.Value)
	}
	top = niceCeil(top)
	fmt.Fprintf(&b, `<svg id="%s" class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet">`,
		template.HTMLEscapeString(id), chartW, chartH, template.HTMLEscapeString(label))
	axes(&b, top, format)
	if len(bars) > 0 {
		slot := (chartW - padL - padR) / float64(len(bars))
		w := math.Max(slot*0.7, 1)
		for i, x := range bars {
			h := 0.0
			if top > 0 {
				h = x.Value / top * (chartH - padT - padB)
			}
			bx := padL + float64(i)*slot + (slot-w)/2
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
				bx, chartH-padB-h, w, h, template.HTMLEscapeString(x.Title))
			if x.Label != "" {
				fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`,
					bx+w/2, chartH-padB+15, template.HTMLEscapeString(x.Label))
			}
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// series is one line of a line chart.
type series struct {
	Name   string
	Class  string
	Points []point
}

// point is one reading: X from 0 (the chart's left) to 1 (its right).
type point struct{ X, Y float64 }

// lineChart draws series over the same span of time, scaled to max (0: to the
// largest value), with first and last as the x axis' labels.
func lineChart(id, label string, lines []series, max float64, first, last string, format func(float64) string) template.HTML {
	var b strings.Builder
	if max <= 0 {
		for _, s := range lines {
			for _, p := range s.Points {
				max = math.Max(max, p.Y)
			}
		}
		max = niceCeil(max)
	}
	fmt.Fprintf(&b, `<svg id="%s" class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet">`,
		template.HTMLEscapeString(id), chartW, chartH, template.HTMLEscapeString(label))
	axes(&b, max, format)
	for _, s := range lines {
		if len(s.Points) == 0 {
			continue
		}
		var pts []string
		for _, p := range s.Points {
			y := chartH - padB
			if max > 0 {
				y -= math.Min(p.Y/max, 1) * (chartH - padT - padB)
			}
			x := padL + math.Max(0, math.Min(p.X, 1))*(chartW-padL-padR)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		fmt.Fprintf(&b, `<g class="%s"><title>%s</title><polyline class="line" points="%s"/>`,
			template.HTMLEscapeString(s.Class), template.HTMLEscapeString(s.Name), strings.Join(pts, " "))
		// A dot per reading: one reading alone is no line.
		for _, p := range pts {
			x, y, _ := strings.Cut(p, ",")
			fmt.Fprintf(&b, `<circle class="dot" cx="%s" cy="%s" r="3"/>`, x, y)
		}
		b.WriteString(`</g>`)
	}
	fmt.Fprintf(&b, `<text class="tick" x="%g" y="%g">%s</text>`, padL, chartH-padB+15, template.HTMLEscapeString(first))
	fmt.Fprintf(&b, `<text class="tick" x="%g" y="%g" text-anchor="end">%s</text>`, chartW-padR, chartH-padB+15, template.HTMLEscapeString(last))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// axes draws the baseline and three labelled grid lines up to top.
func axes(b *strings.Builder, top float64, format func(float64) string) {
	for i := 0; i <= 2; i++ {
		v := top * float64(i) / 2
		y := chartH - padB - float64(i)/2*(chartH-padT-padB)
		fmt.Fprintf(b, `<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(b, `<text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, padL-4, y+4, template.HTMLEscapeString(format(v)))
	}
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, so the axis reads
// well.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
