package natsbus_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/internal/netproxy"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/wire"
)

// TestUnlock_NotBufferedWhileReconnecting: while the control plane's
// connection to the bus is down, Unlock answers door_offline, and the
// command it signed is not sent when the connection comes back: a door
// must not open after the courier was told it is offline.
func TestUnlock_NotBufferedWhileReconnecting(t *testing.T) {
	dir := t.TempDir()
	signer := MustSigner(t)
	embedded := MustOpenBus(t, dir, signer)
	credsFile, _ := ExternalCreds(t, dir)
	proxy := netproxy.Start(t, embedded.ClientURL()[len("tls://"):])
	b, err := natsbus.Open(context.Background(), natsbus.Config{
		URL: "tls://" + proxy.Addr, CredsFile: credsFile, CAFile: filepath.Join(dir, "ca.pem"), ExternalTLSFirst: true,
		Signer: signer, CommandTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	// The door's subject, watched on the server's side of the cut.
	door := &doorman.Door{ID: doorman.NewID(doorman.PrefixDoor), PulseMillis: 1000}
	got := make(chan *nats.Msg, 16)
	if _, err := embedded.Conn().ChanSubscribe(wire.CommandSubject(door.ID), got); err != nil {
		t.Fatal(err)
	}
	embedded.Conn().Flush()

	proxy.Cut()
	waitFor(t, "the control plane to notice the cut", func() bool { return !b.Conn().IsConnected() })
	_, err = b.Unlock(context.Background(), door, &doorman.Grant{ID: "gnt_during_outage"})
	if doorman.ErrorReason(err) != doorman.ReasonDoorOffline {
		t.Fatalf("Unlock while disconnected: %v, want door_offline", err)
	}

	proxy.Restore(t)
	waitFor(t, "the control plane to reconnect", b.Conn().IsConnected)
	// Anything buffered during the outage is flushed before this.
	if err := b.Conn().Publish(wire.CommandSubject(door.ID), []byte("sentinel")); err != nil {
		t.Fatal(err)
	}
	b.Conn().Flush()
	select {
	case m := <-got:
		if string(m.Data) != "sentinel" {
			t.Fatalf("a command sent while disconnected reached the door after door_offline: %.40q", m.Data)
		}
	case <-time.After(testWait):
		t.Fatal("sentinel never arrived")
	}
}

// waitFor polls cond until it holds; testWait is a hang guard.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
