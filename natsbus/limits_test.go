package natsbus_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/wire"
)

// sendEvent sends one event of d's door as its device does and returns the
// receipt.
func sendEvent(tb testing.TB, d *Device, kind string) (*wire.Event, wire.EventReceipt) {
	tb.Helper()
	ev := &wire.Event{ID: wire.NewEventID(), Kind: kind, DoorID: d.DoorID, At: time.Now().UTC()}
	data, _ := wire.Encode(ev, wire.MaxMessageSize)
	m, err := d.NC.Request(wire.EventSubject(d.DoorID, d.DeviceID, kind), data, testWait)
	if err != nil {
		tb.Fatalf("event %s: %v", ev.ID, err)
	}
	var r wire.EventReceipt
	if err := json.Unmarshal(m.Data, &r); err != nil {
		tb.Fatalf("receipt %q: %v", m.Data, err)
	}
	return ev, r
}

// twoShards returns two devices whose events go to different workers.
func twoShards(tb testing.TB, b *natsbus.Bus) (*Device, *Device) {
	first := MustDevice(tb, b)
	for {
		d := MustDevice(tb, b)
		if natsbus.EventShard(wire.EventSubject(d.DoorID, d.DeviceID, wire.EventTamper)) !=
			natsbus.EventShard(wire.EventSubject(first.DoorID, first.DeviceID, wire.EventTamper)) {
			return first, d
		}
	}
}

