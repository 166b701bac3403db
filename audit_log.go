package doorman

import (
	"context"
	"time"
)

// AuditHead is where a chain stands: its last seq (the size of its Merkle
// tree) and the hash of its last entry.
type AuditHead struct {
	Chain string
	Seq   int64
	Hash  string
}

// AuditCheckpoint is a signed checkpoint of one chain's Merkle tree: a
// C2SP tlog-checkpoint signed note committing to the first Size entries.
// The store keeps them so that the API can serve them, but trusts them
// no more than anything else it holds: a reader checks the signature
// against the audit checkpoint key, which is not in the database.
type AuditCheckpoint struct {
	Chain string `json:"chain" doc:"The chain: a building ID or \"platform\"."`
	Size  int64  `json:"size" doc:"How many entries of the chain the checkpoint commits to."`
	// Note is the signed note: origin, size and root hash, a blank line,
	// and the signature lines.
	Note     string    `json:"note" doc:"The signed checkpoint (C2SP tlog-checkpoint in a signed note)."`
	SignedAt time.Time `json:"signed_at"`
}

// AuditWitness is the latest checkpoint of a building's chain that the
// building's door device reported witnessing (its heartbeats carry the
// size and root hash of the checkpoint it keeps; see wire.AuditSubject).
// The store keeps the largest one reported per door; Size 0 (Root nil) is
// a witness that keeps none yet. A database writer
// can change it as much as anything else, but the device reports what it
// keeps again in its next heartbeat.
type AuditWitness struct {
	Chain    string
	DoorID   string
	DeviceID string
	Size     int64
	Root     []byte
	At       time.Time
}

// AuditLogStore is what the verifiable audit log (package auditlog) needs
// of the store beyond AuditStore: the chains' entries in order, and the
// checkpoints published of them.
type AuditLogStore interface {
	// AuditHeads lists the head of every chain, by chain.
	AuditHeads(ctx context.Context) ([]AuditHead, error)
	// AuditChain lists the entries of chain with after < seq <= upTo
	// (upTo <= 0: to the end), by seq.
	AuditChain(ctx context.Context, chain string, after, upTo int64) ([]*AuditEntry, error)
	// AuditEntry returns one entry. Returns ENOTFOUND if there is none.
	AuditEntry(ctx context.Context, id string) (*AuditEntry, error)
	// AddAuditCheckpoint stores a checkpoint; one already stored for the
	// same chain and size is kept (several nodes sign the same tree).
	AddAuditCheckpoint(ctx context.Context, c *AuditCheckpoint) error
	// AuditCheckpoints lists the stored checkpoints of chain, by size.
	AuditCheckpoints(ctx context.Context, chain string) ([]*AuditCheckpoint, error)
	// LatestAuditCheckpoint returns the largest stored checkpoint of
	// chain. Returns ENOTFOUND if there is none.
	LatestAuditCheckpoint(ctx context.Context, chain string) (*AuditCheckpoint, error)
	// InitAuditKey registers vkey (a signed-note verifier key) as the
	// deployment's checkpoint key unless one is registered already, and
	// returns the registered keys, oldest first. Returns EINVALID for a
	// malformed key.
	InitAuditKey(ctx context.Context, vkey string) ([]string, error)
	// AuditKeys lists the registered checkpoint verifier keys.
	AuditKeys(ctx context.Context) ([]string, error)
	// AuditWitnesses lists the checkpoints of chain that the doors of the
	// building of that ID reported witnessing, by door (none for the
	// platform chain).
	AuditWitnesses(ctx context.Context, chain string) ([]*AuditWitness, error)
}
