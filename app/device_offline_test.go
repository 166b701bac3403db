package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/wire"
)

// offlineDoor is a door with an enrolled device whose offline reports the
// tests send, signed by the device's key.
type offlineDoor struct {
	w    *alertWorld
	door *app.Door
	dev  context.Context
	send func(t *testing.T, ev *wire.Event)
}

func newOfflineDoor(t *testing.T, w *alertWorld) *offlineDoor {
	t.Helper()
	d, key := enrolledDevice(t, w.world)
	od := &offlineDoor{w: w, door: w.door, dev: doorman.NewContextWithPrincipal(context.Background(), app.DevicePrincipal(w.door.ID, d.ID))}
	od.send = func(t *testing.T, ev *wire.Event) {
		t.Helper()
		must(t, ev.Sign(d.ID, key))
		must(t, w.app.Devices.RecordEvent(od.dev, ev))
	}
	return od
}

// grant commits a grant for the world's courier at door (of building)
// for n new parcels, as the access service does before it asks the door.
func (w *alertWorld) grant(t *testing.T, buildingID, doorID string, n int) *doorman.Grant {
	t.Helper()
	if err := w.store.CreateUnits(w.sys, []*doorman.Unit{{BuildingID: buildingID, Label: "1A"}}); err != nil && doorman.ErrorCode(err) != doorman.ECONFLICT {
		t.Fatal(err)
	}
	var items []doorman.ParcelInput
	for range n {
		items = append(items, doorman.ParcelInput{TrackingNumber: strings.ToUpper(doorman.NewID("TN")), BuildingID: buildingID,
			UnitLabel: "1A", CourierExternalID: "c1", Status: doorman.ParcelOutForDelivery})
	}
	res, err := w.store.UpsertParcels(w.sys, w.allowed.ID, items)
	must(t, err)
	var parcels []string
	for _, r := range res {
		parcels = append(parcels, r.Parcel.ID)
	}
	g := &doorman.Grant{}
	_, err = w.store.RecordAccess(w.sys, &doorman.AccessRecord{Decision: doorman.Allow(), Grant: g, BuildingID: buildingID,
		DoorID: doorID, CarrierID: w.allowed.ID, CourierID: w.courier.ID, ParcelIDs: parcels})
	must(t, err)
	return g
}

// offlineReport is the device's report that its reader opened for the
// offline grant of g, carrying what the token said.
func offlineReport(doorID string, g *doorman.Grant, at time.Time) *wire.Event {
	return &wire.Event{ID: wire.NewEventID(), Kind: wire.EventUnlockExecuted, DoorID: doorID, At: at,
		GrantID: g.ID, JTI: doorman.NewID(wire.PrefixOfflineGrant), Offline: true,
		CourierID: g.CourierID, Parcels: wire.ParcelsDigest(g.ParcelIDs), Detail: "reader"}
}

// entriesSince returns the actions of the building's chain after seq.
func (w *alertWorld) entriesSince(t *testing.T, seq int64) []*doorman.AuditEntry {
	t.Helper()
	entries, err := w.store.AuditChain(w.sys, w.building.ID, seq, 1<<20)
	must(t, err)
	return entries
}

func actions(entries []*doorman.AuditEntry) string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return strings.Join(out, " ")
}

// TestOfflineReportMatches: a door's report of an offline grant that
// matches the grant issued marks the grant used at the device's time and
// chains grant.used after the door's event; no alert. The same report
// delivered again (the queue resends after a lost acknowledgement) adds
// nothing.
func TestOfflineReportMatches(t *testing.T) {
	w := newAlertWorld(t)
	od := newOfflineDoor(t, w)
	g := w.grant(t, w.building.ID, w.door.ID, 2)
	start := w.head(t)
	at := time.Now().UTC().Truncate(time.Microsecond) // after the grant, as a use must be
	ev := offlineReport(w.door.ID, g, at)
	od.send(t, ev)

	got := w.entriesSince(t, start)
	if a := actions(got); a != doorman.DeviceEventAction(doorman.EventUnlockExecuted)+" "+doorman.ActionGrantUsed {
		t.Fatalf("chain after a matching offline report: %s", a)
	}
	if !strings.Contains(got[0].Detail, ev.JTI) || got[1].GrantID != g.ID {
		t.Fatalf("entries: %+v %+v", got[0], got[1])
	}
	stored, err := w.store.Grant(w.sys, g.ID)
	must(t, err)
	if stored.UsedAt == nil || !stored.UsedAt.Equal(at) {
		t.Fatalf("grant used at %v, want the device's %v", stored.UsedAt, at)
	}
	if msgs, _ := w.produce(t, start); len(msgs) != 0 {
		t.Fatalf("a matching offline use alerted: %v", msgs[0].Kind)
	}

	// Sent again: the event is known; nothing new, no "used twice".
	head := w.head(t)
	od.send(t, ev)
	if a := actions(w.entriesSince(t, head)); a != "" {
		t.Fatalf("the same report again chained: %s", a)
	}
}

