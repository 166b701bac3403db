package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// chartDays are the periods the charts page offers.
var chartDays = []int{14, 30}

// chartsPage is the data of console/charts.html.
type chartsPage struct {
	Building *doorman.Building
	Days     int
	Choices  []int
	Stats    *app.AuditStats
	// DayLabels name Stats.Days ("Mar 4").
	DayLabels []string
	Entries   template.HTML
	Legend    []legendItem
	Refusals  template.HTML
	Delivery  template.HTML
	// DeliveryLabels name the histogram's buckets.
	DeliveryLabels []string
	Median         string
}

// legendItem is one series of the entries chart's legend.
type legendItem struct {
	Swatch template.HTML
	Label  string
	Total  int
}

// chartsPage draws a building's audit log as charts: entries per day by
// carrier, refusals by reason, and the time from the door opening to the
// parcel delivered. Each chart has its numbers as a table below it.
func (s *Server) chartsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	days := chartDays[0]
	if n, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && (n == 14 || n == 30) {
		days = n
	}
	st, err := s.app.Audit.Stats(ctx, b.ID, days, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := chartsPage{Building: b, Days: days, Choices: chartDays, Stats: st}
	var ticks []string
	every := (len(st.Days)-1)/7 + 1 // as stackedBars labels them
	for i, d := range st.Days {
		p.DayLabels = append(p.DayLabels, d.Format("Jan 2"))
		// The day of the month, and its month under the first day
		// labelled, and the first labelled of each month.
		tick := d.Format("2")
		if i == (len(st.Days)-1)%every || d.Day() <= every {
			tick += d.Format(" Jan")
		}
		ticks = append(ticks, tick)
	}

	var series []chartSeries
	for c, car := range st.Carriers {
		values := make([]int, len(st.Days))
		for d := range st.Days {
			values[d] = st.Entries[d][c]
		}
		series = append(series, chartSeries{Label: car.Name, Values: values})
		p.Legend = append(p.Legend, legendItem{Swatch: legendSwatch("entries", c), Label: car.Name, Total: car.Total})
	}
	total := 0
	for _, c := range st.Carriers {
		total += c.Total
	}
	p.Entries = stackedBars("entries", fmt.Sprintf("Entries per day by carrier, last %d days", days),
		fmt.Sprintf("%d entries by %d carriers. The table below the chart gives every day's numbers.", total, len(st.Carriers)),
		p.DayLabels, ticks, series)

	var labels []string
	var counts []int
	refused := 0
	for _, rc := range st.Refusals {
		labels = append(labels, reasonLabel(rc.Reason))
		counts = append(counts, rc.Count)
		refused += rc.Count
	}
	p.Refusals = horizontalBars("refusals", fmt.Sprintf("Refusals by reason, last %d days", days),
		fmt.Sprintf("%d refused requests for %d reasons.", refused, len(st.Refusals)), labels, counts)

	counts = nil
	for _, bc := range st.Delivery {
		p.DeliveryLabels = append(p.DeliveryLabels, bucketLabel(bc))
		counts = append(counts, bc.Count)
	}
	if st.Deliveries > 0 {
		p.Median = shortDuration(st.DeliveryMedian)
	}
	desc := "No deliveries measured."
	if st.Deliveries > 0 {
		desc = fmt.Sprintf("%d deliveries measured; median %s.", st.Deliveries, p.Median)
		if st.Deliveries == 1 {
			desc = "1 delivery measured, in " + p.Median + "."
		}
	}
	p.Delivery = histogram("delivery", fmt.Sprintf("Time from door open to delivered, last %d days", days), desc,
		"No deliveries measured.", p.DeliveryLabels, counts)
	s.render(w, r, http.StatusOK, "console/charts.html", p)
}

// bucketLabel names a histogram bucket in one unit, numbers first:
// "0–30 s", "1–2 min", "30+ min".
func bucketLabel(b app.BucketCount) string {
	unit, per := "min", time.Minute
	if b.From < time.Minute {
		unit, per = "s", time.Second
	}
	from := strconv.Itoa(int(b.From / per))
	if b.To == 0 {
		return from + "+ " + unit
	}
	return from + "–" + strconv.Itoa(int(b.To/per)) + " " + unit
}

// shortDuration says d in seconds under a minute, else in minutes.
func shortDuration(d time.Duration) string {
	if d < time.Second {
		return "under a second"
	}
	if d < time.Minute {
		return strconv.Itoa(int(d/time.Second)) + " s"
	}
	if d%time.Minute == 0 {
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return fmt.Sprintf("%.1f min", d.Minutes())
}
