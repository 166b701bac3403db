package auditlog

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/doorman-dev/doorman"
	"golang.org/x/mod/sumdb/note"
)

// Verify checks the store's audit chains against their signed
// checkpoints: those in the checkpoint files in dir and those stored in
// the database. It returns the first problem of each chain that does not
// match:
//
//   - a checkpoint whose signature or origin does not verify (a forged
//     row in the database, a damaged file);
//   - two valid checkpoints of one size with different roots, or
//     successive checkpoints without a consistency proof (a fork);
//   - a checkpoint of a size the database no longer reaches (entries cut
//     off the end, a chain or a building deleted);
//   - a database tree whose root at a checkpoint's size is not the
//     signed one (entries edited, deleted, inserted or reordered, however
//     consistently they were rehashed);
//   - an entry after the first checkpoint without a valid seal (appended
//     through the database alone, also after the last checkpoint);
//   - a database tree that does not hold a checkpoint a door's device
//     reported witnessing (store.AuditWitnesses), also when the
//     checkpoint files and rows were rewritten or removed with the
//     entries.
//
// The chains' own hash links are VerifyAudit's; Verify reads every entry
// of every chain it checks. Entries after the last checkpoint are not
// covered.
func Verify(ctx context.Context, store doorman.AuditLogStore, dir string, verifier note.Verifier) ([]doorman.ChainBreak, error) {
	heads, err := store.AuditHeads(ctx)
	if err != nil {
		return nil, err
	}
	chains, err := fileChains(dir)
	if err != nil {
		return nil, err
	}
	for _, h := range heads {
		chains = append(chains, h.Chain)
	}
	slices.Sort(chains)
	chains = slices.Compact(chains)
	breaks := []doorman.ChainBreak{}
	for _, chain := range chains {
		b, err := verifyChain(ctx, store, dir, chain, verifier)
		if err != nil {
			return nil, err
		}
		if b != nil {
			breaks = append(breaks, *b)
		}
	}
	return breaks, nil
}

func verifyChain(ctx context.Context, store doorman.AuditLogStore, dir, chain string, verifier note.Verifier) (*doorman.ChainBreak, error) {
	broken := func(seq int64, format string, args ...any) (*doorman.ChainBreak, error) {
		return &doorman.ChainBreak{Chain: chain, Seq: seq, Problem: fmt.Sprintf(format, args...)}, nil
	}
	// The checkpoints in the file, in the order they were signed.
	var published []*Checkpoint
	notes, _, err := readFile(dir, chain)
	if err != nil {
		return nil, err
	}
	for i, msg := range notes {
		cp, err := Open(msg, chain, verifier)
		if err != nil {
			return broken(1, "checkpoint %d of the checkpoint file does not verify: %v", i+1, err)
		}
		published = append(published, cp)
	}
	stored, err := store.AuditCheckpoints(ctx, chain)
	if err != nil {
		return nil, err
	}
	all := slices.Clone(published)
	for _, s := range stored {
		cp, err := Open(s.Note, chain, verifier)
		if err != nil {
			return broken(1, "the checkpoint of size %d in the database is not signed by the checkpoint key (forged): %v", s.Size, err)
		}
		if cp.Size != uint64(s.Size) {
			return broken(1, "the checkpoint row of size %d in the database holds a checkpoint of size %d", s.Size, cp.Size)
		}
		all = append(all, cp)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Size < all[j].Size })
	for i := 1; i < len(all); i++ {
		if all[i].Size == all[i-1].Size && !bytes.Equal(all[i].Root, all[i-1].Root) {
			return broken(int64(all[i].Size), "two signed checkpoints of size %d have different roots (a fork)", all[i].Size)
		}
	}
	for i := 1; i < len(published); i++ {
		if published[i].Size < published[i-1].Size {
			return broken(int64(published[i].Size), "the checkpoint file goes back from size %d to %d", published[i-1].Size, published[i].Size)
		}
	}
	witnesses, err := store.AuditWitnesses(ctx, chain)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 && !slices.ContainsFunc(witnesses, func(w *doorman.AuditWitness) bool { return w.Size > 0 }) {
		return nil, nil
	}

	entries, err := store.AuditChain(ctx, chain, 0, 0)
	if err != nil {
		return nil, err
	}
	tree := NewTree(entries)
	good := uint64(0) // the largest size verified so far
	for _, cp := range all {
		if cp.Size > tree.Size() {
			if tree.Size() == 0 {
				return broken(1, "the chain is gone from the database, but a checkpoint signed it at %d entries", cp.Size)
			}
			return broken(int64(tree.Size())+1, "the database holds %d entries, but a checkpoint signed %d: entries removed", tree.Size(), cp.Size)
		}
		root, err := tree.Root(cp.Size)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(root, cp.Root) {
			return broken(int64(good)+1, "the database's entries %d to %d are not the ones signed in the checkpoint of size %d (history rewritten)",
				good+1, cp.Size, cp.Size)
		}
		good = cp.Size
	}
	// The checkpoints the building's doors witnessed are in the tree: a
	// history rewritten in the database and the checkpoint files alike is
	// still named when a door saw the original.
	for _, w := range witnesses {
		size := uint64(w.Size)
		if size == 0 {
			continue // a witness that keeps nothing yet
		}
		if size > tree.Size() {
			return broken(int64(tree.Size())+1, "door %s's device witnessed a checkpoint of %d entries, but the database holds %d: entries removed",
				w.DoorID, w.Size, tree.Size())
		}
		root, err := tree.Root(size)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(root, w.Root) {
			return broken(1, "the database's entries 1 to %d are not the ones door %s's device witnessed in a checkpoint of that size (history rewritten)",
				w.Size, w.DoorID)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	// Every entry after the first checkpoint was sealed by a node.
	for i := all[0].Size; i < tree.Size(); i++ {
		if !Sealed(verifier, entries[i]) {
			return broken(entries[i].Seq, "entry %s has no valid seal: it was not appended by a Doorman node", entries[i].ID)
		}
	}
	// Successive published checkpoints prove consistent (implied by the
	// roots above, but checked the way a witness would).
	for i := 1; i < len(published); i++ {
		a, b := published[i-1], published[i]
		p, err := tree.ConsistencyProof(a.Size, b.Size)
		if err != nil {
			return nil, err
		}
		if err := VerifyConsistency(a.Size, b.Size, p, a.Root, b.Root); err != nil {
			return broken(int64(a.Size)+1, "checkpoints of sizes %d and %d are not consistent: %v", a.Size, b.Size, err)
		}
	}
	return nil, nil
}