// TestOfflineReportUsedTwice: a grant used online (or by an earlier
// offline report) and then reported used offline, with another event, is
// chained as grant.used_twice and alerts the building's managers, not
// another building's; the first use stands.
func TestOfflineReportUsedTwice(t *testing.T) {
	w := newAlertWorld(t)
	od := newOfflineDoor(t, w)
	for _, name := range []string{"online then offline", "offline twice"} {
		t.Run(name, func(t *testing.T) {
			g := w.grant(t, w.building.ID, w.door.ID, 1)
			first := time.Now().UTC().Truncate(time.Microsecond)
			if name == "online then offline" {
				must(t, w.store.MarkGrantUsed(w.sys, g.ID, first))
			} else {
				od.send(t, offlineReport(w.door.ID, g, first))
			}
			start := w.head(t)
			second := offlineReport(w.door.ID, g, time.Now().UTC())
			od.send(t, second)
			got := w.entriesSince(t, start)
			if a := actions(got); a != doorman.DeviceEventAction(doorman.EventUnlockExecuted)+" "+doorman.ActionGrantUsedTwice {
				t.Fatalf("chain: %s", a)
			}
			if e := got[1]; e.GrantID != g.ID || e.CourierID != g.CourierID || e.DoorID != w.door.ID ||
				!strings.Contains(e.Detail, second.JTI) || !strings.Contains(e.Detail, second.ID) {
				t.Fatalf("used_twice entry: %+v", e)
			}
			stored, err := w.store.Grant(w.sys, g.ID)
			must(t, err)
			if stored.UsedAt == nil || !stored.UsedAt.Equal(first) {
				t.Fatalf("the first use was replaced: used at %v, want %v", stored.UsedAt, first)
			}
			msgs, _ := w.produce(t, start)
			wantKinds(t, "used twice", msgs, "alert.grant_used_twice")
			if m := msgs[0]; m.Target != "m@example.org" || !strings.Contains(m.Text, "used twice") || !strings.Contains(m.Text, "What to do:") {
				t.Fatalf("alert: to %s\n%s", m.Target, m.Text)
			}
		})
	}
}

// TestOfflineReportMismatch: whatever the door says opened it that does
// not match what Doorman issued (no offline token ID, a grant never
// issued, another building's or another door's grant, another courier,
// other parcels) is chained as grant.offline_mismatch after the door's
// own event, alerts the managers, and marks no grant used.
func TestOfflineReportMismatch(t *testing.T) {
	// Each case has a world of its own: a door's unlock_executed events
	// beyond doorman.DeviceEventBurst a minute are counted, not chained one
	// by one.
	var w *alertWorld
	var side, elsewhere *app.Door
	cases := []struct {
		name  string
		grant func() *doorman.Grant
		edit  func(ev *wire.Event)
		says  string
	}{
		{"no offline token ID", func() *doorman.Grant { return w.grant(t, w.building.ID, w.door.ID, 1) },
			func(ev *wire.Event) { ev.JTI = doorman.NewID("cmd") }, "without an offline grant token ID"},
		{"a grant never issued", func() *doorman.Grant { return w.grant(t, w.building.ID, w.door.ID, 1) },
			func(ev *wire.Event) { ev.GrantID = doorman.NewID(doorman.PrefixGrant) }, "never issued"},
		{"no grant named", func() *doorman.Grant { return w.grant(t, w.building.ID, w.door.ID, 1) },
			func(ev *wire.Event) { ev.GrantID = "" }, "never issued"},
		{"another building's grant", func() *doorman.Grant { return w.grant(t, w.other.ID, elsewhere.ID, 1) },
			nil, "another building"},
		{"another door's grant", func() *doorman.Grant { return w.grant(t, w.building.ID, side.ID, 1) },
			nil, "another door"},
		{"another courier", func() *doorman.Grant { return w.grant(t, w.building.ID, w.door.ID, 1) },
			func(ev *wire.Event) { ev.CourierID = doorman.NewID(doorman.PrefixCourier) }, "another courier"},
		{"other parcels", func() *doorman.Grant { return w.grant(t, w.building.ID, w.door.ID, 1) },
			func(ev *wire.Event) { ev.Parcels = wire.ParcelsDigest([]string{doorman.NewID(doorman.PrefixParcel)}) }, "other parcels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w = newAlertWorld(t)
			od := newOfflineDoor(t, w)
			sys := w.sys
			var err error
			side, err = w.app.Buildings.CreateDoor(sys, &doorman.Door{BuildingID: w.building.ID, Name: "Side"})
			must(t, err)
			elsewhere, err = w.app.Buildings.CreateDoor(sys, &doorman.Door{BuildingID: w.other.ID, Name: "Other front"})
			must(t, err)
			must(t, w.app.Buildings.AllowCarrier(sys, w.other.ID, w.allowed.ID))
			g := c.grant()
			start := w.head(t)
			ev := offlineReport(w.door.ID, g, time.Now().UTC())
			if c.edit != nil {
				c.edit(ev)
			}
			od.send(t, ev)
			got := w.entriesSince(t, start)
			if a := actions(got); a != doorman.DeviceEventAction(doorman.EventUnlockExecuted)+" "+doorman.ActionGrantOfflineMismatch {
				t.Fatalf("chain: %s", a)
			}
			if e := got[1]; !strings.Contains(e.Detail, c.says) || e.DoorID != w.door.ID || e.BuildingID != w.building.ID {
				t.Fatalf("mismatch entry: %+v", e)
			}
			stored, err := w.store.Grant(sys, g.ID)
			must(t, err)
			if stored.UsedAt != nil {
				t.Fatalf("a mismatched report marked the grant used")
			}
			msgs, _ := w.produce(t, start)
			wantKinds(t, c.name, msgs, "alert.offline_grant_mismatch")
		})
	}
}
