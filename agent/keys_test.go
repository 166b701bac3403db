package agent_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

func newSigner(t *testing.T) *wire.Signer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := wire.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// keyUpdate returns the JSON of a key update for door of a set of seq
// holding keys (signer, status pairs), signed by signers.
func keyUpdate(t *testing.T, door string, seq int64, signers []*wire.Signer, keys ...any) []byte {
	t.Helper()
	set := &wire.KeySet{Seq: seq}
	for i := 0; i < len(keys); i += 2 {
		set.Keys = append(set.Keys, wire.SetKey{VerifyKey: keys[i].(*wire.Signer).VerifyKey(), Status: keys[i+1].(string)})
	}
	u, err := wire.SignKeyUpdate(signers, door, set)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(u)
	return data
}

// TestAgent_KeyUpdates: over the real bus, a door takes a key update its
// pinned key vouches for, keeps it across a restart, and then refuses the
// retired key; updates signed by a key it does not trust, replayed, for
// another door or badly signed leave its keys as they are and are reported
// as tamper events naming the reason; malformed or huge ones leave them
// too and are logged.
func TestAgent_KeyUpdates(t *testing.T) {
	e := MustEnv(t)
	e.WaitSynced(t)
	k1, k2, attacker := e.Signer, newSigner(t), newSigner(t)
	nc := e.Bus.Conn()
	send := func(data []byte) {
		t.Helper()
		if err := nc.Publish(wire.KeysSubject(e.DoorID), data); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
	}
	waitSeq := func(seq int64) {
		t.Helper()
		deadline := time.Now().Add(testWait)
		for e.Agent.KeySeq() != seq {
			if time.Now().After(deadline) {
				t.Fatalf("key set %d, want %d", e.Agent.KeySeq(), seq)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// k2 is rotated in: the set is signed by k2 (unknown to the door) and
	// k1 (pinned).
	send(keyUpdate(t, e.DoorID, 2, []*wire.Signer{k2, k1}, k1, doorman.KeyActive, k2, doorman.KeyNext))
	waitSeq(2)

	refused := []struct {
		name, reason string
		data         []byte
	}{
		{"untrusted signer", wire.RejectUnknownKey, keyUpdate(t, e.DoorID, 9, []*wire.Signer{attacker}, attacker, doorman.KeyActive)},
		{"replayed", wire.RejectReplayed, keyUpdate(t, e.DoorID, 1, []*wire.Signer{k1}, k1, doorman.KeyActive)},
		{"another door", wire.RejectWrongDoor, keyUpdate(t, doorman.NewID(doorman.PrefixDoor), 9, []*wire.Signer{k1}, k1, doorman.KeyActive)},
		{"bad signature", wire.RejectBadSignature, []byte(`{"tokens":["` + e.Sign(t, "gnt_as_keys") + `"]}`)},
	}
	// Not even key updates, such as any device can have the server
	// deliver here: logged, not reported.
	send([]byte(`{"tokens":["v4.public.garbage"]`))
	send([]byte(`{"tokens":["` + strings.Repeat("A", wire.MaxKeyUpdateSize) + `"]}`))
	for _, c := range refused {
		send(c.data)
	}
	tampers := e.Events.Wait(t, wire.EventTamper, len(refused))
	if len(tampers) != len(refused) {
		t.Fatalf("%d tamper events, want %d", len(tampers), len(refused))
	}
	for i, c := range refused {
		if tampers[i].Reason != c.reason || !strings.HasPrefix(tampers[i].Detail, "key update refused") {
			t.Errorf("%s: tamper event %q %q, want reason %s", c.name, tampers[i].Reason, tampers[i].Detail, c.reason)
		}
	}
	if e.Agent.KeySeq() != 2 {
		t.Fatalf("a refused update changed the keys: set %d", e.Agent.KeySeq())
	}

	// k2 activates, k1 retires; the door keeps the set across a restart.
	send(keyUpdate(t, e.DoorID, 3, []*wire.Signer{k2, k1}, k1, doorman.KeyRetired, k2, doorman.KeyActive))
	waitSeq(3)
	e.StopAgent()
	e.StartAgent(t)
	if e.Agent.KeySeq() != 3 {
		t.Fatalf("after a restart the door holds key set %d", e.Agent.KeySeq())
	}
	// The bus still signs time with k1, which the door now refuses: it
	// must learn time from k2.
	e.Signer = k2
	e.Bus.Close()
	e.StartBus(t)
	e.WaitSynced(t)
	if ack, err := e.Unlock(t, e.Sign(t, "gnt_new")); err != nil || ack.Rejected != "" {
		t.Fatalf("command signed with the active key: %+v %v", ack, err)
	}
	e.Signer = k1
	ack, err := e.Unlock(t, e.Sign(t, "gnt_old"))
	if ack == nil || ack.Rejected != wire.RejectKeyRetired {
		t.Fatalf("command signed with the retired key: %+v %v", ack, err)
	}
	rejected := e.Events.Wait(t, wire.EventCommandRejected, 1)
	if rejected[len(rejected)-1].Reason != wire.RejectKeyRetired {
		t.Fatalf("command_rejected reason %q", rejected[len(rejected)-1].Reason)
	}
}
