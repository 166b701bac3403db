package app

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/doorman-dev/doorman"
)

// OutboxStore is what the Outbox uses of the store.
type OutboxStore interface {
	scopeStore
	doorman.OutboxStore
	ResidentPreferences(ctx context.Context, residentID string) (doorman.ResidentPreferences, error)
	SetResidentPreferences(ctx context.Context, residentID string, p doorman.ResidentPreferences) error
}

// Outbox settings (see OutboxSettings for what each one does).
const (
	DefaultOutboxInterval    = time.Second
	DefaultOutboxLease       = 2 * time.Minute
	DefaultOutboxMaxAttempts = 10
	DefaultOutboxBatch       = 100
	DefaultOutboxSenders     = 8
	DefaultBackoffBase       = 30 * time.Second
	DefaultBackoffMax        = time.Hour
	// BackoffJitter is the spread of a retry's delay: ±20 %.
	BackoffJitter = 0.2
)

// OutboxSettings tune the dispatcher and the delivery worker; zero fields
// take the defaults.
type OutboxSettings struct {
	// Interval is the pause of Run between passes with nothing to do.
	Interval time.Duration
	// Lease is how long a claimed message is held by its worker: one
	// that dies mid-send leaves the message to be claimed again after it.
	Lease time.Duration
	// MaxAttempts is the number of tries after which a message is dead.
	MaxAttempts int
	// Batch is how many entries or messages one step takes at most.
	Batch int
	// Senders is how many messages are sent at once, so a slow receiver
	// does not hold up the others.
	Senders int
	// BackoffBase and BackoffMax bound the delay before retry n (from 0):
	// BackoffBase × 2^n, at most BackoffMax, ±BackoffJitter.
	BackoffBase, BackoffMax time.Duration
}

func (s OutboxSettings) withDefaults() OutboxSettings {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	def(&s.Interval, DefaultOutboxInterval)
	def(&s.Lease, DefaultOutboxLease)
	def(&s.BackoffBase, DefaultBackoffBase)
	def(&s.BackoffMax, DefaultBackoffMax)
	defInt(&s.MaxAttempts, DefaultOutboxMaxAttempts)
	defInt(&s.Batch, DefaultOutboxBatch)
	defInt(&s.Senders, DefaultOutboxSenders)
	return s
}

// outboxState is the part of Outbox that NewOutbox sets.
type outboxState struct {
	scope
	store    OutboxStore
	now      func() time.Time
	jitter   func() float64
	logger   *slog.Logger
	settings OutboxSettings
}

// NewOutbox returns the Outbox over store; now is its clock (time.Now
// when nil).
func NewOutbox(store OutboxStore, now func() time.Time, logger *slog.Logger) *Outbox {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	o := &Outbox{}
	o.outboxState = outboxState{scope: scope{store}, store: store, now: now, jitter: rand.Float64, logger: logger,
		settings: OutboxSettings{}.withDefaults()}
	return o
}

// Configure sets the outbox's settings (zero fields take the defaults)
// and, when jitter is not nil, the source of the backoff's jitter (a
// number in [0, 1)). Call it before Run.
func (o *Outbox) Configure(s OutboxSettings, jitter func() float64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.settings = s.withDefaults()
	if jitter != nil {
		o.jitter = jitter
	}
}

// Backoff is the delay before the retry that follows try n (n = 1 for the
// first try): base × 2^(n-1), at most max, scaled by 1 + BackoffJitter ×
// (2r - 1) for r in [0, 1).
func Backoff(n int, base, max time.Duration, r float64) time.Duration {
	d := float64(max)
	if n < 1 {
		n = 1
	}
	if n-1 < 62 {
		d = math.Min(float64(base)*math.Pow(2, float64(n-1)), float64(max))
	}
	return time.Duration(d * (1 + BackoffJitter*(2*r-1)))
}

func (o *Outbox) snapshot() ([]Producer, map[string]Sender, OutboxSettings) {
	o.mu.Lock()
	defer o.mu.Unlock()
	senders := make(map[string]Sender, len(o.senders))
	for k, v := range o.senders {
		senders[k] = v
	}
	return append([]Producer(nil), o.producers...), senders, o.settings
}

