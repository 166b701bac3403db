package app

import (
	"context"
	"errors"
	"slices"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/auditlog"
)

// chainReaders may read a chain's checkpoints and proofs, each within
// its scope (see chain).
var chainReaders = []string{doorman.RoleSystem, doorman.RoleOperator, doorman.RoleManager, doorman.RoleResident}

// chain authorises reading a whole chain: operators any, managers their
// buildings' chains, residents their own building's; anything else is
// ENOTFOUND, like a missing chain.
func (s *Audit) chain(ctx context.Context, chain string) error {
	p, err := require(ctx, chainReaders)
	if err != nil {
		return err
	}
	if p.Role == doorman.RoleResident {
		r, err := s.store.Resident(ctx, p.SubjectID)
		if doorman.ErrorCode(err) == doorman.ENOTFOUND || err == nil && r.BuildingID != chain {
			return notFound("Chain")
		}
		return err
	}
	if p.Role == doorman.RoleManager {
		ids, err := s.managedBuildingIDs(ctx)
		if err != nil {
			return err
		}
		if !slices.Contains(ids, chain) {
			return notFound("Chain")
		}
	}
	return nil
}

// Checkpoint returns the latest signed checkpoint of a chain (operators;
// managers and residents of the building). Its signature, not the store,
// vouches for it. Returns ENOTFOUND for a chain outside the caller's
// scope or without a checkpoint yet.
func (s *Audit) Checkpoint(ctx context.Context, chain string) (*doorman.AuditCheckpoint, error) {
	if err := s.chain(ctx, chain); err != nil {
		return nil, err
	}
	return s.store.LatestAuditCheckpoint(ctx, chain)
}

// InclusionProof is the proof that an entry is in its chain's tree of a
// given size.
type InclusionProof struct {
	EntryID string `json:"entry_id"`
	Chain   string `json:"chain"`
	// Index is the entry's leaf: its seq - 1.
	Index uint64 `json:"index" doc:"The entry's leaf index in the tree: its seq - 1."`
	Size  uint64 `json:"size" doc:"The size of the tree the proof is for."`
	// LeafHash is the RFC 6962 leaf hash of the entry's encoding.
	LeafHash []byte   `json:"leaf_hash" doc:"RFC 6962 leaf hash of the entry's canonical encoding."`
	Hashes   [][]byte `json:"hashes" nullable:"false" doc:"The audit path, as RFC 6962/9162 defines it."`
}

// InclusionProof proves that entry id is in its chain's tree of size
// entries (0: the latest checkpoint's size), to be checked against a
// signed checkpoint of that size. Operators, the managers of the
// entry's building and its residents only: a proof tells the entry's
// position and the size of the chain, which carriers and couriers are not
// shown. Returns ENOTFOUND for an entry outside the caller's scope,
// EINVALID for a size the entry is not in or the chain has not reached.
func (s *Audit) InclusionProof(ctx context.Context, id string, size uint64) (*InclusionProof, error) {
	if _, err := require(ctx, chainReaders); err != nil {
		return nil, err
	}
	e, err := s.store.AuditEntry(ctx, id)
	if err != nil {
		return nil, scoped(err, "Audit entry")
	}
	if err := s.chain(ctx, e.Chain); err != nil {
		return nil, notFound("Audit entry")
	}
	if size == 0 {
		cp, err := s.store.LatestAuditCheckpoint(ctx, e.Chain)
		if err != nil {
			return nil, err
		}
		size = uint64(cp.Size)
	}
	if size < uint64(e.Seq) {
		return nil, doorman.Errorf(doorman.EINVALID, "The entry is not in the tree of that size.")
	}
	leaf, hashes, err := s.trees.InclusionProof(ctx, e.Chain, uint64(e.Seq-1), size)
	if errors.Is(err, auditlog.ErrShort) {
		return nil, doorman.Errorf(doorman.EINVALID, "The chain has not reached that size.")
	} else if err != nil {
		return nil, err
	}
	return &InclusionProof{EntryID: e.ID, Chain: e.Chain, Index: uint64(e.Seq - 1), Size: size,
		LeafHash: leaf, Hashes: nonNil(hashes)}, nil
}

// ConsistencyProof is the proof that a chain's tree of From entries is a
// prefix of its tree of To entries.
type ConsistencyProof struct {
	Chain  string   `json:"chain"`
	From   uint64   `json:"from"`
	To     uint64   `json:"to"`
	Hashes [][]byte `json:"hashes" nullable:"false" doc:"The consistency proof, as RFC 6962/9162 defines it."`
}

// ConsistencyProof proves that the chain's tree of from entries is a
// prefix of its tree of to entries (0: the latest checkpoint's size), to
// be checked against two signed checkpoints (operators; managers of the
// building). Returns ENOTFOUND for a chain outside the caller's scope,
// EINVALID for sizes out of order or beyond the chain.
func (s *Audit) ConsistencyProof(ctx context.Context, chain string, from, to uint64) (*ConsistencyProof, error) {
	if err := s.chain(ctx, chain); err != nil {
		return nil, err
	}
	if to == 0 {
		cp, err := s.store.LatestAuditCheckpoint(ctx, chain)
		if err != nil {
			return nil, err
		}
		to = uint64(cp.Size)
	}
	if from == 0 || from > to {
		return nil, doorman.Errorf(doorman.EINVALID, "A consistency proof goes from a size of at least 1 to one no smaller.")
	}
	hashes, err := s.trees.ConsistencyProof(ctx, chain, from, to)
	if errors.Is(err, auditlog.ErrShort) {
		return nil, doorman.Errorf(doorman.EINVALID, "The chain has not reached that size.")
	} else if err != nil {
		return nil, err
	}
	return &ConsistencyProof{Chain: chain, From: from, To: to, Hashes: nonNil(hashes)}, nil
}

func nonNil(h [][]byte) [][]byte {
	if h == nil {
		return [][]byte{}
	}
	return h
}
