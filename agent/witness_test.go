package agent

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/auditlog"
	"github.com/doorman-dev/doorman/wire"
)

// TestWitnessKeeps: the device's witness keeps a consistent checkpoint on
// disk and finds it again after a restart; it ignores a proof from
// another size, refuses a fork and a foreign signature without changing
// what it keeps, and will not start from a kept file that no longer
// verifies. A device enrolled without the audit key witnesses nothing.
func TestWitnessKeeps(t *testing.T) {
	dir := t.TempDir()
	if wt, err := openWitness(dir, &Identity{}); wt != nil || err != nil {
		t.Fatalf("a device without the audit key witnesses: %v %v", wt, err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, "doorman-audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	id := &Identity{AuditKey: vkey, AuditChain: "bld_x"}
	var entries []*doorman.AuditEntry
	for i := range 8 {
		entries = append(entries, &doorman.AuditEntry{ID: fmt.Sprint("aud_", i), Chain: "bld_x", Seq: int64(i + 1), At: time.Unix(int64(i), 0), Action: "test"})
	}
	tree := auditlog.NewTree(entries)
	sign := func(s note.Signer, tr *auditlog.Tree, size uint64) string {
		root, _ := tr.Root(size)
		cp, err := auditlog.Sign(s, "bld_x", size, root)
		if err != nil {
			t.Fatal(err)
		}
		return cp.Note
	}
	wt, err := openWitness(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	if changed, reason, err := wt.update(&wire.AuditCheckpoint{Note: sign(signer, tree, 3)}); !changed || reason != "" || err != nil {
		t.Fatalf("first checkpoint: %v %q %v", changed, reason, err)
	}
	p, _ := tree.ConsistencyProof(3, 6)
	if changed, _, _ := wt.update(&wire.AuditCheckpoint{Note: sign(signer, tree, 6), From: 2, Proof: p}); changed {
		t.Fatal("a proof from another size was taken")
	}
	if changed, reason, err := wt.update(&wire.AuditCheckpoint{Note: sign(signer, tree, 6), From: 3, Proof: p}); !changed || reason != "" || err != nil {
		t.Fatalf("consistent checkpoint: %v %q %v", changed, reason, err)
	}
	forked := append([]*doorman.AuditEntry(nil), entries...)
	c := *forked[1]
	c.Detail = "rewritten"
	forked[1] = &c
	ftree := auditlog.NewTree(forked)
	fp, _ := ftree.ConsistencyProof(6, 8)
	if _, reason, _ := wt.update(&wire.AuditCheckpoint{Note: sign(signer, ftree, 8), From: 6, Proof: fp}); reason != wire.AuditFork {
		t.Fatalf("fork: reason %q", reason)
	}
	oskey, _, _ := note.GenerateKey(rand.Reader, "doorman-audit")
	other, _ := note.NewSigner(oskey)
	p, _ = tree.ConsistencyProof(6, 8)
	if _, reason, _ := wt.update(&wire.AuditCheckpoint{Note: sign(other, tree, 8), From: 6, Proof: p}); reason != wire.AuditForged {
		t.Fatalf("foreign signature: reason %q", reason)
	}
	again, err := openWitness(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	root6, _ := tree.Root(6)
	if size, root := again.kept(); size != 6 || string(root) != string(root6) {
		t.Fatalf("after a restart the device keeps size %d", size)
	}
	if err := os.WriteFile(filepath.Join(dir, auditFile), []byte(sign(other, tree, 6)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openWitness(dir, id); err == nil {
		t.Fatal("a kept checkpoint with a foreign signature was loaded")
	}
}
