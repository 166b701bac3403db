package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman/wire"
)

// Event delivery settings.
const (
	// DefaultHeartbeatInterval is how often a connected agent reports a
	// heartbeat.
	DefaultHeartbeatInterval = time.Minute
	publishTimeout           = 5 * time.Second
	publishRetry             = 2 * time.Second
	publishBatch             = 64
)

// report queues an event durably; failures are logged, never fatal. Event
// IDs come from one sequence, so events queue (and are sent) in the order
// they were reported, also within one millisecond.
func (a *Agent) report(ev *wire.Event) {
	if err := a.queueEvent(ev); err != nil {
		a.log.Error("event not queued", "kind", ev.Kind, "err", err)
	}
}

// queueEvent gives ev its ID, door and time and stores it durably; it
// notes whether the disk took it (see noteStorage).
func (a *Agent) queueEvent(ev *wire.Event) error {
	ev.ID = a.eventIDs.Next(wire.PrefixEvent)
	ev.DoorID = a.id.DoorID
	ev.At = a.clock.Now().UTC()
	ev.Detail = clip(ev.Detail, wire.MaxDetailLength)
	if err := a.signEvent(ev); err != nil {
		return err
	}
	err := a.queue.Add(ev)
	a.noteStorage(err)
	return err
}

// publishNow sends ev to the control plane without the queue, for a
// heartbeat the full disk would not take. It is sent once; a lost one is
// not missed, the next heartbeat says the same.
func (a *Agent) publishNow(ctx context.Context, nc *nats.Conn, ev *wire.Event) {
	if err := a.signEvent(ev); err != nil {
		a.log.Error("heartbeat not signed", "err", err)
		return
	}
	data, err := wire.Encode(ev, wire.MaxMessageSize)
	if err != nil {
		return
	}
	if err := a.send(ctx, nc, ev, data); err != nil {
		a.log.Warn("heartbeat not sent", "err", err)
	}
}

// errRefused is a receipt that refuses an event for good.
var errRefused = errors.New("refused by the control plane")

// send sends one encoded event to the control plane and waits for its
// receipt (wire.EventReceipt): nil once the event is recorded, an error
// wrapping errRefused when it is refused for good, any other error when it
// is to be sent again later.
func (a *Agent) send(ctx context.Context, nc *nats.Conn, ev *wire.Event, data []byte) error {
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	reply, err := nc.RequestWithContext(pctx, wire.EventSubject(ev.DoorID, a.id.DeviceID, ev.Kind), data)
	if err != nil {
		return err
	}
	return readReceipt(reply.Data)
}

// readReceipt reads a wire.EventReceipt: nil for recorded, an error
// wrapping errRefused for refused for good, any other error for "send it
// again later".
func readReceipt(data []byte) error {
	var r wire.EventReceipt
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("unreadable receipt: %w", err)
	}
	switch {
	case r.Error != nil && r.Error.Code == wire.ReceiptRefused && r.Error.ErrCode == 0:
		return fmt.Errorf("%w: %s", errRefused, r.Error.Description)
	case r.Error != nil:
		return fmt.Errorf("not recorded (%d): %s", r.Error.Code, r.Error.Description)
	case r.Stream != wire.ReceiptStream && r.Stream != wire.LegacyReceiptStream:
		return fmt.Errorf("receipt names store %q, which nothing records from", r.Stream)
	}
	return nil
}

// ReportTamper queues a tamper event with the given detail, for tamper
// evidence found outside the tamper switch (Config.Tamper), which the
// agent watches and reports by itself.
func (a *Agent) ReportTamper(detail string) {
	a.report(&wire.Event{Kind: wire.EventTamper, Detail: detail})
}

// publishLoop sends queued events to the control plane, oldest first and
// one at a time (so the control plane records one door's events in order),
// and removes each only after its receipt said it was recorded. An event
// whose receipt was lost is sent again, and the control plane records it
// once (by its ID). One refused for good is dropped.
func (a *Agent) publishLoop(ctx context.Context, nc *nats.Conn, online <-chan struct{}) {
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		failed := false
		evs, err := a.queue.Next(publishBatch)
		if err != nil {
			a.log.Error("read event queue", "err", err)
			failed = true
		}
		for _, ev := range evs {
			// Signed when queued, unless queued before an upgrade.
			if ev.Sig == "" {
				if err := a.signEvent(ev); err != nil {
					a.log.Error("event not signed", "event", ev.ID, "err", err)
					failed = true
					break
				}
			}
			data, err := wire.Encode(ev, wire.MaxMessageSize)
			if err != nil {
				_ = a.queue.Done(ev.ID)
				continue
			}
			err = a.send(ctx, nc, ev, data)
			if errors.Is(err, errRefused) {
				a.log.Error("event refused; dropped", "event", ev.ID, "kind", ev.Kind, "err", err)
			} else if err != nil {
				if ctx.Err() == nil {
					a.log.Debug("event not delivered yet", "event", ev.ID, "err", err)
				}
				failed = true
				break
			}
			if err := a.queue.Done(ev.ID); err != nil {
				a.log.Error("dequeue event", "event", ev.ID, "err", err)
			}
		}
		if !failed && len(evs) == publishBatch {
			continue
		}
		if failed {
			retry.Reset(publishRetry)
		} else {
			retry.Reset(30 * time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-a.queue.Wake():
		case <-online:
		case <-retry.C:
		}
	}
}

// clip makes s valid UTF-8 of at most n bytes, cut at a rune boundary, so
// that it survives JSON encoding within the limit.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
