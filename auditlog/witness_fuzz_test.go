package auditlog

import (
	"bytes"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// FuzzWitnessUpdate shows a witness that keeps the genuine checkpoint of
// size 3 an arbitrary note and consistency proof, as a door device is
// shown what arrives on its audit subject. Whatever it is shown, it must
// not panic, and it may take a checkpoint only if its root is the genuine
// log's root at that size: no fork of what it kept (even signed with the
// real key), no forged note, no proof that does not connect, no older or
// same-size-different-root checkpoint.
func FuzzWitnessUpdate(f *testing.F) {
	// A fixed key, so that the corpus stays signed by it across runs.
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)), "doorman-audit")
	if err != nil {
		f.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	tree := NewTree(testEntries(9))
	sign := func(tr *Tree, size uint64) string {
		root, _ := tr.Root(size)
		cp, err := Sign(signer, "bld_x", size, root)
		if err != nil {
			f.Fatal(err)
		}
		return cp.Note
	}
	flat := func(p [][]byte) []byte { return bytes.Join(p, nil) }
	p37, _ := tree.ConsistencyProof(3, 7)
	p39, _ := tree.ConsistencyProof(3, 9)
	// A history rewritten before the kept size, signed with the real key
	// (a stolen key, or a node that signed a rewritten database).
	forked := testEntries(9)
	forked[1].Detail = "rewritten"
	ftree := NewTree(forked)
	fp, _ := ftree.ConsistencyProof(3, 9)
	f.Add(sign(tree, 7), flat(p37))
	f.Add(sign(tree, 9), flat(p39))
	f.Add(sign(ftree, 9), flat(fp))
	f.Add(sign(tree, 2), []byte(nil))
	f.Add(sign(ftree, 3), []byte(nil))
	f.Add("doorman.audit/bld_x\n9\nAAAA\n\n— doorman-audit AAAA\n", flat(p39))
	start := sign(tree, 3)
	f.Fuzz(func(t *testing.T, next string, proof []byte) {
		w := &Witness{Chain: "bld_x", Verifier: verifier}
		if err := w.Update(start, nil); err != nil {
			t.Fatal(err)
		}
		var p [][]byte
		for len(proof) >= 32 && len(p) < 64 {
			p, proof = append(p, proof[:32]), proof[32:]
		}
		if err := w.Update(next, p); err != nil {
			if w.Latest.Size != 3 {
				t.Fatalf("a refused checkpoint changed the kept one to size %d", w.Latest.Size)
			}
			return
		}
		want, err := tree.Root(w.Latest.Size)
		if w.Latest.Size > 9 || err != nil || !bytes.Equal(w.Latest.Root, want) || w.Latest.Size < 3 {
			t.Fatalf("took a checkpoint of size %d root %x that is not the log's", w.Latest.Size, w.Latest.Root)
		}
	})
}
