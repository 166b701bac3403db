package wire_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// MustSigner returns a signer with a fresh key.
func MustSigner(tb testing.TB) *wire.Signer {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := wire.NewSigner(priv)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// MustVerifier returns a verifier for door that pins the given signers' keys.
func MustVerifier(tb testing.TB, door string, now func() time.Time, signers ...*wire.Signer) *wire.Verifier {
	tb.Helper()
	var keys []wire.VerifyKey
	for _, s := range signers {
		keys = append(keys, s.VerifyKey())
	}
	v, err := wire.NewVerifier(wire.VerifierConfig{DoorID: door, Keys: keys, Replay: wire.NewMemoryReplay(now), Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func newDoorID() string { return doorman.NewID(doorman.PrefixDoor) }

func TestKeyID_PASERKVectors(t *testing.T) {
	for _, tt := range []struct{ hex, want string }{
		{"0000000000000000000000000000000000000000000000000000000000000000", "k4.pid.S_XQmeEwHbbvRmiyfXfHYpLGjXGzjTRSDoT1YtTakWFE"},
		{"707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f", "k4.pid.9ShR3xc8-qVJ_di0tc9nx0IDIqbatdeM2mqLFBJsKRHs"},
	} {
		pub := make([]byte, 32)
		for i := range pub {
			var b byte
			for _, c := range tt.hex[2*i : 2*i+2] {
				b <<= 4
				if c >= 'a' {
					b |= byte(c-'a') + 10
				} else {
					b |= byte(c - '0')
				}
			}
			pub[i] = b
		}
		if got := wire.KeyID(pub); got != tt.want {
			t.Errorf("KeyID(%s) = %s, want %s", tt.hex, got, tt.want)
		}
	}
}

func TestVerifyKey_Parse(t *testing.T) {
	s := MustSigner(t)
	k := s.VerifyKey()
	if _, err := k.Parse(); err != nil {
		t.Fatal(err)
	}
	other := MustSigner(t).VerifyKey()
	k.KeyID = other.KeyID
	if _, err := k.Parse(); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("mismatched kid: err = %v, want EINVALID", err)
	}
	for _, bad := range []string{"", "k4.public.", "k4.secret.AAAA", "k4.public.!!!", "k3.public.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if _, err := wire.ParsePublicKey(bad); doorman.ErrorCode(err) != doorman.EINVALID {
			t.Errorf("ParsePublicKey(%q) err = %v, want EINVALID", bad, err)
		}
	}
}

func TestSubjects(t *testing.T) {
	door, dev := newDoorID(), doorman.NewID(doorman.PrefixDevice)
	if got, gotDev, kind, ok := wire.ParseEventSubject(wire.EventSubject(door, dev, wire.EventTamper)); !ok || got != door || gotDev != dev || kind != wire.EventTamper {
		t.Fatalf("ParseEventSubject round trip = %q %q %q %v", got, gotDev, kind, ok)
	}
	if got, ok := wire.ParseTimeSubject(wire.TimeSubject(door)); !ok || got != door {
		t.Fatalf("ParseTimeSubject round trip = %q %v", got, ok)
	}
	for _, bad := range []string{
		// The door-only scheme of earlier versions names no device.
		"doorman.door." + door + ".evt.tamper",
		"doorman.door.*.dev." + dev + ".evt.tamper", "doorman.door." + door + ".dev.*.evt.tamper",
		"doorman.door." + door + ".dev." + dev + ".evt.nope", "doorman.door." + door + ".dev." + dev + ".evt.tamper.x",
		"doorman.door." + door + ".dev." + door + ".evt.tamper", "doorman.door." + door + ".dev.dev_x.evt.tamper",
		"doorman.door." + door + ".dvc." + dev + ".evt.tamper", "doorman.door." + door + ".dev." + dev + ".ev.tamper",
		"other." + door + ".dev." + dev + ".evt.tamper", "doorman.door.dor_x.dev." + dev + ".evt.tamper", wire.CommandSubject(door),
	} {
		if _, _, _, ok := wire.ParseEventSubject(bad); ok {
			t.Errorf("ParseEventSubject(%q) ok", bad)
		}
	}
	for _, bad := range []string{"", "dor_", "dor_>", "dor_0123456789abcdefghjkmnpqr.", "gnt_0123456789abcdefghjkmnpqrs", "dor_0123456789ABCDEFGHJKMNPQRS", "dor_0123456789abcdefghjkmnpq*s"} {
		if wire.ValidDoorID(bad) {
			t.Errorf("ValidDoorID(%q) = true", bad)
		}
	}
	if !wire.ValidDoorID(door) {
		t.Fatalf("ValidDoorID(%q) = false", door)
	}
	for _, bad := range []string{"", "dev_", "dev_>", door, "dev_0123456789abcdefghjkmnpq*s", "dev_0123456789abcdefghjkmnpqr."} {
		if wire.ValidDeviceID(bad) {
			t.Errorf("ValidDeviceID(%q) = true", bad)
		}
	}
	if !wire.ValidDeviceID(dev) {
		t.Fatalf("ValidDeviceID(%q) = false", dev)
	}
}

func TestSignUnlock_Invalid(t *testing.T) {
	s := MustSigner(t)
	door := newDoorID()
	for name, u := range map[string]wire.Unlock{
		"bad door":    {DoorID: "dor_x", GrantID: "gnt_1"},
		"no grant":    {DoorID: door},
		"short pulse": {DoorID: door, GrantID: "gnt_1", Pulse: time.Millisecond},
		"long pulse":  {DoorID: door, GrantID: "gnt_1", Pulse: time.Minute},
		"long ttl":    {DoorID: door, GrantID: "gnt_1", TTL: time.Hour},
	} {
		if _, _, err := s.SignUnlock(u); doorman.ErrorCode(err) != doorman.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
}
