package agent

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent/relay"
	"github.com/doorman-dev/doorman/wire"
)

// newOfflineAgent returns an agent with a valid identity that is never
// connected, for exercising command handling directly.
func newOfflineAgent(tb testing.TB, opts ...func(*Config)) (*Agent, *relay.Sim, *wire.Signer) {
	tb.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := wire.NewSigner(priv)
	a, sim := newOfflineAgentFor(tb, signer, doorman.NewID(doorman.PrefixDoor), opts...)
	return a, sim, signer
}

// newOfflineAgentFor is newOfflineAgent for a given command key and door.
func newOfflineAgentFor(tb testing.TB, signer *wire.Signer, doorID string, opts ...func(*Config)) (*Agent, *relay.Sim) {
	tb.Helper()
	acc, _ := nkeys.CreateAccount()
	user, _ := nkeys.CreateUser()
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	userJWT, err := jwt.NewUserClaims(pub).Encode(acc)
	if err != nil {
		tb.Fatal(err)
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	dir := tb.TempDir()
	id := &Identity{
		DeviceID: doorman.NewID(doorman.PrefixDevice), DoorID: doorID,
		NATSURLs: []string{"tls://127.0.0.1:1"}, UserJWT: userJWT, NKeySeed: string(seed),
		CommandKeys: []wire.VerifyKey{signer.VerifyKey()}, Door: wire.DoorConfig{PulseMillis: 1000},
		CACertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
	}
	if err := SaveIdentity(dir, id); err != nil {
		tb.Fatal(err)
	}
	sim := relay.NewSim()
	cfg := Config{DataDir: dir, Relay: sim}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	// As if a signed time sync had succeeded: the agent refuses every
	// command before one.
	a.clock.set(time.Now(), time.Now())
	return a, sim
}

// FuzzHandleCommand feeds arbitrary bytes to the agent's command handling.
// Whatever arrives, it must not panic, must answer with a valid ack and a
// valid event, and must pulse the relay exactly when it acknowledges an
// execution, which only a command the signer produced can earn.
func FuzzHandleCommand(f *testing.F) {
	a, sim, signer := newOfflineAgent(f)
	signed := map[string]bool{}
	for i := 0; i < 3; i++ {
		tok, _, err := signer.SignUnlock(wire.Unlock{DoorID: a.id.DoorID, GrantID: "gnt_seed"})
		if err != nil {
			f.Fatal(err)
		}
		signed[tok] = true
		f.Add([]byte(tok))
	}
	other, _, _ := signer.SignUnlock(wire.Unlock{DoorID: doorman.NewID(doorman.PrefixDoor), GrantID: "gnt_other"})
	timeTok, _ := signer.SignTime(a.id.DoorID, "0123456789abcdef")
	for _, s := range []string{"", "v4.public.", "v4.public..", "v4.public.AAAA.e30", other, timeTok, "\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		before := sim.Pulses()
		ack, ev := a.handleCommand(data)
		pulsed := sim.Pulses() - before
		if ack.Executed() {
			if pulsed != 1 || !signed[string(data)] {
				t.Fatalf("executed %q (pulsed %d, signed %v)", data, pulsed, signed[string(data)])
			}
		} else if pulsed != 0 {
			t.Fatalf("relay pulsed for a rejected command %q", data)
		}
		if err := ack.Validate(); err != nil {
			t.Fatalf("invalid ack %+v: %v", ack, err)
		}
		if b, err := wire.Encode(ack, wire.MaxMessageSize); err != nil || len(b) > wire.MaxMessageSize {
			t.Fatalf("ack does not encode: %v", err)
		}
		if ack.Executed() != (ev == nil) {
			t.Fatalf("ack %+v with event %+v: an execution queues its event itself, a refusal hands it back", ack, ev)
		}
		if ev == nil {
			return
		}
		ev.ID, ev.DoorID, ev.At = wire.NewEventID(), a.id.DoorID, time.Now()
		ev.Detail = clip(ev.Detail, wire.MaxDetailLength)
		b, err := wire.Encode(ev, wire.MaxMessageSize)
		if err != nil {
			t.Fatalf("event %+v does not encode: %v", ev, err)
		}
		var back wire.Event
		if err := wire.Decode(b, wire.MaxMessageSize, &back); err != nil {
			t.Fatalf("event does not survive the round trip: %v", err)
		}
	})
}

// FuzzHandleCommandFullDisk runs a signed command on a disk with little
// room left, then again once space returns, then again after a restart:
// the relay pulses at most once, and only when the token ID and the
// unlock_executed event are both on disk; a refusal for want of room is
// storage_fault. The seeds run in every go test.
func FuzzHandleCommandFullDisk(f *testing.F) {
	for _, free := range []uint16{0, 1, 20, 45, 46, 47, 100, 300, 500, 700, 2000} {
		f.Add(free)
	}
	f.Fuzz(func(t *testing.T, free uint16) {
		disk := NewFullDisk()
		a, sim, signer := newOfflineAgent(t, func(c *Config) { c.FS = disk })
		tok, _, err := signer.SignUnlock(wire.Unlock{DoorID: a.id.DoorID, GrantID: "gnt_fuzz", TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		disk.SetFree(int64(free % 2048))
		ack, _ := a.handleCommand([]byte(tok))
		if ack.Executed() {
			if sim.Pulses() != 1 {
				t.Fatalf("executed with %d pulses", sim.Pulses())
			}
			if !queuedUnlock(t, a.cfg.DataDir, ack.JTI) {
				t.Fatalf("executed on a disk with %d bytes free, and no unlock_executed on disk", free)
			}
			if data, _ := os.ReadFile(filepath.Join(a.cfg.DataDir, replayFile)); !bytes.Contains(data, []byte(ack.JTI)) {
				t.Fatalf("executed, and the token ID is not in the replay log")
			}
		} else if sim.Pulses() != 0 || ack.Rejected != wire.RejectStorageFault {
			t.Fatalf("on a disk with %d bytes free: ack %+v, %d pulses; want storage_fault and none", free, ack, sim.Pulses())
		} else if !a.StorageFault() {
			t.Fatal("refused for want of room, and no storage fault reported")
		}

		disk.SetFree(-1)
		again, _ := a.handleCommand([]byte(tok))
		if ack.Executed() && again.Executed() {
			t.Fatal("the same command opened twice")
		}
		pulses := sim.Pulses()
		a.Close()
		b, err := New(Config{DataDir: a.cfg.DataDir, Relay: sim})
		if err != nil {
			t.Fatalf("restart: %v", err)
		}
		defer b.Close()
		b.clock.set(time.Now(), time.Now())
		if ack, _ := b.handleCommand([]byte(tok)); ack.Executed() || pulses > 1 || sim.Pulses() != pulses {
			t.Fatalf("after a restart: ack %+v, %d pulses before; want one pulse at most", ack, pulses)
		}
	})
}

// queuedUnlock reports whether the queue in dataDir holds the
// unlock_executed event of token jti.
func queuedUnlock(t *testing.T, dataDir, jti string) bool {
	t.Helper()
	q, err := OpenQueue(filepath.Join(dataDir, queueDir), DefaultQueueLimit)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := q.Next(DefaultQueueLimit)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Kind == wire.EventUnlockExecuted && ev.JTI == jti {
			return true
		}
	}
	return false
}
