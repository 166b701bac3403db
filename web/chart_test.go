package web

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// TestChartsAreAccessibleWellFormedSVG: every chart is well-formed SVG,
// an image named by its title and description, escapes what it is
// given, carries no style attribute (the CSP forbids them), and gives
// every series a fill of its own.
func TestChartsAreAccessibleWellFormedSVG(t *testing.T) {
	evil := `<script>alert(1)</script>"&`
	charts := map[string]string{
		"stacked": string(stackedBars("s", "Entries "+evil, "desc", []string{"Mar 1", evil}, []string{"1 Mar", evil},
			[]chartSeries{{Label: evil, Values: []int{1, 2}}, {Label: "B", Values: []int{0, 3}}, {Label: "C", Values: []int{4, 0}}})),
		"stacked, empty":    string(stackedBars("e", "Entries", "none", []string{"Mar 1"}, []string{"1 Mar"}, nil)),
		"horizontal":        string(horizontalBars("h", "Refusals", "desc", []string{evil, "B"}, []int{3, 1})),
		"horizontal, empty": string(horizontalBars("he", "Refusals", "none", nil, nil)),
		"histogram":         string(histogram("g", "Delivery", "desc", "none", []string{"0–30 s", "30+ min"}, []int{0, 5})),
	}
	for name, svg := range charts {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(svg, "<script") || strings.Contains(svg, "style=") {
				t.Fatalf("unsafe SVG: %s", svg)
			}
			d := xml.NewDecoder(strings.NewReader(svg))
			var root *xml.StartElement
			titles := 0
			for {
				tok, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed: %v\n%s", err, svg)
				}
				if se, ok := tok.(xml.StartElement); ok {
					if root == nil {
						root = &se
					}
					if se.Name.Local == "title" {
						titles++
					}
				}
			}
			attrs := map[string]string{}
			for _, a := range root.Attr {
				attrs[a.Name.Local] = a.Value
			}
			if root.Name.Local != "svg" || attrs["role"] != "img" || attrs["aria-labelledby"] == "" || titles == 0 {
				t.Fatalf("root %v %v, %d titles", root.Name, attrs, titles)
			}
		})
	}
	fills := map[string]bool{}
	for i := range len(chartColors) {
		fills[seriesFill("x", i)] = true
	}
	if len(fills) != len(chartColors) {
		t.Fatalf("series share fills: %v", fills)
	}
}

// TestNiceMax: axis tops are round and their ticks few.
func TestNiceMax(t *testing.T) {
	for _, c := range []struct{ n, top, step int }{{0, 1, 1}, {1, 1, 1}, {2, 2, 1}, {3, 5, 1}, {7, 10, 2}, {11, 20, 5}, {49, 50, 10}, {101, 200, 50}} {
		top, step := niceMax(c.n)
		if top != c.top || step != c.step || top/step > 5 {
			t.Errorf("niceMax(%d) = %d, %d; want %d, %d", c.n, top, step, c.top, c.step)
		}
	}
}
