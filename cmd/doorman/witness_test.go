package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/auditlog"
	"github.com/doorman-dev/doorman/keyring"
	"github.com/doorman-dev/doorman/sqlite"
	"github.com/doorman-dev/doorman/wire"
	"golang.org/x/mod/sumdb/note"
)

// witnessDemo starts the demo (a real node, embedded NATS and a real
// agent enrolled through the API) with an agent that beats every 100 ms,
// and waits until the door's device witnessed a checkpoint of the
// building's chain and the control plane stored it.
func witnessDemo(t *testing.T, ctx context.Context) (*Demo, string, func() error) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:"+freePort(t)
	dir := t.TempDir()
	d, err := StartDemo(ctx, cfg, dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	closeDemo := sync.OnceValue(d.Close)
	t.Cleanup(func() { closeDemo() })
	// The same device, beating fast, so that checkpoints reach it at once.
	d.stopAgent()
	<-d.agentDone
	d.Agent.Close()
	if d.Agent, err = agent.New(agent.Config{DataDir: filepath.Join(dir, "agent"), Relay: d.Relay, Sensor: d.Relay, Tamper: d.Relay,
		Logger: logger, HeartbeatInterval: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	agentCtx, cancel := context.WithCancel(context.Background())
	d.stopAgent, d.agentDone = cancel, make(chan error, 1)
	go func() { d.agentDone <- d.Agent.Run(agentCtx) }()

	waitUntil(t, ctx, func() bool {
		size, root, ok := d.Agent.AuditWitnessed()
		if !ok {
			t.Fatal("the demo's device was enrolled without the audit key")
		}
		if size == 0 {
			return false
		}
		ws, err := d.Main.Store.AuditWitnesses(ctx, d.State.BuildingID)
		if err != nil {
			t.Fatal(err)
		}
		return len(ws) == 1 && ws[0].Size == size && bytes.Equal(ws[0].Root, root) && ws[0].DoorID == d.State.DoorID
	})
	return d, dir, closeDemo
}

// TestWitnessNamesRewrite is the database writer's attack with the
// checkpoint files in reach too: the building's chain is rewritten
// consistently (an entry edited, every hash after it recomputed, the head
// moved), and the checkpoint rows and files that would name it are
// removed. The chain verifies on its own and no checkpoint contradicts
// it; `doorman audit verify` still names it, because the door's device
// witnessed the original and reported it.
func TestWitnessNamesRewrite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, dir, closeDemo := witnessDemo(t, ctx)
	witnessed, _, _ := d.Agent.AuditWitnessed()
	chain := d.State.BuildingID
	if err := closeDemo(); err != nil {
		t.Fatal(err)
	}

	serverDir := filepath.Join(dir, "server")
	store, err := sqlite.Open(ctx, filepath.Join(serverDir, "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := store.AuditChain(ctx, chain, 0, 0)
	if err != nil || int64(len(entries)) < witnessed {
		t.Fatalf("chain of %d entries, witnessed %d: %v", len(entries), witnessed, err)
	}
	entries[0].Detail = "rewritten"
	db := store.DB()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	for _, e := range entries {
		e.PrevHash = prev
		e.Hash = e.ComputeHash()
		prev = e.Hash
		if _, err := tx.ExecContext(ctx, `UPDATE audit_entries SET detail = $1, prev_hash = $2, hash = $3 WHERE id = $4`,
			e.Detail, e.PrevHash, e.Hash, e.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{`UPDATE audit_heads SET hash = $2 WHERE chain = $1`, `DELETE FROM audit_checkpoints WHERE chain = $1 AND $2 = $2`} {
		if _, err := tx.ExecContext(ctx, q, chain, prev); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(serverDir, CheckpointDirName, chain+".log")); err != nil {
		t.Fatal(err)
	}
	if breaks, err := store.VerifyAudit(ctx); err != nil || len(breaks) != 0 {
		t.Fatalf("the rewritten chain does not verify on its own (%v): %+v", err, breaks)
	}
	store.Close()

	var out bytes.Buffer
	err = run(ctx, []string{"audit", "verify", "--data-dir", serverDir}, &out, &out)
	if err == nil {
		t.Fatalf("a rewritten log verified:\n%s", out.String())
	}
	for _, want := range []string{"chain " + chain + " broken", "door " + d.State.DoorID + "'s device witnessed", "history rewritten"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output %q lacks %q", out.String(), want)
		}
	}
}

// TestWitnessRefusesCheckpoints sends the door's device, over the real
// bus, what a database writer could make the control plane send it: a
// checkpoint signed with another key, and checkpoints signed with the
// deployment's key (a stolen key, or a node made to sign a rewritten
// database) that fork from the one the device keeps. The device refuses
// each, keeps what it had, and reports a tamper event naming the reason.
// (Three cases: the device's tamper events beyond doorman.DeviceEventBurst
// a minute are counted, not chained one by one. An older checkpoint is
// refused too: auditlog.TestWitness.)
func TestWitnessRefusesCheckpoints(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, dir, _ := witnessDemo(t, ctx)
	chain := d.State.BuildingID
	keptSize, keptRoot, _ := d.Agent.AuditWitnessed()
	key, err := keyring.LoadOrCreateAuditKey(filepath.Join(dir, "server", AuditKeyName))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := d.Main.Store.AuditChain(ctx, chain, 0, keptSize)
	if err != nil {
		t.Fatal(err)
	}
	if root, err := auditlog.NewTree(entries).Root(uint64(keptSize)); err != nil || !bytes.Equal(root, keptRoot) {
		t.Fatalf("the device keeps a root that is not the database's at size %d (%v)", keptSize, err)
	}
	// A history that differs from the witnessed one at its first entry,
	// two entries longer.
	forked := make([]*doorman.AuditEntry, 0, len(entries)+2)
	for i, e := range entries {
		c := *e
		if i == 0 {
			c.Detail = "rewritten"
		}
		forked = append(forked, &c)
	}
	forked = append(forked, &doorman.AuditEntry{ID: "aud_x1", Chain: chain, Action: "test"}, &doorman.AuditEntry{ID: "aud_x2", Chain: chain, Action: "test"})
	ftree := auditlog.NewTree(forked)
	sign := func(signer note.Signer, tr *auditlog.Tree, size uint64) string {
		root, err := tr.Root(size)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := auditlog.Sign(signer, chain, size, root)
		if err != nil {
			t.Fatal(err)
		}
		return cp.Note
	}
	skey, _, err := note.GenerateKey(rand.Reader, keyring.AuditKeyName)
	if err != nil {
		t.Fatal(err)
	}
	other, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	n := uint64(keptSize)
	fp, err := ftree.ConsistencyProof(n, n+2)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, reason string
		cp           wire.AuditCheckpoint
	}{
		// The real history, one step on, signed by someone else.
		{"another key", wire.AuditForged, wire.AuditCheckpoint{Note: sign(other, ftree, n+2), From: keptSize, Proof: fp}},
		// The forked history at the witnessed size.
		{"fork at the same size", wire.AuditFork, wire.AuditCheckpoint{Note: sign(key.Signer, ftree, n), From: keptSize}},
		// The forked history, longer, with its own (valid for it) proof.
		{"fork with a proof", wire.AuditFork, wire.AuditCheckpoint{Note: sign(key.Signer, ftree, n+2), From: keptSize, Proof: fp}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := tamperReports(t, ctx, d, c.reason)
			if err := d.Main.Bus.SendAuditCheckpoint(d.State.DoorID, &c.cp); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, ctx, func() bool { return tamperReports(t, ctx, d, c.reason) > before })
			size, root, _ := d.Agent.AuditWitnessed()
			if size != keptSize || !bytes.Equal(root, keptRoot) {
				t.Fatalf("the device now keeps size %d, kept %d", size, keptSize)
			}
			data, err := os.ReadFile(filepath.Join(dir, "agent", "audit-checkpoint.note"))
			if err != nil {
				t.Fatal(err)
			}
			if kept, err := auditlog.Open(string(data), chain, key.Verifier); err != nil || kept.Size != n {
				t.Fatalf("the kept checkpoint on disk changed: %+v %v", kept, err)
			}
		})
	}
}

// tamperReports counts the door's tamper events with reason in its
// building's audit chain.
func tamperReports(t *testing.T, ctx context.Context, d *Demo, reason string) int {
	t.Helper()
	entries, _, err := d.Main.Store.ListAudit(ctx, doorman.AuditFilter{DoorID: d.State.DoorID}, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == doorman.DeviceEventAction(doorman.EventTamper) && e.Reason == reason {
			n++
		}
	}
	return n
}

// TestWitnessFollowsCheckpoints: with the demo's own agent, which beats
// once a minute, each new checkpoint of the building's chain reaches the
// door's device as it is signed, with a proof from what the device last
// reported, and the device keeps it.
func TestWitnessFollowsCheckpoints(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:"+freePort(t)
	d, err := StartDemo(ctx, cfg, t.TempDir(), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	chain := d.State.BuildingID
	// The device's first heartbeat (on connecting) registered it as a
	// witness.
	waitUntil(t, ctx, func() bool {
		ws, err := d.Main.Store.AuditWitnesses(ctx, chain)
		return err == nil && len(ws) == 1
	})
	for round := range 3 {
		if err := d.Main.Store.AppendAudit(ctx, &doorman.AuditEntry{Action: "test.witness", Actor: "system", BuildingID: chain}); err != nil {
			t.Fatal(err)
		}
		heads, err := d.Main.Store.AuditHeads(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var size int64
		for _, h := range heads {
			if h.Chain == chain {
				size = h.Seq
			}
		}
		deadline := time.Now().Add(20 * time.Second) // well within the minute between heartbeats
		waitUntil(t, ctx, func() bool {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the device did not witness size %d in time", round, size)
			}
			got, _, _ := d.Agent.AuditWitnessed()
			return got >= size
		})
	}
	if n := tamperReports(t, ctx, d, wire.AuditFork) + tamperReports(t, ctx, d, wire.AuditForged); n != 0 {
		t.Fatalf("%d checkpoints refused on an honest log", n)
	}
}
