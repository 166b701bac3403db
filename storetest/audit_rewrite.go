package storetest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/auditlog"
)

// testAuditRewrite rewrites the audit log the way an attacker with write
// access to the database would: every change is rehashed consistently,
// chain heads included, so that the chains verify on their own. Each
// rewrite must still be named, by the signed checkpoints published
// outside the database.
func testAuditRewrite(t *testing.T, open Opener) {
	// setup returns a fixture whose building chain has at least 7
	// entries, a platform chain, and a second building, all covered by a
	// signed checkpoint.
	setup := func(t *testing.T) (*fixture, *publisher, []*doorman.AuditEntry) {
		f := newFixture(t, open)
		for i := range 3 {
			_, err := f.s.RecordAccess(f.ctx, f.deny(doorman.ReasonOutsideDeliveryHours, time.Now().Add(time.Duration(i)*time.Second)))
			must(t, err)
		}
		must(t, f.s.AppendAudit(f.ctx, &doorman.AuditEntry{Action: "test.platform", Actor: "system"}))
		f.newBuilding(t, "Untouched")
		p := newPublisher(t, f)
		p.publish(t)
		chain := oldestFirst(f.audit(t, doorman.AuditFilter{Chain: f.building.ID}))
		if len(chain) < 7 {
			t.Fatalf("setup made %d entries, want at least 7", len(chain))
		}
		p.verifyClean(t)
		return f, p, chain
	}

	t.Run("IntactAcrossCheckpoints", func(t *testing.T) {
		f, p, _ := setup(t)
		p.publish(t) // nothing grew: no new checkpoint
		for i := range 5 {
			must(t, f.s.AppendAudit(f.ctx, &doorman.AuditEntry{Action: "test.more", BuildingID: f.building.ID}))
			if i%2 == 0 {
				p.publish(t)
			}
		}
		p.verifyClean(t) // the newest entries, after the last checkpoint, are sealed
		p.publish(t)
		p.verifyClean(t)
		cps, err := f.s.AuditCheckpoints(f.ctx, f.building.ID)
		must(t, err)
		if len(cps) != 4 || cps[len(cps)-1].Size != int64(len(f.audit(t, doorman.AuditFilter{Chain: f.building.ID}))) {
			t.Fatalf("stored checkpoints: %+v", cps)
		}
	})
	t.Run("GrantUsedIsLogged", func(t *testing.T) {
		// What a grant's outcome depends on is in the log: marking it
		// used appends grant.used in the same transaction.
		f, p, _ := setup(t)
		now := time.Now()
		rec := f.grant(f.newParcels(t, "TRK-USED"), now)
		_, err := f.s.RecordAccess(f.ctx, rec)
		must(t, err)
		grantID := rec.Grant.ID
		must(t, f.s.MarkGrantUsed(f.ctx, grantID, now.Add(time.Second)))
		latest := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]
		if latest.Action != doorman.ActionGrantUsed || latest.GrantID != grantID || latest.DoorID != f.door.ID ||
			latest.CourierID != f.courier.ID || latest.Seal == "" {
			t.Fatalf("entry after marking the grant used: %+v", latest)
		}
		wantCode(t, f.s.MarkGrantUsed(f.ctx, grantID, now.Add(2*time.Second)), doorman.ECONFLICT)
		if again := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]; again.ID != latest.ID {
			t.Fatalf("a refused mark was logged: %+v", again)
		}
		p.publish(t)
		p.verifyClean(t)
	})
	t.Run("EditAndRehash", func(t *testing.T) {
		f, p, chain := setup(t)
		chain[3].Reason = ""
		chain[3].Detail = "nothing to see"
		rewriteChain(t, f, f.building.ID, chain)
		p.wantRewriteCaught(t, f.building.ID)
	})
	t.Run("DeleteAndRenumber", func(t *testing.T) {
		f, p, chain := setup(t)
		rewriteChain(t, f, f.building.ID, append(chain[:2:2], chain[3:]...))
		p.wantRewriteCaught(t, f.building.ID)
	})
	t.Run("AppendForged", func(t *testing.T) {
		f, p, chain := setup(t)
		last := chain[len(chain)-1]
		forged := &doorman.AuditEntry{ID: doorman.NewID(doorman.PrefixAudit), At: last.At,
			Action: doorman.ActionAccessGranted, Actor: "courier:" + f.courier.ID,
			BuildingID: last.BuildingID, DoorID: f.door.ID, GrantID: doorman.NewID(doorman.PrefixGrant)}
		rewriteChain(t, f, f.building.ID, append(chain, forged))
		p.wantRewriteCaught(t, f.building.ID)
	})
	t.Run("AppendForgedBeforeLast", func(t *testing.T) {
		// The forged entry slipped in before the newest one: the chain
		// grows, so only the tree, not its size, can tell.
		f, p, chain := setup(t)
		last := chain[len(chain)-1]
		forged := &doorman.AuditEntry{ID: doorman.NewID(doorman.PrefixAudit), At: last.At,
			Action: doorman.ActionAccessGranted, Actor: "courier:" + f.courier.ID,
			BuildingID: last.BuildingID, DoorID: f.door.ID}
		rewriteChain(t, f, f.building.ID, append(chain[:len(chain)-1:len(chain)-1], forged, last))
		p.wantRewriteCaught(t, f.building.ID)
	})
	t.Run("CutTailAndRewriteHead", func(t *testing.T) {
		f, p, chain := setup(t)
		rewriteChain(t, f, f.building.ID, chain[:3])
		p.wantRewriteCaught(t, f.building.ID)
	})
	t.Run("CutTailAndAppendAgain", func(t *testing.T) {
		// The history is cut and new entries appended through the store
		// until the chain is as long as before.
		f, p, chain := setup(t)
		rewriteChain(t, f, f.building.ID, chain[:3])
		for i := 3; i < len(chain); i++ {
			must(t, f.s.AppendAudit(f.ctx, &doorman.AuditEntry{Action: "test.refill", BuildingID: f.building.ID}))
		}
		p.wantRewriteCaught(t, f.building.ID)
	})
	t.Run("PlatformChainDeleted", func(t *testing.T) {
		f, p, _ := setup(t)
		exec(t, f, `DELETE FROM audit_entries WHERE chain = $1`, doorman.PlatformChain)
		exec(t, f, `DELETE FROM audit_heads WHERE chain = $1`, doorman.PlatformChain)
		p.wantRewriteCaught(t, doorman.PlatformChain)
	})
	t.Run("BuildingDeletedWithItsChain", func(t *testing.T) {
		f, p, _ := setup(t)
		doomed := f.newBuilding(t, "Doomed")
		p.publish(t)
		exec(t, f, `DELETE FROM audit_entries WHERE chain = $1`, doomed.ID)
		exec(t, f, `DELETE FROM audit_heads WHERE chain = $1`, doomed.ID)
		exec(t, f, `DELETE FROM buildings WHERE id = $1`, doomed.ID)
		p.wantRewriteCaught(t, doomed.ID)
	})
	t.Run("CheckpointsRemovedButWitnessed", func(t *testing.T) {
		// The door's device witnessed the chain; the attacker rewrites it
		// and removes every checkpoint, rows and files, that would name
		// it (a node's data dir in reach too). The witnessed checkpoint,
		// reported in a heartbeat, still does.
		f, p, _ := setup(t)
		d, _ := f.enroll(t, f.door.ID, time.Now())
		chain := oldestFirst(f.audit(t, doorman.AuditFilter{Chain: f.building.ID}))
		tree := auditlog.NewTree(chain)
		root, err := tree.Root(tree.Size())
		must(t, err)
		beat := func(size int64, root []byte) {
			_, err := f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: f.door.ID,
				Kind: doorman.EventHeartbeat, At: time.Now(), AuditWitness: true, AuditSize: size, AuditRoot: root})
			must(t, err)
		}
		beat(0, nil) // a witness that keeps nothing yet
		ws, err := f.s.AuditWitnesses(f.ctx, f.building.ID)
		must(t, err)
		if len(ws) != 1 || ws[0].Size != 0 || ws[0].Root != nil {
			t.Fatalf("witness before its first checkpoint: %+v", ws)
		}
		p.verifyClean(t)
		beat(int64(tree.Size()), root)
		small, err := tree.Root(2)
		must(t, err)
		beat(2, small) // a smaller report (a device enrolled anew) does not lower it
		ws, err = f.s.AuditWitnesses(f.ctx, f.building.ID)
		must(t, err)
		equal(t, "witnessed checkpoints", ws, []*doorman.AuditWitness{{Chain: f.building.ID, DoorID: f.door.ID, DeviceID: d.ID,
			Size: int64(tree.Size()), Root: root, At: ws[0].At}})
		if other, err := f.s.AuditWitnesses(f.ctx, doorman.PlatformChain); err != nil || len(other) != 0 {
			t.Fatalf("witnesses of the platform chain: %+v %v", other, err)
		}
		p.verifyClean(t)

		chain = oldestFirst(f.audit(t, doorman.AuditFilter{Chain: f.building.ID}))
		chain[1].Detail = "nothing to see"
		rewriteChain(t, f, f.building.ID, chain)
		exec(t, f, `DELETE FROM audit_checkpoints WHERE chain = $1`, f.building.ID)
		must(t, os.Remove(filepath.Join(p.cp.Dir, f.building.ID+".log")))
		found := false
		for _, b := range p.verify(t) {
			if b.Chain == f.building.ID && strings.Contains(b.Problem, "witnessed") {
				found = true
				t.Logf("caught: chain %s seq %d: %s", b.Chain, b.Seq, b.Problem)
			}
		}
		if !found {
			t.Fatalf("verification missed the rewrite the door witnessed: %+v", p.verify(t))
		}
	})
	t.Run("CheckpointForgedInDatabase", func(t *testing.T) {
		// A checkpoint row the attacker writes to match the rewritten
		// tree carries no valid signature.
		f, p, chain := setup(t)
		rewriteChain(t, f, f.building.ID, chain[:3])
		forgeCheckpointRows(t, f, f.building.ID)
		p.wantRewriteCaught(t, f.building.ID)
	})
}