// TestAttack_EventFlood: a device that floods the control plane with
// events, faster than they are recorded, is answered busy once its door's
// worker has a full queue: what a node holds for it is bounded, and
// another door's event is still recorded at once. A subject of no known
// kind is not the device's to publish on.
func TestAttack_EventFlood(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	ctx := context.Background()
	flooder, victim := twoShards(t, b)
	release := make(chan struct{})
	recorded := make(chan string, 16)
	if err := b.ConsumeEvents(ctx, "test", func(_ context.Context, door, _ string, ev *wire.Event) error {
		if door == flooder.DoorID {
			<-release // the store is slow for the flooder's door
			return nil
		}
		recorded <- ev.ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	defer close(release)

	// The flood: a thousand events without waiting for receipts.
	replies := make(chan *nats.Msg, 2048)
	sub, err := flooder.NC.ChanSubscribe(wire.InboxPrefix(flooder.DoorID)+".flood.*", replies)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	const flood = 1000
	for i := range flood {
		ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventHeartbeat, DoorID: flooder.DoorID, At: time.Now().UTC()}
		data, _ := wire.Encode(ev, wire.MaxMessageSize)
		reply := wire.InboxPrefix(flooder.DoorID) + ".flood." + string(rune('a'+i%26))
		if err := flooder.NC.PublishRequest(wire.EventSubject(flooder.DoorID, flooder.DeviceID, ev.Kind), reply, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := flooder.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	busy := 0
	deadline := time.After(testWait)
	for busy < flood-natsbus.EventWorkerQueue-1 {
		select {
		case m := <-replies:
			var r wire.EventReceipt
			if err := json.Unmarshal(m.Data, &r); err != nil || r.Error == nil || r.Error.Code != wire.ReceiptUnavailable {
				t.Fatalf("receipt %q during the flood: want busy", m.Data)
			}
			busy++
		case <-deadline:
			t.Fatalf("%d busy receipts of %d events; the rest should wait in a bounded queue", busy, flood)
		}
	}
	if got := b.EventBacklog(); got.Pending > natsbus.EventWorkerQueue+1 || got.Busy < uint64(busy) {
		t.Errorf("backlog %+v after %d busy receipts", got, busy)
	}

	// The victim's event is recorded, its receipt says so.
	ev, r := sendEvent(t, victim, wire.EventDoorForced)
	if r.Error != nil || r.Stream != wire.ReceiptStream {
		t.Fatalf("victim's receipt %+v", r)
	}
	if got := <-recorded; got != ev.ID {
		t.Fatalf("recorded %s, want the victim's %s", got, ev.ID)
	}

	flooder.NC.Publish(wire.SubjectRoot+"."+flooder.DoorID+".dev."+flooder.DeviceID+".evt.flood1", []byte("x"))
	flooder.NC.Flush()
	flooder.WantViolation(t, ".evt.flood1")
}

// TestEvents_EarlierStreamDrained: the device events an earlier version
// kept in its JetStream stream are recorded when the control plane starts
// serving events, the stream deleted, and later events are answered by
// the control plane, not stored by JetStream.
func TestEvents_EarlierStreamDrained(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "jetstream"), 0o700); err != nil {
		t.Fatal(err)
	}
	b := MustOpenBus(t, dir, nil)
	ctx := context.Background()
	// The earlier version's stream, and events its devices stored in it,
	// one of them claiming another door.
	js, _ := jetstream.New(b.Conn())
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: natsbus.LegacyEventStream, Subjects: []string{wire.EventSubjects},
		Storage: jetstream.FileStorage, MaxBytes: 8 << 20}); err != nil {
		t.Fatal(err)
	}
	d, other := MustDevice(t, b), MustDevice(t, b)
	djs, _ := jetstream.New(d.NC)
	var stored []string
	for i := range 300 {
		ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventDoorClosed, DoorID: d.DoorID, At: time.Now().UTC()}
		if i == 7 {
			ev.DoorID = other.DoorID // not the subject's door: dropped
		} else {
			stored = append(stored, ev.ID)
		}
		data, _ := wire.Encode(ev, wire.MaxMessageSize)
		if _, err := djs.Publish(ctx, wire.EventSubject(d.DoorID, d.DeviceID, ev.Kind), data); err != nil {
			t.Fatal(err)
		}
	}

	got := make(chan string, 1024)
	if err := b.ConsumeEvents(ctx, "test", func(_ context.Context, _, _ string, ev *wire.Event) error {
		got <- ev.ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Drained before ConsumeEvents returned, in the stream's order.
	for i, want := range stored {
		select {
		case id := <-got:
			if id != want {
				t.Fatalf("event %d: %s, want %s", i, id, want)
			}
		default:
			t.Fatalf("%d of %d stored events recorded before serving began", i, len(stored))
		}
	}
	if _, err := js.Stream(ctx, natsbus.LegacyEventStream); err != jetstream.ErrStreamNotFound {
		t.Fatalf("the earlier stream after the drain: %v", err)
	}
	ev, r := sendEvent(t, d, wire.EventTamper)
	if r.Stream != wire.ReceiptStream || r.Error != nil {
		t.Fatalf("receipt %+v, want the control plane's", r)
	}
	if id := <-got; id != ev.ID {
		t.Fatalf("recorded %s, want %s", id, ev.ID)
	}
	// The emptied store goes with the bus; the next start needs none.
	b.Close()
	if _, err := os.Stat(filepath.Join(dir, "jetstream")); !os.IsNotExist(err) {
		t.Fatalf("the emptied JetStream store after close: %v", err)
	}
}

// TestEvents_EarlierAgentsReadTheReceipt: an agent of an earlier version
// publishes its events through JetStream's API and reads the answer as a
// JetStream publish acknowledgement: the receipt is one, so it drops the
// event once recorded and keeps it when the receipt is an error.
func TestEvents_EarlierAgentsReadTheReceipt(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	d := MustDevice(t, b)
	ctx := context.Background()
	fail := true
	if err := b.ConsumeEvents(ctx, "test", func(context.Context, string, string, *wire.Event) error {
		if fail {
			fail = false
			return context.DeadlineExceeded // the store did not answer in time
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(d.NC)
	ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventTamper, DoorID: d.DoorID, At: time.Now().UTC()}
	data, _ := wire.Encode(ev, wire.MaxMessageSize)
	if _, err := js.Publish(ctx, wire.EventSubject(d.DoorID, d.DeviceID, ev.Kind), data, jetstream.WithMsgID(ev.ID)); err == nil {
		t.Fatal("a failed event read as stored")
	}
	ack, err := js.Publish(ctx, wire.EventSubject(d.DoorID, d.DeviceID, ev.Kind), data, jetstream.WithMsgID(ev.ID))
	if err != nil || ack.Stream != wire.ReceiptStream {
		t.Fatalf("publish ack %+v, %v; want the receipt read as stored", ack, err)
	}
}
