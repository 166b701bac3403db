package auditlog

import (
	"fmt"

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

// Tree is the Merkle tree of one chain, held as its leaf hashes in order.
// Leaf i is the entry at seq i+1.
type Tree struct {
	leaves [][]byte
}

// NewTree returns the tree over entries, given in chain order.
func NewTree(entries []*doorman.AuditEntry) *Tree {
	t := &Tree{leaves: make([][]byte, 0, len(entries))}
	for _, e := range entries {
		t.Append(e)
	}
	return t
}

// Append adds an entry as the next leaf.
func (t *Tree) Append(e *doorman.AuditEntry) { t.leaves = append(t.leaves, LeafHash(e)) }

// Size is the number of leaves.
func (t *Tree) Size() uint64 { return uint64(len(t.leaves)) }

// Leaf returns the leaf hash at index.
func (t *Tree) Leaf(index uint64) []byte { return t.leaves[index] }

// Root returns the root hash of the tree's first size leaves.
func (t *Tree) Root(size uint64) ([]byte, error) {
	if size > t.Size() {
		return nil, fmt.Errorf("tree of %d entries has no root at size %d", t.Size(), size)
	}
	return t.rangeHash(0, size)
}

// rangeHash returns the RFC 6962 hash of leaves [begin, end), the
// empty-tree hash for an empty range.
func (t *Tree) rangeHash(begin, end uint64) ([]byte, error) {
	if begin == end {
		return hasher.EmptyRoot(), nil
	}
	if begin == 0 {
		r := rangeFactory.NewEmptyRange(0)
		for _, h := range t.leaves[:end] {
			if err := r.Append(h, nil); err != nil {
				return nil, err
			}
		}
		return r.GetRootHash(nil)
	}
	return mth(t.leaves[begin:end]), nil
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
