package auditlog

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// TestTreeProofs checks every inclusion and consistency proof of trees of
// up to 20 entries with the library's verifiers, and the root against the
// plain RFC 6962 definition.
func TestTreeProofs(t *testing.T) {
	var entries []*doorman.AuditEntry
	for i := range 20 {
		entries = append(entries, &doorman.AuditEntry{ID: fmt.Sprint("aud_", i), Chain: "bld_x", Seq: int64(i + 1),
			At: time.Unix(int64(i), 0), Action: "test"})
	}
	tree := NewTree(entries)
	for size := uint64(1); size <= tree.Size(); size++ {
		root, err := tree.Root(size)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(root, mth(tree.levels[0][:size])) {
			t.Fatalf("root at %d differs from RFC 6962's definition", size)
		}
		for i := range size {
			p, err := tree.InclusionProof(i, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(i, size, LeafHash(entries[i]), p, root); err != nil {
				t.Fatalf("inclusion of %d in %d: %v", i, size, err)
			}
		}
		for size1 := uint64(1); size1 <= size; size1++ {
			root1, _ := tree.Root(size1)
			p, err := tree.ConsistencyProof(size1, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyConsistency(size1, size, p, root1, root); err != nil {
				t.Fatalf("consistency %d→%d: %v", size1, size, err)
			}
		}
	}
	// Every range, aligned or not, hashes as RFC 6962 defines it.
	for begin := range tree.Size() {
		for end := begin + 1; end <= tree.Size(); end++ {
			if h, err := tree.rangeHash(begin, end); err != nil || !bytes.Equal(h, mth(tree.levels[0][begin:end])) {
				t.Fatalf("range [%d, %d): %x, %v", begin, end, h, err)
			}
		}
	}
	// A changed entry changes the root.
	entries[3].Detail = "edited"
	if a, _ := NewTree(entries).Root(20); bytes.Equal(a, mustRoot(t, tree, 20)) {
		t.Fatal("editing an entry kept the root")
	}
}

func mustRoot(t *testing.T, tree *Tree, size uint64) []byte {
	t.Helper()
	r, err := tree.Root(size)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mth is RFC 6962's Merkle Tree Hash of a non-empty list of leaf hashes.
func mth(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return hasher.HashChildren(mth(leaves[:k]), mth(leaves[k:]))
}
