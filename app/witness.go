package app

import (
	"context"
	"sync"
	"time"

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
	s.doorSends.reported(doorID, witnessed, time.Now())
	if s.doorSends.recent(doorID, time.Now()) {
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
		return
	}
	s.doorSends.sent(doorID, latest.Size, time.Now())
}

// PublishCheckpoint sends a checkpoint of chain, just signed, to the
// devices of the building's doors that keep a smaller checkpoint (as
// their last report, store AuditWitnesses, or the last checkpoint sent to
// them says: see witnessSends), each with a consistency proof from that
// size, so that the doors witness each
// checkpoint as it is signed rather than at their next heartbeat. The
// auditlog.Checkpointer calls it (OnPublish). Failures are logged: the
// next heartbeat brings the device the latest checkpoint anyway.
//
// A chain's checkpoints are pushed at most once per WitnessPushGap: a busy
// building's chain grows, and is checkpointed, every second, and each push
// has every door of the building check a signature and a proof and write
// the checkpoint: pushed every second, that was ten such checks a second
// per busy building of ten doors (and, while devices reported each kept
// checkpoint at once, ten heartbeats). A
// checkpoint signed within the gap is held back, and the latest one held
// is pushed when the gap ends.
func (s *Devices) PublishCheckpoint(ctx context.Context, chain string, size int64, note string) {
	wb, ok := s.bus.(WitnessBus)
	if !ok || chain == doorman.PlatformChain {
		return
	}
	now, later, schedule := s.pushes.offer(chain, size, note, time.Now())
	if schedule {
		time.AfterFunc(later, func() {
			if p, ok := s.pushes.take(chain, time.Now()); ok {
				s.pushCheckpoint(context.Background(), wb, chain, p.size, p.note)
			}
		})
	}
	if now {
		s.pushCheckpoint(ctx, wb, chain, size, note)
	}
}

// pushCheckpoint sends a checkpoint of chain to the witnesses that report
// a smaller one.
func (s *Devices) pushCheckpoint(ctx context.Context, wb WitnessBus, chain string, size int64, note string) {
	ws, err := s.store.AuditWitnesses(ctx, chain)
	if err != nil {
		s.logger.Warn("app: audit witnesses", "chain", chain, "err", err)
		return
	}
	for _, w := range ws {
		from := s.doorSends.from(w.DoorID, w.Size, time.Now())
		if from >= size {
			continue
		}
		var p [][]byte
		if from > 0 {
			p, err = s.trees.ConsistencyProof(ctx, chain, uint64(from), uint64(size))
		}
		if err != nil {
			s.logger.Warn("app: audit proof for a witness", "door", w.DoorID, "err", err)
			continue
		}
		if err := wb.SendAuditCheckpoint(w.DoorID, &wire.AuditCheckpoint{Note: note, From: from, Proof: p}); err != nil {
			s.logger.Warn("app: sending an audit checkpoint", "door", w.DoorID, "err", err)
			continue
		}
		// The door's next heartbeat is not answered with a newer one
		// within the gap, and the next push proves from this size (see
		// witnessSends).
		s.doorSends.sent(w.DoorID, size, time.Now())
	}
}

// WitnessPushGap is the least time between two checkpoints of one chain
// pushed to its witnesses (see PublishCheckpoint).
const WitnessPushGap = 15 * time.Second

// witnessPushes paces the checkpoints pushed to each chain's witnesses.
type witnessPushes struct {
	mu      sync.Mutex
	last    map[string]time.Time // when each chain's last push went
	pending map[string]heldPush  // the latest checkpoint held back
}

// heldPush is a checkpoint held back until its chain's gap ends.
type heldPush struct {
	size int64
	note string
}

