package natsbus_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/wire"
)

// testWait bounds waits in tests; it is a hang guard, not a timing assertion.
const testWait = 20 * time.Second

// MustSigner returns a command signer with a fresh key.
func MustSigner(tb testing.TB) *wire.Signer {
	tb.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := wire.NewSigner(priv)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// activeDevices stands in for the store's record of each door's active
// device: the device MustDeviceOf enrolled last for the door.
type activeDevices struct {
	mu     sync.Mutex
	byDoor map[string]*doorman.Device
}

var testDevices = &activeDevices{byDoor: map[string]*doorman.Device{}}

func (a *activeDevices) set(d *doorman.Device) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byDoor[d.DoorID] = d
}

// ActiveDevice implements natsbus.Devices.
func (a *activeDevices) ActiveDevice(_ context.Context, doorID string) (*doorman.Device, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d, ok := a.byDoor[doorID]; ok {
		return d, nil
	}
	return nil, doorman.Errorf(doorman.ENOTFOUND, "No active device.")
}

// MustOpenBus starts an embedded bus in dir on a free loopback port.
func MustOpenBus(tb testing.TB, dir string, signer *wire.Signer) *natsbus.Bus {
	tb.Helper()
	b, err := natsbus.Open(context.Background(), natsbus.Config{
		DataDir: dir, Listen: "127.0.0.1:0", Signer: signer, CommandTimeout: 2 * time.Second,
		Devices: testDevices,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

// Device is a raw device connection for tests.
type Device struct {
	DoorID   string
	DeviceID string
	Pub      string
	Seed     string
	JWT      string
	NC       *nats.Conn
	Errs     chan error // asynchronous errors, e.g. permission violations
}

// MustDevice enrolls a device for a new door and connects it.
func MustDevice(tb testing.TB, b *natsbus.Bus) *Device {
	tb.Helper()
	return MustDeviceOf(tb, b, doorman.NewID(doorman.PrefixDoor))
}

// MustDeviceOf enrolls a new device for door and connects it.
func MustDeviceOf(tb testing.TB, b *natsbus.Bus, door string) *Device {
	tb.Helper()
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	dev := doorman.NewID(doorman.PrefixDevice)
	token, err := b.IssueDeviceCredentials(door, dev, pub)
	if err != nil {
		tb.Fatal(err)
	}
	d := &Device{DoorID: door, DeviceID: dev, Pub: pub, Seed: string(seed), JWT: token, Errs: make(chan error, 64)}
	testDevices.set(&doorman.Device{ID: dev, DoorID: door, PublicKey: pub})
	nc, err := d.Connect(b, nats.MaxReconnects(0))
	if err != nil {
		tb.Fatal(err)
	}
	d.NC = nc
	tb.Cleanup(nc.Close)
	return d
}

// Ack returns ack, signed with the device's key as the answer to command,
// encoded.
func (d *Device) Ack(tb testing.TB, command []byte, ack *wire.Ack) []byte {
	tb.Helper()
	kp, err := nkeys.FromSeed([]byte(d.Seed))
	if err != nil {
		tb.Fatal(err)
	}
	if err := ack.Sign(d.DoorID, command, kp); err != nil {
		tb.Fatal(err)
	}
	data, err := wire.Encode(ack, wire.MaxMessageSize)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// Connect opens another connection with the device's credentials.
func (d *Device) Connect(b *natsbus.Bus, opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{
		nats.UserJWTAndSeed(d.JWT, d.Seed),
		nats.Secure(tlsTo(b)), nats.TLSHandshakeFirst(),
		nats.CustomInboxPrefix(wire.InboxPrefix(d.DoorID)),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case d.Errs <- err:
			default:
			}
		}),
	}, opts...)
	return nats.Connect(b.DeviceURLs()[0], opts...)
}

func tlsTo(b *natsbus.Bus) *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b.CACertPEM())
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// WantViolation waits for the device's next asynchronous error and checks
// it is a permissions violation naming subject.
func (d *Device) WantViolation(tb testing.TB, subject string) {
	tb.Helper()
	select {
	case err := <-d.Errs:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") || !strings.Contains(err.Error(), subject) {
			tb.Fatalf("async error %v, want a permissions violation for %s", err, subject)
		}
	case <-time.After(10 * time.Second):
		tb.Fatalf("no permissions violation for %s", subject)
	}
}

