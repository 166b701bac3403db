package natsbus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/wire"
)

// TestAttack_Connect: nobody gets on the bus without a device key pair the
// bus issued a JWT for, and never without TLS.
func TestAttack_Connect(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	d := MustDevice(t, b)
	url := b.DeviceURLs()[0]

	t.Run("anonymous", func(t *testing.T) {
		if nc, err := nats.Connect(url, nats.Secure(tlsTo(b)), nats.TLSHandshakeFirst(), nats.MaxReconnects(0)); err == nil {
			nc.Close()
			t.Fatal("anonymous connection accepted")
		}
	})
	t.Run("plaintext", func(t *testing.T) {
		plain := "nats://" + url[len("tls://"):]
		nc, err := nats.Connect(plain, nats.UserJWTAndSeed(d.JWT, d.Seed), nats.MaxReconnects(0))
		if err == nil {
			nc.Close()
			t.Fatal("plaintext connection accepted")
		}
	})
	t.Run("untrusted server", func(t *testing.T) {
		// A device pinning another CA refuses this server.
		other := MustOpenBus(t, t.TempDir(), nil)
		nc, err := nats.Connect(url, nats.UserJWTAndSeed(d.JWT, d.Seed), nats.Secure(tlsTo(other)), nats.TLSHandshakeFirst(), nats.MaxReconnects(0))
		if err == nil {
			nc.Close()
			t.Fatal("connected through a server signed by an unpinned CA")
		}
	})
	t.Run("stolen JWT without the key", func(t *testing.T) {
		thief, _ := nkeys.CreateUser()
		seed, _ := thief.Seed()
		nc, err := nats.Connect(url, nats.UserJWTAndSeed(d.JWT, string(seed)), nats.Secure(tlsTo(b)), nats.TLSHandshakeFirst(), nats.MaxReconnects(0))
		if err == nil {
			nc.Close()
			t.Fatal("stolen JWT accepted with another key")
		}
	})
	t.Run("JWT of another operator", func(t *testing.T) {
		other := MustOpenBus(t, t.TempDir(), nil)
		kp, _ := nkeys.CreateUser()
		pub, _ := kp.PublicKey()
		seed, _ := kp.Seed()
		foreign, err := other.IssueDeviceCredentials(d.DoorID, d.DeviceID, pub)
		if err != nil {
			t.Fatal(err)
		}
		nc, err := nats.Connect(url, nats.UserJWTAndSeed(foreign, string(seed)), nats.Secure(tlsTo(b)), nats.TLSHandshakeFirst(), nats.MaxReconnects(0))
		if err == nil {
			nc.Close()
			t.Fatal("JWT signed by another bus accepted")
		}
	})
	t.Run("wrong inputs", func(t *testing.T) {
		kp, _ := nkeys.CreateAccount()
		pub, _ := kp.PublicKey()
		if _, err := b.IssueDeviceCredentials(d.DoorID, d.DeviceID, pub); doorman.ErrorCode(err) != doorman.EINVALID {
			t.Fatalf("account key: err = %v", err)
		}
		if _, err := b.IssueDeviceCredentials("dor_>", d.DeviceID, d.Pub); doorman.ErrorCode(err) != doorman.EINVALID {
			t.Fatalf("wildcard door: err = %v", err)
		}
		for _, dev := range []string{"", "dev_>", "*", d.DoorID} {
			if _, err := b.IssueDeviceCredentials(d.DoorID, dev, d.Pub); doorman.ErrorCode(err) != doorman.EINVALID {
				t.Fatalf("device ID %q: err = %v", dev, err)
			}
		}
	})
}

