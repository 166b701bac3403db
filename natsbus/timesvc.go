package natsbus

import (
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman/wire"
)

// timeQueue is the queue group of the time service, so that with several
// control-plane nodes each request is answered once.
const timeQueue = "doorman-time"

// serveTime answers devices' time requests with the control plane's time,
// signed for the requesting door and echoing its nonce.
func (b *Bus) serveTime() error {
	sub, err := b.nc.QueueSubscribe(wire.TimeSubjects, timeQueue, func(m *nats.Msg) {
		doorID, ok := wire.ParseTimeSubject(m.Subject)
		// Answer only into the requesting door's own inbox: a device must
		// not be able to aim the signed reply at another door's subjects.
		if !ok || !strings.HasPrefix(m.Reply, wire.InboxPrefix(doorID)+".") {
			return
		}
		var req wire.TimeRequest
		if err := wire.Decode(m.Data, wire.MaxMessageSize, &req); err != nil {
			b.log.Warn("malformed time request", "door", doorID, "err", err)
			return
		}
		token, err := b.signer().SignTime(doorID, req.Nonce)
		if err != nil {
			return
		}
		if err := m.Respond([]byte(token)); err != nil {
			b.log.Warn("time reply", "door", doorID, "err", err)
		}
	})
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.timeSub = sub
	b.mu.Unlock()
	return nil
}
