package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// retireEventStream stops the JetStream stream LegacyEventStream, in which
// an earlier version kept device events, from capturing the event
// subjects (JetStream would otherwise answer the devices' events in the
// control plane's stead), by moving it to a subject no device may publish
// on. It returns the stream, or nil when there is none (or no JetStream).
func (b *Bus) retireEventStream(ctx context.Context) (jetstream.Stream, error) {
	if !b.jetStream {
		return nil, nil
	}
	stream, err := b.js.Stream(ctx, LegacyEventStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) || errors.Is(err, nats.ErrNoResponders) {
		return nil, nil // none kept, or a NATS deployment without JetStream
	}
	if err != nil {
		return nil, fmt.Errorf("look up: %w", err)
	}
	cfg := stream.CachedInfo().Config
	if len(cfg.Subjects) != 1 || cfg.Subjects[0] != legacyRetiredSubject {
		cfg.Subjects = []string{legacyRetiredSubject}
		if stream, err = b.js.UpdateStream(ctx, cfg); err != nil {
			return nil, fmt.Errorf("stop capturing events: %w", err)
		}
	}
	return stream, nil
}

// drainEventStream records, through fn, the device events an earlier
// version kept in LegacyEventStream and its durable consumer (named group,
// as the queue group is) had not yet acknowledged, then deletes the
// stream; it does nothing when there is none. Heartbeats are skipped: they
// said "alive" at a time long past. An event fn fails on ends the drain
// with its error, the stream kept: the next call starts again from the
// consumer's acknowledged floor, and fn records an event once by ID.
//
// ConsumeEvents runs it in the background, after subscribing, until it
// succeeds: the doors' new events are served meanwhile. Every node of a
// deployment drains the stream when it starts serving events: the first
// one's copy is recorded, the others' change nothing. During a rolling
// upgrade a node of the earlier version would make the stream again:
// upgrade the control-plane nodes together. On the embedded server the
// emptied JetStream store is removed when the bus closes.
func (b *Bus) drainEventStream(ctx context.Context, group string, fn EventHandler) error {
	stream, err := b.retireEventStream(ctx)
	if err != nil || stream == nil {
		return err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	start := info.State.FirstSeq
	if c, err := stream.Consumer(ctx, group); err == nil && c.CachedInfo().AckFloor.Stream+1 > start {
		start = c.CachedInfo().AckFloor.Stream + 1
	}
	if info.State.Msgs > 0 && start <= info.State.LastSeq {
		b.log.Info("recording the device events an earlier version stored on the bus", "from", start, "to", info.State.LastSeq)
		cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start})
		if err != nil {
			return fmt.Errorf("consume: %w", err)
		}
		for seq := start - 1; seq < info.State.LastSeq; {
			// Fetch waits for a full batch: ask for no more than is left
			// (fewer arrive only where the stream dropped messages).
			batch, err := cons.Fetch(int(min(1024, info.State.LastSeq-seq)), jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				return fmt.Errorf("fetch: %w", err)
			}
			n := 0
			for m := range batch.Messages() {
				n++
				meta, err := m.Metadata()
				if err != nil {
					return fmt.Errorf("fetch: %w", err)
				}
				seq = meta.Sequence.Stream
				if err := b.drainOne(ctx, m.Subject(), m.Data(), fn); err != nil {
					return err
				}
			}
			if err := batch.Error(); err != nil {
				return fmt.Errorf("fetch: %w", err)
			}
			if n == 0 {
				break // fewer stored than the last sequence says: all read
			}
		}
	}
	if err := b.js.DeleteStream(ctx, LegacyEventStream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("delete: %w", err)
	}
	b.log.Info("deleted the earlier version's device event stream", "events", info.State.Msgs)
	return nil
}

// drainLoop runs drainEventStream until it succeeds, ctx ends or the bus
// closes, every drainRetry.
func (b *Bus) drainLoop(ctx context.Context, group string, fn EventHandler) {
	for {
		err := b.drainEventStream(ctx, group, fn)
		if err == nil || ctx.Err() != nil {
			return
		}
		b.log.Warn("the device events an earlier version stored on the bus are not recorded yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-b.stop:
			return
		case <-time.After(drainRetry):
		}
	}
}

// drainRetry is how long drainLoop waits before trying again.
const drainRetry = 5 * time.Second

// drainOne hands one stored event to fn as handleEvent would, dropping a
// malformed or misaddressed one, and heartbeats.
func (b *Bus) drainOne(ctx context.Context, subject string, data []byte, fn EventHandler) error {
	doorID, deviceID, ev, err := parseEvent(subject, data)
	if err != nil {
		b.log.Warn("dropping malformed or misaddressed stored device event", "subject", subject, "err", err)
		return nil
	}
	if ev.Kind == wire.EventHeartbeat {
		return nil // "alive" at a time long past: nothing to record
	}
	return fn(ctx, doorID, deviceID, ev)
}

// errUnreadable marks an event parseEvent cannot decode.
var errUnreadable = errors.New("unreadable event")

