package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
	"github.com/doorman-dev/doorman/app"
)

// clock is a settable clock for the services.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// alertWorld is a world whose services run on a settable clock, with a
// manager of the building and one of another building.
type alertWorld struct {
	*world
	clock    *clock
	sys      context.Context
	manager  context.Context
	other    *doorman.Building
	stranger context.Context // manages only the other building
	courier  *doorman.Courier
}

func newAlertWorld(t testing.TB) *alertWorld {
	t.Helper()
	w := newWorld(t)
	c := &clock{t: time.Now()}
	w.app = app.New(w.store, app.Config{Access: access.NewService(w.store), PasswordParams: cheap, Now: c.now})
	aw := &alertWorld{world: w, clock: c, sys: doorman.NewContextWithPrincipal(context.Background(), doorman.System())}
	aw.other = &doorman.Building{Name: "Other", Address: "2 Road", Timezone: "UTC"}
	must(t, w.app.Buildings.CreateBuilding(aw.sys, aw.other))
	// The building is in New York, so alert times are its local times.
	tz := "America/New_York"
	if _, err := w.store.UpdateBuilding(aw.sys, w.building.ID, doorman.BuildingUpdate{Timezone: &tz}); err != nil {
		t.Fatal(err)
	}
	aw.manager = aw.newManager(t, w.building.ID, "m@example.org")
	aw.stranger = aw.newManager(t, aw.other.ID, "s@example.org")
	var err error
	aw.courier, err = w.store.CourierByExternalID(aw.sys, w.allowed.ID, "c1")
	must(t, err)
	return aw
}

func (w *alertWorld) newManager(t testing.TB, buildingID, email string) context.Context {
	t.Helper()
	inv, err := w.app.Accounts.CreateInvite(w.sys, buildingID, email)
	must(t, err)
	m, err := w.app.Accounts.AcceptInvite(context.Background(), inv.Token, "M", "a long password here")
	must(t, err)
	return as(doorman.RoleManager, m.ID, "")
}

// produce runs the alert producer on every entry of the building's chain
// after seq and returns the messages.
func (w *alertWorld) produce(t *testing.T, after int64) ([]*doorman.Message, int64) {
	t.Helper()
	entries, err := w.store.AuditChain(w.sys, w.building.ID, after, 1<<20)
	must(t, err)
	var out []*doorman.Message
	for _, e := range entries {
		msgs, err := w.app.Alerts.Produce(w.sys, e)
		must(t, err)
		// Producing twice gives the same keys: the outbox queues them once.
		again, err := w.app.Alerts.Produce(w.sys, e)
		must(t, err)
		if len(again) != len(msgs) {
			t.Fatalf("producing %s twice: %d then %d messages", e.Action, len(msgs), len(again))
		}
		out = append(out, msgs...)
		after = e.Seq
	}
	return out, after
}

func (w *alertWorld) head(t *testing.T) int64 {
	t.Helper()
	entries, err := w.store.AuditChain(w.sys, w.building.ID, 0, 1<<20)
	must(t, err)
	if len(entries) == 0 {
		return 0
	}
	return entries[len(entries)-1].Seq
}

func wantKinds(t *testing.T, name string, msgs []*doorman.Message, kinds ...string) {
	t.Helper()
	var got []string
	for _, m := range msgs {
		got = append(got, m.Kind)
	}
	if strings.Join(got, " ") != strings.Join(kinds, " ") {
		t.Fatalf("%s: messages %v, want %v", name, got, kinds)
	}
}

