package auditlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// memChain is a chain in memory that counts the entries read from it.
type memChain struct {
	entries map[string][]*doorman.AuditEntry
	read    int
}

func (m *memChain) AuditChain(_ context.Context, chain string, after, upTo int64) ([]*doorman.AuditEntry, error) {
	var out []*doorman.AuditEntry
	for _, e := range m.entries[chain] {
		if e.Seq > after && e.Seq <= upTo {
			out = append(out, e)
		}
	}
	m.read += len(out)
	return out, nil
}

// grow appends n linked entries to chain; detail tells histories apart.
func (m *memChain) grow(chain string, n int, detail string) {
	for range n {
		es := m.entries[chain]
		e := &doorman.AuditEntry{ID: fmt.Sprint("aud_", chain, len(es)), Chain: chain, Seq: int64(len(es) + 1),
			At: time.Unix(int64(len(es)), 0), Action: "test", Detail: detail}
		if len(es) > 0 {
			e.PrevHash = es[len(es)-1].Hash
		}
		e.Hash = e.ComputeHash()
		m.entries[chain] = append(es, e)
	}
}

// TestTreeCache: proofs from the cache equal proofs from a tree built
// afresh; a grown chain costs a read of its new entries only; a chain
// rewritten behind the cache is read again whole; a size not reached is
// ErrShort; the least recently used chain is evicted.
func TestTreeCache(t *testing.T) {
	ctx := context.Background()
	m := &memChain{entries: map[string][]*doorman.AuditEntry{}}
	m.grow("bld_a", 100, "")
	c := NewTreeCache(m, 2)

	check := func(chain string, size1, size2 uint64) {
		t.Helper()
		got, err := c.ConsistencyProof(ctx, chain, size1, size2)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := NewTree(m.entries[chain][:size2]).ConsistencyProof(size1, size2)
		if len(got) != len(want) {
			t.Fatalf("%s %d→%d: %d hashes, want %d", chain, size1, size2, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%s %d→%d: hash %d differs", chain, size1, size2, i)
			}
		}
	}
	check("bld_a", 10, 100)
	if m.read != 100 {
		t.Fatalf("first proof read %d entries, want 100", m.read)
	}
	check("bld_a", 37, 64) // an older size: nothing to read
	m.grow("bld_a", 5, "")
	m.read = 0
	check("bld_a", 100, 105)
	if m.read != 5 {
		t.Fatalf("a proof after 5 new entries read %d, want 5", m.read)
	}
	leaf, p, err := c.InclusionProof(ctx, "bld_a", 41, 105)
	root, _ := NewTree(m.entries["bld_a"]).Root(105)
	if err != nil || !bytes.Equal(leaf, LeafHash(m.entries["bld_a"][41])) || VerifyInclusion(41, 105, leaf, p, root) != nil {
		t.Fatalf("inclusion proof from the cache does not verify: %v", err)
	}

	// Rewritten from seq 50 on, and grown: the cache notices and rereads.
	m.entries["bld_a"] = m.entries["bld_a"][:49]
	m.grow("bld_a", 60, "rewritten")
	m.read = 0
	check("bld_a", 20, 109)
	if m.read != 4+109 {
		t.Fatalf("after a rewrite read %d entries, want the 4 new then all 109", m.read)
	}

	if _, err := c.ConsistencyProof(ctx, "bld_a", 1, 200); !errors.Is(err, ErrShort) {
		t.Fatalf("beyond the chain: %v", err)
	}

	// Two chains fit; a third evicts the least recently used (bld_a).
	m.grow("bld_b", 3, "")
	m.grow("bld_c", 3, "")
	check("bld_b", 1, 3)
	check("bld_c", 1, 3)
	m.read = 0
	check("bld_a", 1, 109)
	if m.read != 109 {
		t.Fatalf("an evicted chain read %d entries, want 109", m.read)
	}
}
