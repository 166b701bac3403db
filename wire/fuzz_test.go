package wire_test

import (
	"crypto/ed25519"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// Fuzz targets for every parser of what a door receives from the bus
// (commands, offline grants shown to its reader, signed time, key updates)
// and of what the control plane receives from doors (acks, events, their
// subjects). Each checks more than "no panic": what is accepted is exactly
// what was signed, and what is refused is refused with one of the stable
// reasons. Seeds are the genuine message and a few near misses; go test
// runs them (and testdata/fuzz) as unit tests, CI fuzzes each briefly, and
// docs/reliability.md has the long local runs.

// fuzzKeys are fixed keys, so that the corpus stays meaningful across runs.
var fuzzKeys = struct {
	signer   *wire.Signer
	attacker *wire.Signer
	device   nkeys.KeyPair
	door     string
	now      time.Time
}{}

func init() {
	seed := func(b byte) ed25519.PrivateKey {
		s := make([]byte, ed25519.SeedSize)
		for i := range s {
			s[i] = b
		}
		return ed25519.NewKeyFromSeed(s)
	}
	fuzzKeys.now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return fuzzKeys.now }
	s, err := wire.NewSigner(seed(1))
	if err != nil {
		panic(err)
	}
	a, err := wire.NewSigner(seed(2))
	if err != nil {
		panic(err)
	}
	fuzzKeys.signer, fuzzKeys.attacker = s.WithClock(clock), a.WithClock(clock)
	dev := make([]byte, 32)
	for i := range dev {
		dev[i] = 3
	}
	if fuzzKeys.device, err = nkeys.FromRawSeed(nkeys.PrefixByteUser, dev); err != nil {
		panic(err)
	}
	fuzzKeys.door = "dor_0000f0zz000000000000000000"
	if !wire.ValidDoorID(fuzzKeys.door) {
		panic("fuzz door ID " + fuzzKeys.door)
	}
}

// isRejection fails unless err is a *wire.Rejection with a known reason.
func isRejection(t *testing.T, err error) {
	t.Helper()
	var rej *wire.Rejection
	if !errors.As(err, &rej) || !slices.Contains(wire.Rejections, rej.Reason) {
		t.Fatalf("error %v is not a rejection with a known reason", err)
	}
}

// mutations are near misses of a token a fuzzer would take long to find.
func mutations(token string) []string {
	out := []string{token, "", token[:len(token)/2], token + "A", strings.Replace(token, "v4.public.", "v4.local.", 1)}
	if i := strings.LastIndex(token, "."); i > 0 {
		out = append(out, token[:i], token[:i]+".e30")
	}
	b := []byte(token)
	b[len(b)/2] ^= 1
	return append(out, string(b))
}

func FuzzVerifyCommand(f *testing.F) {
	k := fuzzKeys
	good, sent, err := k.signer.SignUnlock(wire.Unlock{DoorID: k.door, GrantID: "gnt_fuzz", Pulse: time.Second})
	if err != nil {
		f.Fatal(err)
	}
	forged, _, _ := k.attacker.SignUnlock(wire.Unlock{DoorID: k.door, GrantID: "gnt_fuzz"})
	other, _, _ := k.signer.SignUnlock(wire.Unlock{DoorID: doorman.NewID(doorman.PrefixDoor), GrantID: "gnt_fuzz"})
	timeTok, _ := k.signer.SignTime(k.door, strings.Repeat("n", 16))
	for _, s := range append(mutations(good), forged, other, timeTok) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, token []byte) {
		v, err := wire.NewVerifier(wire.VerifierConfig{DoorID: k.door, Keys: []wire.VerifyKey{k.signer.VerifyKey()},
			Replay: wire.NewMemoryReplay(func() time.Time { return k.now }), Now: func() time.Time { return k.now }})
		if err != nil {
			t.Fatal(err)
		}
		cmd, err := v.Verify(token)
		if err != nil {
			isRejection(t, err)
			return
		}
		// Accepted: it must be a command the key signed, for this door,
		// word for word (the token ID differs between fuzzing processes,
		// each of which signs its own seed).
		if !strings.HasPrefix(cmd.JTI, "cmd_") || cmd.DoorID != k.door || cmd.GrantID != "gnt_fuzz" || cmd.Pulse != time.Second || cmd.KeyID != k.signer.KeyID() {
			t.Fatalf("accepted %+v from %q, signed %+v", cmd, token, sent)
		}
		// And only once.
		if _, err := v.Verify(token); err == nil {
			t.Fatal("the same command accepted twice")
		}
	})
}