// TestAlertDeviceEvents: a door held open and a door forced open alert the
// building's managers once per chained entry; a counted flood is one entry
// and so one alert; the email names the building, the door, the local time
// and what to do; a kind the managers turned off alerts no one.
func TestAlertDeviceEvents(t *testing.T) {
	w := newAlertWorld(t)
	d, _ := enrolledDevice(t, w.world)
	start := w.head(t)
	at := time.Date(2026, 7, 4, 18, 30, 0, 0, time.UTC) // 14:30 in New York (EDT)
	for i, kind := range []string{doorman.EventDoorHeldOpen, doorman.EventDoorForced} {
		_, err := w.store.RecordDeviceEvent(w.sys, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID,
			DoorID: w.door.ID, Kind: kind, At: time.Now().Add(time.Duration(i) * time.Millisecond)})
		must(t, err)
	}
	msgs, seq := w.produce(t, start)
	wantKinds(t, "held open and forced", msgs, "alert.door_held_open", "alert.door_forced")
	for _, m := range msgs {
		if m.Channel != doorman.ChannelEmail || m.Target != "m@example.org" || m.BuildingID != w.building.ID || m.Source == "" {
			t.Fatalf("message: %+v", m)
		}
		if !strings.Contains(m.Subject, w.building.Name) || !strings.Contains(m.Subject, "Front") ||
			!strings.Contains(m.Text, "What to do:") || !strings.Contains(m.HTML, "What to do") {
			t.Fatalf("message does not say where and what to do: %q\n%s", m.Subject, m.Text)
		}
	}

	// A flood counted into one entry: one alert saying how many.
	flood := &doorman.AuditEntry{ID: doorman.NewID(doorman.PrefixAudit), Chain: w.building.ID, Seq: seq + 1, At: at,
		Action: doorman.DeviceEventAction(doorman.EventDoorForced), BuildingID: w.building.ID, DoorID: w.door.ID, Count: 250}
	out, err := w.app.Alerts.Produce(w.sys, flood)
	must(t, err)
	wantKinds(t, "counted flood", out, "alert.door_forced")
	if !strings.Contains(out[0].Text, "250 more times") || !strings.Contains(out[0].Text, "Sat 4 Jul 2026 14:30 EDT") {
		t.Fatalf("flood alert:\n%s", out[0].Text)
	}

	// HTML in a name is escaped in the HTML part.
	name := `<script>x</script>`
	if _, err := w.store.UpdateBuilding(w.sys, w.building.ID, doorman.BuildingUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	out, err = w.app.Alerts.Produce(w.sys, flood)
	must(t, err)
	if strings.Contains(out[0].HTML, "<script>") {
		t.Fatalf("unescaped HTML:\n%s", out[0].HTML)
	}

	// Turned off: no alert of that kind; the others still come.
	must(t, w.app.Alerts.SetSettings(w.manager, w.building.ID, &doorman.AlertSettings{
		Disabled: []string{doorman.AlertDoorForced}, OfflineMinutes: 10, RetentionDays: 90}))
	out, err = w.app.Alerts.Produce(w.sys, flood)
	must(t, err)
	wantKinds(t, "forced, turned off", out)
	msgs, _ = w.produce(t, start)
	wantKinds(t, "held open still on", msgs, "alert.door_held_open")
}

// TestAlertDoorOffline: a door whose device is silent longer than the
// building's setting alerts exactly once per outage, and once more when it
// is back; a door without a device never alerts.
func TestAlertDoorOffline(t *testing.T) {
	w := newAlertWorld(t)
	d, _ := enrolledDevice(t, w.world)
	must(t, w.app.Alerts.SetSettings(w.manager, w.building.ID, &doorman.AlertSettings{OfflineMinutes: 7, RetentionDays: 90}))
	if _, err := w.app.Buildings.CreateDoor(w.sys, &doorman.Door{BuildingID: w.building.ID, Name: "Back"}); err != nil {
		t.Fatal(err)
	}
	beat := func() time.Time {
		t.Helper()
		now := time.Now().UTC().Truncate(time.Microsecond)
		_, err := w.store.RecordDeviceEvent(w.sys, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID,
			DoorID: w.door.ID, Kind: doorman.EventHeartbeat, At: now})
		must(t, err)
		return now
	}
	sweep := func(at time.Time, wantOff, wantOn int) {
		t.Helper()
		w.clock.set(at)
		off, on, err := w.app.Alerts.SweepDoors(w.sys)
		must(t, err)
		if off != wantOff || on != wantOn {
			t.Fatalf("sweep at %v: %d offline, %d online; want %d, %d", at, off, on, wantOff, wantOn)
		}
	}
	seen := beat()
	start := w.head(t)
	sweep(seen.Add(7*time.Minute), 0, 0)
	sweep(seen.Add(7*time.Minute+time.Microsecond), 1, 0)
	for i := range 5 {
		sweep(seen.Add(time.Duration(8+i)*time.Minute), 0, 0)
	}
	seen = beat()
	sweep(seen.Add(time.Minute), 0, 1)
	sweep(seen.Add(2*time.Minute), 0, 0)
	msgs, _ := w.produce(t, start)
	wantKinds(t, "one outage", msgs, "alert.door_offline", "alert.door_online")
	if !strings.Contains(msgs[0].Text, "more than 7 minutes") {
		t.Fatalf("offline alert:\n%s", msgs[0].Text)
	}
	_, _, err := w.app.Alerts.SweepDoors(w.manager)
	wantCode(t, "a manager runs the sweep", err, doorman.EFORBIDDEN)
}

