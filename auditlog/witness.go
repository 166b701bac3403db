package auditlog

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// Witness keeps the latest checkpoint of one chain that it has checked,
// and accepts a newer one only with a consistency proof from it: what a
// door device, a manager's tool or an auditor does with the checkpoints
// it is shown, so that a log that forks or rewrites its history is caught
// by anyone who saw an earlier checkpoint. The device witnesses of the
// issue (devices keeping it and reporting it in heartbeats) will hold one
// per building.
type Witness struct {
	Chain    string
	Verifier note.Verifier
	// Latest is the newest checkpoint accepted; nil before the first.
	Latest *Checkpoint
}

// Update checks next, a signed checkpoint, and p, a consistency proof
// from Latest's size to next's, and makes next the latest. The first
// checkpoint is taken on trust; an older one is refused; one of the
// same size must have the same root.
func (w *Witness) Update(next string, p [][]byte) error {
	cp, err := Open(next, w.Chain, w.Verifier)
	if err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	old := w.Latest
	switch {
	case old == nil:
	case cp.Size < old.Size:
		return fmt.Errorf("witness: checkpoint of size %d is older than the one of size %d already seen", cp.Size, old.Size)
	case cp.Size == old.Size:
		if !bytes.Equal(cp.Root, old.Root) {
			return errors.New("witness: two checkpoints of the same size with different roots (a fork)")
		}
	default:
		if err := VerifyConsistency(old.Size, cp.Size, p, old.Root, cp.Root); err != nil {
			return fmt.Errorf("witness: checkpoint of size %d is not consistent with the one of size %d: %w", cp.Size, old.Size, err)
		}
	}
	w.Latest = cp
	return nil
}
