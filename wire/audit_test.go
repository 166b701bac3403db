package wire_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// TestAuditWitness_Validate: a heartbeat reports a witnessed checkpoint as
// a size and a SHA-256 root together, only as a witness; a tamper event
// may name why a checkpoint was refused; a checkpoint message carries a
// bounded proof of SHA-256 hashes.
func TestAuditWitness_Validate(t *testing.T) {
	root := bytes.Repeat([]byte{7}, 32)
	enc := wire.EncodeAuditRoot(root)
	if got, err := wire.DecodeAuditRoot(enc); err != nil || !bytes.Equal(got, root) {
		t.Fatalf("DecodeAuditRoot = %x, %v", got, err)
	}
	beat := func(witness bool, size int64, root string) wire.Event {
		return wire.Event{ID: wire.NewEventID(), Kind: wire.EventHeartbeat, DoorID: newDoorID(), At: time.Now(),
			AuditWitness: witness, AuditSize: size, AuditRoot: root}
	}
	for name, tt := range map[string]struct {
		ev wire.Event
		ok bool
	}{
		"not a witness":        {beat(false, 0, ""), true},
		"witness, nothing yet": {beat(true, 0, ""), true},
		"witness":              {beat(true, 9, enc), true},
		"size without root":    {beat(true, 9, ""), false},
		"root without size":    {beat(true, 0, enc), false},
		"negative size":        {beat(true, -1, enc), false},
		"not a witness, size":  {beat(false, 9, enc), false},
		"short root":           {beat(true, 9, wire.EncodeAuditRoot(root[:31])), false},
		"root not base64":      {beat(true, 9, "!!"), false},
		"tamper audit_fork": {wire.Event{ID: wire.NewEventID(), Kind: wire.EventTamper, DoorID: newDoorID(), At: time.Now(),
			Reason: wire.AuditFork}, true},
		"tamper audit_forged": {wire.Event{ID: wire.NewEventID(), Kind: wire.EventTamper, DoorID: newDoorID(), At: time.Now(),
			Reason: wire.AuditForged}, true},
		"rejection audit_fork": {wire.Event{ID: wire.NewEventID(), Kind: wire.EventCommandRejected, DoorID: newDoorID(), At: time.Now(),
			Reason: wire.AuditFork}, false},
	} {
		if err := tt.ev.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok %v", name, err, tt.ok)
		}
	}
	for name, tt := range map[string]struct {
		cp wire.AuditCheckpoint
		ok bool
	}{
		"note":          {wire.AuditCheckpoint{Note: "n"}, true},
		"with proof":    {wire.AuditCheckpoint{Note: "n", Proof: [][]byte{root, root}}, true},
		"no note":       {wire.AuditCheckpoint{Proof: [][]byte{root}}, false},
		"negative from": {wire.AuditCheckpoint{Note: "n", From: -1}, false},
		"short hash":    {wire.AuditCheckpoint{Note: "n", Proof: [][]byte{root[:5]}}, false},
		"long proof":    {wire.AuditCheckpoint{Note: "n", Proof: make([][]byte, wire.MaxAuditProof+1)}, false},
		"huge note":     {wire.AuditCheckpoint{Note: string(make([]byte, 5000))}, false},
	} {
		if err := tt.cp.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok %v", name, err, tt.ok)
		}
	}
	if got := wire.AuditSubject("dor_x"); got != wire.InboxPrefix("dor_x")+".audit" {
		t.Fatalf("AuditSubject = %q: not under the door's inbox", got)
	}
	if doorman.ErrorCode((&wire.AuditCheckpoint{}).Validate()) != doorman.EINVALID {
		t.Fatal("an empty checkpoint is not EINVALID")
	}
}
