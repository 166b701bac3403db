package app

import (
	"context"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// WitnessBus sends a door's device its building's audit checkpoints.
// natsbus.Bus implements it; a DeviceBus without it sends none.
type WitnessBus interface {
	// SendAuditCheckpoint sends cp to the device of door doorID (on
	// wire.AuditSubject). Returns EINVALID or EUNAVAILABLE.
	SendAuditCheckpoint(doorID string, cp *wire.AuditCheckpoint) error
}

// sendCheckpoint sends the door's device, which reported witnessing a
// checkpoint of size witnessed, the latest checkpoint of its building's
// chain with a consistency proof from that size, when the latest is
// larger. The proof is computed from the database, which the device does
// not trust: it checks the proof against the checkpoint it keeps.
// Failures are logged: the next heartbeat tries again.
func (s *Devices) sendCheckpoint(ctx context.Context, doorID string, witnessed int64) {
	wb, ok := s.bus.(WitnessBus)
	if !ok {
		return
	}
	door, err := s.store.Door(ctx, doorID)
	if err != nil {
		s.logger.Warn("app: audit checkpoint for a witness", "door", doorID, "err", err)
		return
	}
	chain := door.BuildingID
	latest, err := s.store.LatestAuditCheckpoint(ctx, chain)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return
	} else if err != nil {
		s.logger.Warn("app: audit checkpoint for a witness", "door", doorID, "err", err)
		return
	}
	if latest.Size <= witnessed {
		return
	}
	msg := &wire.AuditCheckpoint{Note: latest.Note, From: witnessed}
	if witnessed > 0 {
		if msg.Proof, err = s.trees.ConsistencyProof(ctx, chain, uint64(witnessed), uint64(latest.Size)); err != nil {
			s.logger.Warn("app: audit proof for a witness", "door", doorID, "err", err)
			return
		}
	}
	if err := wb.SendAuditCheckpoint(doorID, msg); err != nil {
		s.logger.Warn("app: sending an audit checkpoint", "door", doorID, "err", err)
	}
}

// PublishCheckpoint sends a checkpoint of chain, just signed, to the
// devices of the building's doors whose last report (store
// AuditWitnesses) is of a smaller checkpoint, each with a consistency
// proof from the size it reported, so that the doors witness each
// checkpoint as it is signed rather than at their next heartbeat. The
// auditlog.Checkpointer calls it (OnPublish). Failures are logged: the
// next heartbeat brings the device the latest checkpoint anyway.
func (s *Devices) PublishCheckpoint(ctx context.Context, chain string, size int64, note string) {
	wb, ok := s.bus.(WitnessBus)
	if !ok || chain == doorman.PlatformChain {
		return
	}
	ws, err := s.store.AuditWitnesses(ctx, chain)
	if err != nil {
		s.logger.Warn("app: audit witnesses", "chain", chain, "err", err)
		return
	}
	for _, w := range ws {
		if w.Size >= size {
			continue
		}
		var p [][]byte
		if w.Size > 0 {
			p, err = s.trees.ConsistencyProof(ctx, chain, uint64(w.Size), uint64(size))
		}
		if err != nil {
			s.logger.Warn("app: audit proof for a witness", "door", w.DoorID, "err", err)
			continue
		}
		if err := wb.SendAuditCheckpoint(w.DoorID, &wire.AuditCheckpoint{Note: note, From: w.Size, Proof: p}); err != nil {
			s.logger.Warn("app: sending an audit checkpoint", "door", w.DoorID, "err", err)
		}
	}
}
