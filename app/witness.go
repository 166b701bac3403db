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
func (s *Devices) sendCheckpoint(ctx context.Context, doorID string, witnessed int64, at time.Time) {
	wb, ok := s.bus.(WitnessBus)
	if !ok {
		return
	}
	s.doorSends.reported(doorID, witnessed, at, time.Now())
	if s.doorSends.holdAnswer(doorID, witnessed, time.Now()) {
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
// devices of the building's doors that keep a smaller checkpoint (as their
// last report, store AuditWitnesses, or what was sent to them since says:
// see witnessSends), each with a consistency proof from that size, so that the doors witness each
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
		var err error
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

// witnessSends paces the checkpoints sent to each door and remembers what
// it sent and what the door last reported. A device reports the checkpoint
// it keeps in its heartbeats (one a minute), not at once when it takes
// one: reporting each at once, in a heartbeat of its own, cost as much as
// the checkpoint (a signed event through JetStream and the store per door
// per push: at 10,000 doors, more heartbeats than unlocks). So a push
// proves from the size last sent to the door, which the device then keeps,
// rather than from the size of its last report, which it would ignore as
// crossed. A heartbeat newer than the last send is the truth (a door that
// refused a checkpoint, or a new device, reports less); and sizes sent
// since the last heartbeat this node heard are trusted for
// witnessTrustSent only (the door may have refused them, or its heartbeats
// go to another node), after which the store's report is used. An answer
// to a heartbeat is paced to one per door per WitnessPushGap, unless the
// heartbeat says the door did not take what was sent.
type witnessSends struct {
	mu     sync.Mutex
	doors  map[string]witnessDoor
	pruned time.Time
}

// witnessDoor is what witnessSends knows of one door.
type witnessDoor struct {
	sent      int64     // the size last sent to it
	sentAt    time.Time // when
	sentSince time.Time // the first send since the last report heard
	rep       int64     // the size its last heartbeat reported
	repAt     time.Time // that heartbeat's time (the device's synced clock)
}

// witnessTrustSent is how long sizes sent to a door are taken as the one
// it keeps without a heartbeat saying so: two of the device's heartbeats.
const witnessTrustSent = 2 * time.Minute

// holdAnswer reports whether a heartbeat of door reporting witnessed should
// go unanswered at now: a checkpoint was sent less than WitnessPushGap ago
// and the door reports keeping at least what was sent.
func (w *witnessSends) holdAnswer(door string, witnessed int64, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.doors[door]
	return ok && !d.sentAt.IsZero() && now.Sub(d.sentAt) < WitnessPushGap && !now.Before(d.sentAt) && witnessed >= d.sent
}

// from returns the size to prove a checkpoint for door from at now, given
// the size the store last recorded from its heartbeats (stored): the
// latest heartbeat's, when it came after the last send; else the size
// last sent, while the sends since the last heartbeat are recent; else
// stored.
func (w *witnessSends) from(door string, stored int64, now time.Time) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.doors[door]
	switch {
	case !ok:
		return stored
	case !d.repAt.IsZero() && !d.repAt.Before(d.sentAt):
		return d.rep
	case !d.sentAt.IsZero() && now.Sub(d.sentSince) < witnessTrustSent && !now.Before(d.sentSince):
		return d.sent
	}
	return stored
}

// reported notes that door's heartbeat of time at said it keeps size. A
// heartbeat older than the last send (delivered late) changes nothing.
func (w *witnessSends) reported(door string, size int64, at, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.door(door, now)
	if at.Before(d.sentAt) || at.Before(d.repAt) {
		return
	}
	d.rep, d.repAt, d.sentSince = size, at, time.Time{}
	w.doors[door] = d
}

// sent notes that door was sent a checkpoint of size at now.
func (w *witnessSends) sent(door string, size int64, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.door(door, now)
	if d.sentSince.IsZero() {
		d.sentSince = now
	}
	d.sent, d.sentAt = size, now
	w.doors[door] = d
}

// door returns what is known of door (w.mu held). When the map is large it
// first forgets, at most once per witnessTrustSent, the doors neither sent
// to nor heard from for that long.
func (w *witnessSends) door(door string, now time.Time) witnessDoor {
	if w.doors == nil {
		w.doors = map[string]witnessDoor{}
	}
	if len(w.doors) >= 1<<17 && now.Sub(w.pruned) >= witnessTrustSent {
		w.pruned = now
		for id, d := range w.doors {
			if now.Sub(d.sentAt) >= witnessTrustSent && now.Sub(d.repAt) >= witnessTrustSent {
				delete(w.doors, id)
			}
		}
	}
	return w.doors[door]
}
