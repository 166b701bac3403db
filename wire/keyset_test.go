package wire_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// keySet returns a set of sequence seq holding signers with statuses.
func keySet(seq int64, keys ...any) *wire.KeySet {
	set := &wire.KeySet{Seq: seq}
	for i := 0; i < len(keys); i += 2 {
		set.Keys = append(set.Keys, wire.SetKey{VerifyKey: keys[i].(*wire.Signer).VerifyKey(), Status: keys[i+1].(string)})
	}
	return set
}

func mustUpdate(t *testing.T, door string, set *wire.KeySet, signers ...*wire.Signer) []byte {
	t.Helper()
	u, err := wire.SignKeyUpdate(signers, door, set)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestKeyUpdate_Rotation: a device pinning k1 takes a set signed by k1 and
// k2, then refuses commands signed with the key the set retires or
// revokes, with their reasons, and accepts the new one.
func TestKeyUpdate_Rotation(t *testing.T) {
	k1, k2, k3 := MustSigner(t), MustSigner(t), MustSigner(t)
	door := newDoorID()
	now := time.Now()
	v := MustVerifier(t, door, func() time.Time { return now }, k1)
	if v.KeySeq() != 0 {
		t.Fatalf("KeySeq of enrollment keys = %d", v.KeySeq())
	}
	// Signed by a key the device does not know and by one it pins.
	set := keySet(2, k1, doorman.KeyRetiring, k2, doorman.KeyActive)
	set.Keys[0].RetiresAt = now.Add(time.Minute).UTC()
	got, err := v.VerifyKeyUpdate(mustUpdate(t, door, set, k2, k1), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetKeys(got); err != nil || v.KeySeq() != 2 {
		t.Fatalf("SetKeys: %v, seq %d", err, v.KeySeq())
	}
	unlock := func(s *wire.Signer) error {
		tok, _, err := s.SignUnlock(wire.Unlock{DoorID: door, GrantID: "gnt_x"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify([]byte(tok))
		return err
	}
	if err := unlock(k2); err != nil {
		t.Fatalf("new key: %v", err)
	}
	if err := unlock(k1); err != nil {
		t.Fatalf("retiring key before its time: %v", err)
	}
	if err := unlock(k3); reason(err) != wire.RejectUnknownKey {
		t.Fatalf("unknown key: %v", err)
	}
	now = now.Add(time.Minute)
	if err := unlock(k1); reason(err) != wire.RejectKeyRetired {
		t.Fatalf("retiring key past its time: %v", err)
	}
	got, err = v.VerifyKeyUpdate(mustUpdate(t, door, keySet(3, k1, doorman.KeyRevoked, k2, doorman.KeyActive), k2), 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetKeys(got); err != nil {
		t.Fatal(err)
	}
	if err := unlock(k1); reason(err) != wire.RejectKeyRevoked {
		t.Fatalf("revoked key: %v", err)
	}
	tok, _, err := k1.SignOfflineGrant(wire.OfflineGrantRequest{DoorID: door, GrantID: "gnt_o", CourierID: "cou_1", ParcelIDs: []string{"prc_1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyOfflineGrant([]byte(tok), wire.OfflineCheck{Now: now}); reason(err) != wire.RejectKeyRevoked {
		t.Fatalf("offline grant of a revoked key: %v", err)
	}
	// A revoked key no longer vouches for a set.
	if _, err := v.VerifyKeyUpdate(mustUpdate(t, door, keySet(9, k1, doorman.KeyActive), k1), 3); reason(err) != wire.RejectKeyRevoked {
		t.Fatalf("set signed by a revoked key: %v", err)
	}
}

// TestKeyUpdate_Rejects is the attacker's side: the device keeps its keys
// and learns why.
func TestKeyUpdate_Rejects(t *testing.T) {
	k1, k2, attacker := MustSigner(t), MustSigner(t), MustSigner(t)
	door := newDoorID()
	v := MustVerifier(t, door, nil, k1)
	good := keySet(5, k1, doorman.KeyRetiring, k2, doorman.KeyActive)
	huge := `{"tokens":["` + strings.Repeat("a", wire.MaxKeyUpdateSize) + `"]}`
	cross := mustUpdate(t, door, good, k1)
	var u wire.KeyUpdate
	json.Unmarshal(cross, &u)
	for _, c := range []struct {
		name   string
		data   []byte
		held   int64
		reason string
	}{
		{"untrusted signer", mustUpdate(t, door, keySet(5, attacker, doorman.KeyActive), attacker), 0, wire.RejectUnknownKey},
		{"another door", mustUpdate(t, newDoorID(), good, k1), 0, wire.RejectWrongDoor},
		{"replayed", mustUpdate(t, door, good, k1), 5, wire.RejectReplayed},
		{"older", mustUpdate(t, door, good, k1), 6, wire.RejectReplayed},
		{"huge", []byte(huge), 0, wire.RejectMalformed},
		{"not JSON", []byte("garbage"), 0, wire.RejectMalformed},
		{"no tokens", []byte(`{"tokens":[]}`), 0, wire.RejectMalformed},
		{"unknown field", []byte(`{"tokens":["x"],"more":1}`), 0, wire.RejectMalformed},
		{"a command as a set", []byte(`{"tokens":["` + unlockToken(t, k1, door) + `"]}`), 0, wire.RejectBadSignature},
		{"tampered", []byte(`{"tokens":["` + flipPayloadByte(t, u.Tokens[0]) + `"]}`), 0, wire.RejectBadSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.VerifyKeyUpdate(c.data, c.held)
			if reason(err) != c.reason {
				t.Fatalf("err = %v, want %s", err, c.reason)
			}
		})
	}
	if v.KeySeq() != 0 {
		t.Fatal("a refused update changed the keys")
	}
	// Sets the control plane must never send.
	for _, bad := range []*wire.KeySet{
		keySet(0, k1, doorman.KeyActive),
		keySet(1, k1, doorman.KeyRevoked),
		keySet(1, k1, "sleeping"),
		keySet(1, k1, doorman.KeyActive, k1, doorman.KeyNext),
		{Seq: 1},
	} {
		if _, err := wire.SignKeyUpdate([]*wire.Signer{k1}, door, bad); doorman.ErrorCode(err) != doorman.EINVALID {
			t.Fatalf("SignKeyUpdate(%v) = %v", bad, err)
		}
	}
}

func unlockToken(t *testing.T, s *wire.Signer, door string) string {
	t.Helper()
	tok, _, err := s.SignUnlock(wire.Unlock{DoorID: door, GrantID: "gnt_x"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestKeyUpdate_LearnsOwnRevocation: a door that pins only a key revoked
// while it was offline takes the set that key vouches for, and from then
// on refuses that key.
func TestKeyUpdate_LearnsOwnRevocation(t *testing.T) {
	k1, k2 := MustSigner(t), MustSigner(t)
	door := newDoorID()
	v := MustVerifier(t, door, nil, k1)
	set, err := v.VerifyKeyUpdate(mustUpdate(t, door, keySet(4, k1, doorman.KeyRevoked, k2, doorman.KeyActive), k2, k1), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetKeys(set); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify([]byte(unlockToken(t, k1, door))); reason(err) != wire.RejectKeyRevoked {
		t.Fatalf("command of the revoked key: %v", err)
	}
}

// TestNilSigner: a node without a usable key refuses to sign instead of
// crashing (the bus asks the key ring for its signer at every signature).
func TestNilSigner(t *testing.T) {
	var s *wire.Signer
	if _, err := s.SignTime(newDoorID(), "nonce-nonce-nonce-1"); err == nil {
		t.Fatal("a nil signer signed a time reply")
	}
	if _, _, err := s.SignUnlock(wire.Unlock{DoorID: newDoorID(), GrantID: "gnt_1"}); err == nil {
		t.Fatal("a nil signer signed a command")
	}
	if _, _, err := s.SignOfflineGrant(wire.OfflineGrantRequest{}); err == nil {
		t.Fatal("a nil signer signed an offline grant")
	}
}
