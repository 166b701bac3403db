package auditlog

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"golang.org/x/mod/sumdb/note"
)

func testKey(t *testing.T) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "doorman-audit")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func testEntries(n int) []*doorman.AuditEntry {
	var entries []*doorman.AuditEntry
	for i := range n {
		entries = append(entries, &doorman.AuditEntry{ID: fmt.Sprint("aud_", i), Chain: "bld_x", Seq: int64(i + 1),
			At: time.Unix(int64(i), 0), Action: "test"})
	}
	return entries
}

// TestCheckpointFile: checkpoints appended to a file read back whole; a
// record torn by a crash is left out and cut off before the next append.
func TestCheckpointFile(t *testing.T) {
	signer, verifier := testKey(t)
	dir := t.TempDir()
	tree := NewTree(testEntries(5))
	for size := uint64(1); size <= 5; size += 2 {
		root, _ := tree.Root(size)
		cp, err := Sign(signer, "bld_x", size, root)
		if err != nil {
			t.Fatal(err)
		}
		if err := appendFile(dir, "bld_x", cp.Note); err != nil {
			t.Fatal(err)
		}
	}
	notes, whole, err := readFile(dir, "bld_x")
	if err != nil || len(notes) != 3 {
		t.Fatalf("read %d notes, %v", len(notes), err)
	}
	for i, n := range notes {
		cp, err := Open(n, "bld_x", verifier)
		if err != nil || cp.Size != uint64(2*i+1) {
			t.Fatalf("note %d: %+v, %v", i, cp, err)
		}
		if _, err := Open(n, "bld_y", verifier); err == nil {
			t.Fatal("a checkpoint of one chain opened as another's")
		}
	}
	name := filepath.Join(dir, "bld_x.log")
	f, _ := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("doorman.audit/bld_x\n7\nAAAA")
	f.Close()
	if notes2, whole2, _ := readFile(dir, "bld_x"); len(notes2) != 3 || whole2 != whole {
		t.Fatalf("torn tail read as %d notes", len(notes2))
	}
	if err := truncateTorn(dir, "bld_x"); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(name); fi.Size() != whole {
		t.Fatalf("torn tail kept: %d bytes, want %d", fi.Size(), whole)
	}
	if _, err := fileName(dir, "../etc/passwd"); err == nil {
		t.Fatal("a chain named a path outside the directory")
	}
}

// TestWitness: a witness takes consistent checkpoints and refuses an
// older one, a fork, one without a valid proof and one signed by another
// key.
func TestWitness(t *testing.T) {
	signer, verifier := testKey(t)
	entries := testEntries(9)
	tree := NewTree(entries)
	sign := func(tr *Tree, size uint64) string {
		root, _ := tr.Root(size)
		cp, err := Sign(signer, "bld_x", size, root)
		if err != nil {
			t.Fatal(err)
		}
		return cp.Note
	}
	w := &Witness{Chain: "bld_x", Verifier: verifier}
	if err := w.Update(sign(tree, 3), nil); err != nil {
		t.Fatal(err)
	}
	p, _ := tree.ConsistencyProof(3, 7)
	if err := w.Update(sign(tree, 7), p); err != nil {
		t.Fatal(err)
	}
	if err := w.Update(sign(tree, 5), nil); err == nil {
		t.Fatal("older checkpoint accepted")
	}
	// A rewritten history, signed with the real key (a stolen key, or a
	// node that signed a rewritten database): no proof connects it.
	forked := testEntries(9)
	forked[4].Detail = "rewritten"
	ftree := NewTree(forked)
	fp, _ := ftree.ConsistencyProof(7, 9)
	if err := w.Update(sign(ftree, 9), fp); err == nil {
		t.Fatal("forked checkpoint accepted")
	}
	if err := w.Update(sign(ftree, 7), nil); err == nil {
		t.Fatal("fork at the same size accepted")
	}
	other, _ := testKey(t)
	root, _ := tree.Root(9)
	foreign, _ := Sign(other, "bld_x", 9, root)
	p, _ = tree.ConsistencyProof(7, 9)
	if err := w.Update(foreign.Note, p); err == nil {
		t.Fatal("checkpoint of another key accepted")
	}
	if err := w.Update(sign(tree, 9), p); err != nil || w.Latest.Size != 9 {
		t.Fatalf("consistent checkpoint refused: %v", err)
	}
}
