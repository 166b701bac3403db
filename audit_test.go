package doorman_test

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// chain builds a well-linked chain of n entries.
func chain(n int) []*doorman.AuditEntry {
	var out []*doorman.AuditEntry
	prev := ""
	for i := 1; i <= n; i++ {
		e := &doorman.AuditEntry{ID: doorman.NewID(doorman.PrefixAudit), Chain: "bld_x", Seq: int64(i),
			At: time.UnixMicro(int64(1_700_000_000_000_000 + i)), Action: doorman.ActionAccessDenied,
			Actor: "system", Reason: doorman.ReasonRateLimited, PrevHash: prev}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func TestVerifyChain(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tamper  func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string)
		wantSeq int64 // 0: intact
	}{
		{"intact", func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string) {
			return es, 5, es[4].Hash
		}, 0},
		{"head zeroed to hide a cut tail", func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string) {
			return es[:3], 0, ""
		}, 1},
		{"empty chain, empty head", func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string) {
			return nil, 0, ""
		}, 0},
		{"edited", func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string) {
			es[2].Detail = "x"
			return es, 5, es[4].Hash
		}, 3},
		{"edited and rehashed", func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string) {
			es[1].Actor = "operator"
			es[1].Hash = es[1].ComputeHash()
			return es, 5, es[4].Hash
		}, 3},
		{"deleted", func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string) {
			return append(es[:2:2], es[3:]...), 5, es[4].Hash
		}, 3},
		{"swapped", func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string) {
			es[1], es[3] = es[3], es[1]
			es[1].Seq, es[3].Seq = 2, 4
			return es, 5, es[4].Hash
		}, 2},
		{"truncated", func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string) {
			return es[:3], 5, es[4].Hash
		}, 4},
		{"last replaced", func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string) {
			head := es[4].Hash
			es[4].Detail = "forged"
			es[4].Hash = es[4].ComputeHash()
			return es, 5, head
		}, 5},
		{"appended beyond head", func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string) {
			return es, 4, es[3].Hash
		}, 5},
		{"nil entry", func(es []*doorman.AuditEntry) ([]*doorman.AuditEntry, int64, string) {
			es[1] = nil
			return es, 5, es[4].Hash
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entries, headSeq, headHash := tc.tamper(chain(5))
			b := doorman.VerifyChain("bld_x", entries, headSeq, headHash)
			switch {
			case tc.wantSeq == 0 && b != nil:
				t.Fatalf("intact chain reported broken: %+v", b)
			case tc.wantSeq != 0 && b == nil:
				t.Fatal("tampering not detected")
			case tc.wantSeq != 0 && b.Seq != tc.wantSeq:
				t.Fatalf("break at seq %d (%s), want %d", b.Seq, b.Problem, tc.wantSeq)
			}
		})
	}
}

// v1Entry is an entry as chains written before ClaimedAt and Count hold
// it; v1Hash is its hash then, pinned so that those chains verify forever.
func v1Entry() *doorman.AuditEntry {
	return &doorman.AuditEntry{ID: "aud_01", Chain: "bld_x", Seq: 7, At: time.UnixMicro(1_700_000_000_123_456),
		Action: "device.door_forced", Actor: "device:dev_1", BuildingID: "bld_x", DoorID: "dor_1",
		GrantID: "grt_1", ParcelIDs: []string{"par_1", "par_2"}, Reason: "r", Detail: "d", PrevHash: "00ff"}
}

const v1Hash = "8950c6501eeaddf0a0c9818b6d9a963cf1759c5e036796a356982dfa4ffaff81"

func TestComputeHashVersions(t *testing.T) {
	if got := v1Entry().ComputeHash(); got != v1Hash {
		t.Fatalf("hash of an entry without claimed time or count = %s, want the v1 hash %s", got, v1Hash)
	}
	claimed := time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC)
	seen := map[string]string{v1Hash: "v1"}
	for name, edit := range map[string]func(e *doorman.AuditEntry){
		"claimed time":        func(e *doorman.AuditEntry) { e.ClaimedAt = &claimed },
		"count":               func(e *doorman.AuditEntry) { e.Count = 4999 },
		"both":                func(e *doorman.AuditEntry) { e.ClaimedAt, e.Count = &claimed, 4999 },
		"claimed time at 0":   func(e *doorman.AuditEntry) { e.ClaimedAt = ptrTime(time.UnixMicro(0)) },
		"other claimed time":  func(e *doorman.AuditEntry) { e.ClaimedAt = ptrTime(claimed.Add(time.Microsecond)) },
		"other count":         func(e *doorman.AuditEntry) { e.Count = 4998 },
		"count, other detail": func(e *doorman.AuditEntry) { e.Count, e.Detail = 4999, "e" },
	} {
		e := v1Entry()
		edit(e)
		h := e.ComputeHash()
		if other, ok := seen[h]; ok {
			t.Errorf("%s hashes like %s", name, other)
		}
		seen[h] = name
	}
}

func ptrTime(t time.Time) *time.Time { return &t }