// oldestFirst reverses a newest-first listing.
func oldestFirst(entries []*doorman.AuditEntry) []*doorman.AuditEntry {
	out := make([]*doorman.AuditEntry, len(entries))
	for i, e := range entries {
		out[len(entries)-1-i] = e
	}
	return out
}

// exec runs a tampering statement on the database under the store and
// fails unless it changed a row.
func exec(t *testing.T, f *fixture, query string, args ...any) {
	t.Helper()
	res, err := f.db.ExecContext(context.Background(), query, args...)
	must(t, err)
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		t.Fatalf("tampering statement changed no row (%v): %s", err, query)
	}
}

// rewriteChain replaces chain in the database with entries, renumbered
// and rehashed from the first, and moves the chain head to match: what
// an attacker who knows the hashing does, leaving a chain that verifies
// on its own.
func rewriteChain(t *testing.T, f *fixture, chain string, entries []*doorman.AuditEntry) {
	t.Helper()
	tx, err := f.db.BeginTx(context.Background(), nil)
	must(t, err)
	defer func() { _ = tx.Rollback() }()
	_, err = tx.Exec(`DELETE FROM audit_entries WHERE chain = $1`, chain)
	must(t, err)
	prev := ""
	for i, e := range entries {
		e.Chain, e.Seq, e.PrevHash = chain, int64(i+1), prev
		e.Hash = e.ComputeHash()
		prev = e.Hash
		parcels, _ := json.Marshal(e.ParcelIDs)
		if e.ParcelIDs == nil {
			parcels = []byte("[]")
		}
		_, err := tx.Exec(`INSERT INTO audit_entries (id, chain, seq, at, action, actor, building_id, door_id,
			carrier_id, courier_id, grant_id, parcel_ids, reason, detail, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			e.ID, e.Chain, e.Seq, e.At.UnixMicro(), e.Action, e.Actor, e.BuildingID, e.DoorID,
			e.CarrierID, e.CourierID, e.GrantID, string(parcels), e.Reason, e.Detail, e.PrevHash, e.Hash)
		must(t, err)
	}
	res, err := tx.Exec(`UPDATE audit_heads SET seq = $1, hash = $2 WHERE chain = $3`, len(entries), prev, chain)
	must(t, err)
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("no head for chain %s", chain)
	}
	must(t, tx.Commit())
	if breaks, err := f.s.VerifyAudit(f.ctx); err != nil || len(breaks) != 0 {
		t.Fatalf("the rewritten chain does not verify on its own (%v): %+v", err, breaks)
	}
}
