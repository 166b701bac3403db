package natsbus_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman/natsbus"
)

// TestAttack_SecondConnection: NATS accepts a second connection with one
// device's credentials (a user JWT cannot limit its connections), so the
// bus flags it at once: the embedded server's connect advisory triggers a
// look at the account's connections, and the device connected twice is
// reported with both connections. A device connected once is not.
func TestAttack_SecondConnection(t *testing.T) {
	dups := make(chan natsbus.DuplicateConnection, 16)
	b, err := natsbus.Open(context.Background(), natsbus.Config{
		DataDir: t.TempDir(), Listen: "127.0.0.1:0", Devices: testDevices,
		DuplicateCheckInterval: time.Hour, // only the connect advisory can trigger it in time
		OnDuplicateConnection:  func(_ context.Context, d natsbus.DuplicateConnection) { dups <- d },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	victim := MustDevice(t, b)
	other := MustDevice(t, b) // another door's device, connected once
	// ... which reconnects, as a door does after a network blip.
	other.NC.Close()
	time.Sleep(100 * time.Millisecond)
	MustDeviceFor(t, b, other)
	select {
	case d := <-dups:
		t.Fatalf("flagged a device connected once: %v", d)
	case <-time.After(500 * time.Millisecond):
	}
	// Devices connecting once cost the server no connection list: the
	// advisories are counted, and a key is looked up when it has two
	// (the one list allowed is the whole list read at start; before the
	// advisories were counted, each of the three connects above made one).
	if n := b.ConnLists(); n > 1 {
		t.Fatalf("the bus listed connections %d times for devices connected once", n)
	}

	rival, err := victim.Connect(b, nats.MaxReconnects(0), nats.Name("innocent"))
	if err != nil {
		t.Fatalf("second connection refused: %v (then this test should say so)", err)
	}
	defer rival.Close()
	select {
	case d := <-dups:
		if d.DeviceID != victim.DeviceID || d.PublicKey != victim.Pub || len(d.Conns) != 2 {
			t.Fatalf("flagged %+v, want the victim's two connections", d)
		}
		if d.Conns[1].Name != "innocent" || d.Conns[0].Addr == "" {
			t.Fatalf("connections %+v, want the rival last, with addresses", d.Conns)
		}
	case <-time.After(testWait):
		t.Fatal("a second connection with a device's credentials was not flagged")
	}

	// Listing on demand (what the periodic check does, also on an
	// external bus) sees it too; once the rival is gone, nothing.
	got, err := b.DuplicateConnections(context.Background())
	if err != nil || len(got) != 1 || got[0].DeviceID != victim.DeviceID {
		t.Fatalf("DuplicateConnections = %+v, %v", got, err)
	}
	rival.Close()
	deadline := time.Now().Add(testWait)
	for {
		got, err := b.DuplicateConnections(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still flagged after the rival left: %+v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSecondConnection_External: on an external deployment, where the
// control plane has no system user, the periodic listing of the account's
// connections finds the device connected twice.
func TestSecondConnection_External(t *testing.T) {
	dir := t.TempDir()
	embedded := MustOpenBus(t, dir, nil)
	credsFile, seedFile := ExternalCreds(t, dir)
	dups := make(chan natsbus.DuplicateConnection, 16)
	b, err := natsbus.Open(context.Background(), natsbus.Config{
		URL: embedded.ClientURL(), CredsFile: credsFile, CAFile: filepath.Join(dir, "ca.pem"), ExternalTLSFirst: true,
		AccountSigningSeedFile: seedFile, DuplicateCheckInterval: 100 * time.Millisecond,
		OnDuplicateConnection: func(_ context.Context, d natsbus.DuplicateConnection) { dups <- d },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	victim := MustDevice(t, b)
	rival, err := victim.Connect(b, nats.MaxReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	defer rival.Close()
	select {
	case d := <-dups:
		if d.DeviceID != victim.DeviceID || len(d.Conns) != 2 {
			t.Fatalf("flagged %+v, want the victim's two connections", d)
		}
	case <-time.After(testWait):
		t.Fatal("a second connection was not flagged on an external bus")
	}
	// Flagged once, not at every check.
	select {
	case d := <-dups:
		t.Fatalf("flagged again: %+v", d)
	case <-time.After(500 * time.Millisecond):
	}
}

// TestSecondConnection_ReportedOnceInAWhile: a thief reconnecting in a loop
// is reported once, not once per connection.
func TestSecondConnection_ReportedOnceInAWhile(t *testing.T) {
	dups := make(chan natsbus.DuplicateConnection, 64)
	b, err := natsbus.Open(context.Background(), natsbus.Config{
		DataDir: t.TempDir(), Listen: "127.0.0.1:0", DuplicateCheckInterval: 100 * time.Millisecond,
		OnDuplicateConnection: func(_ context.Context, d natsbus.DuplicateConnection) { dups <- d },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	victim := MustDevice(t, b)
	for range 5 {
		rival, err := victim.Connect(b, nats.MaxReconnects(0))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(1200 * time.Millisecond) // past the gap between checks
		rival.Close()
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(dups); n != 1 {
		t.Fatalf("reported %d times, want once", n)
	}
}