// parseEvent reads an event that arrived on subject: the subject must be
// an event subject and the event well-formed (else an error wrapping
// errUnreadable), for the subject's door and of its kind.
func parseEvent(subject string, data []byte) (doorID, deviceID string, ev *wire.Event, err error) {
	doorID, deviceID, kind, ok := wire.ParseEventSubject(subject)
	if !ok {
		return "", "", nil, errors.New("not an event subject")
	}
	ev = &wire.Event{}
	if err := wire.Decode(data, wire.MaxMessageSize, ev); err != nil {
		return "", "", nil, fmt.Errorf("%w: %w", errUnreadable, err)
	}
	if ev.DoorID != doorID || ev.Kind != kind {
		return "", "", nil, errors.New("the event's door or kind is not its subject's")
	}
	return doorID, deviceID, ev, nil
}

// LegacyEventStream is the JetStream stream earlier versions kept device
// events in; ConsumeEvents drains and deletes it.
const LegacyEventStream = wire.LegacyReceiptStream

// legacyRetiredSubject is the subject the drained stream is moved to, one
// no device may publish on.
const legacyRetiredSubject = "doorman.retired.events"

// EventHandler receives one device event. doorID and deviceID come from the
// subject the event arrived on, which only that device (issued credentials
// for that door) may publish on; the event's own DoorID has been checked to
// match. The device need not be the door's current one: events a replaced
// device queued before it was replaced arrive late, under its own ID.
// Returning an error has the device send the event again later.
//
// The device keeps each event queued until a receipt says it was recorded,
// and a receipt can be lost (the node dies after the handler, the reply
// does not arrive in time), so a handler may see an event again, also on
// another node: handlers must record events idempotently by ev.ID.
type EventHandler func(ctx context.Context, doorID, deviceID string, ev *wire.Event) error

// Event service settings.
const (
	// eventWorkers is how many workers handle one node's events: each
	// waits for its event's write to commit, and under load a write waits
	// behind the access requests in the single writer's queue, so many
	// are needed for the writes to share commits.
	eventWorkers = 256
	// eventWorkerQueue is how many events may wait for one worker; past
	// it, the event is answered busy and the device sends it again later.
	eventWorkerQueue = 64
	recentlyHandled  = 4096
)

// ConsumeEvents records every device event through fn: it subscribes to
// the devices' event subjects in the queue group named group (control-plane
// nodes that use the same name share the work; each event goes to one of
// them), and answers each event with a wire.EventReceipt once fn returned.
// It returns once the subscription is made; it ends when ctx ends or the
// bus closes.
//
// An event is acknowledged only after fn returned nil, that is after its
// write committed: the device, which queued it durably, is the buffer, so
// no copy of it is kept on the bus. Events are handled by door: one door's
// events in the order the door sent them (a device sends one at a time),
// different doors' side by side, their writes grouped in the store's
// commits. When the workers fall behind, or one door has perDoorQueue
// events waiting already (a device flooding its subjects must not crowd
// out the other doors of its worker), events are answered busy and the
// devices send them again a little later.
//
// Events that claim another door or kind than their subject are answered
// refused and dropped: a device cannot write into another door's history,
// nor pass for another device. Events this version cannot read are
// answered unavailable: the device keeps them (a newer device's, say).
//
// A device event stream that an earlier version kept in JetStream stops
// taking events before the subscription starts, and what it holds is
// recorded through fn in the background (see drainEventStream).
func (b *Bus) ConsumeEvents(ctx context.Context, group string, fn EventHandler) error {
	if group == "" || fn == nil {
		return doorman.Errorf(doorman.EINVALID, "A queue group name and a handler are required.")
	}
	// An earlier version's stream must stop taking the events before the
	// subscription starts answering them; what it holds is recorded in
	// the background (drainLoop tries this again when it fails here).
	if _, err := b.retireEventStream(ctx); err != nil {
		b.log.Warn("the device event stream of an earlier version still takes events", "err", err)
	}
	seen := newRecentSet(recentlyHandled)
	doors := &doorQueue{n: map[string]int{}}
	shards := make([]chan *nats.Msg, eventWorkers)
	done := make(chan struct{}) // closed once serving stopped
	for i := range shards {
		shards[i] = make(chan *nats.Msg, eventWorkerQueue)
		go func(in <-chan *nats.Msg) {
			for {
				select {
				case <-done:
					return // unanswered: the devices send them again
				case m := <-in:
					b.events.waiting.Add(-1)
					b.handleEvent(ctx, m, fn, seen)
					doors.release(eventDoor(m.Subject))
				}
			}
		}(shards[i])
	}
	busy := func(m *nats.Msg) {
		b.events.busy.Add(1)
		b.receipt(m, wire.ReceiptUnavailable, "busy: send the event again later")
	}
	sub, err := b.nc.QueueSubscribe(wire.EventSubjects, group, func(m *nats.Msg) {
		door := eventDoor(m.Subject)
		if !doors.take(door) {
			busy(m) // this door has its share waiting already
			return
		}
		b.events.waiting.Add(1)
		select {
		case shards[eventShard(m.Subject)] <- m:
		default:
			b.events.waiting.Add(-1)
			doors.release(door)
			busy(m)
		}
	})
	if err == nil {
		err = b.nc.Flush() // the server knows of the subscription on return
	}
	if err != nil {
		if sub != nil {
			_ = sub.Unsubscribe()
		}
		close(done)
		b.log.Error("event subscription", "err", err)
		return doorman.Errorf(doorman.EUNAVAILABLE, "Could not subscribe to device events.")
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		_ = sub.Unsubscribe()
		close(done)
		return doorman.Errorf(doorman.EUNAVAILABLE, "The bus is closed.")
	}
	b.eventSubs = append(b.eventSubs, sub)
	b.drains.Add(1)
	b.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
			_ = sub.Unsubscribe()
		case <-b.stop:
		}
		close(done)
	}()
	go func() {
		defer b.drains.Done()
		// The drain ends with ctx or when the bus closes (Close waits).
		dctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-b.stop:
				cancel()
			case <-dctx.Done():
			}
		}()
		b.drainLoop(dctx, group, fn)
	}()
	return nil
}

