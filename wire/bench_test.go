package wire_test

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman/wire"
)

// BenchmarkSignUnlock measures the control plane signing an unlock command.
func BenchmarkSignUnlock(b *testing.B) {
	s := MustSigner(b)
	u := wire.Unlock{DoorID: newDoorID(), GrantID: "gnt_bench"}
	for b.Loop() {
		if _, _, err := s.SignUnlock(u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyUnlock measures a door verifying an unlock command,
// recording its token ID in the (in-memory) replay guard. Each command is
// verified once, as a door would: a second time would be a replay.
func BenchmarkVerifyUnlock(b *testing.B) {
	s := MustSigner(b)
	door := newDoorID()
	v := MustVerifier(b, door, nil, s)
	tokens := make([][]byte, b.N)
	for i := range tokens {
		tok, _, err := s.SignUnlock(wire.Unlock{DoorID: door, GrantID: "gnt_bench"})
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = []byte(tok)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(tokens[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// offlineRequest is an offline grant request for a door.
func offlineRequest(door string) wire.OfflineGrantRequest {
	return wire.OfflineGrantRequest{DoorID: door, GrantID: "gnt_bench", CourierID: "cou_bench",
		ParcelIDs: []string{"par_1", "par_2"}}
}

// BenchmarkSignOfflineGrant measures the control plane signing an offline
// grant.
func BenchmarkSignOfflineGrant(b *testing.B) {
	s := MustSigner(b)
	r := offlineRequest(newDoorID())
	for b.Loop() {
		if _, _, err := s.SignOfflineGrant(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyOfflineGrant measures a door's reader verifying an
// offline grant, each once.
func BenchmarkVerifyOfflineGrant(b *testing.B) {
	s := MustSigner(b)
	door := newDoorID()
	v := MustVerifier(b, door, nil, s)
	tokens := make([][]byte, b.N)
	for i := range tokens {
		tok, _, err := s.SignOfflineGrant(offlineRequest(door))
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = []byte(tok)
	}
	check := wire.OfflineCheck{Now: time.Now()}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.VerifyOfflineGrant(tokens[i], check); err != nil {
			b.Fatal(err)
		}
	}
}
