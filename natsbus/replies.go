package natsbus

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
)

// replies receives every answer to the bus's commands on one wildcard
// subscription (<prefix>.*) and hands each to the command waiting on its
// last token. A subscription per command instead cost a SUB and an UNSUB
// on the wire and, in nats.go, a 65,536-slot channel (512 KB) for every
// unlock: at a few hundred unlocks a second most of the garbage collector's
// work.
type replies struct {
	prefix string
	sub    *nats.Subscription

	last atomic.Uint64 // the last reply token handed out

	mu      sync.Mutex
	waiting map[string]chan *nats.Msg
	dropped func(subject string)
}

// replyBuffer is how many answers one command's wait holds before further
// ones are dropped: the device may answer once, so anything beyond a few is
// a rival's noise.
const replyBuffer = 8

func newReplies(nc *nats.Conn, dropped func(subject string)) (*replies, error) {
	r := &replies{
		prefix:  nc.NewInbox(),
		waiting: make(map[string]chan *nats.Msg),
		dropped: dropped,
	}
	sub, err := nc.Subscribe(r.prefix+".*", r.deliver)
	if err != nil {
		return nil, fmt.Errorf("natsbus: subscribe to replies: %w", err)
	}
	// Answers are handled as they come; let none be dropped by the client
	// for a burst.
	if err := sub.SetPendingLimits(-1, 64<<20); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("natsbus: replies: %w", err)
	}
	r.sub = sub
	return r, nil
}

func (r *replies) deliver(m *nats.Msg) {
	token := strings.TrimPrefix(m.Subject, r.prefix+".")
	r.mu.Lock()
	ch := r.waiting[token]
	r.mu.Unlock()
	if ch == nil {
		return // answered already, or timed out
	}
	select {
	case ch <- m:
	default:
		if r.dropped != nil {
			r.dropped(m.Subject)
		}
	}
}

// open returns a reply subject that no other command uses (the prefix is
// random, the token a counter), the channel its answers arrive on, and the
// function that stops waiting for them.
func (r *replies) open() (subject string, answers <-chan *nats.Msg, done func()) {
	token := strconv.FormatUint(r.last.Add(1), 36)
	ch := make(chan *nats.Msg, replyBuffer)
	r.mu.Lock()
	r.waiting[token] = ch
	r.mu.Unlock()
	return r.prefix + "." + token, ch, func() {
		r.mu.Lock()
		delete(r.waiting, token)
		r.mu.Unlock()
	}
}

// pending returns how many commands are waiting for an answer.
func (r *replies) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.waiting)
}
