package natsbus

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// EventHandler receives one device event. doorID and deviceID come from the
// subject the event arrived on, which only that device (issued credentials
// for that door) may publish on; the event's own DoorID has been checked to
// match. The device need not be the door's current one: events a replaced
// device queued before it was replaced arrive late, under its own ID.
// Returning an error has the event delivered again later.
//
// JetStream stores each event once (by its ID) and the consumer acks only
// after the handler returns nil, without waiting for the server to confirm
// the ack, so a handler may see an event again: when the process dies
// between the handler and the ack, or the ack is lost (the consumer
// remembers the last events it handled, but not on another node): handlers
// must record events idempotently by ev.ID.
type EventHandler func(ctx context.Context, doorID, deviceID string, ev *wire.Event) error

// Consumer settings.
const (
	eventAckWait     = 30 * time.Second
	eventRetryDelay  = 2 * time.Second
	recentlyHandled  = 4096
	maxEventsPending = 1024
)

// ensureStream creates or updates the device event stream. Its limits bound
// what devices can store: MaxMsgsPerSubject per device and kind (each
// subject names one door, one device and one kind), MaxBytes in all (see
// Config).
func (b *Bus) ensureStream(ctx context.Context) error {
	replicas := b.eventReplicas()
	_, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        b.cfg.EventStream,
		Description: "Doorman device events",
		Subjects:    []string{wire.EventSubjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		// Past a limit the oldest events go, never the new one: a device
		// must not be able to make another door's fresh events bounce.
		Discard:           jetstream.DiscardOld,
		MaxAge:            b.cfg.EventMaxAge,
		MaxBytes:          b.cfg.EventMaxBytes,
		MaxMsgsPerSubject: b.cfg.EventMaxPerSubject,
		Duplicates:        b.cfg.DuplicateWindow,
		MaxMsgSize:        wire.MaxMessageSize,
		Replicas:          replicas,
	})
	if err != nil {
		return fmt.Errorf("natsbus: event stream (%d replicas): %w", replicas, err)
	}
	return nil
}

// eventReplicas is the event stream's replica count: the configured one,
// else one on a single server and DefaultClusterReplicas on a cluster.
func (b *Bus) eventReplicas() int {
	switch {
	case b.cfg.EventReplicas > 0:
		return b.cfg.EventReplicas
	case b.srv == nil && b.nc.ConnectedClusterName() != "":
		return DefaultClusterReplicas
	}
	return 1
}

// ConsumeEvents hands every device event to fn, through the durable
// consumer named durable (control-plane nodes that use the same name share
// the work; each event goes to one of them). It returns once consuming has
// started; consuming stops when ctx ends or the bus closes. Events that are
// malformed, claim another door than their subject, or arrive on a
// subject of another shape (such as the door-only event subjects of
// earlier versions, which named no device) are logged and dropped: a
// device cannot write into another door's history, nor pass for another
// device.
func (b *Bus) ConsumeEvents(ctx context.Context, durable string, fn EventHandler) error {
	if durable == "" || fn == nil {
		return doorman.Errorf(doorman.EINVALID, "A consumer name and a handler are required.")
	}
	cons, err := b.js.CreateOrUpdateConsumer(ctx, b.cfg.EventStream, jetstream.ConsumerConfig{
		Durable:       durable,
		Description:   "Doorman device event handler",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       eventAckWait,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: wire.EventSubjects,
		MaxAckPending: maxEventsPending,
	})
	if err != nil {
		b.log.Error("event consumer", "err", err)
		return doorman.Errorf(doorman.EUNAVAILABLE, "Could not start the device event consumer.")
	}
	seen := newRecentSet(recentlyHandled)
	// The consumer's callback runs one message at a time; each event's
	// handler waits for its write to commit. Handled one after another,
	// events never shared a commit, and a node handled at most one per
	// commit time (~1,000 a second). So events go to eventWorkers workers,
	// by door: one door's events are still handled in the order the door
	// sent them, different doors' side by side, their writes grouped in
	// the store's commits. There are many workers because under load each
	// event's write waits behind the access requests' in the single
	// writer's queue: with 32, a node at 200 unlocks a second recorded 26
	// events a second, fewer than its doors' heartbeats.
	shards := make([]chan jetstream.Msg, eventWorkers)
	done := make(chan struct{}) // closed once consuming stopped
	for i := range shards {
		// Room for every event the server may have outstanding
		// (MaxAckPending): the dispatch never waits for a busy door.
		shards[i] = make(chan jetstream.Msg, maxEventsPending)
		go func(in <-chan jetstream.Msg) {
			for {
				select {
				case <-done:
					return // what is left is redelivered after the ack wait
				case m := <-in:
					b.handleEvent(ctx, m, fn, seen)
				}
			}
		}(shards[i])
	}
	var stopOnce sync.Once
	stopWorkers := func() { stopOnce.Do(func() { close(done) }) }
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case shards[eventShard(m.Subject())] <- m:
		case <-done:
		}
	})
	if err != nil {
		stopWorkers()
		b.log.Error("event consumer", "err", err)
		return doorman.Errorf(doorman.EUNAVAILABLE, "Could not start the device event consumer.")
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		cc.Stop()
		stopWorkers()
		return doorman.Errorf(doorman.EUNAVAILABLE, "The bus is closed.")
	}
	b.consumers = append(b.consumers, cc)
	b.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
			cc.Stop()
		case <-cc.Closed():
		}
		stopWorkers()
	}()
	return nil
}

