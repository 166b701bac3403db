package agent_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/wire"
)

// envDevices tells the env's bus that the enrolled device is its door's
// active device, as the store does.
type envDevices struct{ e *Env }

func (d envDevices) ActiveDevice(_ context.Context, doorID string) (*doorman.Device, error) {
	if doorID != d.e.DoorID || d.e.DevPub == "" {
		return nil, doorman.Errorf(doorman.ENOTFOUND, "No active device.")
	}
	return &doorman.Device{ID: d.e.DeviceID, DoorID: d.e.DoorID, PublicKey: d.e.DevPub}, nil
}

// rival opens a second connection with the enrolled device's own
// credentials (its user JWT and NKey seed, as a stolen copy of device.json
// gives them) and answers every command on the door's subject with what
// answer returns, before the real agent can.
func rival(t *testing.T, e *Env, answer func(grant, jti string) *wire.Ack) *nats.Conn {
	t.Helper()
	id, err := agent.LoadIdentity(e.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(id.CACertPEM))
	nc, err := nats.Connect(e.Bus.DeviceURLs()[0], nats.UserJWTAndSeed(id.UserJWT, id.NKeySeed),
		nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}), nats.TLSHandshakeFirst(),
		nats.CustomInboxPrefix(wire.InboxPrefix(id.DoorID)), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("the bus refused a second connection with the device's credentials: %v", err)
	}
	t.Cleanup(nc.Close)
	if _, err := nc.Subscribe(wire.CommandSubject(id.DoorID), func(m *nats.Msg) {
		_, grant, jti, _ := wire.PeekCommand(string(m.Data))
		data, _ := wire.Encode(answer(grant, jti), wire.MaxMessageSize)
		m.Respond(data)
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return nc
}

// TestAttack_RivalForgesOpen: with the real agent stopped, a rival
// connection with the door's credentials acknowledges a command as
// executed. The courier must not hear OPEN: the relay never moved.
func TestAttack_RivalForgesOpen(t *testing.T) {
	e := MustEnv(t)
	e.WaitSynced(t)
	e.StopAgent()
	rival(t, e, func(grant, jti string) *wire.Ack {
		return &wire.Ack{GrantID: grant, JTI: jti, ExecutedAt: time.Now().UTC()}
	})
	ack, err := e.Bus.SendUnlock(context.Background(), e.DoorID, e.Sign(t, "gnt_forged_open"), 0)
	if err == nil {
		t.Fatalf("a forged ack told the courier OPEN (%+v); the relay pulsed %d times", ack, e.Sim.Pulses())
	}
	if doorman.ErrorReason(err) != doorman.ReasonDoorOffline {
		t.Fatalf("err = %v, want door_offline: an unverified ack is no answer", err)
	}
}

// TestAttack_RivalForgesRejection: with the real agent running, a rival
// connection with the door's credentials answers every command with a
// rejection at once. The courier must hear what the real device did.
func TestAttack_RivalForgesRejection(t *testing.T) {
	e := MustEnv(t)
	e.WaitSynced(t)
	rival(t, e, func(grant, jti string) *wire.Ack {
		return &wire.Ack{GrantID: grant, JTI: jti, Rejected: wire.RejectBadSignature}
	})
	const n = 5
	for i := range n {
		ack, err := e.Unlock(t, e.Sign(t, doorman.NewID("gnt")))
		if err != nil || !ack.Executed() {
			t.Errorf("unlock %d: courier told %v (%+v) while the relay pulsed", i, err, ack)
		}
	}
	if got := e.Sim.Pulses(); got != n {
		t.Fatalf("relay pulsed %d times, want %d", got, n)
	}
}

// TestAgent_SignsAcksAndEvents: the agent signs its acks (bound to the
// command) and its events with its enrollment key, so the control plane
// can tell them from a rival's.
func TestAgent_SignsAcksAndEvents(t *testing.T) {
	e := MustEnv(t)
	e.WaitSynced(t)
	tok := e.Sign(t, "gnt_signed")
	_, _, jti, _ := wire.PeekCommand(tok)
	ack, err := e.Unlock(t, tok)
	if err != nil || !ack.Executed() || ack.JTI != jti {
		t.Fatalf("ack %+v, err %v", ack, err)
	}
	if err := ack.Verify(e.DoorID, []byte(tok), e.DevPub); err != nil {
		t.Fatalf("ack signature: %v", err)
	}
	// A rejection names the command too, and is signed.
	ack, err = e.Unlock(t, tok)
	if doorman.ErrorReason(err) != doorman.ReasonDoorRejected || ack.JTI != jti || ack.Verify(e.DoorID, []byte(tok), e.DevPub) != nil {
		t.Fatalf("replayed: ack %+v, err %v; want a signed rejection naming the command", ack, err)
	}
	for _, kind := range []string{wire.EventUnlockExecuted, wire.EventCommandRejected} {
		ev := e.Events.Wait(t, kind, 1)[0]
		if err := ev.Verify(e.DeviceID, e.DevPub); err != nil {
			t.Errorf("%s event: %v", kind, err)
		}
	}
}

// TestAttack_SignedRefusalOfAnotherCommand: whoever can put a command on
// the door's subject (the broker, or an account user with wide
// permissions) sends the device a copy of a pending command with its
// signature broken: same token ID, refused as bad_signature, and the
// refusal is signed by the device. Handed to the control plane as the
// answer to the real command, it must not count: it answers another
// command, whatever token ID it names.
func TestAttack_SignedRefusalOfAnotherCommand(t *testing.T) {
	e := MustEnv(t)
	e.WaitSynced(t)
	real := e.Sign(t, "gnt_real")
	i := strings.LastIndex(real, ".") // the footer
	body, _ := base64.RawURLEncoding.DecodeString(real[len("v4.public."):i])
	body[len(body)-1] ^= 1 // the signature's last byte
	copyWithBrokenSig := "v4.public." + base64.RawURLEncoding.EncodeToString(body) + real[i:]
	refusal := rawCommand(t, e, []byte(copyWithBrokenSig))
	_, _, jti, _ := wire.PeekCommand(real)
	if refusal.Rejected != wire.RejectBadSignature || refusal.JTI != jti {
		t.Fatalf("the device's answer to the copy: %+v", refusal)
	}

	// The attacker answers the real command with that refusal at once; the
	// device answers it too, after its replay log is on disk.
	forged, _ := wire.Encode(refusal, wire.MaxMessageSize)
	nc := e.Bus.Conn()
	sub, err := nc.Subscribe(wire.CommandSubject(e.DoorID), func(m *nats.Msg) {
		if m.Reply != "" && string(m.Data) == real {
			nc.Publish(m.Reply, forged)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	nc.Flush()
	ack, err := e.Unlock(t, real)
	if err != nil || !ack.Executed() {
		t.Fatalf("courier told %v (%+v); the relay pulsed %d times", err, ack, e.Sim.Pulses())
	}
}
