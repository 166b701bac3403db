package auditlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"
)

// DefaultInterval is how often a Checkpointer signs the chains that grew.
const DefaultInterval = time.Second

// Checkpointer signs checkpoints of every chain that grew since its last
// checkpoint, appends each to the chain's file in Dir (fsynced) and then
// stores it in the database.
//
// It signs periodically (every Interval), not in the append's
// transaction: signing and the file's fsync stay off the unlock's path,
// one checkpoint covers every entry of the interval however many batches
// committed them, and the files grow with time rather than with traffic.
// The price is a window: entries younger than the last checkpoint are
// protected by the hash chain only.
//
// After a chain's first checkpoint it signs only entries sealed with its
// key (Sealer), which the store it writes through must be given; entries
// from before the first checkpoint (older deployments) are vouched for by
// that checkpoint alone.
//
// It never signs a history that contradicts what it published: it keeps
// the compact range of each chain's tree at its last checkpoint, extends
// it only with the entries after it (checking their hash links), and on
// start rebuilds it from the database and compares it with the last
// checkpoint in its file (or, for a node without one, the largest valid
// checkpoint in the database). A chain that does not match is not signed
// again, and every pass returns an error naming it.
type Checkpointer struct {
	Store    doorman.AuditLogStore
	Signer   note.Signer
	Verifier note.Verifier
	Dir      string
	Interval time.Duration
	Logger   *slog.Logger
	// Seals, when set, checks entries' seals (it must hold Verifier's
	// key): it skips verifying the seals it made itself.
	Seals *Seals

	mu        sync.Mutex // serialises passes
	statesMu  sync.Mutex // guards chains within a pass
	chains    map[string]*chainState
	published func(ctx context.Context, cp *Checkpoint) // see OnPublish
}

// OnPublish makes the checkpointer call f with each checkpoint once it is
// published (appended to its file and stored), to hand it on to the
// chain's witnesses. f runs in the checkpointer's pass, so it should be
// quick, and for several chains at once, so it must be safe for
// concurrent use.
func (c *Checkpointer) OnPublish(f func(ctx context.Context, cp *Checkpoint)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.published = f
}

// chainState is what the checkpointer knows of one chain.
type chainState struct {
	rng      *compact.Range // the tree at the last checkpoint
	lastHash string         // the hash of the entry at rng.End()
	broken   error          // why the chain is no longer signed
}

// finalPassTimeout bounds the last checkpoint Run signs after its context
// ends: a store that does not answer must not hold a shutdown.
const finalPassTimeout = 5 * time.Second

// Run signs every Interval until ctx ends, then once more (within
// finalPassTimeout). It logs an error when it first sees it, not at every
// pass.
func (c *Checkpointer) Run(ctx context.Context) {
	interval := c.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	last := ""
	pass := func(ctx context.Context, final bool) {
		err := c.Checkpoint(ctx)
		if err != nil && !final && ctx.Err() != nil {
			return // cut short by the shutdown; the final pass follows
		}
		if err != nil && err.Error() != last {
			c.logger().Error("audit checkpoint", "err", err)
		}
		last = ""
		if err != nil {
			last = err.Error()
		}
	}
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalPassTimeout)
			pass(final, true)
			cancel()
			return
		case <-tick.C:
			pass(ctx, false)
		}
	}
}

func (c *Checkpointer) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// Checkpoint signs and publishes a checkpoint of every chain that grew.
// It returns the errors of the chains it could not sign, joined.
func (c *Checkpointer) Checkpoint(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chains == nil {
		c.chains = map[string]*chainState{}
	}
	heads, err := c.Store.AuditHeads(ctx)
	if err != nil {
		return err
	}
	// Chains are signed side by side: each costs a read, a signature, an
	// fsync of its file and a commit, which then share the disk's flushes
	// and the store's group commits instead of queueing one behind the
	// other (a thousand busy buildings would otherwise take longer than
	// the interval).
	var (
		errs   []error
		errsMu sync.Mutex
		wg     sync.WaitGroup
		work   = make(chan doorman.AuditHead)
	)
	for range min(checkpointWorkers, len(heads)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range work {
				if err := c.checkpoint(ctx, h); err != nil {
					errsMu.Lock()
					errs = append(errs, fmt.Errorf("chain %s: %w", h.Chain, err))
					errsMu.Unlock()
				}
			}
		}()
	}
	for _, h := range heads {
		work <- h
	}
	close(work)
	wg.Wait()
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// checkpointWorkers is how many chains a pass signs at once.
const checkpointWorkers = 16

