package natsbus

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman/wire"
)

// timeQueue is the queue group of the time service, so that with several
// control-plane nodes each request is answered once.
const timeQueue = "doorman-time"

// serveTime answers devices' time requests with the control plane's time,
// signed for the requesting door and echoing its nonce, and with the
// door's offline window (Config.OfflineWindow).
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
		token, err := b.signer().SignTimeReply(doorID, req.Nonce, b.offlineWindow(doorID))
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

// OfflineWindowCacheTTL is how long the time service keeps a door's offline
// window before asking Config.OfflineWindow again: doors sync often, and a
// manager's change reaches them within this and their next sync.
const OfflineWindowCacheTTL = 5 * time.Second

// offlineWindowLookup bounds one Config.OfflineWindow call.
const offlineWindowLookup = 2 * time.Second

// offlineWindows caches the doors' offline windows for the time service.
type offlineWindows struct {
	mu     sync.Mutex
	byDoor map[string]cachedWindow
}

type cachedWindow struct {
	window time.Duration
	at     time.Time
}

// offlineWindow returns the offline window to sign into doorID's time
// reply: from the cache when fresh, else from Config.OfflineWindow; 0 when
// there is none, it fails or it is out of bounds (a failed lookup is not
// cached).
func (b *Bus) offlineWindow(doorID string) time.Duration {
	if b.cfg.OfflineWindow == nil {
		return 0
	}
	now := time.Now()
	w := &b.windows
	w.mu.Lock()
	c, ok := w.byDoor[doorID]
	w.mu.Unlock()
	if ok && now.Sub(c.at) < OfflineWindowCacheTTL {
		return c.window
	}
	ctx, cancel := context.WithTimeout(context.Background(), offlineWindowLookup)
	defer cancel()
	window, err := b.cfg.OfflineWindow(ctx, doorID)
	if err != nil || window < 0 || window > wire.MaxOfflineWindow {
		b.log.Warn("offline window of a door; its time reply allows no offline grants", "door", doorID, "window", window, "err", err)
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byDoor == nil {
		w.byDoor = map[string]cachedWindow{}
	}
	if len(w.byDoor) >= 4096 {
		// Only enrolled devices ask, but keep the cache bounded anyway.
		for id, c := range w.byDoor {
			if now.Sub(c.at) >= OfflineWindowCacheTTL {
				delete(w.byDoor, id)
			}
		}
	}
	w.byDoor[doorID] = cachedWindow{window: window, at: now}
	return window
}
