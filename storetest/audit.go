package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

func testAudit(t *testing.T, open Opener) {
	t.Run("AppendAndList", func(t *testing.T) {
		f := newFixture(t, open)
		second := f.newBuilding(t, "Oak Yard")
		ctx := as(doorman.RoleCarrier, f.carrier.ID)

		e := &doorman.AuditEntry{Action: "test.event", BuildingID: second.ID, CarrierID: f.carrier.ID, Detail: "hello"}
		must(t, f.s.AppendAudit(ctx, e))
		if e.Chain != second.ID || e.Seq != 2 || e.Actor != "carrier:"+f.carrier.ID || e.At.IsZero() ||
			e.PrevHash == "" || e.Hash != e.ComputeHash() || !doorman.HasPrefix(e.ID, doorman.PrefixAudit) {
			t.Fatalf("appended entry: %+v", e)
		}
		p := &doorman.AuditEntry{Action: "test.platform", Actor: "system"}
		must(t, f.s.AppendAudit(ctx, p))
		if p.Chain != doorman.PlatformChain || p.Actor != "system" {
			t.Fatalf("platform entry: %+v", p)
		}
		wantCode(t, f.s.AppendAudit(ctx, &doorman.AuditEntry{}), doorman.EINVALID)
		wantCode(t, f.s.AppendAudit(ctx, &doorman.AuditEntry{Action: "x", Chain: f.building.ID, BuildingID: second.ID}), doorman.EINVALID)

		list := f.audit(t, doorman.AuditFilter{Chain: second.ID})
		equal(t, "second chain, newest first", len(list), 2)
		equal(t, "newest entry", list[0], e)
		if list[1].Action != doorman.ActionBuildingCreated || list[1].Seq != 1 {
			t.Fatalf("oldest entry of a building: %+v", list[1])
		}
		list = f.audit(t, doorman.AuditFilter{BuildingIDs: []string{second.ID}, CarrierID: f.carrier.ID})
		equal(t, "by building and carrier", list, []*doorman.AuditEntry{e})
		list = f.audit(t, doorman.AuditFilter{BuildingIDs: []string{}})
		equal(t, "empty building list", len(list), 0)
		all := f.audit(t, doorman.AuditFilter{})
		for i := 1; i < len(all); i++ {
			if all[i-1].ID <= all[i].ID {
				t.Fatalf("ListAudit not newest first at %d: %s then %s", i, all[i-1].ID, all[i].ID)
			}
		}
		// Within a chain, newest first is also highest Seq first.
		chain := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})
		for i := 1; i < len(chain); i++ {
			if chain[i-1].Seq != chain[i].Seq+1 {
				t.Fatalf("chain listed out of sequence: seq %d then %d", chain[i-1].Seq, chain[i].Seq)
			}
		}
		f.verifyClean(t)
	})

	t.Run("ConcurrentAppends", func(t *testing.T) {
		f := newFixture(t, open)
		const n = 40
		errs := make(chan error, n)
		for i := range n {
			go func() {
				b := f.building.ID
				if i%2 == 1 {
					b = ""
				}
				errs <- f.s.AppendAudit(f.ctx, &doorman.AuditEntry{Action: "test.concurrent", BuildingID: b, Detail: fmt.Sprint(i)})
			}()
		}
		for range n {
			must(t, <-errs)
		}
		f.verifyClean(t)
	})
}

