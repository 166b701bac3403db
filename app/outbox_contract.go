package app

import (
	"context"
	"sync"

	"github.com/doorman-dev/doorman"
)

// Producer turns one audit entry into the messages it causes (none, for
// most entries). The outbox's dispatcher runs every registered producer on
// every new entry of every chain, as the system principal, at least once:
// messages are keyed by (Source = the entry's ID, Channel, Target, Kind),
// so running a producer twice on an entry queues nothing twice. A
// producer reads what it needs (residents of a unit, a carrier's webhook
// endpoints) through its own service's store, and must not send anything
// itself.
type Producer func(ctx context.Context, e *doorman.AuditEntry) ([]*doorman.Message, error)

// Sender delivers the messages of one channel. An error is retried with
// backoff; an error for which doorman.ErrorCode is EINVALID (a malformed
// address, a refused endpoint URL) marks the message dead at once.
type Sender interface {
	Channel() string
	Send(ctx context.Context, m *doorman.Message) error
}

// Outbox produces messages from the audit log and delivers them. Services
// and cmd/doorman register producers and senders before the worker starts.
type Outbox struct {
	mu        sync.Mutex
	producers []Producer
	senders   map[string]Sender

	outboxState // the store, clock and settings (outbox.go)
}

// RegisterProducer adds a producer.
func (o *Outbox) RegisterProducer(p Producer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.producers = append(o.producers, p)
}

// RegisterSender sets the sender of its channel.
func (o *Outbox) RegisterSender(s Sender) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.senders == nil {
		o.senders = map[string]Sender{}
	}
	o.senders[s.Channel()] = s
}
