package natsbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// TestAttack_ForgedAcks: a rival connection with the door's own bus
// credentials (a stolen copy of them, or a broker injecting replies)
// answers the door's commands first. Nothing it can send without the
// device's private key tells the courier OPEN or door_rejected: each is
// ignored and counted, and the door's real, signed answer still counts
// when it comes; with none, the courier hears door_offline.
func TestAttack_ForgedAcks(t *testing.T) {
	signer := MustSigner(t)
	b := MustOpenBus(t, t.TempDir(), signer)
	replaced := MustDevice(t, b)
	d := MustDeviceOf(t, b, replaced.DoorID) // the door's active device now
	ctx := context.Background()
	stranger, _ := nkeys.CreateUser()
	otherDoor := MustDevice(t, b)

	forgeries := map[string]func(cmd []byte, grant, jti string) *nats.Msg{
		"unsigned OPEN": func(cmd []byte, grant, jti string) *nats.Msg {
			data, _ := wire.Encode(&wire.Ack{GrantID: grant, JTI: jti, ExecutedAt: time.Now()}, wire.MaxMessageSize)
			return &nats.Msg{Data: data}
		},
		"unsigned rejection": func(cmd []byte, grant, jti string) *nats.Msg {
			data, _ := wire.Encode(&wire.Ack{JTI: jti, Rejected: wire.RejectBadSignature}, wire.MaxMessageSize)
			return &nats.Msg{Data: data}
		},
		"rejection naming no command": func([]byte, string, string) *nats.Msg {
			data, _ := wire.Encode(&wire.Ack{Rejected: wire.RejectMalformed}, wire.MaxMessageSize)
			return &nats.Msg{Data: data}
		},
		"OPEN signed by another key": func(cmd []byte, grant, jti string) *nats.Msg {
			a := &wire.Ack{GrantID: grant, JTI: jti, ExecutedAt: time.Now()}
			a.Sign(d.DoorID, cmd, stranger)
			data, _ := wire.Encode(a, wire.MaxMessageSize)
			return &nats.Msg{Data: data}
		},
		"OPEN signed by another door's device": func(cmd []byte, grant, jti string) *nats.Msg {
			return &nats.Msg{Data: otherDoor.Ack(t, cmd, &wire.Ack{GrantID: grant, JTI: jti, ExecutedAt: time.Now()})}
		},
		"OPEN signed by the door's replaced device": func(cmd []byte, grant, jti string) *nats.Msg {
			return &nats.Msg{Data: replaced.Ack(t, cmd, &wire.Ack{GrantID: grant, JTI: jti, ExecutedAt: time.Now()})}
		},
		"the device's refusal of another token with this token ID": func(_ []byte, grant, jti string) *nats.Msg {
			return &nats.Msg{Data: d.Ack(t, []byte("a copy with a broken signature"), &wire.Ack{GrantID: grant, JTI: jti, Rejected: wire.RejectBadSignature})}
		},
		"the device's OPEN of another command": func(cmd []byte, grant, _ string) *nats.Msg {
			return &nats.Msg{Data: d.Ack(t, []byte("an earlier command"), &wire.Ack{GrantID: grant, JTI: "cmd_earlier", ExecutedAt: time.Now()})}
		},
		"no responders status": func([]byte, string, string) *nats.Msg {
			return &nats.Msg{Header: nats.Header{"Status": []string{"503"}}}
		},
		"garbage": func([]byte, string, string) *nats.Msg {
			return &nats.Msg{Data: []byte(`{"stream":"DOORMAN_EVENTS","seq":1}`)}
		},
	}
	rival, err := d.Connect(b, nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("second connection with the device's credentials: %v", err)
	}
	defer rival.Close()

	for name, forge := range forgeries {
		t.Run(name, func(t *testing.T) {
			// The rival answers at once; the real device, if any, later.
			rs, err := rival.Subscribe(wire.CommandSubject(d.DoorID), func(m *nats.Msg) {
				_, grant, jti, _ := wire.PeekCommand(string(m.Data))
				f := forge(m.Data, grant, jti)
				f.Subject = m.Reply
				rival.PublishMsg(f)
			})
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Unsubscribe()
			rival.Flush()
			before := b.UnverifiedAcks()

			// Alone, the rival gets the door reported offline.
			door := &doorman.Door{ID: d.DoorID, PulseMillis: 1000}
			ack, err := b.Unlock(ctx, door, &doorman.Grant{ID: "gnt_alone"})
			if doorman.ErrorReason(err) != doorman.ReasonDoorOffline {
				t.Fatalf("rival alone: ack %+v, err %v; want door_offline", ack, err)
			}
			if b.UnverifiedAcks() == before && name != "no responders status" {
				t.Error("the forged answer was not counted")
			}

			// With the real device answering 300 ms later, its answer counts.
			ds, err := d.NC.Subscribe(wire.CommandSubject(d.DoorID), func(m *nats.Msg) {
				_, grant, jti, _ := wire.PeekCommand(string(m.Data))
				time.Sleep(300 * time.Millisecond)
				m.Respond(d.Ack(t, m.Data, &wire.Ack{GrantID: grant, JTI: jti, ExecutedAt: time.Now()}))
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ds.Unsubscribe()
			d.NC.Flush()
			got, err := b.Unlock(ctx, door, &doorman.Grant{ID: "gnt_real"})
			if err != nil || got.ExecutedAt.IsZero() {
				t.Fatalf("with the real device: ack %+v, err %v; want its execution", got, err)
			}
		})
	}
}

// TestUnlock_NoDeviceLookup: a bus that cannot learn the door's device
// believes no ack.
func TestUnlock_NoDeviceLookup(t *testing.T) {
	signer := MustSigner(t)
	b := MustOpenBus(t, t.TempDir(), signer)
	d := MustDevice(t, b)
	testDevices.mu.Lock()
	delete(testDevices.byDoor, d.DoorID)
	testDevices.mu.Unlock()
	if _, err := d.NC.Subscribe(wire.CommandSubject(d.DoorID), func(m *nats.Msg) {
		_, grant, jti, _ := wire.PeekCommand(string(m.Data))
		m.Respond(d.Ack(t, m.Data, &wire.Ack{GrantID: grant, JTI: jti, ExecutedAt: time.Now()}))
	}); err != nil {
		t.Fatal(err)
	}
	d.NC.Flush()
	_, err := b.Unlock(context.Background(), &doorman.Door{ID: d.DoorID, PulseMillis: 1000}, &doorman.Grant{ID: "gnt_1"})
	if doorman.ErrorReason(err) != doorman.ReasonDoorOffline {
		t.Fatalf("err = %v, want door_offline", err)
	}
}