// TestAlertRepeatedDenials: the fifth denial of one courier, and at one
// door, within a ten-minute window alerts once each; more denials in the
// window do not; the next window alerts again.
func TestAlertRepeatedDenials(t *testing.T) {
	w := newAlertWorld(t)
	start := w.head(t)
	window := time.Now().Add(-time.Hour).Truncate(doorman.DenialAlertWindow)
	deny := func(at time.Time) {
		t.Helper()
		_, err := w.store.RecordAccess(w.sys, &doorman.AccessRecord{Decision: doorman.Deny(doorman.ReasonUnknownParcel, "test"),
			BuildingID: w.building.ID, DoorID: w.door.ID, CarrierID: w.allowed.ID, CourierID: w.courier.ID, At: at})
		must(t, err)
	}
	for i := range 4 {
		deny(window.Add(time.Duration(i) * time.Minute))
	}
	msgs, seq := w.produce(t, start)
	wantKinds(t, "four denials", msgs)
	for i := range 8 {
		deny(window.Add(time.Duration(4*60+i*10) * time.Second))
	}
	msgs, seq = w.produce(t, seq)
	wantKinds(t, "twelve denials in one window", msgs, "alert.repeated_denials.courier", "alert.repeated_denials.door")
	if !strings.Contains(msgs[0].Text, w.courier.ID) || !strings.Contains(msgs[0].Text, doorman.ReasonUnknownParcel) {
		t.Fatalf("denial alert:\n%s", msgs[0].Text)
	}
	for i := range 5 {
		deny(window.Add(doorman.DenialAlertWindow + time.Duration(i)*time.Second))
	}
	msgs, _ = w.produce(t, seq)
	wantKinds(t, "the next window", msgs, "alert.repeated_denials.courier", "alert.repeated_denials.door")
}

// TestAlertChainBroken: a chain that stops verifying alerts once, however
// often it is checked; it alerts again only after it verified again and
// broke anew.
func TestAlertChainBroken(t *testing.T) {
	w := newAlertWorld(t)
	op := as(doorman.RoleOperator, "", "")
	if n, err := w.app.Alerts.CheckChains(w.sys); err != nil || n != 0 {
		t.Fatalf("CheckChains on a clean log: %d, %v", n, err)
	}
	start := w.head(t)
	if _, err := w.store.DB().Exec(`UPDATE audit_entries SET detail = 'rewritten' WHERE chain = $1 AND seq = 1`, w.building.ID); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1, 0, 0} {
		n, err := w.app.Alerts.CheckChains(w.sys)
		must(t, err)
		if n != want {
			t.Fatalf("check %d: %d new breaks, want %d", i, n, want)
		}
	}
	msgs, _ := w.produce(t, start)
	wantKinds(t, "broken chain", msgs, "alert.audit_chain_broken")
	if !strings.Contains(msgs[0].Text, "entry 1") {
		t.Fatalf("chain alert:\n%s", msgs[0].Text)
	}
	breaks, err := w.app.Audit.Verify(op)
	must(t, err)
	if len(breaks) != 1 || breaks[0].Chain != w.building.ID {
		t.Fatalf("breaks: %+v (the other building's chain must still verify)", breaks)
	}
	_, err = w.app.Alerts.CheckChains(w.manager)
	wantCode(t, "a manager runs the chain check", err, doorman.EFORBIDDEN)
}

