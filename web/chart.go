package web

import (
	"fmt"
	"html/template"
	"strings"
)

// The charts are SVG drawn here, on the server, and put inline in the
// page: no script draws them and no style attribute colours them (the
// CSP forbids inline style), only SVG presentation attributes. Each chart
// is an image with a title and a description (role="img",
// aria-labelledby); the page gives the same numbers as a table.

// chartColors are the series' colours: each has at least 3:1 contrast on
// white (WCAG 1.4.11), and each series also has its own pattern (see
// chartPattern), so no two are told apart by colour alone.
var chartColors = []string{"#0b5cad", "#b5470b", "#2e7d32", "#6a3d9a", "#a4161a", "#00695c", "#4f5863", "#8a5a00"}

// chartPatterns are the overlays drawn in white over a series' colour:
// none, diagonal stripes, dots, horizontal lines, cross-hatching, and
// vertical lines.
var chartPatterns = []string{
	``,
	`<path d="M-2 2L2 -2M0 8L8 0M6 10L10 6" stroke="#fff" stroke-width="1.5"/>`,
	`<circle cx="4" cy="4" r="1.6" fill="#fff"/>`,
	`<path d="M0 4H8" stroke="#fff" stroke-width="1.5"/>`,
	`<path d="M0 0L8 8M8 0L0 8" stroke="#fff" stroke-width="1.2"/>`,
	`<path d="M4 0V8" stroke="#fff" stroke-width="1.5"/>`,
}

// chartSeries is one stacked series: a label and a value per x.
type chartSeries struct {
	Label  string
	Values []int
}

// seriesFill is the fill of series i of chart id.
func seriesFill(id string, i int) string {
	if chartPatterns[i%len(chartPatterns)] == "" {
		return chartColors[i%len(chartColors)]
	}
	return "url(#" + id + "-p" + fmt.Sprint(i) + ")"
}

// patternDefs defines the patterns of n series of chart id.
func patternDefs(id string, n int) string {
	var b strings.Builder
	b.WriteString("<defs>")
	for i := range n {
		if chartPatterns[i%len(chartPatterns)] == "" {
			continue
		}
		fmt.Fprintf(&b, `<pattern id="%s-p%d" patternUnits="userSpaceOnUse" width="8" height="8"><rect width="8" height="8" fill="%s"/>%s</pattern>`,
			id, i, chartColors[i%len(chartColors)], chartPatterns[i%len(chartPatterns)])
	}
	b.WriteString("</defs>")
	return b.String()
}

// niceMax is the smallest of 1, 2, 5, 10, 20, 50… not below n, for the
// top of an axis, and the step of its ticks.
func niceMax(n int) (top, step int) {
	if n < 1 {
		n = 1
	}
	for scale := 1; ; scale *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*scale >= n {
				top = m * scale
				switch m {
				case 1:
					step = max(scale/5, 1)
				case 2:
					step = max(scale*2/4, 1)
				default:
					step = scale
				}
				if top/step > 5 {
					step = top / 5
				}
				return top, step
			}
		}
	}
}

// chartOpen starts the SVG of chart id, w×h, with its title and
// description.
func chartOpen(b *strings.Builder, id string, w, h int, title, desc string) {
	fmt.Fprintf(b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-title %s-desc" font-family="system-ui, sans-serif" font-size="15">`,
		w, h, w, h, id, id)
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(title), id, esc(desc))
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// yAxis draws the horizontal grid lines and their values for a plot from
// top to bottom (y pixels) between left and right, for values 0..top.
func yAxis(b *strings.Builder, left, right, top, bottom, max, step int) {
	for v := 0; v <= max; v += step {
		y := bottom - (bottom-top)*v/max
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#cfd5dc"/>`, left, y, right, y)
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end" fill="#4f5863">%d</text>`, left-6, y+4, v)
	}
}

