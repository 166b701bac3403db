package app

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/doorman-dev/doorman"
)

// AuditStats sum up a building's audit log over its last days, for the
// console's charts. Times are the building's local time.
type AuditStats struct {
	// Days are the first instants of the days covered, oldest first.
	Days []time.Time
	// Carriers are the carriers with entries in the period, most first.
	Carriers []CarrierTotal
	// Entries[d][c] counts the entries on Days[d] by Carriers[c]: grants
	// the door acknowledged (grant.used), one per time the door opened.
	Entries [][]int
	// Refusals count, by reason, the access requests answered "no":
	// denials (access.denied) and grants whose door stayed shut
	// (access.unlock_failed), most frequent first.
	Refusals []ReasonCount
	// Delivery is the histogram of the time from the door opening for a
	// parcel to the parcel being marked delivered, in DeliveryBuckets.
	Delivery []BucketCount
	// Deliveries is how many deliveries were measured, and DeliveryMedian
	// their median time (0 when none).
	Deliveries     int
	DeliveryMedian time.Duration
	// Partial is set when the period held more entries than one
	// summary reads (statsBudget): the oldest days are then undercounted.
	Partial bool
}

// CarrierTotal is a carrier and its entries in the period.
type CarrierTotal struct {
	ID, Name string
	Total    int
}

// ReasonCount is how often a reason was given.
type ReasonCount struct {
	Reason string
	Count  int
}

// BucketCount is one bar of a histogram: durations in [From, To) (To 0:
// no upper bound).
type BucketCount struct {
	From, To time.Duration
	Count    int
}

// DeliveryBuckets are the bounds of the delivery-time histogram.
var DeliveryBuckets = []time.Duration{0, 30 * time.Second, time.Minute, 2 * time.Minute,
	5 * time.Minute, 10 * time.Minute, 30 * time.Minute}

// Stats bounds: a summary covers 1 to 90 days, reads at most statsBudget
// entries, and counts a delivery only within deliveryWindow of the door
// opening for it (a parcel marked delivered a day later was not carried
// in through that opening).
const (
	MaxStatsDays   = 90
	statsBudget    = 50000
	deliveryWindow = 6 * time.Hour
)

