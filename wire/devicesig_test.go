package wire_test

import (
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

func mustUserKey(t *testing.T) (nkeys.KeyPair, string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	return kp, pub
}

// TestAck_Signature: an ack verifies only as sent, for the door it was
// signed for, with the key of the device that signed it; each change a
// rival could make is caught.
func TestAck_Signature(t *testing.T) {
	kp, pub := mustUserKey(t)
	_, otherPub := mustUserKey(t)
	door := doorman.NewID(doorman.PrefixDoor)
	cmd := []byte("v4.public.the-command-as-sent")
	signed := func(a wire.Ack) *wire.Ack {
		t.Helper()
		if err := a.Sign(door, cmd, kp); err != nil {
			t.Fatal(err)
		}
		// Through the wire and back, as the control plane reads it.
		data, err := wire.Encode(&a, wire.MaxMessageSize)
		if err != nil {
			t.Fatal(err)
		}
		var got wire.Ack
		if err := wire.Decode(data, wire.MaxMessageSize, &got); err != nil {
			t.Fatal(err)
		}
		return &got
	}
	executed := wire.Ack{GrantID: "gnt_1", JTI: "cmd_1", ExecutedAt: time.Now().UTC()}
	if err := signed(executed).Verify(door, cmd, pub); err != nil {
		t.Fatalf("executed ack: %v", err)
	}
	rejected := wire.Ack{JTI: "cmd_1", Rejected: wire.RejectExpired}
	if err := signed(rejected).Verify(door, cmd, pub); err != nil {
		t.Fatalf("rejection: %v", err)
	}

	for name, c := range map[string]struct {
		ack  *wire.Ack
		door string
		pub  string
	}{
		"unsigned":        {&executed, door, pub},
		"another device":  {signed(executed), door, otherPub},
		"another door":    {signed(executed), doorman.NewID(doorman.PrefixDoor), pub},
		"another command": {func() *wire.Ack { a := signed(executed); a.JTI = "cmd_2"; return a }(), door, pub},
		"another grant":   {func() *wire.Ack { a := signed(executed); a.GrantID = "gnt_2"; return a }(), door, pub},
		"another time":    {func() *wire.Ack { a := signed(executed); a.ExecutedAt = a.ExecutedAt.Add(time.Millisecond); return a }(), door, pub},
		"made a rejection": {func() *wire.Ack {
			a := signed(executed)
			a.ExecutedAt, a.Rejected = time.Time{}, wire.RejectReplayed
			return a
		}(), door, pub},
		"another reason": {func() *wire.Ack { a := signed(rejected); a.Rejected = wire.RejectReplayed; return a }(), door, pub},
		"garbage sig":    {func() *wire.Ack { a := executed; a.Sig = "!!"; return &a }(), door, pub},
		"an event's sig": {func() *wire.Ack {
			// A signature made for an event never passes as an ack's.
			a := executed
			ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventHeartbeat, DoorID: door, At: time.Now().UTC()}
			ev.Sign(doorman.NewID(doorman.PrefixDevice), kp)
			a.Sig = ev.Sig
			return &a
		}(), door, pub},
	} {
		if err := c.ack.Verify(c.door, cmd, c.pub); doorman.ErrorCode(err) != doorman.EFORBIDDEN {
			t.Errorf("%s: err = %v, want EFORBIDDEN", name, err)
		}
	}
	if err := signed(executed).Verify(door, cmd, "not a key"); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Errorf("malformed key: err = %v, want EINVALID", err)
	}
}

// TestEvent_Signature: an event verifies only unchanged and as reported by
// the device that signed it.
func TestEvent_Signature(t *testing.T) {
	kp, pub := mustUserKey(t)
	_, otherPub := mustUserKey(t)
	door := doorman.NewID(doorman.PrefixDoor)
	device := doorman.NewID(doorman.PrefixDevice)
	ev := wire.Event{ID: wire.NewEventID(), Kind: wire.EventUnlockExecuted, DoorID: door, At: time.Now().UTC(),
		GrantID: "gnt_1", JTI: "cmd_1", Detail: "caf\xe9 \u00e9", Dropped: 3, ClockOffsetMillis: -12}
	if err := ev.Sign(device, kp); err != nil {
		t.Fatal(err)
	}
	data, err := wire.Encode(&ev, wire.MaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	var got wire.Event
	if err := wire.Decode(data, wire.MaxMessageSize, &got); err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(device, pub); err != nil {
		t.Fatalf("signed event after the wire: %v", err)
	}
	changes := map[string]func(e *wire.Event){
		"id":        func(e *wire.Event) { e.ID = wire.NewEventID() },
		"kind":      func(e *wire.Event) { e.Kind = wire.EventDoorForced },
		"door":      func(e *wire.Event) { e.DoorID = doorman.NewID(doorman.PrefixDoor) },
		"time":      func(e *wire.Event) { e.At = e.At.Add(-time.Hour) },
		"grant":     func(e *wire.Event) { e.GrantID = "gnt_2" },
		"jti":       func(e *wire.Event) { e.JTI = "cmd_2" },
		"reason":    func(e *wire.Event) { e.Reason = wire.RejectExpired },
		"detail":    func(e *wire.Event) { e.Detail = "all is well" },
		"dropped":   func(e *wire.Event) { e.Dropped = 0 },
		"offset":    func(e *wire.Event) { e.ClockOffsetMillis = 0 },
		"unsigned":  func(e *wire.Event) { e.Sig = "" },
		"truncated": func(e *wire.Event) { e.Sig = e.Sig[:40] },
	}
	for name, change := range changes {
		e := got
		change(&e)
		if err := e.Verify(device, pub); doorman.ErrorCode(err) != doorman.EFORBIDDEN {
			t.Errorf("%s changed: err = %v, want EFORBIDDEN", name, err)
		}
	}
	if err := got.Verify(doorman.NewID(doorman.PrefixDevice), pub); doorman.ErrorCode(err) != doorman.EFORBIDDEN {
		t.Errorf("claimed by another device ID: err = %v", err)
	}
	if err := got.Verify(device, otherPub); doorman.ErrorCode(err) != doorman.EFORBIDDEN {
		t.Errorf("another device's key: err = %v", err)
	}
}
