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