// offer decides for a checkpoint of chain signed at now: push it now, or
// hold it back (replacing an older one held); schedule says the caller
// must push what is held after later (nothing was held before).
func (w *witnessPushes) offer(chain string, size int64, note string, now time.Time) (pushNow bool, later time.Duration, schedule bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last, w.pending = map[string]time.Time{}, map[string]heldPush{}
	}
	at, ok := w.last[chain]
	if !ok || now.Sub(at) >= WitnessPushGap || now.Before(at) {
		if len(w.last) >= 1<<16 {
			for c, t := range w.last { // forget the chains past their gap
				if _, held := w.pending[c]; !held && now.Sub(t) >= WitnessPushGap {
					delete(w.last, c)
				}
			}
		}
		w.last[chain] = now
		delete(w.pending, chain) // this one is newer
		return true, 0, false
	}
	_, held := w.pending[chain]
	if p := w.pending[chain]; !held || size > p.size {
		w.pending[chain] = heldPush{size: size, note: note}
	}
	return false, WitnessPushGap - now.Sub(at), !held
}

// take returns the checkpoint of chain held back, if any, and notes it as
// pushed at now.
func (w *witnessPushes) take(chain string, now time.Time) (heldPush, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.pending[chain]
	if ok {
		delete(w.pending, chain)
		w.last[chain] = now
	}
	return p, ok
}

// witnessSends paces the checkpoints sent to each door and remembers the
// size each door was last known to keep. A device reports the checkpoint
// it keeps in its heartbeats (one a minute), not at once when it takes
// one: reporting each at once, in a heartbeat of its own, cost as much as
// the checkpoint (a signed event through JetStream and the store per door
// per push: at 10,000 doors, more heartbeats than unlocks). So the next
// push starts its proof from the size last sent to the door, which the
// device then keeps, rather than from the size of its last heartbeat,
// which it would ignore as crossed; a heartbeat corrects the size, and one
// sent is trusted for witnessTrustSent only (the door may have refused
// it, or another node may hear its heartbeats). Checkpoints answering
// heartbeats are paced too: one answer per door per WitnessPushGap.
type witnessSends struct {
	mu    sync.Mutex
	doors map[string]witnessDoor
}

// witnessDoor is what witnessSends knows of one door.
type witnessDoor struct {
	sentAt time.Time // when a checkpoint was last sent to it
	size   int64     // the size it keeps, as last sent or reported
	sizeAt time.Time // when size was sent or reported
}

// witnessTrustSent is how long the size of a checkpoint sent to a door is
// taken as the one it keeps, without a heartbeat saying so: two of the
// device's heartbeats.
const witnessTrustSent = 2 * time.Minute

// recent reports whether door was sent a checkpoint less than
// WitnessPushGap before now.
func (w *witnessSends) recent(door string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.doors[door]
	return ok && !d.sentAt.IsZero() && now.Sub(d.sentAt) < WitnessPushGap && !now.Before(d.sentAt)
}

// from returns the size to prove a checkpoint for door from: the size it
// was last sent or reported keeping, while that is recent and larger than
// reported (the size the store holds from its heartbeats), else reported.
func (w *witnessSends) from(door string, reported int64, now time.Time) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.doors[door]
	if ok && d.size > reported && now.Sub(d.sizeAt) < witnessTrustSent && !now.Before(d.sizeAt) {
		return d.size
	}
	return reported
}

// reported notes that door's heartbeat at now said it keeps size.
func (w *witnessSends) reported(door string, size int64, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.door(door, now)
	d.size, d.sizeAt = size, now
	w.doors[door] = d
}

// sent notes that door was sent a checkpoint of size at now.
func (w *witnessSends) sent(door string, size int64, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.door(door, now)
	d.sentAt, d.size, d.sizeAt = now, size, now
	w.doors[door] = d
}

// door returns what is known of door (w.mu held), first forgetting the
// doors nothing was heard of for witnessTrustSent when the map is large.
func (w *witnessSends) door(door string, now time.Time) witnessDoor {
	if w.doors == nil {
		w.doors = map[string]witnessDoor{}
	}
	if len(w.doors) >= 1<<17 {
		for id, d := range w.doors {
			if now.Sub(d.sizeAt) >= witnessTrustSent && now.Sub(d.sentAt) >= WitnessPushGap {
				delete(w.doors, id)
			}
		}
	}
	return w.doors[door]
}