// TestAttack_AlertSettingsOtherBuilding: a manager neither reads nor
// changes another building's alert settings (answered as missing), nor
// does a carrier or courier; nothing changes.
func TestAttack_AlertSettingsOtherBuilding(t *testing.T) {
	w := newAlertWorld(t)
	off := &doorman.AlertSettings{Disabled: doorman.AlertKinds, OfflineMinutes: 60, RetentionDays: 1}
	_, err := w.app.Alerts.Settings(w.stranger, w.building.ID)
	wantCode(t, "another building's manager reads the settings", err, doorman.ENOTFOUND)
	wantCode(t, "another building's manager sets the settings", w.app.Alerts.SetSettings(w.stranger, w.building.ID, off), doorman.ENOTFOUND)
	carrier := as(doorman.RoleCarrier, w.allowed.ID, w.allowed.ID)
	_, err = w.app.Alerts.Settings(carrier, w.building.ID)
	wantCode(t, "a carrier reads the settings", err, doorman.EFORBIDDEN)
	wantCode(t, "a carrier sets the settings", w.app.Alerts.SetSettings(carrier, w.building.ID, off), doorman.EFORBIDDEN)
	wantCode(t, "anonymous", w.app.Alerts.SetSettings(context.Background(), w.building.ID, off), doorman.EUNAUTHORIZED)
	wantCode(t, "not a building ID", w.app.Alerts.SetSettings(w.stranger, "../"+w.building.ID, off), doorman.ENOTFOUND)
	st, err := w.app.Alerts.Settings(w.manager, w.building.ID)
	must(t, err)
	if len(st.Disabled) != 0 || st.RetentionDays != 90 {
		t.Fatalf("settings after the attempts: %+v", st)
	}
	wantCode(t, "bad input", w.app.Alerts.SetSettings(w.manager, w.building.ID, &doorman.AlertSettings{OfflineMinutes: -1, RetentionDays: 90}), doorman.EINVALID)
	_, err = w.app.Alerts.Produce(w.stranger, &doorman.AuditEntry{Action: doorman.ActionDoorOffline, BuildingID: w.building.ID})
	wantCode(t, "a manager runs the producer", err, doorman.EFORBIDDEN)
	_, err = w.app.Retention.Enforce(w.manager)
	wantCode(t, "a manager runs retention", err, doorman.EFORBIDDEN)
}

