package app

import (
	"slices"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// TestSummarize: each row is a made-up stretch of a building's log and
// what the charts must show of it.
func TestSummarize(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 10, 0, 0, 0, 0, berlin) // three days: 10, 11, 12 March
	at := func(day, hour, min, sec int) time.Time { return time.Date(2026, 3, day, hour, min, sec, 0, berlin) }
	used := func(t time.Time, carrier, grant string) *doorman.AuditEntry {
		return &doorman.AuditEntry{Action: doorman.ActionGrantUsed, At: t, CarrierID: carrier, GrantID: grant}
	}
	granted := func(t time.Time, grant string, parcels ...string) *doorman.AuditEntry {
		return &doorman.AuditEntry{Action: doorman.ActionAccessGranted, At: t, GrantID: grant, ParcelIDs: parcels}
	}
	denied := func(t time.Time, reason string) *doorman.AuditEntry {
		return &doorman.AuditEntry{Action: doorman.ActionAccessDenied, At: t, Reason: reason}
	}
	delivered := func(t time.Time, parcels ...string) *doorman.AuditEntry {
		return &doorman.AuditEntry{Action: doorman.ActionParcelDelivered, At: t, ParcelIDs: parcels}
	}
	type want struct {
		carriers   []CarrierTotal
		entries    [][]int
		refusals   []ReasonCount
		buckets    []int // counts per DeliveryBuckets
		deliveries int
		median     time.Duration
	}
	for _, tc := range []struct {
		name    string
		entries []*doorman.AuditEntry
		want    want
	}{{
		name: "empty log",
		want: want{entries: [][]int{{}, {}, {}}, buckets: make([]int, 7)},
	}, {
		name: "entries counted by carrier and local day, busiest carrier first",
		entries: []*doorman.AuditEntry{
			used(at(10, 9, 0, 0), "car_b", "g1"),
			used(at(10, 23, 30, 0), "car_a", "g2"), // still the 10th in Berlin, the 10th in UTC too
			used(at(11, 0, 30, 0), "car_a", "g3"),  // the 11th in Berlin, the 10th in UTC
			used(at(12, 12, 0, 0), "car_a", "g4"),
			used(at(9, 23, 0, 0), "car_a", "g0"), // before the period
			used(at(13, 0, 0, 0), "car_b", "g5"), // after it
			{Action: doorman.ActionAccessGranted, At: at(11, 8, 0, 0), CarrierID: "car_b", GrantID: "g6"}, // granted, never opened
		},
		want: want{
			carriers: []CarrierTotal{{ID: "car_a", Total: 3}, {ID: "car_b", Total: 1}},
			entries:  [][]int{{1, 1}, {1, 0}, {1, 0}},
			buckets:  make([]int, 7),
		},
	}, {
		name: "refusals by reason, door stayed shut included, most frequent first",
		entries: []*doorman.AuditEntry{
			denied(at(10, 8, 0, 0), doorman.ReasonUnknownParcel),
			denied(at(11, 8, 0, 0), doorman.ReasonOutsideDeliveryHours),
			denied(at(11, 9, 0, 0), doorman.ReasonOutsideDeliveryHours),
			{Action: doorman.ActionUnlockFailed, At: at(12, 8, 0, 0), Reason: doorman.ReasonDoorOffline},
			denied(at(9, 8, 0, 0), doorman.ReasonUnknownParcel), // before the period
		},
		want: want{
			entries:  [][]int{{}, {}, {}},
			refusals: []ReasonCount{{doorman.ReasonOutsideDeliveryHours, 2}, {doorman.ReasonDoorOffline, 1}, {doorman.ReasonUnknownParcel, 1}},
			buckets:  make([]int, 7),
		},
	}, {
		name: "delivery time from the door opening, else from the grant",
		entries: []*doorman.AuditEntry{
			granted(at(10, 10, 0, 0), "g1", "p1", "p2"),
			used(at(10, 10, 0, 2), "car_a", "g1"),
			delivered(at(10, 10, 0, 22), "p1"),    // 20 s after the door opened
			delivered(at(10, 10, 3, 2), "p2"),     // 3 min
			granted(at(11, 10, 0, 0), "g2", "p3"), // the door never acknowledged
			delivered(at(11, 10, 0, 45), "p3"),    // 45 s after the grant
			granted(at(11, 11, 0, 0), "g3", "p4"),
			delivered(at(12, 11, 0, 0), "p4"), // a day later: not that opening's delivery
			delivered(at(12, 12, 0, 0), "p9"), // never let in
			granted(at(12, 13, 0, 0), "g4", "p5"),
			delivered(at(12, 13, 45, 0), "p5"), // 45 min
		},
		want: want{
			carriers:   []CarrierTotal{{ID: "car_a", Total: 1}},
			entries:    [][]int{{1}, {0}, {0}},
			buckets:    []int{1, 1, 0, 1, 0, 0, 1},
			deliveries: 4,
			median:     3 * time.Minute,
		},
	}, {
		name: "the last opening before the delivery counts, and a parcel once",
		entries: []*doorman.AuditEntry{
			granted(at(10, 10, 0, 0), "g1", "p1"),
			granted(at(10, 10, 5, 0), "g2", "p1"), // let in again
			delivered(at(10, 10, 6, 0), "p1"),     // 1 min after the second
			delivered(at(10, 10, 7, 0), "p1"),     // marked again: not measured twice
		},
		want: want{entries: [][]int{{}, {}, {}}, buckets: []int{0, 0, 1, 0, 0, 0, 0}, deliveries: 1, median: time.Minute},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			// The store lists newest first: summarize takes any order.
			in := slices.Clone(tc.entries)
			slices.Reverse(in)
			st := summarize(in, start, 3, berlin)
			if len(st.Days) != 3 || !st.Days[0].Equal(start) || !st.Days[2].Equal(at(12, 0, 0, 0)) {
				t.Errorf("days %v", st.Days)
			}
			if !slices.Equal(st.Carriers, tc.want.carriers) {
				t.Errorf("carriers %v, want %v", st.Carriers, tc.want.carriers)
			}
			for d := range 3 {
				if !slices.Equal(st.Entries[d], tc.want.entries[d]) && !(len(st.Entries[d]) == 0 && len(tc.want.entries[d]) == 0) {
					t.Errorf("entries of day %d: %v, want %v", d, st.Entries[d], tc.want.entries[d])
				}
			}
			if !slices.Equal(st.Refusals, tc.want.refusals) {
				t.Errorf("refusals %v, want %v", st.Refusals, tc.want.refusals)
			}
			var buckets []int
			for _, b := range st.Delivery {
				buckets = append(buckets, b.Count)
			}
			if !slices.Equal(buckets, tc.want.buckets) {
				t.Errorf("delivery histogram %v, want %v", buckets, tc.want.buckets)
			}
			if st.Deliveries != tc.want.deliveries || st.DeliveryMedian != tc.want.median {
				t.Errorf("%d deliveries, median %v; want %d, %v", st.Deliveries, st.DeliveryMedian, tc.want.deliveries, tc.want.median)
			}
		})
	}
}

// TestDeliveryBucketsCoverEverything: the histogram's buckets start at
// zero, rise, and the last is open-ended.
func TestDeliveryBucketsCoverEverything(t *testing.T) {
	st := summarize(nil, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 1, time.UTC)
	if st.Delivery[0].From != 0 || st.Delivery[len(st.Delivery)-1].To != 0 {
		t.Fatalf("buckets %v", st.Delivery)
	}
	for i := 1; i < len(st.Delivery); i++ {
		if st.Delivery[i].From != st.Delivery[i-1].To {
			t.Fatalf("buckets %v leave a gap", st.Delivery)
		}
	}
}
