package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// fakeSender records what it is given and fails as told.
type fakeSender struct {
	mu   sync.Mutex
	sent []*doorman.Message
	fail error
	logs bool
}

func (s *fakeSender) Channel() string { return doorman.ChannelEmail }
func (s *fakeSender) LogsOnly() bool  { return s.logs }
func (s *fakeSender) Send(ctx context.Context, m *doorman.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.sent = append(s.sent, m)
	return nil
}

func (s *fakeSender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// outboxWorld is an Outbox over a real store with a clock the test moves.
type outboxWorld struct {
	*world
	mu     sync.Mutex
	now    time.Time
	outbox *app.Outbox
	sender *fakeSender
	sys    context.Context
}

func newOutboxWorld(t *testing.T) *outboxWorld {
	w := &outboxWorld{world: newWorld(t), now: time.Now().Add(time.Minute), sender: &fakeSender{}}
	w.sys = doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	w.outbox = app.NewOutbox(w.store, w.clock, nil)
	w.outbox.Configure(app.OutboxSettings{}, func() float64 { return 0.5 })
	w.outbox.RegisterSender(w.sender)
	return w
}

func (w *outboxWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *outboxWorld) advanceTo(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = t
}

func (w *outboxWorld) enqueue(t *testing.T, kind string) *doorman.Message {
	t.Helper()
	m := &doorman.Message{Channel: doorman.ChannelEmail, BuildingID: w.building.ID, Target: "r@example.org", Kind: kind,
		Subject: "Hi", Text: "Body"}
	must(t, w.store.EnqueueMessage(w.sys, m))
	return m
}

func (w *outboxWorld) message(t *testing.T, id string) *doorman.Message {
	t.Helper()
	m, err := w.store.Message(w.sys, id)
	must(t, err)
	return m
}

// TestBackoff: 30 s × 2^(n-1), at most an hour, ±20 %.
func TestBackoff(t *testing.T) {
	for n := 1; n <= 70; n++ {
		want := min(30*time.Second<<min(n-1, 20), time.Hour)
		lo := app.Backoff(n, app.DefaultBackoffBase, app.DefaultBackoffMax, 0)
		mid := app.Backoff(n, app.DefaultBackoffBase, app.DefaultBackoffMax, 0.5)
		hi := app.Backoff(n, app.DefaultBackoffBase, app.DefaultBackoffMax, 0.999999)
		if mid != want || lo != want*8/10 || hi < want*119/100 || hi > want*12/10 {
			t.Fatalf("try %d: %v %v %v, want %v ±20%%", n, lo, mid, hi, want)
		}
	}
}

// TestOutboxRetriesThenDead: a failing message is retried after a
// growing, jittered delay, is dead after its tenth try, and a manager's
// retry queues it again; it is then delivered.
func TestOutboxRetriesThenDead(t *testing.T) {
	w := newOutboxWorld(t)
	jitter := []float64{0, 0.999, 0.3}
	var ji int
	w.outbox.Configure(app.OutboxSettings{}, func() float64 { ji++; return jitter[ji%len(jitter)] })
	m := w.enqueue(t, "test.retry")
	w.sender.fail = doorman.Errorf(doorman.EUNAVAILABLE, "connection refused")
	for try := 1; try <= app.DefaultOutboxMaxAttempts; try++ {
		n, err := w.outbox.Deliver(w.sys)
		if err != nil || n != 1 {
			t.Fatalf("try %d: claimed %d, %v", try, n, err)
		}
		got := w.message(t, m.ID)
		if got.Attempts != try || !strings.Contains(got.LastError, "connection refused") {
			t.Fatalf("try %d: %+v", try, got)
		}
		if try == app.DefaultOutboxMaxAttempts {
			if got.Status != doorman.MessageDead {
				t.Fatalf("after %d tries: %s", try, got.Status)
			}
			break
		}
		if got.Status != doorman.MessageQueued {
			t.Fatalf("try %d: %s", try, got.Status)
		}
		base := min(30*time.Second<<(try-1), time.Hour)
		delay := got.NextAttemptAt.Sub(w.clock())
		if delay < base*8/10-time.Microsecond || delay > base*12/10 {
			t.Fatalf("try %d: retry after %v, want %v ±20%%", try, delay, base)
		}
		// Not before it is due.
		w.advanceTo(got.NextAttemptAt.Add(-time.Millisecond))
		if n, _ := w.outbox.Deliver(w.sys); n != 0 {
			t.Fatalf("try %d: delivered before its retry was due", try)
		}
		w.advanceTo(got.NextAttemptAt)
	}
	w.advanceTo(w.clock().Add(48 * time.Hour))
	if n, _ := w.outbox.Deliver(w.sys); n != 0 {
		t.Fatal("a dead message was tried")
	}

	// Retry by hand: the building's manager, not another's.
	inv, err := w.app.Accounts.CreateInvite(w.sys, w.building.ID, "m@example.org")
	must(t, err)
	mgr, err := w.app.Accounts.AcceptInvite(context.Background(), inv.Token, "M", "a long password here")
	must(t, err)
	manager := as(doorman.RoleManager, mgr.ID, "")
	other := &doorman.Building{Name: "O", Address: "2 Road", Timezone: "UTC"}
	must(t, w.app.Buildings.CreateBuilding(w.sys, other))
	wantCode(t, "retry in another building", w.app.Outbox.Retry(manager, other.ID, m.ID), doorman.ENOTFOUND)
	wantCode(t, "retry as a carrier", w.app.Outbox.Retry(as(doorman.RoleCarrier, w.allowed.ID, w.allowed.ID), w.building.ID, m.ID), doorman.EFORBIDDEN)
	// w.app's Outbox and w.outbox share the store: retry through the one
	// the console uses, deliver through the test's.
	must(t, w.app.Outbox.Retry(manager, w.building.ID, m.ID))
	wantCode(t, "retry a queued message", w.app.Outbox.Retry(manager, w.building.ID, m.ID), doorman.ECONFLICT)
	list, _, err := w.app.Outbox.BuildingMail(manager, w.building.ID, doorman.Page{})
	must(t, err)
	if len(list) != 1 || list[0].Status != doorman.MessageQueued || list[0].Attempts != 0 {
		t.Fatalf("the console's list %+v", list)
	}
	_, _, err = w.app.Outbox.BuildingMail(manager, other.ID, doorman.Page{})
	wantCode(t, "list another building's mail", err, doorman.ENOTFOUND)
	w.sender.fail = nil
	w.advanceTo(w.clock().Add(time.Hour)) // the store queued it at its own clock
	if n, err := w.outbox.Deliver(w.sys); n != 1 || err != nil {
		t.Fatalf("after retry: %d %v", n, err)
	}
	if got := w.message(t, m.ID); got.Status != doorman.MessageSent || got.SentAt == nil || w.sender.count() != 1 {
		t.Fatalf("after retry %+v", got)
	}
}

// TestOutboxInvalidIsDeadAtOnce: an EINVALID error (a refused address)
// makes a message dead on its first try; a sign-in link's body is
// cleared once sent but kept by a sender that only logs.
func TestOutboxInvalidIsDeadAtOnce(t *testing.T) {
	w := newOutboxWorld(t)
	m := w.enqueue(t, "test.invalid")
	w.sender.fail = doorman.Errorf(doorman.EINVALID, "550 no such user")
	if _, err := w.outbox.Deliver(w.sys); err != nil {
		t.Fatal(err)
	}
	if got := w.message(t, m.ID); got.Status != doorman.MessageDead || got.Attempts != 1 {
		t.Fatalf("%+v", got)
	}

	w.sender.fail = nil
	link := w.enqueue(t, doorman.KindResidentSignInLink)
	w.sender.logs = true
	logged := w.enqueue(t, doorman.KindResidentSignInLink)
	w.advanceTo(w.clock().Add(time.Minute))
	// Both are claimed in one pass; the first send decides logs for both
	// here, so deliver them one at a time.
	w.outbox.Configure(app.OutboxSettings{Batch: 1}, nil)
	w.sender.logs = false
	mustDeliver(w.outbox.Deliver(w.sys))
	w.sender.logs = true
	mustDeliver(w.outbox.Deliver(w.sys))
	if got := w.message(t, link.ID); got.Status != doorman.MessageSent || got.Text != "" {
		t.Fatalf("a sent sign-in link keeps its body: %+v", got)
	}
	if got := w.message(t, logged.ID); got.Status != doorman.MessageSent || got.Text != "Body" {
		t.Fatalf("a logged sign-in link lost its body: %+v", got)
	}
}

func mustDeliver(_ int, err error) {
	if err != nil {
		panic(err)
	}
}

// TestOutboxNoSender: a message of a channel with no sender waits.
func TestOutboxNoSender(t *testing.T) {
	w := newOutboxWorld(t)
	m := &doorman.Message{Channel: doorman.ChannelWebhook, Target: "whk_x", Kind: "test.hook", Payload: []byte(`{}`)}
	must(t, w.store.EnqueueMessage(w.sys, m))
	mustDeliver(w.outbox.Deliver(w.sys))
	if got := w.message(t, m.ID); got.Status != doorman.MessageQueued || got.Attempts != 1 || !strings.Contains(got.LastError, "No sender") {
		t.Fatalf("%+v", got)
	}
}

// TestOutboxDispatch: producers run on each new entry once the cursor
// passes it; running again queues nothing twice; a failing producer
// holds its chain (and only it) until it succeeds.
func TestOutboxDispatch(t *testing.T) {
	w := newOutboxWorld(t)
	var fail error
	var mu sync.Mutex
	calls := map[string]int{}
	w.outbox.RegisterProducer(func(ctx context.Context, e *doorman.AuditEntry) ([]*doorman.Message, error) {
		if p := doorman.PrincipalFromContext(ctx); p == nil || p.Role != doorman.RoleSystem {
			t.Errorf("a producer runs as %+v", p)
		}
		mu.Lock()
		defer mu.Unlock()
		if fail != nil && e.Action == doorman.ActionBuildingUpdated {
			return nil, fail
		}
		calls[e.ID]++
		return []*doorman.Message{{Channel: doorman.ChannelEmail, Target: "m@example.org", Kind: "test.entry", Subject: e.Action}}, nil
	})
	w.outbox.RegisterProducer(func(ctx context.Context, e *doorman.AuditEntry) ([]*doorman.Message, error) {
		return []*doorman.Message{{Channel: doorman.ChannelEmail, Target: "not an address", Kind: "test.bad"}}, nil
	})
	n, err := w.outbox.Dispatch(w.sys)
	must(t, err)
	if n == 0 {
		t.Fatal("nothing produced from the building's entries")
	}
	if again, err := w.outbox.Dispatch(w.sys); err != nil || again != 0 {
		t.Fatalf("a second pass queued %d, %v", again, err)
	}
	list, _, err := w.store.ListMessages(w.sys, doorman.MessageFilter{}, doorman.Page{Limit: 500})
	must(t, err)
	if len(list) != n {
		t.Fatalf("%d queued, %d listed", n, len(list))
	}
	for _, m := range list {
		if !doorman.HasPrefix(m.Source, doorman.PrefixAudit) || m.Kind != "test.entry" {
			t.Fatalf("produced %+v", m)
		}
	}

	mu.Lock()
	fail = errors.New("the resident store is down")
	mu.Unlock()
	name := "B2"
	_, err = w.app.Buildings.UpdateBuilding(w.sys, w.building.ID, app.BuildingChange{Name: &name})
	must(t, err)
	if n, err := w.outbox.Dispatch(w.sys); err == nil || n != 0 {
		t.Fatalf("a failing producer: %d, %v", n, err)
	}
	mu.Lock()
	fail = nil
	mu.Unlock()
	if n, err := w.outbox.Dispatch(w.sys); err != nil || n != 1 {
		t.Fatalf("after the producer recovers: %d, %v", n, err)
	}
	for id, c := range calls {
		if c != 1 {
			t.Fatalf("entry %s produced %d times", id, c)
		}
	}
}

// TestUnsubscribe: the one-click token turns off the preference of its
// kind for its resident; a token altered in any way does nothing.
func TestUnsubscribe(t *testing.T) {
	w := newOutboxWorld(t)
	u := &doorman.Unit{BuildingID: w.building.ID, Label: "1"}
	must(t, w.app.Buildings.CreateUnit(w.sys, u))
	r := &doorman.Resident{BuildingID: w.building.ID, UnitID: u.ID, Name: "R", Email: "r@example.org"}
	must(t, w.app.Buildings.CreateResident(w.sys, r))
	must(t, w.store.SetResidentPreferences(w.sys, r.ID, doorman.ResidentPreferences{NotifyDelivery: true, NotifyEntry: true}))
	m := &doorman.Message{ResidentID: r.ID, Kind: "delivery.notice"}
	tok, err := w.outbox.UnsubscribeToken(w.sys, m)
	must(t, err)
	if none, _ := w.outbox.UnsubscribeToken(w.sys, &doorman.Message{ResidentID: r.ID, Kind: doorman.KindResidentSignInLink}); none != "" {
		t.Fatal("a sign-in link has an unsubscribe token")
	}
	entryTok, err := w.outbox.UnsubscribeToken(w.sys, &doorman.Message{ResidentID: r.ID, Kind: "entry.courier"})
	must(t, err)
	body, sig, _ := strings.Cut(tok, ".")
	_, entrySig, _ := strings.Cut(entryTok, ".")
	for _, bad := range []string{"", "x", tok + "x", body + "." + entrySig, strings.ToUpper(tok), body, "." + sig} {
		_, err := w.outbox.Unsubscribe(context.Background(), bad)
		wantCode(t, "token "+bad, err, doorman.EUNAUTHORIZED)
	}
	if p, _ := w.store.ResidentPreferences(w.sys, r.ID); !p.NotifyDelivery || !p.NotifyEntry {
		t.Fatalf("a bad token changed %+v", p)
	}
	pref, err := w.outbox.Unsubscribe(context.Background(), tok)
	must(t, err)
	if p, _ := w.store.ResidentPreferences(w.sys, r.ID); pref != doorman.PreferenceDelivery || p.NotifyDelivery || !p.NotifyEntry {
		t.Fatalf("after unsubscribing %q: %+v", pref, p)
	}
	if wants, err := app.ResidentWants(w.sys, w.store, r.ID, "delivery.notice"); err != nil || wants {
		t.Fatalf("ResidentWants after unsubscribing: %v %v", wants, err)
	}
	if wants, _ := app.ResidentWants(w.sys, w.store, r.ID, doorman.KindResidentSignInLink); !wants {
		t.Fatal("a sign-in link is not wanted")
	}
	if wants, _ := app.ResidentWants(w.sys, w.store, doorman.NewID(doorman.PrefixResident), "delivery.notice"); wants {
		t.Fatal("a resident who is gone wants mail")
	}
}
