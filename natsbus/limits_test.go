package natsbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
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

// TestAttack_EventFlood: a device that floods the control plane with
// events, faster than they are recorded, is answered busy once its door
// has a few events waiting: what a node holds for it is bounded, and
// another door of the same worker still gets its event in, recorded as
// soon as the worker is free. A subject of no known kind is not the
// device's to publish on.
func TestAttack_EventFlood(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	ctx := context.Background()
	flooder := MustDevice(t, b)
	var victim *Device
	for victim == nil {
		d := MustDevice(t, b)
		if natsbus.EventShard(wire.EventSubject(d.DoorID, d.DeviceID, wire.EventTamper)) ==
			natsbus.EventShard(wire.EventSubject(flooder.DoorID, flooder.DeviceID, wire.EventTamper)) {
			victim = d
		}
	}
	release := make(chan struct{})
	var once sync.Once
	recorded := make(chan string, 16)
	if err := b.ConsumeEvents(ctx, "test", func(_ context.Context, door, _ string, ev *wire.Event) error {
		if door == flooder.DoorID {
			<-release // the store is slow while the flood lasts
			return nil
		}
		recorded <- ev.ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	defer once.Do(func() { close(release) })

	// The flood: a thousand events without waiting for receipts.
	replies := make(chan *nats.Msg, 2048)
	sub, err := flooder.NC.ChanSubscribe(wire.InboxPrefix(flooder.DoorID)+".flood", replies)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	const flood = 1000
	for range flood {
		ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventHeartbeat, DoorID: flooder.DoorID, At: time.Now().UTC()}
		data, _ := wire.Encode(ev, wire.MaxMessageSize)
		if err := flooder.NC.PublishRequest(wire.EventSubject(flooder.DoorID, flooder.DeviceID, ev.Kind), wire.InboxPrefix(flooder.DoorID)+".flood", data); err != nil {
			t.Fatal(err)
		}
	}
	if err := flooder.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	busy := 0
	deadline := time.After(testWait)
	for busy < flood-natsbus.PerDoorQueue {
		select {
		case m := <-replies:
			var r wire.EventReceipt
			if err := json.Unmarshal(m.Data, &r); err != nil || r.Error == nil || r.Error.Code != wire.ReceiptUnavailable {
				t.Fatalf("receipt %q during the flood: want busy", m.Data)
			}
			busy++
		case <-deadline:
			t.Fatalf("%d busy receipts of %d events; at most %d should wait", busy, flood, natsbus.PerDoorQueue)
		}
	}
	if got := b.EventBacklog(); got.Pending > natsbus.PerDoorQueue || got.Busy < uint64(busy) {
		t.Errorf("backlog %+v after %d busy receipts", got, busy)
	}

	// The victim, on the flooder's worker, is not answered busy: its
	// event waits and is recorded once the worker is free.
	ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventDoorForced, DoorID: victim.DoorID, At: time.Now().UTC()}
	data, _ := wire.Encode(ev, wire.MaxMessageSize)
	answer := make(chan *nats.Msg, 1)
	go func() {
		m, err := victim.NC.Request(wire.EventSubject(victim.DoorID, victim.DeviceID, ev.Kind), data, testWait)
		if err != nil {
			t.Error(err)
		}
		answer <- m
	}()
	time.Sleep(100 * time.Millisecond) // queued behind the flooder's
	once.Do(func() { close(release) })
	m := <-answer
	var r wire.EventReceipt
	if m == nil || json.Unmarshal(m.Data, &r) != nil || r.Error != nil || r.Stream != wire.ReceiptStream {
		t.Fatalf("victim's receipt %v", m)
	}
	if got := <-recorded; got != ev.ID {
		t.Fatalf("recorded %s, want the victim's %s", got, ev.ID)
	}

	flooder.NC.Publish(wire.SubjectRoot+"."+flooder.DoorID+".dev."+flooder.DeviceID+".evt.flood1", []byte("x"))
	flooder.NC.Flush()
	flooder.WantViolation(t, ".evt.flood1")
}

// TestEvents_EarlierStreamDrained: the device events an earlier version
// kept in its JetStream stream and had not yet recorded (past its durable
// consumer's acknowledged floor) are recorded in the background once the
// control plane serves events, in the stream's order, heartbeats and
// misaddressed events left out; the stream is deleted, later events are
// answered by the control plane, not stored by JetStream, and the emptied
// store is removed when the bus closes.
func TestEvents_EarlierStreamDrained(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "jetstream"), 0o700); err != nil {
		t.Fatal(err)
	}
	b := MustOpenBus(t, dir, nil)
	ctx := context.Background()
	js, _ := jetstream.New(b.Conn())
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: natsbus.LegacyEventStream, Subjects: []string{wire.EventSubjects},
		Storage: jetstream.FileStorage, MaxBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	d, other := MustDevice(t, b), MustDevice(t, b)
	djs, _ := jetstream.New(d.NC)
	var want []string
	for i := range 300 {
		ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventDoorClosed, DoorID: d.DoorID, At: time.Now().UTC()}
		switch {
		case i%50 == 3:
			ev.Kind = wire.EventHeartbeat // long past: skipped
		case i == 207:
			ev.DoorID = other.DoorID // not the subject's door: dropped
		case i >= 100:
			want = append(want, ev.ID)
		}
		data, _ := wire.Encode(ev, wire.MaxMessageSize)
		if _, err := djs.Publish(ctx, wire.EventSubject(d.DoorID, d.DeviceID, ev.Kind), data); err != nil {
			t.Fatal(err)
		}
	}
	// The earlier version's consumer (named as the queue group) had
	// recorded the first hundred.
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "test", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(100)
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
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
	waitFor(t, "the earlier stream to be deleted", func() bool {
		_, err := js.Stream(ctx, natsbus.LegacyEventStream)
		return errors.Is(err, jetstream.ErrStreamNotFound)
	})
	for i, w := range want {
		select {
		case id := <-got:
			if id != w {
				t.Fatalf("event %d: %s, want %s", i, id, w)
			}
		default:
			t.Fatalf("%d of %d unrecorded stored events recorded", i, len(want))
		}
	}
	select {
	case id := <-got:
		t.Fatalf("recorded %s besides the unrecorded events", id)
	default:
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

// TestEmbedded_StoreWithStreamsKept: the embedded server's JetStream store
// is removed on close only when it holds no stream: one holding a stream
// of its own (a library user's), or the earlier version's events not yet
// drained, stays for the next start.
func TestEmbedded_StoreWithStreamsKept(t *testing.T) {
	for _, name := range []string{"OWN", natsbus.LegacyEventStream} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "jetstream"), 0o700); err != nil {
				t.Fatal(err)
			}
			b := MustOpenBus(t, dir, nil)
			js, _ := jetstream.New(b.Conn())
			if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: name,
				Subjects: []string{"own.>"}, Storage: jetstream.FileStorage, MaxBytes: 1 << 20}); err != nil {
				t.Fatal(err)
			}
			b.Close()
			if _, err := os.Stat(filepath.Join(dir, "jetstream")); err != nil {
				t.Fatalf("the store holding stream %s after close: %v", name, err)
			}
		})
	}
}