// Dispatch makes one pass of the cursor over every audit chain: it runs
// every producer, as the system, on each entry after the chain's cursor
// and queues what they return, moving the cursor in the same
// transaction. A producer's error stops that chain until the next pass
// (its entry is produced again, which queues nothing twice); a message a
// producer makes that cannot be queued is logged and dropped, so it never
// holds the chain up. It returns how many messages it queued.
func (o *Outbox) Dispatch(ctx context.Context) (int, error) {
	producers, _, set := o.snapshot()
	ctx = doorman.NewContextWithPrincipal(ctx, doorman.System())
	chains, err := o.store.OutboxChains(ctx)
	if err != nil {
		return 0, err
	}
	queued := 0
	var errs []error
	for _, c := range chains {
		n, err := o.dispatchChain(ctx, c, producers, set.Batch)
		queued += n
		if err != nil {
			if ctx.Err() != nil {
				return queued, ctx.Err()
			}
			errs = append(errs, err)
		}
	}
	return queued, errors.Join(errs...)
}

func (o *Outbox) dispatchChain(ctx context.Context, c doorman.OutboxChain, producers []Producer, batch int) (int, error) {
	queued, cursor := 0, c.Cursor
	for cursor < c.LastSeq {
		entries, err := o.store.EntriesAfter(ctx, c.Chain, cursor, batch)
		if err != nil || len(entries) == 0 {
			return queued, err
		}
		var msgs []*doorman.Message
		to := cursor
		for _, e := range entries {
			made, err := produce(ctx, e, producers)
			if err != nil {
				o.logger.Warn("outbox: a producer failed; the entry is produced again on the next pass",
					"chain", c.Chain, "seq", e.Seq, "entry", e.ID, "err", err)
				break
			}
			for _, m := range made {
				if err := m.Validate(); err != nil {
					o.logger.Error("outbox: a producer made a message that cannot be queued; dropped",
						"entry", e.ID, "kind", m.Kind, "err", err)
					continue
				}
				msgs = append(msgs, m)
			}
			to = e.Seq
		}
		if to == cursor {
			return queued, doorman.Errorf(doorman.EINTERNAL, "The producers of %s failed.", c.Chain)
		}
		err = o.store.ProduceMessages(ctx, c.Chain, cursor, to, msgs)
		if doorman.ErrorCode(err) == doorman.ECONFLICT {
			return queued, nil // another node moved the cursor; the next pass reads it
		} else if err != nil {
			return queued, err
		}
		queued += len(msgs)
		if to != entries[len(entries)-1].Seq {
			return queued, doorman.Errorf(doorman.EINTERNAL, "A producer of %s failed.", c.Chain)
		}
		cursor = to
	}
	return queued, nil
}

// produce runs every producer on e; messages get e as their source.
func produce(ctx context.Context, e *doorman.AuditEntry, producers []Producer) ([]*doorman.Message, error) {
	var all []*doorman.Message
	for _, p := range producers {
		msgs, err := p(ctx, e)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m == nil {
				continue
			}
			m.Source = e.ID
			if m.BuildingID == "" {
				m.BuildingID = e.BuildingID
			}
			all = append(all, m)
		}
	}
	return all, nil
}

// Logger is a Sender that only logs what it is given (mail with no SMTP
// server): its messages are marked sent and keep their bodies, so the
// console's mail page is where they are read.
type Logger interface {
	Sender
	LogsOnly() bool
}

// Deliver makes one pass of the delivery worker: it claims the due
// messages (at most Batch, leased for Lease), sends each through its
// channel's sender (Senders at once) and marks it sent, or schedules a
// retry with Backoff, or marks it dead after MaxAttempts tries or at once
// on an EINVALID error. It returns how many messages it claimed.
func (o *Outbox) Deliver(ctx context.Context) (int, error) {
	_, senders, set := o.snapshot()
	ctx = doorman.NewContextWithPrincipal(ctx, doorman.System())
	msgs, err := o.store.ClaimMessages(ctx, o.now(), set.Lease, set.Batch)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, set.Senders)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, m := range msgs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := o.deliver(ctx, m, senders[m.Channel], set); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(msgs), errors.Join(errs...)
}

