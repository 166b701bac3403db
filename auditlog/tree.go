package auditlog

import (
	"fmt"
	"math/bits"

	"github.com/doorman-dev/doorman"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// hasher is the RFC 6962 hasher every tree uses.
var hasher = rfc6962.DefaultHasher

// rangeFactory builds compact ranges with the RFC 6962 hasher.
var rangeFactory = &compact.RangeFactory{Hash: hasher.HashChildren}

// LeafHash returns the RFC 6962 leaf hash of an entry: the hash of its
// canonical encoding.
func LeafHash(e *doorman.AuditEntry) []byte { return hasher.HashLeaf(e.Encode()) }

// Tree is the Merkle tree of one chain, held as its leaf hashes in order
// and, above them, the hash of every complete subtree (levels[k][i]
// covers leaves [i·2^k, (i+1)·2^k)). Leaf i is the entry at seq i+1.
// Appending costs O(log n) hashes; roots and proofs of any size up to
// the tree's are O(log n) lookups, however long the chain.
type Tree struct {
	levels [][][]byte // levels[0] are the leaves
}

// NewTree returns the tree over entries, given in chain order.
func NewTree(entries []*doorman.AuditEntry) *Tree {
	t := &Tree{levels: [][][]byte{make([][]byte, 0, len(entries))}}
	for _, e := range entries {
		t.Append(e)
	}
	return t
}

// Append adds an entry as the next leaf.
func (t *Tree) Append(e *doorman.AuditEntry) { t.appendHash(LeafHash(e)) }

// appendHash adds a leaf hash and the complete subtrees it closes.
func (t *Tree) appendHash(h []byte) {
	if len(t.levels) == 0 {
		t.levels = [][][]byte{nil}
	}
	t.levels[0] = append(t.levels[0], h)
	for k := 0; len(t.levels[k])%2 == 0; k++ {
		if k+1 == len(t.levels) {
			t.levels = append(t.levels, nil)
		}
		n := len(t.levels[k])
		t.levels[k+1] = append(t.levels[k+1], hasher.HashChildren(t.levels[k][n-2], t.levels[k][n-1]))
	}
}

// Size is the number of leaves.
func (t *Tree) Size() uint64 {
	if len(t.levels) == 0 {
		return 0
	}
	return uint64(len(t.levels[0]))
}

// Leaf returns the leaf hash at index.
func (t *Tree) Leaf(index uint64) []byte { return t.levels[0][index] }

// Root returns the root hash of the tree's first size leaves.
func (t *Tree) Root(size uint64) ([]byte, error) {
	if size > t.Size() {
		return nil, fmt.Errorf("tree of %d entries has no root at size %d", t.Size(), size)
	}
	return t.rangeHash(0, size)
}

// rangeHash returns the RFC 6962 hash of leaves [begin, end), the
// empty-tree hash for an empty range: a complete subtree is looked up;
// any other range splits, as RFC 6962 does, at the largest power of two
// below its length, whose left part is complete when begin is aligned
// to it (as in every root and proof node).
func (t *Tree) rangeHash(begin, end uint64) ([]byte, error) {
	if begin == end {
		return hasher.EmptyRoot(), nil
	}
	if end > t.Size() || begin > end {
		return nil, fmt.Errorf("no range [%d, %d) in a tree of %d entries", begin, end, t.Size())
	}
	return t.hashOf(begin, end), nil
}

func (t *Tree) hashOf(begin, end uint64) []byte {
	n := end - begin
	if n&(n-1) == 0 && begin%n == 0 {
		return t.levels[bits.TrailingZeros64(n)][begin/n]
	}
	k := uint64(1) << (bits.Len64(n-1) - 1) // the largest power of two below n
	return hasher.HashChildren(t.hashOf(begin, begin+k), t.hashOf(begin+k, end))
}

// InclusionProof returns the proof that the leaf at index is in the tree
// of the first size leaves.
func (t *Tree) InclusionProof(index, size uint64) ([][]byte, error) {
	if size > t.Size() || index >= size {
		return nil, fmt.Errorf("no inclusion proof of leaf %d in a tree of size %d (have %d)", index, size, t.Size())
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return t.rehash(nodes)
}

// ConsistencyProof returns the proof that the tree of the first size1
// leaves is a prefix of the tree of the first size2.
func (t *Tree) ConsistencyProof(size1, size2 uint64) ([][]byte, error) {
	if size2 > t.Size() || size1 > size2 {
		return nil, fmt.Errorf("no consistency proof from size %d to %d (have %d)", size1, size2, t.Size())
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return t.rehash(nodes)
}

// rehash computes the hashes of a proof's nodes and folds its ephemeral
// node.
func (t *Tree) rehash(nodes proof.Nodes) ([][]byte, error) {
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		begin, end := id.Coverage()
		end = min(end, t.Size())
		h, err := t.rangeHash(begin, end)
		if err != nil {
			return nil, err
		}
		hashes[i] = h
	}
	return nodes.Rehash(hashes, hasher.HashChildren)
}

// VerifyInclusion checks an inclusion proof of leafHash at index against
// root, the root of the tree of size leaves.
func VerifyInclusion(index, size uint64, leafHash []byte, p [][]byte, root []byte) error {
	return proof.VerifyInclusion(hasher, index, size, leafHash, p, root)
}

// VerifyConsistency checks that root1 (of size1 leaves) is a prefix of
// root2 (of size2 leaves).
func VerifyConsistency(size1, size2 uint64, p [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(hasher, size1, size2, p, root1, root2)
}