// checkpoint signs chain h if it grew. Passes are serialised by c.mu and
// each chain is in one worker's hands, so only the map of states needs
// its own lock.
func (c *Checkpointer) checkpoint(ctx context.Context, h doorman.AuditHead) error {
	c.statesMu.Lock()
	st := c.chains[h.Chain]
	c.statesMu.Unlock()
	if st == nil {
		var err error
		if st, err = c.load(ctx, h.Chain); err != nil {
			return err
		}
		c.statesMu.Lock()
		c.chains[h.Chain] = st
		c.statesMu.Unlock()
	}
	if st.broken != nil {
		return st.broken
	}
	size := int64(st.rng.End())
	if h.Seq < size {
		st.broken = fmt.Errorf("the database holds %d entries, %d were checkpointed: history cut, refusing to sign", h.Seq, size)
		return st.broken
	}
	if h.Seq == size {
		return nil
	}
	entries, err := c.Store.AuditChain(ctx, h.Chain, size, h.Seq)
	if err != nil {
		return err
	}
	rng, err := rangeFactory.NewRange(0, st.rng.End(), slices.Clone(st.rng.Hashes()))
	if err != nil {
		return err
	}
	prev := st.lastHash
	for i, e := range entries {
		if e.Seq != size+int64(i)+1 || e.PrevHash != prev || e.ComputeHash() != e.Hash {
			st.broken = fmt.Errorf("entry at seq %d does not extend the checkpointed chain: refusing to sign", size+int64(i)+1)
			return st.broken
		}
		if size > 0 && !c.sealed(e) {
			st.broken = fmt.Errorf("entry at seq %d has no valid seal (appended through the database alone?): refusing to sign", e.Seq)
			return st.broken
		}
		if err := rng.Append(LeafHash(e), nil); err != nil {
			return err
		}
		prev = e.Hash
	}
	if int64(rng.End()) != h.Seq {
		return fmt.Errorf("read %d entries up to seq %d, want %d", len(entries), h.Seq, h.Seq-size)
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return err
	}
	cp, err := Sign(c.Signer, h.Chain, rng.End(), root)
	if err != nil {
		return err
	}
	if err := appendFile(c.Dir, h.Chain, cp.Note); err != nil {
		return fmt.Errorf("publish checkpoint: %w", err)
	}
	st.rng, st.lastHash = rng, prev
	if err := c.Store.AddAuditCheckpoint(ctx, &doorman.AuditCheckpoint{Chain: h.Chain, Size: int64(cp.Size), Note: cp.Note}); err != nil {
		return err
	}
	if c.published != nil {
		c.published(ctx, cp)
	}
	return nil
}

// sealed reports whether e carries a valid seal.
func (c *Checkpointer) sealed(e *doorman.AuditEntry) bool {
	if c.Seals != nil {
		return c.Seals.Sealed(e)
	}
	return Sealed(c.Verifier, e)
}

// load rebuilds a chain's state from the database and checks it against
// the last checkpoint this node published (or, without one, the largest
// valid one in the database).
func (c *Checkpointer) load(ctx context.Context, chain string) (*chainState, error) {
	if err := truncateTorn(c.Dir, chain); err != nil {
		return nil, err
	}
	var last *Checkpoint
	notes, _, err := readFile(c.Dir, chain)
	if err != nil {
		return nil, err
	}
	if len(notes) > 0 {
		if last, err = Open(notes[len(notes)-1], chain, c.Verifier); err != nil {
			return &chainState{broken: fmt.Errorf("the last checkpoint in its file does not verify: %w", err)}, nil
		}
	} else {
		stored, err := c.Store.AuditCheckpoints(ctx, chain)
		if err != nil {
			return nil, err
		}
		for i := len(stored) - 1; i >= 0 && last == nil; i-- {
			last, _ = Open(stored[i].Note, chain, c.Verifier)
		}
	}
	st := &chainState{rng: rangeFactory.NewEmptyRange(0)}
	if last == nil {
		return st, nil
	}
	entries, err := c.Store.AuditChain(ctx, chain, 0, int64(last.Size))
	if err != nil {
		return nil, err
	}
	prev := ""
	for i, e := range entries {
		if e.Seq != int64(i)+1 || e.PrevHash != prev || e.ComputeHash() != e.Hash {
			break
		}
		if err := st.rng.Append(LeafHash(e), nil); err != nil {
			return nil, err
		}
		prev = e.Hash
	}
	if st.rng.End() != last.Size {
		st.broken = fmt.Errorf("the database no longer holds the %d entries of the last checkpoint: refusing to sign", last.Size)
		return st, nil
	}
	root, err := st.rng.GetRootHash(nil)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(root, last.Root) {
		st.broken = fmt.Errorf("the database's tree at size %d is not the one last checkpointed: refusing to sign", last.Size)
		return st, nil
	}
	st.lastHash = prev
	return st, nil
}
