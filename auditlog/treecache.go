package auditlog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/doorman-dev/doorman"
)

// DefaultCachedTrees is how many chains' trees a TreeCache keeps.
const DefaultCachedTrees = 4096

// ErrShort is returned for a size the chain has not reached.
var ErrShort = errors.New("auditlog: the chain has not reached that size")

// ChainReader reads a chain's entries (doorman.AuditLogStore does).
type ChainReader interface {
	// AuditChain lists the entries of chain with after < seq <= upTo, in
	// order.
	AuditChain(ctx context.Context, chain string, after, upTo int64) ([]*doorman.AuditEntry, error)
}

// TreeCache keeps the Merkle trees of recently used chains, so that a
// proof reads only the entries appended since the last one instead of
// the whole chain: the checkpoints sent to door devices and the API's
// proofs would otherwise cost a read of every entry of the building's
// history each time. A tree is extended only by entries that continue
// it (next seq, previous hash); anything else (a chain rewritten behind
// the program's back, or cut) rebuilds it from the store. A rewrite of
// entries a tree already holds shows only once the chain grows past it:
// until then the cache answers for the history it read. That is safe
// because proofs are computed from the database, which their checkers do
// not trust: they check them against signed checkpoints (and the
// Checkpointer refuses to sign a rewritten chain). Safe for concurrent
// use.
type TreeCache struct {
	store ChainReader
	max   int

	mu    sync.Mutex // guards trees and clock, never held across a read
	trees map[string]*cachedTree
	clock uint64
}

// cachedTree is one chain's tree and what extending it checks. Its own
// lock serialises the proofs of one chain (and the store reads that
// extend its tree); other chains' proofs go on meanwhile.
type cachedTree struct {
	mu       sync.Mutex
	tree     *Tree
	lastHash string // hash of the entry at seq tree.Size()
	used     uint64 // guarded by TreeCache.mu
}

// NewTreeCache returns a cache over store keeping at most max trees
// (0: DefaultCachedTrees); the least recently used goes first.
func NewTreeCache(store ChainReader, max int) *TreeCache {
	if max <= 0 {
		max = DefaultCachedTrees
	}
	return &TreeCache{store: store, max: max, trees: map[string]*cachedTree{}}
}

// entry returns chain's cache entry, locked, marking it used.
func (c *TreeCache) entry(chain string) *cachedTree {
	c.mu.Lock()
	c.clock++
	ct := c.trees[chain]
	if ct == nil {
		ct = &cachedTree{tree: NewTree(nil)}
		c.trees[chain] = ct
		c.evict(chain)
	}
	ct.used = c.clock
	c.mu.Unlock()
	ct.mu.Lock()
	return ct
}

// grow extends ct's tree to at least size leaves. ct.mu is held.
func (c *TreeCache) grow(ctx context.Context, chain string, ct *cachedTree, size uint64) error {
	have := ct.tree.Size()
	if have >= size {
		return nil
	}
	entries, err := c.store.AuditChain(ctx, chain, int64(have), int64(size))
	if err != nil {
		return err
	}
	if !continues(ct, entries) {
		// Not the continuation of what was read before: read it all.
		if entries, err = c.store.AuditChain(ctx, chain, 0, int64(size)); err != nil {
			return err
		}
		ct.tree, ct.lastHash = NewTree(nil), ""
	}
	for _, e := range entries {
		ct.tree.Append(e)
		ct.lastHash = e.Hash
	}
	if ct.tree.Size() < size {
		return ErrShort
	}
	return nil
}

// continues reports whether entries follow ct's tree: seqs in order from
// the next one, each linked to the hash before it.
func continues(ct *cachedTree, entries []*doorman.AuditEntry) bool {
	prev, next := ct.lastHash, int64(ct.tree.Size())+1
	for _, e := range entries {
		if e.Seq != next || e.PrevHash != prev {
			return false
		}
		prev, next = e.Hash, next+1
	}
	return true
}

// evict drops the least recently used chain beyond c.max, never keep.
// c.mu is held.
func (c *TreeCache) evict(keep string) {
	if len(c.trees) <= c.max {
		return
	}
	oldest, at := "", ^uint64(0)
	for k, t := range c.trees {
		if k != keep && t.used < at {
			oldest, at = k, t.used
		}
	}
	delete(c.trees, oldest)
}

// ConsistencyProof returns the proof that chain's tree of size1 entries is
// a prefix of its tree of size2. Returns ErrShort if the chain has fewer
// than size2 entries.
func (c *TreeCache) ConsistencyProof(ctx context.Context, chain string, size1, size2 uint64) ([][]byte, error) {
	ct := c.entry(chain)
	defer ct.mu.Unlock()
	if err := c.grow(ctx, chain, ct, size2); err != nil {
		return nil, err
	}
	return ct.tree.ConsistencyProof(size1, size2)
}

// InclusionProof returns the leaf hash of the entry at index of chain and
// the proof that it is in the chain's tree of size entries. Returns
// ErrShort if the chain has fewer than size entries.
func (c *TreeCache) InclusionProof(ctx context.Context, chain string, index, size uint64) (leaf []byte, proof [][]byte, err error) {
	ct := c.entry(chain)
	defer ct.mu.Unlock()
	if err := c.grow(ctx, chain, ct, size); err != nil {
		return nil, nil, err
	}
	if index >= size {
		return nil, nil, fmt.Errorf("auditlog: no leaf %d in a tree of size %d", index, size)
	}
	p, err := ct.tree.InclusionProof(index, size)
	return ct.tree.Leaf(index), p, err
}