// eventWorkers is how many workers handle one consumer's events.
const eventWorkers = 256

// eventShard returns the worker for an event subject: the same for every
// event of one door.
func eventShard(subject string) int {
	doorID, _, _, ok := wire.ParseEventSubject(subject)
	if !ok {
		doorID = subject // dropped by the worker as malformed
	}
	h := fnv.New32a()
	h.Write([]byte(doorID))
	return int(h.Sum32() % eventWorkers)
}

// handleEvent validates one stored event, hands it to fn and acks it.
func (b *Bus) handleEvent(ctx context.Context, m jetstream.Msg, fn EventHandler, seen *recentSet) {
	doorID, deviceID, kind, ok := wire.ParseEventSubject(m.Subject())
	var ev wire.Event
	var err error
	if ok {
		err = wire.Decode(m.Data(), wire.MaxMessageSize, &ev)
	}
	if !ok || err != nil || ev.DoorID != doorID || ev.Kind != kind {
		b.log.Warn("dropping malformed or misaddressed device event", "subject", m.Subject(), "err", err)
		_ = m.Term()
		return
	}
	if seen.has(ev.ID) {
		// Handled, but the ack was lost: ack again without a second call.
		_ = m.Ack()
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the event is redelivered after the ack wait
	}
	if err := fn(ctx, doorID, deviceID, &ev); err != nil {
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("device event handler failed; will retry", "event", ev.ID, "err", err)
		_ = m.NakWithDelay(eventRetryDelay)
		return
	}
	seen.add(ev.ID)
	// A plain ack, not waited for: an ack lost on the way only brings the
	// event again, which is recorded once (by its ID, here and in the
	// store). Waiting for the server to confirm each ack held a worker for
	// a round trip through JetStream, which under load was most of an
	// event's time.
	if err := m.Ack(); err != nil && ctx.Err() == nil {
		b.log.Warn("device event ack", "event", ev.ID, "err", err)
	}
}

// recentSet remembers the last n event IDs handled by this process.
type recentSet struct {
	mu    sync.Mutex
	ids   map[string]struct{}
	order []string
	n     int
}

func newRecentSet(n int) *recentSet { return &recentSet{ids: make(map[string]struct{}, n), n: n} }

func (s *recentSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok
}

func (s *recentSet) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.order) >= s.n {
		delete(s.ids, s.order[0])
		s.order = s.order[1:]
	}
	s.ids[id] = struct{}{}
	s.order = append(s.order, id)
}

// EventBacklog is the state of a device event consumer.
type EventBacklog struct {
	// Pending counts the events stored and not yet delivered to it.
	Pending uint64
	// AckPending counts the events delivered and not yet acknowledged.
	AckPending int
}

// EventBacklog returns the state of the durable event consumer (see
// ConsumeEvents), which the nodes of a deployment share: each reports the
// same backlog. Returns EUNAVAILABLE when the server does not answer.
func (b *Bus) EventBacklog(ctx context.Context, durable string) (EventBacklog, error) {
	cons, err := b.js.Consumer(ctx, b.cfg.EventStream, durable)
	if err != nil {
		return EventBacklog{}, doorman.Errorf(doorman.EUNAVAILABLE, "The event consumer could not be read: %v", err)
	}
	info := cons.CachedInfo() // read just now, by Consumer
	return EventBacklog{Pending: info.NumPending, AckPending: info.NumAckPending}, nil
}