func FuzzVerifyOfflineGrant(f *testing.F) {
	k := fuzzKeys
	req := wire.OfflineGrantRequest{DoorID: k.door, GrantID: "gnt_fuzz", CourierID: "cou_fuzz", ParcelIDs: []string{"par_1"}}
	good, signed, err := k.signer.SignOfflineGrant(req)
	if err != nil {
		f.Fatal(err)
	}
	forged, _, _ := k.attacker.SignOfflineGrant(req)
	cmd, _, _ := k.signer.SignUnlock(wire.Unlock{DoorID: k.door, GrantID: "gnt_fuzz"})
	for _, s := range append(mutations(good), forged, cmd) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, token []byte) {
		v := MustVerifier(t, k.door, func() time.Time { return k.now }, k.signer)
		g, err := v.VerifyOfflineGrant(token, wire.OfflineCheck{Now: k.now})
		if err != nil {
			isRejection(t, err)
			return
		}
		g.JTI = signed.JTI // random per fuzzing process, as above
		if !reflect.DeepEqual(g, signed) {
			t.Fatalf("accepted %+v from %q, signed %+v", g, token, signed)
		}
	})
}

func FuzzVerifyTimeReply(f *testing.F) {
	k := fuzzKeys
	nonce := strings.Repeat("n", 16)
	good, err := k.signer.SignTimeReply(k.door, nonce, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	forged, _ := k.attacker.SignTimeReply(k.door, nonce, time.Hour)
	old, _ := k.signer.SignTime(k.door, nonce)
	otherNonce, _ := k.signer.SignTimeReply(k.door, strings.Repeat("m", 16), time.Hour)
	for _, s := range append(mutations(good), forged, old, otherNonce) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, token []byte) {
		v := MustVerifier(t, k.door, func() time.Time { return k.now }, k.signer)
		r, err := v.VerifyTimeReply(token, nonce)
		if err != nil {
			isRejection(t, err)
			return
		}
		if !r.Now.Equal(k.now) || (r.OfflineWindow != time.Hour && r.OfflineWindow != 0) || r.KeyID != k.signer.KeyID() {
			t.Fatalf("accepted %+v from %q", r, token)
		}
	})
}

func FuzzVerifyKeyUpdate(f *testing.F) {
	k := fuzzKeys
	set := &wire.KeySet{Seq: 2, Keys: []wire.SetKey{{VerifyKey: k.signer.VerifyKey(), Status: doorman.KeyActive}}}
	u, err := wire.SignKeyUpdate([]*wire.Signer{k.signer}, k.door, set)
	if err != nil {
		f.Fatal(err)
	}
	good, err := wire.Encode(u, wire.MaxKeyUpdateSize)
	if err != nil {
		f.Fatal(err)
	}
	forged, _ := wire.SignKeyUpdate([]*wire.Signer{k.attacker}, k.door, set)
	forgedData, _ := wire.Encode(forged, wire.MaxKeyUpdateSize)
	f.Add(good)
	f.Add(forgedData)
	f.Add([]byte(`{"tokens":[]}`))
	f.Add([]byte(`{"tokens":["` + u.Tokens[0] + `","` + forged.Tokens[0] + `"]}`))
	for _, s := range mutations(u.Tokens[0]) {
		f.Add([]byte(`{"tokens":["` + s + `"]}`))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v := MustVerifier(t, k.door, func() time.Time { return k.now }, k.signer)
		got, err := v.VerifyKeyUpdate(data, 1)
		if err != nil {
			isRejection(t, err)
			return
		}
		if !reflect.DeepEqual(got, set) {
			t.Fatalf("accepted %+v from %q, signed %+v", got, data, set)
		}
	})
}