// Stats sums up the last days (1–90) of a building's audit log, up to
// now, in the building's time zone (operators; the building's managers:
// anything else is ENOTFOUND, like a missing building).
func (s *Audit) Stats(ctx context.Context, buildingID string, days int, now time.Time) (*AuditStats, error) {
	if days < 1 || days > MaxStatsDays {
		return nil, doorman.Errorf(doorman.EINVALID, "A summary covers 1 to %d days.", MaxStatsDays)
	}
	if err := s.buildingChain(ctx, buildingID); err != nil {
		return nil, err
	}
	b, err := s.store.Building(ctx, buildingID)
	if err != nil {
		return nil, scoped(err, "Building")
	}
	loc, err := doorman.LoadLocation(b.Timezone)
	if err != nil {
		loc = time.UTC
	}
	start := startOfDays(now, loc, days)
	// Read back to a delivery window before the period, so a door opened
	// just before midnight of the first day still pairs with its delivery.
	readFrom := start.Add(-deliveryWindow - sinceSlack)
	var entries []*doorman.AuditEntry
	partial := false
	cursor := ""
read:
	for {
		batch, next, err := s.store.ListAudit(ctx, buildingLog(buildingID), doorman.Page{After: cursor, Limit: searchBatch})
		if err != nil {
			return nil, err
		}
		for _, e := range batch {
			if e.At.Before(readFrom) {
				break read
			}
			if len(entries) == statsBudget {
				partial = true
				break read
			}
			entries = append(entries, e)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	st := summarize(entries, start, days, loc)
	st.Partial = partial
	for i, c := range st.Carriers {
		st.Carriers[i].Name = c.ID
		if car, err := s.store.Carrier(ctx, c.ID); err == nil {
			st.Carriers[i].Name = car.Name
		} else if doorman.ErrorCode(err) != doorman.ENOTFOUND {
			return nil, err
		}
	}
	return st, nil
}

// startOfDays is the first instant of the day days-1 days before now's,
// in loc.
func startOfDays(now time.Time, loc *time.Location, days int) time.Time {
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d-(days-1), 0, 0, 0, 0, loc)
}

// summarize counts entries (in any order) into the days from start, in
// loc. It is the whole of Stats but the reading, so that it can be tested
// on made-up entries.
func summarize(entries []*doorman.AuditEntry, start time.Time, days int, loc *time.Location) *AuditStats {
	st := &AuditStats{}
	dayIndex := map[string]int{}
	for d := range days {
		y, m, dd := start.Date()
		day := time.Date(y, m, dd+d, 0, 0, 0, 0, loc)
		st.Days = append(st.Days, day)
		dayIndex[day.Format(time.DateOnly)] = d
	}
	end := time.Date(start.Year(), start.Month(), start.Day()+days, 0, 0, 0, 0, loc)
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }

	ordered := slices.Clone(entries)
	slices.SortStableFunc(ordered, func(a, b *doorman.AuditEntry) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Seq, b.Seq))
	})

	perCarrier := map[string][]int{}
	refusals := map[string]int{}
	type opening struct {
		grant string
		at    time.Time
	}
	opened := map[string]opening{}   // by parcel: the last grant that let its courier in
	usedAt := map[string]time.Time{} // by grant: when the door opened
	var measured []time.Duration
	for _, e := range ordered {
		switch e.Action {
		case doorman.ActionGrantUsed:
			usedAt[e.GrantID] = e.At
			if !in(e.At) || e.CarrierID == "" {
				break
			}
			if perCarrier[e.CarrierID] == nil {
				perCarrier[e.CarrierID] = make([]int, days)
			}
			perCarrier[e.CarrierID][dayIndex[e.At.In(loc).Format(time.DateOnly)]]++
		case doorman.ActionAccessDenied, doorman.ActionUnlockFailed:
			if in(e.At) && e.Reason != "" {
				refusals[e.Reason]++
			}
		case doorman.ActionAccessGranted:
			for _, p := range e.ParcelIDs {
				opened[p] = opening{grant: e.GrantID, at: e.At}
			}
		case doorman.ActionParcelDelivered:
			if !in(e.At) {
				break
			}
			for _, p := range e.ParcelIDs {
				o, ok := opened[p]
				if !ok {
					continue
				}
				delete(opened, p)
				at := o.at
				if u, ok := usedAt[o.grant]; ok && !u.After(e.At) {
					at = u
				}
				if d := e.At.Sub(at); d >= 0 && d <= deliveryWindow {
					measured = append(measured, d)
				}
			}
		}
	}

	for id, counts := range perCarrier {
		total := 0
		for _, n := range counts {
			total += n
		}
		st.Carriers = append(st.Carriers, CarrierTotal{ID: id, Total: total})
	}
	slices.SortFunc(st.Carriers, func(a, b CarrierTotal) int { return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.ID, b.ID)) })
	st.Entries = make([][]int, days)
	for d := range days {
		st.Entries[d] = make([]int, len(st.Carriers))
		for c, car := range st.Carriers {
			st.Entries[d][c] = perCarrier[car.ID][d]
		}
	}

	for reason, n := range refusals {
		st.Refusals = append(st.Refusals, ReasonCount{Reason: reason, Count: n})
	}
	slices.SortFunc(st.Refusals, func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})

	for i, from := range DeliveryBuckets {
		var to time.Duration
		if i+1 < len(DeliveryBuckets) {
			to = DeliveryBuckets[i+1]
		}
		st.Delivery = append(st.Delivery, BucketCount{From: from, To: to})
	}
	for _, d := range measured {
		i, _ := slices.BinarySearch(DeliveryBuckets, d+1) // the last bound <= d
		st.Delivery[i-1].Count++
	}
	st.Deliveries = len(measured)
	if len(measured) > 0 {
		slices.Sort(measured)
		st.DeliveryMedian = measured[len(measured)/2]
	}
	return st
}