// perDoorQueue is how many events of one door may wait for or be in a
// worker at once; past it the door's events are answered busy. A device
// sends one event at a time, so a door over it is one flooding the node,
// which must not crowd out the other doors of its worker.
const perDoorQueue = 4

// doorQueue counts each door's events waiting for or in a worker.
type doorQueue struct {
	mu sync.Mutex
	n  map[string]int
}

// take counts one more event of door, unless it has perDoorQueue already.
func (q *doorQueue) take(door string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n[door] >= perDoorQueue {
		return false
	}
	q.n[door]++
	return true
}

// release counts one event of door less.
func (q *doorQueue) release(door string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n[door]--; q.n[door] <= 0 {
		delete(q.n, door)
	}
}

// eventDoor returns the door an event subject names (the subject itself
// when it is not an event subject, so that such messages share a count).
func eventDoor(subject string) string {
	if doorID, _, _, ok := wire.ParseEventSubject(subject); ok {
		return doorID
	}
	return subject
}

// eventShard returns the worker for an event subject: the same for every
// event of one door.
func eventShard(subject string) int {
	h := fnv.New32a()
	h.Write([]byte(eventDoor(subject)))
	return int(h.Sum32() % eventWorkers)
}

// handleEvent validates one event, hands it to fn and answers the device.
func (b *Bus) handleEvent(ctx context.Context, m *nats.Msg, fn EventHandler, seen *recentSet) {
	b.events.handling.Add(1)
	defer b.events.handling.Add(-1)
	doorID, deviceID, ev, err := parseEvent(m.Subject, m.Data)
	if errors.Is(err, errUnreadable) {
		// Perhaps a newer device's event this version cannot read: the
		// device keeps it, to be recorded once the control plane can.
		b.log.Warn("device event not readable; the device keeps it", "subject", m.Subject, "err", err)
		b.receipt(m, wire.ReceiptUnavailable, "not readable by this control plane: keep it")
		return
	}
	if err != nil {
		b.log.Warn("refusing misaddressed device event", "subject", m.Subject, "err", err)
		b.receipt(m, wire.ReceiptRefused, "not the subject's event")
		return
	}
	if seen.has(ev.ID) {
		// Recorded, but the receipt was lost: answer again without a
		// second call.
		b.receipt(m, 0, "")
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the device sends it again
	}
	if err := fn(ctx, doorID, deviceID, ev); err != nil {
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("device event handler failed; the device will send it again", "event", ev.ID, "err", err)
		b.receipt(m, wire.ReceiptUnavailable, "not recorded: send the event again later")
		return
	}
	seen.add(ev.ID)
	b.receipt(m, 0, "")
}

// receipt answers an event with a wire.EventReceipt: recorded (code 0) or
// an error. It answers only into the inbox of the door the subject names:
// a device must not aim the control plane's answers at another door.
func (b *Bus) receipt(m *nats.Msg, code int, description string) {
	doorID, _, _, ok := wire.ParseEventSubject(m.Subject)
	if !ok || !strings.HasPrefix(m.Reply, wire.InboxPrefix(doorID)+".") {
		return
	}
	r := wire.EventReceipt{Stream: wire.ReceiptStream}
	if code != 0 {
		r = wire.EventReceipt{Error: &wire.ReceiptError{Code: code, Description: description}}
	}
	data, err := json.Marshal(r)
	if err != nil {
		return
	}
	if err := m.Respond(data); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		b.log.Warn("device event receipt", "subject", m.Subject, "err", err)
	}
}

// eventCounts are one node's event service figures.
type eventCounts struct {
	waiting, handling atomic.Int64
	busy              atomic.Uint64
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

// EventBacklog is the state of this node's device event service.
type EventBacklog struct {
	// Pending counts the events received and not yet recorded: waiting
	// for a worker or being recorded.
	Pending int64
	// Busy counts the events answered busy (to be sent again) since the
	// bus opened: a node that does not keep up with its doors.
	Busy uint64
}

// EventBacklog returns the state of this node's device event service (see
// ConsumeEvents).
func (b *Bus) EventBacklog() EventBacklog {
	return EventBacklog{Pending: b.events.waiting.Load() + b.events.handling.Load(), Busy: b.events.busy.Load()}
}
