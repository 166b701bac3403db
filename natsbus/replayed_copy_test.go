package natsbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// TestUnlock_ReplayedCopyIsNotTheAnswer: a broker that delivers a fresh
// command twice makes the device answer the second copy with a signed
// "replayed" refusal, possibly before its answer to the first (which it
// executed). For a command the control plane just signed and sent once,
// that refusal is not the door's answer: the courier must hear the OPEN
// that follows, not door_rejected. A command re-sent by SendUnlock (not
// fresh) may really have been used before, so there the refusal is final.
func TestUnlock_ReplayedCopyIsNotTheAnswer(t *testing.T) {
	signer := MustSigner(t)
	b := MustOpenBus(t, t.TempDir(), signer)
	d := MustDevice(t, b)
	ctx := context.Background()

	// The device gets the command twice (two deliveries, each of which it
	// may answer once: here two subscriptions of its credentials) and
	// answers the copy first with its signed refusal, then the original
	// with its signed OPEN.
	copyConn, err := d.Connect(b)
	if err != nil {
		t.Fatal(err)
	}
	defer copyConn.Close()
	_, err = copyConn.Subscribe(wire.CommandSubject(d.DoorID), func(m *nats.Msg) {
		_, grant, jti, _ := wire.PeekCommand(string(m.Data))
		m.Respond(d.Ack(t, m.Data, &wire.Ack{GrantID: grant, JTI: jti, Rejected: wire.RejectReplayed}))
	})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := d.NC.Subscribe(wire.CommandSubject(d.DoorID), func(m *nats.Msg) {
		_, grant, jti, _ := wire.PeekCommand(string(m.Data))
		time.Sleep(50 * time.Millisecond)
		m.Respond(d.Ack(t, m.Data, &wire.Ack{GrantID: grant, JTI: jti, ExecutedAt: time.Now()}))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	copyConn.Flush()
	d.NC.Flush()

	door := &doorman.Door{ID: d.DoorID, PulseMillis: 1000}
	ack, err := b.Unlock(ctx, door, &doorman.Grant{ID: "gnt_fresh"})
	if err != nil || ack == nil || ack.ExecutedAt.IsZero() {
		t.Fatalf("fresh command: Unlock = %+v, %v; want the OPEN that follows the copy's refusal", ack, err)
	}

	// Re-sent: only the refusal comes.
	sub.Unsubscribe()
	d.NC.Flush()
	token, _, _ := signer.SignUnlock(wire.Unlock{DoorID: d.DoorID, GrantID: "gnt_resent"})
	got, err := b.SendUnlock(ctx, d.DoorID, token, 0)
	if doorman.ErrorCode(err) != doorman.EFORBIDDEN || got == nil || got.Rejected != wire.RejectReplayed {
		t.Fatalf("re-sent command: ack %+v, err %v; want the replayed refusal as the answer", got, err)
	}
}