func TestOpen_KeepsCAAndKeysAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	b := MustOpenBus(t, dir, nil)
	ca := b.CACertPEM()
	if len(ca) == 0 || !strings.HasPrefix(b.DeviceURLs()[0], "tls://") {
		t.Fatalf("CA %d bytes, URLs %v", len(ca), b.DeviceURLs())
	}
	d := MustDevice(t, b)
	d.NC.Close()
	b.Close()

	for _, name := range []string{"bus-keys.json", "revocations.json", "ca-key.pem", "server-key.pem"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if name == "revocations.json" && os.IsNotExist(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}

	b2 := MustOpenBus(t, dir, nil)
	if string(b2.CACertPEM()) != string(ca) {
		t.Fatal("CA changed across restart")
	}
	// The credentials issued before the restart still work.
	nc, err := d.Connect(b2, nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("device credentials from before the restart refused: %v", err)
	}
	nc.Close()
}

func TestOpen_RefusesLeakyKeyFile(t *testing.T) {
	dir := t.TempDir()
	b := MustOpenBus(t, dir, nil)
	b.Close()
	if err := os.Chmod(filepath.Join(dir, "bus-keys.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := natsbus.Open(context.Background(), natsbus.Config{DataDir: dir, Listen: "127.0.0.1:0"}); err == nil {
		t.Fatal("Open accepted a world-readable key file")
	}
}

// TestOpen_RefusesCommandTimeoutOutsideLifetime: the command timeout is
// also the lifetime of the commands Unlock signs, so it must be one a
// device accepts.
func TestOpen_RefusesCommandTimeoutOutsideLifetime(t *testing.T) {
	for _, d := range []time.Duration{500 * time.Millisecond, wire.MaxCommandTTL + time.Second} {
		b, err := natsbus.Open(context.Background(), natsbus.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", CommandTimeout: d})
		if err == nil {
			b.Close()
			t.Errorf("Open accepted a command timeout of %s", d)
		}
	}
}

func TestSendUnlock(t *testing.T) {
	signer := MustSigner(t)
	b := MustOpenBus(t, t.TempDir(), signer)
	d := MustDevice(t, b)
	ctx := context.Background()

	t.Run("offline", func(t *testing.T) {
		token, _, _ := signer.SignUnlock(wire.Unlock{DoorID: d.DoorID, GrantID: "gnt_1"})
		_, err := b.SendUnlock(ctx, d.DoorID, token, 0)
		if doorman.ErrorCode(err) != doorman.EUNAVAILABLE || doorman.ErrorReason(err) != doorman.ReasonDoorOffline {
			t.Fatalf("err = %v, want EUNAVAILABLE door_offline", err)
		}
	})

	t.Run("silent device", func(t *testing.T) {
		sub, err := d.NC.SubscribeSync(wire.CommandSubject(d.DoorID))
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		d.NC.Flush()
		token, _, _ := signer.SignUnlock(wire.Unlock{DoorID: d.DoorID, GrantID: "gnt_1"})
		_, err = b.SendUnlock(ctx, d.DoorID, token, 200*time.Millisecond)
		if doorman.ErrorReason(err) != doorman.ReasonDoorOffline {
			t.Fatalf("err = %v, want door_offline", err)
		}
	})

	t.Run("acked and rejected", func(t *testing.T) {
		v, err := wire.NewVerifier(wire.VerifierConfig{DoorID: d.DoorID, Keys: []wire.VerifyKey{signer.VerifyKey()}, Replay: wire.NewMemoryReplay(nil)})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := d.NC.Subscribe(wire.CommandSubject(d.DoorID), func(m *nats.Msg) {
			_, grant, jti, _ := wire.PeekCommand(string(m.Data))
			ack := wire.Ack{GrantID: grant, JTI: jti}
			if cmd, err := v.Verify(m.Data); err != nil {
				ack.Rejected = err.(*wire.Rejection).Reason
			} else {
				ack = wire.Ack{GrantID: cmd.GrantID, JTI: cmd.JTI, ExecutedAt: time.Now()}
			}
			m.Respond(d.Ack(t, m.Data, &ack))
		})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		d.NC.Flush()
		door := &doorman.Door{ID: d.DoorID, PulseMillis: 1000}
		if ack, err := b.Unlock(ctx, door, &doorman.Grant{ID: "gnt_ok"}); err != nil || ack.ExecutedAt.IsZero() {
			t.Fatalf("Unlock = %+v, %v; want the device's execution time", ack, err)
		}
		token, _, _ := signer.SignUnlock(wire.Unlock{DoorID: d.DoorID, GrantID: "gnt_2"})
		if ack, err := b.SendUnlock(ctx, d.DoorID, token, 0); err != nil || ack.GrantID != "gnt_2" || !ack.Executed() {
			t.Fatalf("SendUnlock = %+v, %v", ack, err)
		}
		ack, err := b.SendUnlock(ctx, d.DoorID, token, 0)
		if doorman.ErrorCode(err) != doorman.EFORBIDDEN || ack == nil || ack.Rejected != wire.RejectReplayed {
			t.Fatalf("replayed: ack %+v, err %v; want EFORBIDDEN replayed", ack, err)
		}
		if _, err := b.SendUnlock(ctx, doorman.NewID(doorman.PrefixDoor), token, 0); doorman.ErrorCode(err) != doorman.EINVALID {
			t.Fatalf("token for another door: err = %v, want EINVALID", err)
		}

		// Many commands at once share one reply subscription: each gets
		// its own door's answer, and none is left waiting afterwards.
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				grant := fmt.Sprintf("gnt_many%d", i)
				token, _, _ := signer.SignUnlock(wire.Unlock{DoorID: d.DoorID, GrantID: grant})
				ack, err := b.SendUnlock(ctx, d.DoorID, token, 0)
				if err != nil || ack.GrantID != grant {
					errs <- fmt.Errorf("command for %s: ack %+v, err %v", grant, ack, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	if n := b.PendingReplies(); n != 0 {
		t.Errorf("%d commands still wait for an answer after every send returned", n)
	}
}

func TestTimeService(t *testing.T) {
	signer := MustSigner(t)
	b := MustOpenBus(t, t.TempDir(), signer)
	d := MustDevice(t, b)
	nonce := "0123456789abcdef0123"
	req, _ := wire.Encode(&wire.TimeRequest{Nonce: nonce}, wire.MaxMessageSize)
	msg, err := d.NC.Request(wire.TimeSubject(d.DoorID), req, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := wire.NewVerifier(wire.VerifierConfig{DoorID: d.DoorID, Keys: []wire.VerifyKey{signer.VerifyKey()}, Replay: wire.NewMemoryReplay(nil)})
	at, err := v.VerifyTime(msg.Data, nonce)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(at); d < -time.Minute || d > time.Minute {
		t.Fatalf("served time %s is far from now", at)
	}
}

// TestEvents_ExactlyOnce: each event is handed to the handler once, and
// its receipt tells the device what to do with it: a repeated event (its
// first receipt lost) is answered recorded without a second call; a
// malformed or misaddressed one is refused for good; one the handler
// failed on is answered unavailable, and recorded when sent again.
func TestEvents_ExactlyOnce(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	d := MustDevice(t, b)
	ctx := context.Background()
	send := func(subject string, data []byte) wire.EventReceipt {
		t.Helper()
		m, err := d.NC.Request(subject, data, testWait)
		if err != nil {
			t.Fatal(err)
		}
		var r wire.EventReceipt
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatalf("receipt %q: %v", m.Data, err)
		}
		return r
	}
	sendEvent := func(ev *wire.Event) wire.EventReceipt {
		t.Helper()
		data, err := wire.Encode(ev, wire.MaxMessageSize)
		if err != nil {
			t.Fatal(err)
		}
		return send(wire.EventSubject(d.DoorID, d.DeviceID, ev.Kind), data)
	}
	recorded := func(r wire.EventReceipt) bool { return r.Error == nil && r.Stream == wire.ReceiptStream }
	code := func(r wire.EventReceipt) int {
		if r.Error == nil {
			return 0
		}
		return r.Error.Code
	}

	calls := map[string]int{}
	var mu sync.Mutex
	failOnce := true
	last := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventDoorClosed, DoorID: d.DoorID, At: time.Now().UTC()}
	err := b.ConsumeEvents(ctx, "test", func(_ context.Context, door, device string, ev *wire.Event) error {
		if door != d.DoorID || device != d.DeviceID {
			t.Errorf("door %s device %s, want %s %s", door, device, d.DoorID, d.DeviceID)
		}
		mu.Lock()
		defer mu.Unlock()
		if ev.ID == last.ID && failOnce {
			failOnce = false
			return errors.New("store briefly down")
		}
		calls[ev.ID]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	first := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventHeartbeat, DoorID: d.DoorID, At: time.Now().UTC()}
	if r := sendEvent(first); !recorded(r) {
		t.Fatalf("first: %+v", r)
	}
	if r := sendEvent(first); !recorded(r) { // a device retrying after a lost receipt
		t.Fatalf("first again: %+v", r)
	}
	// Kind in the body differs from the subject; garbage; another door.
	mismatched := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventTamper, DoorID: d.DoorID, At: time.Now().UTC()}
	data, _ := wire.Encode(mismatched, wire.MaxMessageSize)
	if r := send(wire.EventSubject(d.DoorID, d.DeviceID, wire.EventDoorForced), data); code(r) != wire.ReceiptRefused {
		t.Fatalf("mismatched kind: %+v", r)
	}
	// Unreadable (a newer device's event, say): kept by the device.
	if r := send(wire.EventSubject(d.DoorID, d.DeviceID, wire.EventTamper), []byte("garbage")); code(r) != wire.ReceiptUnavailable {
		t.Fatalf("garbage: %+v", r)
	}
	other := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventTamper, DoorID: MustDevice(t, b).DoorID, At: time.Now().UTC()}
	if r := sendEvent(other); code(r) != wire.ReceiptRefused {
		t.Fatalf("another door's event: %+v", r)
	}
	if r := sendEvent(last); code(r) != wire.ReceiptUnavailable {
		t.Fatalf("handler failed: %+v", r)
	}
	if r := sendEvent(last); !recorded(r) {
		t.Fatalf("sent again: %+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 || calls[first.ID] != 1 || calls[last.ID] != 1 {
		t.Fatalf("handler calls %v, want %s and %s once each", calls, first.ID, last.ID)
	}
}

// TestEvents_NoControlPlane: with no node serving events, a device's event
// is answered "no responders" at once, so it stays queued on the device
// rather than being taken by the bus.
func TestEvents_NoControlPlane(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	d := MustDevice(t, b)
	ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventHeartbeat, DoorID: d.DoorID, At: time.Now().UTC()}
	data, _ := wire.Encode(ev, wire.MaxMessageSize)
	if _, err := d.NC.Request(wire.EventSubject(d.DoorID, d.DeviceID, ev.Kind), data, testWait); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("event with no control plane: %v, want no responders", err)
	}
}

// MustDeviceFor reconnects an existing device to a (restarted) bus.
func MustDeviceFor(tb testing.TB, b *natsbus.Bus, d *Device) *nats.Conn {
	tb.Helper()
	nc, err := d.Connect(b, nats.MaxReconnects(0))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// TestEvents_OrderPerDoorConcurrentAcrossDoors: one door's events reach
// the handler in the order the door sent them, while another door's are
// handled at the same time (a handler still busy with one door does not
// hold the other back), so that their writes can share commits.
func TestEvents_OrderPerDoorConcurrentAcrossDoors(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	ctx := context.Background()
	var slow, fast *Device
	for slow == nil || fast == nil {
		d := MustDevice(t, b)
		switch {
		case slow == nil:
			slow = d
		case natsbus.EventShard(wire.EventSubject(d.DoorID, d.DeviceID, wire.EventTamper)) !=
			natsbus.EventShard(wire.EventSubject(slow.DoorID, slow.DeviceID, wire.EventTamper)):
			fast = d
		}
	}
	// Sent without waiting for receipts (a device waits for each; this is
	// the order the node received them in).
	publish := func(d *Device, n int) []string {
		var ids []string
		for range n {
			ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventTamper, DoorID: d.DoorID, At: time.Now().UTC()}
			data, _ := wire.Encode(ev, wire.MaxMessageSize)
			if err := d.NC.PublishRequest(wire.EventSubject(d.DoorID, d.DeviceID, ev.Kind), wire.InboxPrefix(d.DoorID)+".ignored", data); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ev.ID)
		}
		if err := d.NC.Flush(); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	const n = natsbus.PerDoorQueue // a door may have as many waiting; past it, busy
	release := make(chan struct{})
	var mu sync.Mutex
	seen := map[string][]string{}
	fastDone := make(chan struct{})
	var slowStarted atomic.Bool
	err := b.ConsumeEvents(ctx, "order", func(_ context.Context, door, _ string, ev *wire.Event) error {
		if door == slow.DoorID && slowStarted.CompareAndSwap(false, true) {
			<-release // the slow door's first event waits for the other door
		}
		mu.Lock()
		defer mu.Unlock()
		seen[door] = append(seen[door], ev.ID)
		if door == fast.DoorID && len(seen[door]) == n {
			close(fastDone)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slowIDs := publish(slow, n)
	fastIDs := publish(fast, n)
	select {
	case <-fastDone:
	case <-time.After(testWait):
		t.Fatal("one door's events waited for another door's handler")
	}
	close(release)
	deadline := time.Now().Add(testWait)
	for {
		mu.Lock()
		n := len(seen[slow.DoorID])
		mu.Unlock()
		if n == len(slowIDs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events of the slow door handled", n, len(slowIDs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen[slow.DoorID], slowIDs) || !slices.Equal(seen[fast.DoorID], fastIDs) {
		t.Fatalf("events handled out of their door's order:\nslow %v\nwant %v\nfast %v\nwant %v",
			seen[slow.DoorID], slowIDs, seen[fast.DoorID], fastIDs)
	}
}