// stackedBars draws one bar per x label, stacked by series. Under some
// bars is their tick (a short form of the label; a space starts a second
// line: "1 Dec").
func stackedBars(id, title, desc string, xLabels, ticks []string, series []chartSeries) template.HTML {
	const w, h, left, right, top, bottom = 600, 290, 40, 592, 16, 240
	total := make([]int, len(xLabels))
	for _, s := range series {
		for i, v := range s.Values {
			total[i] += v
		}
	}
	most := 0
	for _, t := range total {
		most = max(most, t)
	}
	maxV, step := niceMax(most)
	var b strings.Builder
	chartOpen(&b, id, w, h, title, desc)
	b.WriteString(patternDefs(id, len(series)))
	yAxis(&b, left, right, top, bottom, maxV, step)
	n := max(len(xLabels), 1)
	slot := float64(right-left) / float64(n)
	barW := slot * 0.7
	every := 1 + (n-1)/7 // label at most ~7 days, readable on a phone (chartsPage knows)
	for i, label := range xLabels {
		x := float64(left) + slot*float64(i) + (slot-barW)/2
		y := float64(bottom)
		for si, s := range series {
			v := s.Values[i]
			if v == 0 {
				continue
			}
			hgt := float64(bottom-top) * float64(v) / float64(maxV)
			y -= hgt
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="#fff" stroke-width="1"><title>%s, %s: %d</title></rect>`,
				x, y, barW, hgt, seriesFill(id, si), esc(label), esc(s.Label), v)
		}
		if (n-1-i)%every == 0 && i < len(ticks) {
			first, second, _ := strings.Cut(ticks[i], " ")
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#1b1f24">%s<tspan x="%.1f" dy="18">%s</tspan></text>`,
				x+barW/2, bottom+20, esc(first), x+barW/2, esc(second))
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#1b1f24"/>`, left, bottom, right, bottom)
	if most == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#4f5863">No entries in these days.</text>`, (left+right)/2, (top+bottom)/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// legendSwatch is a small square in series i's fill of chart id, for the
// legend next to the chart.
func legendSwatch(id string, i int) template.HTML {
	return template.HTML(fmt.Sprintf(`<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false"><rect x="1" y="1" width="16" height="16" fill="%s" stroke="#1b1f24"/></svg>`,
		seriesFill(id, i)))
}

// horizontalBars draws one bar per row, its label above it (so long
// labels fit on a phone), in the order given.
func horizontalBars(id, title, desc string, labels []string, values []int) template.HTML {
	const w, left, right, rowH, top = 600, 8, 540, 50, 6
	h := top*2 + rowH*max(len(labels), 1)
	most := 0
	for _, v := range values {
		most = max(most, v)
	}
	maxV, _ := niceMax(most)
	var b strings.Builder
	chartOpen(&b, id, w, h, title, desc)
	for i, label := range labels {
		y := top + rowH*i
		bw := max(float64(right-left)*float64(values[i])/float64(maxV), 2)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#1b1f24">%s</text>`, left, y+17, esc(label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="18" fill="#a4161a"><title>%s: %d</title></rect>`,
			left, y+24, bw, esc(label), values[i])
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#1b1f24">%d</text>`, float64(left)+bw+6, y+39, values[i])
	}
	if len(labels) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#4f5863">No refusals in these days.</text>`, w/2, top+rowH/2+4)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// histogram draws one bar per bucket, touching, with the counts above.
func histogram(id, title, desc, empty string, labels []string, values []int) template.HTML {
	const w, h, left, right, top, bottom = 600, 290, 40, 592, 24, 220
	most := 0
	for _, v := range values {
		most = max(most, v)
	}
	maxV, step := niceMax(most)
	var b strings.Builder
	chartOpen(&b, id, w, h, title, desc)
	yAxis(&b, left, right, top, bottom, maxV, step)
	slot := float64(right-left) / float64(max(len(labels), 1))
	for i, label := range labels {
		x := float64(left) + slot*float64(i)
		hgt := float64(bottom-top) * float64(values[i]) / float64(maxV)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#0b5cad" stroke="#fff" stroke-width="2"><title>%s: %d</title></rect>`,
			x, float64(bottom)-hgt, slot, hgt, esc(label), values[i])
		if values[i] > 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#1b1f24">%d</text>`, x+slot/2, float64(bottom)-hgt-5, values[i])
		}
		// "10–30 min" on two lines: the numbers, then the unit.
		nums, unit, _ := strings.Cut(label, " ")
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#1b1f24">%s<tspan x="%.1f" dy="18">%s</tspan></text>`,
			x+slot/2, bottom+20, esc(nums), x+slot/2, esc(unit))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#1b1f24"/>`, left, bottom, right, bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#4f5863">time from door open to delivered</text>`, (left+right)/2, h-8)
	if most == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#4f5863">%s</text>`, (left+right)/2, (top+bottom)/2, esc(empty))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
