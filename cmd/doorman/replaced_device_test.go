package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// busDevice is a device enrolled in the store and issued bus credentials,
// connected to the bus with them.
type busDevice struct {
	dev     *doorman.Device
	key     nkeys.KeyPair // signs its events
	userJWT string
	nc      *nats.Conn
	errs    chan error
}

// enrollOnBus enrolls a new device for door in m's store (which revokes
// the door's previous device there, but not on the bus, as on an external
// NATS account) and connects it to m's bus.
func enrollOnBus(t *testing.T, ctx context.Context, m *Main, doorID string) *busDevice {
	t.Helper()
	op := doorman.NewContextWithPrincipal(ctx, &doorman.Principal{Role: doorman.RoleOperator, SubjectID: "test"})
	_, hash := doorman.NewToken("")
	if err := m.Store.CreateEnrollment(op, &doorman.Enrollment{DoorID: doorID, CodeHash: hash, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	d := &doorman.Device{PublicKey: pub}
	if _, err := m.Store.EnrollDevice(op, hash, d, time.Now()); err != nil {
		t.Fatal(err)
	}
	userJWT, err := m.Bus.IssueDeviceCredentials(d.DoorID, d.ID, pub)
	if err != nil {
		t.Fatal(err)
	}
	bd := &busDevice{dev: d, key: kp, userJWT: userJWT, errs: make(chan error, 16)}
	bd.nc = bd.connect(t, m)
	return bd
}

// connect opens a connection to m's bus with the device's credentials, as
// its agent does (another one, for a copy of device.json).
func (bd *busDevice) connect(t *testing.T, m *Main) *nats.Conn {
	t.Helper()
	seed, _ := bd.key.Seed()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(m.Bus.CACertPEM())
	nc, err := nats.Connect(strings.Join(m.Bus.DeviceURLs(), ","), nats.UserJWTAndSeed(bd.userJWT, string(seed)),
		nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}), nats.TLSHandshakeFirst(), nats.MaxReconnects(0),
		nats.CustomInboxPrefix(wire.InboxPrefix(bd.dev.DoorID)),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case bd.errs <- err:
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// publish sends an event of the device's door, dated at and signed by the
// device, on subject and
// waits for JetStream to store it; it reports whether the bus took it.
func (bd *busDevice) publish(ctx context.Context, subject, kind, detail string, at time.Time) (*wire.Event, error) {
	ev := &wire.Event{ID: wire.NewEventID(), Kind: kind, DoorID: bd.dev.DoorID, At: at.UTC(), Detail: detail}
	if err := ev.Sign(bd.dev.ID, bd.key); err != nil {
		return nil, err
	}
	data, err := wire.Encode(ev, wire.MaxMessageSize)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(bd.nc)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err = js.Publish(pctx, subject, data, jetstream.WithMsgID(ev.ID))
	return ev, err
}

// TestReplacedDeviceEvents runs the control plane with its embedded bus
// and real store. A door's device A is replaced by B in the store while
// A still holds valid bus credentials (as with an external NATS account,
// where Doorman cannot revoke A). A cannot publish on B's event subjects;
// what A reports from before its replacement is audited as A's, what it
// dates after is refused, and B's events are B's.
func TestReplacedDeviceEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:0"
	d, err := StartDemo(ctx, cfg, t.TempDir(), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m, door := d.Main, d.State.DoorID

	a := enrollOnBus(t, ctx, m, door)
	queuedAt := time.Now() // A saw this before it was replaced
	b := enrollOnBus(t, ctx, m, door)
	replaced, err := m.Store.Device(ctx, a.dev.ID)
	if err != nil || replaced.RevokedAt == nil {
		t.Fatalf("device A after the re-enrollment: %+v, %v", replaced, err)
	}

	// A cannot speak as B: the server refuses the subject and JetStream
	// stores nothing.
	forged := wire.EventSubject(door, b.dev.ID, wire.EventDoorClosed)
	if _, err := a.publish(ctx, forged, wire.EventDoorClosed, "forged", time.Now()); err == nil {
		t.Fatal("device A published on device B's event subject")
	}
	select {
	case err := <-a.errs:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Fatalf("server said %v, want a permissions violation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no permissions violation for device A on device B's subject")
	}

	// A delivers what it queued before its replacement, then something it
	// dates after; B reports too, after both.
	own := func(bd *busDevice, kind string) string { return wire.EventSubject(door, bd.dev.ID, kind) }
	early, err := a.publish(ctx, own(a, wire.EventDoorForced), wire.EventDoorForced, "queued by A", queuedAt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.publish(ctx, own(a, wire.EventTamper), wire.EventTamper, "A after its revocation", time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	sentinel, err := b.publish(ctx, own(b, wire.EventTamper), wire.EventTamper, "B", time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}

	// The consumer handles events in order, so once B's event is in, A's
	// were handled before it.
	byDetail := func() map[string]*doorman.AuditEntry {
		entries, _, err := m.Store.ListAudit(ctx, doorman.AuditFilter{DoorID: door}, doorman.Page{Limit: doorman.MaxPageLimit})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]*doorman.AuditEntry{}
		for _, e := range entries {
			if strings.HasPrefix(e.Action, doorman.ActionDeviceEventPrefix) {
				got[e.Detail] = e
			}
		}
		return got
	}
	waitUntil(t, ctx, func() bool { return byDetail()[sentinel.Detail] != nil })
	got := byDetail()
	if e := got[early.Detail]; e == nil || e.Actor != "device:"+a.dev.ID || e.Action != doorman.DeviceEventAction(wire.EventDoorForced) {
		t.Fatalf("A's queued event audited as %+v, want as A's", e)
	}
	if e := got[sentinel.Detail]; e.Actor != "device:"+b.dev.ID {
		t.Fatalf("B's event audited as %+v, want as B's", e)
	}
	for _, detail := range []string{"A after its revocation", "forged"} {
		if e := got[detail]; e != nil {
			t.Fatalf("event %q audited: %+v", detail, e)
		}
	}
	if breaks, err := m.Store.VerifyAudit(ctx); err != nil || len(breaks) != 0 {
		t.Fatalf("audit verification: %v %+v", err, breaks)
	}
}