// TestRetention: the daily job removes what is older than each building's
// retention period and nothing newer, writes one retention.enforced entry
// per building per run with counts, and the audit log still verifies.
func TestRetention(t *testing.T) {
	w := newAlertWorld(t)
	op := as(doorman.RoleOperator, "", "")
	must(t, w.store.CreateUnits(w.sys, []*doorman.Unit{{BuildingID: w.building.ID, Label: "1A"}}))
	var items []doorman.ParcelInput
	for _, tn := range []string{"OLD", "NEW", "PENDING"} {
		items = append(items, doorman.ParcelInput{TrackingNumber: tn, BuildingID: w.building.ID, UnitLabel: "1A",
			CourierExternalID: "c1", Status: doorman.ParcelOutForDelivery})
	}
	res, err := w.store.UpsertParcels(w.sys, w.allowed.ID, items)
	must(t, err)
	now := time.Now()
	for i, r := range res {
		must(t, w.store.SetDeliveryNote(w.sys, r.Parcel.ID, "Behind the planter"))
		if i < 2 {
			if _, err := w.store.SetParcelStatus(w.sys, w.allowed.ID, r.Parcel.TrackingNumber, doorman.ParcelDelivered, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	// OLD was delivered 40 days ago, NEW 20 days ago.
	for tn, days := range map[string]int{"OLD": 40, "NEW": 20} {
		if _, err := w.store.DB().Exec(`UPDATE parcels SET delivered_at = $1 WHERE tracking_number = $2`,
			now.Add(-time.Duration(days)*24*time.Hour).UnixMicro(), tn); err != nil {
			t.Fatal(err)
		}
	}
	// A mail sent 40 days ago loses its body; one sent lately keeps it.
	oldMail := &doorman.Message{Channel: doorman.ChannelEmail, BuildingID: w.building.ID, Target: "old@example.com", Kind: "test.retention", Subject: "Old", Text: "Dear Ana"}
	newMail := &doorman.Message{Channel: doorman.ChannelEmail, BuildingID: w.building.ID, Target: "new@example.com", Kind: "test.retention", Subject: "New", Text: "Dear Ben"}
	for _, m := range []*doorman.Message{oldMail, newMail} {
		must(t, w.store.EnqueueMessage(w.sys, m))
		must(t, w.store.MarkMessageSent(w.sys, m.ID, now, false))
	}
	if _, err := w.store.DB().Exec(`UPDATE outbox SET created_at = $1 WHERE id = $2`, now.Add(-40*24*time.Hour).UnixMicro(), oldMail.ID); err != nil {
		t.Fatal(err)
	}
	must(t, w.app.Alerts.SetSettings(w.manager, w.building.ID, &doorman.AlertSettings{OfflineMinutes: 10, RetentionDays: 30}))
	var hookBefore time.Time
	w.app.Retention.RegisterHook(app.RetentionDeliveryPhotos, func(ctx context.Context, buildingID string, before time.Time) (int, error) {
		if buildingID == w.building.ID {
			hookBefore = before
			return 2, nil
		}
		return 0, nil
	})
	w.clock.set(now)
	counts, err := w.app.Retention.Enforce(w.sys)
	must(t, err)
	if c := counts[w.building.ID]; c[app.RetentionDeliveryNotes] != 1 || c[app.RetentionDeliveryPhotos] != 2 || c[app.RetentionMessageBodies] != 1 {
		t.Fatalf("counts: %v", counts)
	}
	if m, err := w.store.Message(w.sys, oldMail.ID); err != nil || m.Text != "" || m.Subject != "" || m.Target != "old@example.com" {
		t.Fatalf("the old mail after retention: %+v, %v", m, err)
	}
	if m, err := w.store.Message(w.sys, newMail.ID); err != nil || m.Text != "Dear Ben" {
		t.Fatalf("the recent mail after retention: %+v, %v", m, err)
	}
	if !hookBefore.Equal(now.Add(-30 * 24 * time.Hour)) {
		t.Fatalf("the hook was asked for before %v, want 30 days before %v", hookBefore, now)
	}
	notes, err := w.store.DeliveryNotes(w.sys, w.building.ID, []string{res[0].Parcel.ID, res[1].Parcel.ID, res[2].Parcel.ID})
	must(t, err)
	if _, ok := notes[res[0].Parcel.ID]; ok || len(notes) != 2 {
		t.Fatalf("notes after retention: %v (OLD goes, NEW and PENDING stay)", notes)
	}
	// An hour later (another node, say) the job does nothing.
	w.clock.set(now.Add(time.Hour))
	if counts, err = w.app.Retention.Enforce(w.sys); err != nil || len(counts) != 0 {
		t.Fatalf("a second run within the day: %v, %v", counts, err)
	}
	// A day later, the other building's default 90 days have removed nothing.
	w.clock.set(now.Add(24 * time.Hour))
	counts, err = w.app.Retention.Enforce(w.sys)
	must(t, err)
	if c := counts[w.building.ID]; c[app.RetentionDeliveryNotes] != 0 {
		t.Fatalf("second run: %v", counts)
	}
	for _, b := range []*doorman.Building{w.building, w.other} {
		entries, _, err := w.store.ListAudit(w.sys, doorman.AuditFilter{Chain: b.ID}, doorman.Page{Limit: 500})
		must(t, err)
		n := 0
		for _, e := range entries {
			if e.Action == doorman.ActionRetentionEnforced {
				n++
				if e.Actor != "system" || strings.Contains(e.Detail, "Behind") {
					t.Fatalf("retention entry: %+v", e)
				}
			}
		}
		if n != 2 {
			t.Fatalf("%s: %d retention entries after two runs, want 2", b.Name, n)
		}
	}
	breaks, err := w.app.Audit.Verify(op)
	must(t, err)
	if len(breaks) != 0 {
		t.Fatalf("the audit log does not verify after retention: %+v", breaks)
	}
}

// BenchmarkAlertProduceDenial is the producer's cost on an access.denied
// entry (two counts in the store) and on an entry that calls for no
// alert, the common case.
func BenchmarkAlertProduceDenial(b *testing.B) {
	w := newAlertWorld(b)
	window := time.Now().Truncate(doorman.DenialAlertWindow)
	var last *doorman.AuditEntry
	for i := range 50 {
		e, err := w.store.RecordAccess(w.sys, &doorman.AccessRecord{Decision: doorman.Deny(doorman.ReasonUnknownParcel, "bench"),
			BuildingID: w.building.ID, DoorID: w.door.ID, CarrierID: w.allowed.ID, CourierID: w.courier.ID,
			At: window.Add(time.Duration(i) * time.Second)})
		if err != nil {
			b.Fatal(err)
		}
		last = e
	}
	b.Run("denial", func(b *testing.B) {
		for b.Loop() {
			if _, err := w.app.Alerts.Produce(w.sys, last); err != nil {
				b.Fatal(err)
			}
		}
	})
	other := *last
	other.Action = doorman.ActionParcelDelivered
	b.Run("no_alert", func(b *testing.B) {
		for b.Loop() {
			if _, err := w.app.Alerts.Produce(w.sys, &other); err != nil {
				b.Fatal(err)
			}
		}
	})
}
