package auditlog

import (
	"fmt"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// originPrefix starts the origin line of every checkpoint; the chain
// follows, so a checkpoint of one chain is never taken for another's.
const originPrefix = "doorman.audit/"

// Origin is the origin line of a chain's checkpoints.
func Origin(chain string) string { return originPrefix + chain }

// Checkpoint is a verified checkpoint: what it commits to and the signed
// note it came in.
type Checkpoint struct {
	Chain string
	Size  uint64
	Root  []byte
	Note  string
}

// Sign returns a checkpoint of chain's tree of size leaves with the given
// root, signed by signer.
func Sign(signer note.Signer, chain string, size uint64, root []byte) (*Checkpoint, error) {
	body := log.Checkpoint{Origin: Origin(chain), Size: size, Hash: root}.Marshal()
	msg, err := note.Sign(&note.Note{Text: string(body)}, signer)
	if err != nil {
		return nil, fmt.Errorf("auditlog: sign checkpoint: %w", err)
	}
	return &Checkpoint{Chain: chain, Size: size, Root: root, Note: string(msg)}, nil
}

// Open verifies a signed checkpoint of chain against verifier: the note's
// signature, the format and the origin. It returns an error naming what
// is wrong.
func Open(msg, chain string, verifier note.Verifier) (*Checkpoint, error) {
	cp, _, _, err := log.ParseCheckpoint([]byte(msg), Origin(chain), verifier)
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Chain: chain, Size: cp.Size, Root: cp.Hash, Note: msg}, nil
}