// deliver sends one claimed message and records the outcome.
func (o *Outbox) deliver(ctx context.Context, m *doorman.Message, s Sender, set OutboxSettings) error {
	var err error
	logs := false
	if s == nil {
		err = doorman.Errorf(doorman.EUNAVAILABLE, "No sender for the %s channel is configured.", m.Channel)
	} else {
		if l, ok := s.(Logger); ok {
			logs = l.LogsOnly()
		}
		sctx, cancel := context.WithTimeout(ctx, set.Lease/2)
		err = s.Send(sctx, m)
		cancel()
	}
	if ctx.Err() != nil && err != nil {
		return ctx.Err() // shutting down: the lease runs out and another pass retries it
	}
	now := o.now()
	if err == nil {
		clear := m.Kind == doorman.KindResidentSignInLink && !logs
		if err := o.store.MarkMessageSent(ctx, m.ID, now, clear); err != nil && doorman.ErrorCode(err) != doorman.ENOTFOUND {
			return err
		}
		return nil
	}
	var next *time.Time
	if doorman.ErrorCode(err) != doorman.EINVALID && m.Attempts < set.MaxAttempts {
		at := now.Add(Backoff(m.Attempts, set.BackoffBase, set.BackoffMax, o.jitter()))
		next = &at
	}
	o.logger.Warn("outbox: a message was not delivered", "id", m.ID, "channel", m.Channel, "kind", m.Kind,
		"attempts", m.Attempts, "dead", next == nil, "err", err)
	if err := o.store.MarkMessageFailed(ctx, m.ID, err.Error(), next); err != nil && doorman.ErrorCode(err) != doorman.ENOTFOUND {
		return err
	}
	return nil
}

// Run dispatches and delivers until ctx ends: each pass runs Dispatch,
// then Deliver until it finds fewer than a batch due, then waits
// Interval. Errors are logged and the next pass tries again. It returns
// when ctx is done.
func (o *Outbox) Run(ctx context.Context) {
	_, _, set := o.snapshot()
	t := time.NewTicker(set.Interval)
	defer t.Stop()
	for {
		if _, err := o.Dispatch(ctx); err != nil && ctx.Err() == nil {
			o.logger.Error("outbox: dispatch", "err", err)
		}
		for ctx.Err() == nil {
			n, err := o.Deliver(ctx)
			if err != nil && ctx.Err() == nil {
				o.logger.Error("outbox: deliver", "err", err)
			}
			if err != nil || n < set.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// BuildingMail lists a building's email messages, newest first, with
// their status, tries and last error (operators; the building's
// managers). Sign-in links are hidden and the HTML and template data are
// left out: a link signs in only the resident it was sent to. Returns
// ENOTFOUND.
func (o *Outbox) BuildingMail(ctx context.Context, buildingID string, page doorman.Page) ([]*doorman.Message, string, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, "", err
	}
	b, err := o.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, "", err
	}
	list, next, err := o.store.ListMessages(ctx, doorman.MessageFilter{BuildingID: b.ID, Channel: doorman.ChannelEmail}, page.Normalize())
	if err != nil {
		return nil, "", err
	}
	for _, m := range list {
		m.Text, m.HTML, m.Payload = hideLinks(m.Text), "", nil
	}
	return list, next, nil
}

// Retry queues a building's dead message again, due now, its tries
// counted from 0 (operators; the building's managers). Returns ENOTFOUND
// or ECONFLICT for a message that is not dead.
func (o *Outbox) Retry(ctx context.Context, buildingID, messageID string) error {
	if _, err := require(ctx, managers); err != nil {
		return err
	}
	b, err := o.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return err
	}
	if !doorman.HasPrefix(messageID, doorman.PrefixMessage) {
		return notFound("Message")
	}
	m, err := o.store.Message(ctx, messageID)
	if err != nil {
		return scoped(err, "Message")
	} else if m.BuildingID != b.ID {
		return notFound("Message")
	}
	return o.store.RetryMessage(ctx, m.ID, o.now())
}

// MailIsLogged reports whether the email channel's sender only logs (no
// SMTP server is configured), so the console can say mail is not sent.
func (o *Outbox) MailIsLogged() bool {
	_, senders, _ := o.snapshot()
	l, ok := senders[doorman.ChannelEmail].(Logger)
	return ok && l.LogsOnly()
}
