package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Plot geometry, in SVG user units.
const (
	plotWidth  = 900
	panelH     = 220
	marginL    = 70
	marginR    = 20
	marginTop  = 40
	panelGap   = 60
	plotHeight = marginTop + 2*panelH + panelGap + 50
)

// WritePlot draws the run second by second as an SVG: successful unlocks
// per second in the upper panel, the p50 and p99 latency of the unlocks
// that finished in each second in the lower one.
func WritePlot(w io.Writer, title string, seconds []Second) error {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		plotWidth, plotHeight, plotWidth, plotHeight)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n",
		marginL, html.EscapeString(title))
	ok, p50, p99 := make([]float64, len(seconds)), make([]float64, len(seconds)), make([]float64, len(seconds))
	for i, s := range seconds {
		ok[i], p50[i], p99[i] = float64(s.OK), s.P50, s.P99
	}
	panel(&b, marginTop, "unlocks per second", len(seconds), []series{{"unlocks/s", "#1565c0", ok}})
	panel(&b, marginTop+panelH+panelGap, "latency (ms)", len(seconds), []series{{"p50", "#2e7d32", p50}, {"p99", "#c62828", p99}})
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">seconds into the measured run</text>`+"\n",
		marginL+(plotWidth-marginL-marginR)/2, plotHeight-10)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// series is one line of a panel.
type series struct {
	name, color string
	ys          []float64
}

// panel draws one panel at top: axes, a label, y ticks and the lines.
func panel(b *strings.Builder, top int, label string, n int, ss []series) {
	left, width := marginL, plotWidth-marginL-marginR
	ymax := 0.0
	for _, s := range ss {
		for _, y := range s.ys {
			ymax = math.Max(ymax, y)
		}
	}
	ymax = niceCeil(ymax)
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`+"\n", left, top, width, panelH)
	fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", left, top-6, html.EscapeString(label))
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		y := float64(top+panelH) - float64(panelH)*float64(i)/4
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
			left, left+width, y, y, left-6, y+4, trim(v))
	}
	xs := func(i int) float64 {
		if n <= 1 {
			return float64(left)
		}
		return float64(left) + float64(width)*float64(i)/float64(n-1)
	}
	for i := 0; i < n; i += max(1, n/10) {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", xs(i), top+panelH+16, i)
	}
	for k, s := range ss {
		var pts []string
		for i, y := range s.ys {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xs(i), float64(top+panelH)-float64(panelH)*y/ymax))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", s.color, strings.Join(pts, " "))
		fmt.Fprintf(b, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", left+width-60*(len(ss)-k), top-6, s.color, html.EscapeString(s.name))
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
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

// trim formats a tick value without needless decimals.
func trim(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2g", v)
}
