package natsbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/wire"
)

// TestAttack_EventFlood: a device that floods the event stream can only
// push out its own history. It may publish on its eight event subjects
// only, the stream keeps a bounded number of events per device and kind and
// a bounded number of bytes in all, and the account cannot store more on
// disk than twice that.
func TestAttack_EventFlood(t *testing.T) {
	const perSubject = 5
	b, err := natsbus.Open(context.Background(), natsbus.Config{
		DataDir: t.TempDir(), Listen: "127.0.0.1:0", EventMaxPerSubject: perSubject, EventMaxBytes: 8 << 20,
		StoreMax: 16 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	flooder, victim := MustDevice(t, b), MustDevice(t, b)
	publish := func(d *Device, kind string) {
		t.Helper()
		js, _ := jetstream.New(d.NC)
		data, _ := wire.Encode(&wire.Event{ID: wire.NewEventID(), Kind: kind, DoorID: d.DoorID, At: time.Now()}, wire.MaxMessageSize)
		if _, err := js.Publish(ctx, wire.EventSubject(d.DoorID, d.DeviceID, kind), data); err != nil {
			t.Fatal(err)
		}
	}
	publish(victim, wire.EventDoorForced)
	publish(victim, wire.EventTamper)
	for i := 0; i < 4*perSubject; i++ {
		publish(flooder, wire.EventHeartbeat)
	}

	// A subject of no known kind is not the device's to publish on: it
	// would escape the per-subject limit.
	flooder.NC.Publish(wire.SubjectRoot+"."+flooder.DoorID+".dev."+flooder.DeviceID+".evt.flood1", []byte("x"))
	flooder.NC.Flush()
	flooder.WantViolation(t, ".evt.flood1")

	js, _ := jetstream.New(b.Conn())
	stream, err := js.Stream(ctx, natsbus.DefaultEventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(wire.SubjectRoot+".>"))
	if err != nil {
		t.Fatal(err)
	}
	counts := info.State.Subjects
	if got := counts[wire.EventSubject(flooder.DoorID, flooder.DeviceID, wire.EventHeartbeat)]; got != perSubject {
		t.Errorf("flooder's heartbeats kept: %d, want the last %d", got, perSubject)
	}
	for _, kind := range []string{wire.EventDoorForced, wire.EventTamper} {
		if got := counts[wire.EventSubject(victim.DoorID, victim.DeviceID, kind)]; got != 1 {
			t.Errorf("victim's %s events: %d, want 1", kind, got)
		}
	}
	if info.Config.MaxBytes != 8<<20 || info.Config.Discard != jetstream.DiscardOld {
		t.Errorf("stream max bytes %d, discard %v", info.Config.MaxBytes, info.Config.Discard)
	}

	// The account: disk bounded, and no stream without a size limit.
	acc, err := js.AccountInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Limits.MaxStore != 16<<20 || acc.Limits.MaxMemory <= 0 {
		t.Errorf("account limits %+v, want bounded storage", acc.Limits)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "UNBOUNDED", Subjects: []string{"unbounded.>"}}); err == nil {
		t.Error("the account accepted a stream without a size limit")
	}
}

// TestOpen_DefaultEventLimits: the defaults apply when nothing is set; the
// embedded server's stream takes half of its store.
func TestOpen_DefaultEventLimits(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	js, _ := jetstream.New(b.Conn())
	stream, err := js.Stream(context.Background(), natsbus.DefaultEventStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := stream.CachedInfo().Config
	if cfg.MaxBytes != natsbus.DefaultStoreMax/2 || cfg.MaxMsgsPerSubject != natsbus.DefaultEventMaxPerSubject {
		t.Fatalf("stream limits %d bytes, %d per subject", cfg.MaxBytes, cfg.MaxMsgsPerSubject)
	}
}