// TestAttack_OtherDoorsSubjects: device A can neither listen to, publish on
// nor request on device B's subjects, nor the shared inbox or JetStream API.
func TestAttack_OtherDoorsSubjects(t *testing.T) {
	signer := MustSigner(t)
	b := MustOpenBus(t, t.TempDir(), signer)
	a := MustDevice(t, b)
	victim := MustDevice(t, b)
	ctx := context.Background()

	// The victim answers commands and counts what it receives.
	received := make(chan string, 16)
	if _, err := victim.NC.Subscribe(wire.CommandSubject(victim.DoorID), func(m *nats.Msg) {
		received <- string(m.Data)
		_, grant, jti, _ := wire.PeekCommand(string(m.Data))
		m.Respond(victim.Ack(t, m.Data, &wire.Ack{GrantID: grant, JTI: jti, ExecutedAt: time.Now()}))
	}); err != nil {
		t.Fatal(err)
	}
	victim.NC.Flush()

	// Subscriptions to others' subjects are refused by the server.
	for _, subj := range []string{
		wire.CommandSubject(victim.DoorID), wire.InboxPrefix(victim.DoorID) + ".>",
		"_INBOX.>", "doorman.>", ">", "$JS.API.>", wire.EventSubjects,
	} {
		sub, err := a.NC.SubscribeSync(subj)
		if err != nil {
			t.Fatal(err)
		}
		a.NC.Flush()
		a.WantViolation(t, subj)
		sub.Unsubscribe()
	}

	// Publishing and requesting on others' subjects is refused.
	token, _, _ := signer.SignUnlock(wire.Unlock{DoorID: victim.DoorID, GrantID: "gnt_stolen"})
	for _, subj := range []string{
		wire.CommandSubject(victim.DoorID),
		wire.EventSubject(victim.DoorID, victim.DeviceID, wire.EventDoorClosed),
		wire.EventSubject(victim.DoorID, a.DeviceID, wire.EventDoorClosed),
		wire.EventSubject(a.DoorID, victim.DeviceID, wire.EventDoorClosed),
		wire.TimeSubject(victim.DoorID),
		"$JS.API.STREAM.DELETE." + natsbus.LegacyEventStream,
		"$JS.API.STREAM.PURGE." + natsbus.LegacyEventStream,
		"_INBOX.anything",
	} {
		if err := a.NC.Publish(subj, []byte(token)); err != nil {
			t.Fatal(err)
		}
		a.NC.Flush()
		a.WantViolation(t, subj)
	}
	_, err := a.NC.Request(wire.CommandSubject(victim.DoorID), []byte(token), time.Second)
	if err == nil {
		t.Fatal("device A's request to B's command subject was answered")
	}
	a.WantViolation(t, wire.CommandSubject(victim.DoorID))

	// Nor can A aim the control plane's time reply at B's command subject.
	req, _ := wire.Encode(&wire.TimeRequest{Nonce: "0123456789abcdef"}, wire.MaxMessageSize)
	if err := a.NC.PublishRequest(wire.TimeSubject(a.DoorID), wire.CommandSubject(victim.DoorID), req); err != nil {
		t.Fatal(err)
	}
	// A's own time request, answered after the reflected one was handled.
	if _, err := a.NC.Request(wire.TimeSubject(a.DoorID), req, testWait); err != nil {
		t.Fatal(err)
	}
	// Nor the receipt of one of its events: receipts go into the inbox of
	// the event's own door only.
	if err := b.ConsumeEvents(ctx, "test", func(context.Context, string, string, *wire.Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventDoorClosed, DoorID: a.DoorID, At: time.Now().UTC()}
	data, _ := wire.Encode(ev, wire.MaxMessageSize)
	if err := a.NC.PublishRequest(wire.EventSubject(a.DoorID, a.DeviceID, ev.Kind), wire.CommandSubject(victim.DoorID), data); err != nil {
		t.Fatal(err)
	}
	// A's own event, answered after the reflected one was handled (the
	// same door's events go to the same worker, in order).
	ev.ID = wire.NewEventID()
	data, _ = wire.Encode(ev, wire.MaxMessageSize)
	if _, err := a.NC.Request(wire.EventSubject(a.DoorID, a.DeviceID, ev.Kind), data, testWait); err != nil {
		t.Fatal(err)
	}

	// The victim saw none of it: the first command it receives is the
	// control plane's.
	real, _, _ := signer.SignUnlock(wire.Unlock{DoorID: victim.DoorID, GrantID: "gnt_real"})
	if _, err := b.SendUnlock(ctx, victim.DoorID, real, 0); err != nil {
		t.Fatal(err)
	}
	if got := <-received; got != real {
		t.Fatal("victim received a command published by another device")
	}
}

// TestAttack_OtherDeviceOfTheSameDoor: a door's replaced device (A) and its
// successor (B) both still hold valid credentials, as when the door is
// re-enrolled on an external NATS account where Doorman cannot revoke A.
// A shares B's command, time and inbox subjects (they are the door's), but
// can publish no event on B's event subjects, nor on the door-only event
// subjects of earlier versions, so an event's subject always names the
// device that sent it. B likewise cannot speak for A.
func TestAttack_OtherDeviceOfTheSameDoor(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	a := MustDevice(t, b)
	successor := MustDeviceOf(t, b, a.DoorID)
	ctx := context.Background()

	got := make(chan string, 16)
	if err := b.ConsumeEvents(ctx, "test", func(_ context.Context, door, device string, ev *wire.Event) error {
		got <- device + " " + ev.ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, as *Device }{{a, successor}, {successor, a}} {
		ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventDoorForced, DoorID: a.DoorID, At: time.Now().UTC()}
		data, _ := wire.Encode(ev, wire.MaxMessageSize)
		for _, subj := range []string{
			wire.EventSubject(a.DoorID, c.as.DeviceID, wire.EventDoorForced),
			wire.SubjectRoot + "." + a.DoorID + ".evt." + wire.EventDoorForced,
			wire.SubjectRoot + "." + a.DoorID + ".dev.*.evt." + wire.EventDoorForced,
		} {
			if err := c.from.NC.Publish(subj, data); err != nil {
				t.Fatal(err)
			}
			c.from.NC.Flush()
			c.from.WantViolation(t, subj)
		}
		js, _ := jetstream.New(c.from.NC)
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		forged := wire.EventSubject(a.DoorID, c.as.DeviceID, wire.EventDoorForced)
		_, err := js.Publish(pctx, forged, data)
		cancel()
		if err == nil {
			t.Fatal("JetStream stored an event published on another device's subject")
		}
		c.from.WantViolation(t, forged)
		// Its own subject works, and the consumer learns who sent it.
		if _, err := js.Publish(ctx, wire.EventSubject(a.DoorID, c.from.DeviceID, wire.EventDoorForced), data); err != nil {
			t.Fatal(err)
		}
		select {
		case g := <-got:
			if want := c.from.DeviceID + " " + ev.ID; g != want {
				t.Fatalf("consumer got %q, want %q", g, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("own event not delivered")
		}
	}
	select {
	case g := <-got:
		t.Fatalf("consumer got a forged event: %q", g)
	default:
	}
}

// TestAttack_Revoked: a revoked device is disconnected at once and kept out,
// also after the bus restarts; its key cannot be issued new credentials.
func TestAttack_Revoked(t *testing.T) {
	dir := t.TempDir()
	b := MustOpenBus(t, dir, nil)
	d := MustDevice(t, b)
	other := MustDevice(t, b)
	closed := make(chan struct{})
	nc, err := d.Connect(b, nats.MaxReconnects(0), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	if err := b.RevokeDevice(context.Background(), d.Pub); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("revoked device still connected")
	}
	select {
	case err := <-d.Errs:
		if !strings.Contains(strings.ToLower(err.Error()), "revoked") {
			t.Fatalf("server said %v, want a revocation", err)
		}
	default:
		t.Fatal("the server gave no reason for the disconnect")
	}
	if c, err := d.Connect(b, nats.MaxReconnects(0)); err == nil {
		c.Close()
		t.Fatal("revoked device reconnected")
	}
	if _, err := b.IssueDeviceCredentials(d.DoorID, d.DeviceID, d.Pub); doorman.ErrorCode(err) != doorman.ECONFLICT {
		t.Fatalf("re-issue for a revoked key: err = %v, want ECONFLICT", err)
	}
	// Other devices are untouched.
	if !other.NC.IsConnected() {
		t.Fatal("revoking one device disconnected another")
	}

	b.Close()
	b2 := MustOpenBus(t, dir, nil)
	if c, err := d.Connect(b2, nats.MaxReconnects(0)); err == nil {
		c.Close()
		t.Fatal("revoked device connected after a restart")
	}
	if c, err := other.Connect(b2, nats.MaxReconnects(0)); err != nil {
		t.Fatalf("unrevoked device refused after a restart: %v", err)
	} else {
		c.Close()
	}
}