func FuzzAckVerify(f *testing.F) {
	k := fuzzKeys
	pub, _ := k.device.PublicKey()
	command := []byte("v4.public.the-command-as-sent")
	ack := wire.Ack{GrantID: "gnt_fuzz", JTI: "jti_fuzz", ExecutedAt: k.now}
	if err := ack.Sign(k.door, command, k.device); err != nil {
		f.Fatal(err)
	}
	good, _ := wire.Encode(&ack, wire.MaxMessageSize)
	rejected := wire.Ack{Rejected: wire.RejectReplayed}
	_ = rejected.Sign(k.door, command, k.device)
	rej, _ := wire.Encode(&rejected, wire.MaxMessageSize)
	f.Add(good)
	f.Add(rej)
	f.Add([]byte(`{"grant_id":"gnt_fuzz","jti":"jti_fuzz","executed_at":"2026-12-02T12:00:00Z"}`))
	f.Add([]byte(`{"rejected":"expired","sig":"AAAA"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a wire.Ack
		if err := wire.Decode(data, wire.MaxMessageSize, &a); err != nil {
			return
		}
		if err := a.Verify(k.door, command, pub); err != nil {
			if c := doorman.ErrorCode(err); c != doorman.EFORBIDDEN && c != doorman.EINVALID {
				t.Fatalf("verify error %v, want forbidden or invalid", err)
			}
			return
		}
		// Verified: it says what one of the device's own acks said.
		a.Sig = ""
		want1, want2 := ack, rejected
		want1.Sig, want2.Sig = "", ""
		if !a.ExecutedAt.Equal(want1.ExecutedAt) {
			a.ExecutedAt = time.Time{}
			want1.ExecutedAt = time.Time{}
		}
		if a != want1 && a != want2 {
			t.Fatalf("verified %+v from %q, the device signed only %+v and %+v", a, data, ack, rejected)
		}
	})
}

func FuzzEventDecodeVerify(f *testing.F) {
	k := fuzzKeys
	pub, _ := k.device.PublicKey()
	const device = "dev_0000f0zz000000000000000000"
	ev := wire.Event{ID: "evt_0000f0zz000000000000000000", Kind: wire.EventUnlockExecuted, DoorID: k.door, At: k.now,
		GrantID: "gnt_fuzz", JTI: "jti_fuzz", Detail: "opened"}
	if err := ev.Sign(device, k.device); err != nil {
		f.Fatal(err)
	}
	good, err := wire.Encode(&ev, wire.MaxMessageSize)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(strings.Replace(string(good), `"opened"`, `"closed"`, 1)))
	f.Add([]byte(`{"id":"evt_x","kind":"heartbeat","door_id":"` + k.door + `","at":"2026-12-02T12:00:00Z","audit_size":-1}`))
	f.Add([]byte(`{"kind":"tamper","reason":"audit_fork","detail":"` + strings.Repeat("x", 600) + `"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got wire.Event
		if err := wire.Decode(data, wire.MaxMessageSize, &got); err != nil {
			return
		}
		// Decode validates: what it lets through encodes again within
		// the limit and reads back the same.
		again, err := wire.Encode(&got, wire.MaxMessageSize)
		if err != nil {
			t.Fatalf("decoded event %+v does not encode: %v", got, err)
		}
		var back wire.Event
		if err := wire.Decode(again, wire.MaxMessageSize, &back); err != nil || !reflect.DeepEqual(normalEvent(back), normalEvent(got)) {
			t.Fatalf("round trip %+v -> %+v (%v)", got, back, err)
		}
		if err := got.Verify(device, pub); err != nil {
			return
		}
		if !reflect.DeepEqual(normalEvent(got), normalEvent(ev)) {
			t.Fatalf("verified %+v from %q, the device signed %+v", got, data, ev)
		}
	})
}

// normalEvent makes times comparable with DeepEqual.
func normalEvent(e wire.Event) wire.Event {
	e.At = e.At.UTC()
	e.ClockSyncedAt, e.OfflineUntil = e.ClockSyncedAt.UTC(), e.OfflineUntil.UTC()
	return e
}

func FuzzParseEventSubject(f *testing.F) {
	k := fuzzKeys
	f.Add(wire.EventSubject(k.door, "dev_0000f0zz000000000000000000", wire.EventTamper))
	f.Add(wire.SubjectRoot + "." + k.door + ".evt.tamper")
	f.Add(wire.SubjectRoot + ".*.dev.>.evt.tamper")
	f.Add(wire.TimeSubject(k.door))
	f.Fuzz(func(t *testing.T, subject string) {
		door, device, kind, ok := wire.ParseEventSubject(subject)
		if ok && wire.EventSubject(door, device, kind) != subject {
			t.Fatalf("%q parsed as %s %s %s, which names %q", subject, door, device, kind, wire.EventSubject(door, device, kind))
		}
		if ok && strings.ContainsAny(door+device+kind, ".*> \t\r\n") {
			t.Fatalf("%q parsed into tokens that are not one subject token each", subject)
		}
		if d, ok := wire.ParseTimeSubject(subject); ok && wire.TimeSubject(d) != subject {
			t.Fatalf("%q parsed as time subject of %s", subject, d)
		}
	})
}