// testAuditTamper edits, deletes and reorders audit rows behind the
// store's back and checks that VerifyAudit names the broken chain and
// the sequence number where it breaks.
func testAuditTamper(t *testing.T, open Opener) {
	// setup returns a fixture whose building chain has entries 1..7 and a
	// second building with an intact chain.
	setup := func(t *testing.T) (*fixture, []*doorman.AuditEntry) {
		f := newFixture(t, open)
		for i := range 3 {
			_, err := f.s.RecordAccess(f.ctx, f.deny(doorman.ReasonOutsideDeliveryHours, time.Now().Add(time.Duration(i)*time.Second)))
			must(t, err)
		}
		f.newBuilding(t, "Untouched")
		chain := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})
		if len(chain) < 7 {
			t.Fatalf("setup made %d entries, want at least 7", len(chain))
		}
		f.verifyClean(t)
		return f, chain // newest first
	}
	exec := func(t *testing.T, f *fixture, query string, args ...any) {
		t.Helper()
		res, err := f.db.ExecContext(context.Background(), query, args...)
		must(t, err)
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			t.Fatalf("tampering statement changed no row (%v): %s", err, query)
		}
	}
	bySeq := func(chain []*doorman.AuditEntry, seq int64) *doorman.AuditEntry {
		for _, e := range chain {
			if e.Seq == seq {
				return e
			}
		}
		t.Fatalf("no entry with seq %d", seq)
		return nil
	}
	wantBreak := func(t *testing.T, f *fixture, seq int64) {
		t.Helper()
		breaks, err := f.s.VerifyAudit(f.ctx)
		must(t, err)
		if len(breaks) != 1 {
			t.Fatalf("VerifyAudit found %d broken chains, want 1: %+v", len(breaks), breaks)
		}
		b := breaks[0]
		if b.Chain != f.building.ID || b.Seq != seq || b.Problem == "" {
			t.Fatalf("VerifyAudit break %+v, want chain %s at seq %d", b, f.building.ID, seq)
		}
	}

	t.Run("EditDetail", func(t *testing.T) {
		f, chain := setup(t)
		e := bySeq(chain, 4)
		exec(t, f, `UPDATE audit_entries SET detail = $1 WHERE id = $2`, "nothing to see", e.ID)
		wantBreak(t, f, 4)
	})
	t.Run("EditReason", func(t *testing.T) {
		f, chain := setup(t)
		e := bySeq(chain, int64(len(chain))) // the newest entry
		exec(t, f, `UPDATE audit_entries SET reason = $1 WHERE id = $2`, "", e.ID)
		wantBreak(t, f, e.Seq)
	})
	t.Run("EditTime", func(t *testing.T) {
		f, chain := setup(t)
		e := bySeq(chain, 3)
		exec(t, f, `UPDATE audit_entries SET at = at + 1 WHERE id = $1`, e.ID)
		wantBreak(t, f, 3)
	})
	t.Run("EditAndRehash", func(t *testing.T) {
		// An attacker who recomputes the edited entry's hash breaks the
		// link to the next entry instead.
		f, chain := setup(t)
		e := bySeq(chain, 5)
		e.Actor = "manager:" + doorman.NewID(doorman.PrefixManager)
		exec(t, f, `UPDATE audit_entries SET actor = $1, hash = $2 WHERE id = $3`, e.Actor, e.ComputeHash(), e.ID)
		wantBreak(t, f, 6)
	})
	t.Run("DeleteMiddle", func(t *testing.T) {
		f, chain := setup(t)
		exec(t, f, `DELETE FROM audit_entries WHERE id = $1`, bySeq(chain, 3).ID)
		wantBreak(t, f, 3)
	})
	t.Run("DeleteAndRenumber", func(t *testing.T) {
		f, chain := setup(t)
		exec(t, f, `DELETE FROM audit_entries WHERE id = $1`, bySeq(chain, 3).ID)
		for seq := int64(4); seq <= int64(len(chain)); seq++ {
			exec(t, f, `UPDATE audit_entries SET seq = $1 WHERE id = $2`, seq-1, bySeq(chain, seq).ID)
		}
		exec(t, f, `UPDATE audit_heads SET seq = seq - 1 WHERE chain = $1`, f.building.ID)
		wantBreak(t, f, 3)
	})
	t.Run("DeleteNewest", func(t *testing.T) {
		f, chain := setup(t)
		exec(t, f, `DELETE FROM audit_entries WHERE id = $1`, chain[0].ID)
		wantBreak(t, f, chain[0].Seq)
	})
	t.Run("Reorder", func(t *testing.T) {
		f, chain := setup(t)
		a, b := bySeq(chain, 2), bySeq(chain, 5)
		exec(t, f, `UPDATE audit_entries SET seq = -1 WHERE id = $1`, a.ID)
		exec(t, f, `UPDATE audit_entries SET seq = 2 WHERE id = $1`, b.ID)
		exec(t, f, `UPDATE audit_entries SET seq = 5 WHERE id = $1`, a.ID)
		wantBreak(t, f, 2)
	})
	t.Run("MoveToAnotherChain", func(t *testing.T) {
		f, chain := setup(t)
		exec(t, f, `UPDATE audit_entries SET chain = $1, seq = 1000 WHERE id = $2`, doorman.PlatformChain, bySeq(chain, 6).ID)
		breaks, err := f.s.VerifyAudit(f.ctx)
		must(t, err)
		found := false
		for _, b := range breaks {
			if b.Chain == f.building.ID && b.Seq == 6 {
				found = true
			}
		}
		if !found {
			t.Fatalf("VerifyAudit missed the entry moved out of seq 6: %+v", breaks)
		}
	})
	t.Run("AppendForged", func(t *testing.T) {
		// A well-formed entry slipped in after the last one, without the
		// store's head moving on, is caught by the head.
		f, chain := setup(t)
		last := chain[0]
		forged := &doorman.AuditEntry{ID: doorman.NewID(doorman.PrefixAudit), Chain: last.Chain, Seq: last.Seq + 1,
			At: last.At, Action: doorman.ActionAccessGranted, Actor: "courier:" + f.courier.ID,
			BuildingID: last.BuildingID, DoorID: f.door.ID, PrevHash: last.Hash}
		forged.Hash = forged.ComputeHash()
		exec(t, f, `INSERT INTO audit_entries (id, chain, seq, at, action, actor, building_id, door_id, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, forged.ID, forged.Chain, forged.Seq, forged.At.UnixMicro(),
			forged.Action, forged.Actor, forged.BuildingID, forged.DoorID, forged.PrevHash, forged.Hash)
		wantBreak(t, f, forged.Seq)
	})
	t.Run("HeadMismatch", func(t *testing.T) {
		f, _ := setup(t)
		exec(t, f, `UPDATE audit_heads SET hash = $1 WHERE chain = $2`, "0000", f.building.ID)
		breaks, err := f.s.VerifyAudit(f.ctx)
		must(t, err)
		if len(breaks) != 1 || breaks[0].Chain != f.building.ID {
			t.Fatalf("VerifyAudit after a forged head: %+v", breaks)
		}
	})
	t.Run("HeadDeleted", func(t *testing.T) {
		f, _ := setup(t)
		exec(t, f, `DELETE FROM audit_heads WHERE chain = $1`, f.building.ID)
		breaks, err := f.s.VerifyAudit(f.ctx)
		must(t, err)
		if len(breaks) != 1 || breaks[0].Chain != f.building.ID {
			t.Fatalf("VerifyAudit after deleting a chain head: %+v", breaks)
		}
	})
	t.Run("HeadZeroedAndTailCut", func(t *testing.T) {
		f, chain := setup(t)
		exec(t, f, `DELETE FROM audit_entries WHERE chain = $1 AND seq > 3`, f.building.ID)
		exec(t, f, `UPDATE audit_heads SET seq = 0, hash = '' WHERE chain = $1`, f.building.ID)
		wantBreak(t, f, bySeq(chain, 1).Seq)
	})
	t.Run("WholeChainDeleted", func(t *testing.T) {
		f, _ := setup(t)
		exec(t, f, `DELETE FROM audit_entries WHERE chain = $1`, f.building.ID)
		exec(t, f, `DELETE FROM audit_heads WHERE chain = $1`, f.building.ID)
		wantBreak(t, f, 1)
	})
	t.Run("AppendAfterTamperStillCaught", func(t *testing.T) {
		f, chain := setup(t)
		exec(t, f, `UPDATE audit_entries SET detail = $1 WHERE id = $2`, "x", bySeq(chain, 2).ID)
		_, err := f.s.RecordAccess(f.ctx, f.deny(doorman.ReasonRateLimited, time.Now()))
		must(t, err)
		wantBreak(t, f, 2)
	})
}
