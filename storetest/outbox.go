package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

func mail(buildingID, to, kind, source string) *doorman.Message {
	return &doorman.Message{Channel: doorman.ChannelEmail, BuildingID: buildingID, Target: to, Kind: kind, Source: source,
		Subject: "Hello", Text: "Text"}
}

// testOutbox checks doorman.OutboxStore: queuing direct and produced
// messages once per key, the dispatcher's cursor moving with the
// messages it produced or not at all, claims with a lease, retries, dead
// messages and manual retry, lists, and the resident's language.
func testOutbox(t *testing.T, open Opener) {
	f := newFixture(t, open)

	t.Run("Enqueue", func(t *testing.T) {
		m := mail(f.building.ID, "a@example.com", "test.direct", "")
		must(t, f.s.EnqueueMessage(f.ctx, m))
		if !doorman.HasPrefix(m.ID, doorman.PrefixMessage) || m.Status != doorman.MessageQueued || m.Attempts != 0 || m.CreatedAt.IsZero() {
			t.Fatalf("queued %+v", m)
		}
		again := mail(f.building.ID, "a@example.com", "test.direct", "")
		must(t, f.s.EnqueueMessage(f.ctx, again))
		if again.ID == m.ID {
			t.Fatal("two direct messages share an ID")
		}
		src := doorman.NewID(doorman.PrefixAudit)
		one, two := mail(f.building.ID, "a@example.com", "test.keyed", src), mail(f.building.ID, "a@example.com", "test.keyed", src)
		must(t, f.s.EnqueueMessage(f.ctx, one))
		must(t, f.s.EnqueueMessage(f.ctx, two))
		if one.ID != two.ID {
			t.Fatalf("one key queued twice: %s, %s", one.ID, two.ID)
		}
		got, err := f.s.Message(f.ctx, m.ID)
		must(t, err)
		if got.Text != "Text" || got.Target != "a@example.com" || got.Kind != "test.direct" || got.BuildingID != f.building.ID {
			t.Fatalf("stored %+v", got)
		}
		for _, bad := range []*doorman.Message{
			mail(f.building.ID, "not an address", "k", ""),
			{Channel: "pigeon", Target: "x", Kind: "k"},
			mail(f.building.ID, "a@example.com", "", ""),
			{Channel: doorman.ChannelEmail, Target: "a@example.com", Kind: "k", Text: string(make([]byte, doorman.MaxMessageBody+1))},
		} {
			wantCode(t, f.s.EnqueueMessage(f.ctx, bad), doorman.EINVALID)
		}
		_, err = f.s.Message(f.ctx, doorman.NewID(doorman.PrefixMessage))
		wantCode(t, err, doorman.ENOTFOUND)
	})

	t.Run("Produce", func(t *testing.T) {
		b := f.newBuilding(t, "Cursor House") // a chain made after the migration starts at 0
		chain := findChain(t, f, b.ID)
		if chain.Cursor != 0 || chain.LastSeq < 1 {
			t.Fatalf("new chain %+v", chain)
		}
		entries, err := f.s.EntriesAfter(f.ctx, b.ID, 0, 500)
		must(t, err)
		if int64(len(entries)) != chain.LastSeq || entries[0].Seq != 1 {
			t.Fatalf("entries %d, chain %+v", len(entries), chain)
		}
		msgs := []*doorman.Message{mail(b.ID, "r@example.com", "test.produced", entries[0].ID), mail(b.ID, "s@example.com", "test.produced", entries[0].ID)}
		must(t, f.s.ProduceMessages(f.ctx, b.ID, 0, chain.LastSeq, msgs))
		if msgs[0].ID == "" || msgs[1].ID == "" {
			t.Fatalf("produced %+v", msgs)
		}
		if c := findChain(t, f, b.ID); c.Chain != "" {
			t.Fatalf("a chain at its end is listed: %+v", c)
		}
		// A second node producing the same entries from the old cursor is
		// refused whole: its messages are not queued, the cursor stays.
		late := []*doorman.Message{mail(b.ID, "late@example.com", "test.produced", entries[0].ID)}
		wantCode(t, f.s.ProduceMessages(f.ctx, b.ID, 0, chain.LastSeq, late), doorman.ECONFLICT)
		if late[0].ID != "" || countTo(t, f, b.ID, "late@example.com") != 0 {
			t.Fatal("a refused production queued its message")
		}
		// Producing an entry again (a crash between send and cursor, say)
		// queues nothing twice.
		_, err = f.s.UpdateBuilding(f.ctx, b.ID, doorman.BuildingUpdate{Name: ptr("Cursor House 2")})
		must(t, err)
		c := findChain(t, f, b.ID)
		if c.Cursor != chain.LastSeq || c.LastSeq != chain.LastSeq+1 {
			t.Fatalf("after a new entry %+v (was %+v)", c, chain)
		}
		dup := []*doorman.Message{mail(b.ID, "r@example.com", "test.produced", entries[0].ID)}
		must(t, f.s.ProduceMessages(f.ctx, b.ID, c.Cursor, c.LastSeq, dup))
		if n := countTo(t, f, b.ID, "r@example.com"); n != 1 {
			t.Fatalf("an entry's message queued %d times", n)
		}
		wantCode(t, f.s.ProduceMessages(f.ctx, b.ID, c.LastSeq, c.LastSeq-1, nil), doorman.EINVALID)
		wantCode(t, f.s.ProduceMessages(f.ctx, b.ID, c.LastSeq, c.LastSeq, []*doorman.Message{{Channel: "x"}}), doorman.EINVALID)
	})

	t.Run("ClaimAndRetry", func(t *testing.T) {
		g := newFixture(t, open) // a database of its own: claims take what is due anywhere
		a, b := mail(g.building.ID, "a@example.com", "test.claim", ""), mail(g.building.ID, "b@example.com", "test.claim", "")
		must(t, g.s.EnqueueMessage(g.ctx, a))
		must(t, g.s.EnqueueMessage(g.ctx, b))
		at := a.CreatedAt.Add(time.Second)
		got, err := g.s.ClaimMessages(g.ctx, at, time.Minute, 10)
		must(t, err)
		if len(got) != 2 || got[0].ID != a.ID || got[0].Attempts != 1 || got[1].Attempts != 1 {
			t.Fatalf("claimed %+v", got)
		}
		if again, err := g.s.ClaimMessages(g.ctx, at.Add(59*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
			t.Fatalf("claimed twice within the lease: %d %v", len(again), err)
		}
		// A worker that died: after the lease another claims the message.
		got, err = g.s.ClaimMessages(g.ctx, at.Add(time.Minute), time.Minute, 1)
		must(t, err)
		if len(got) != 1 || got[0].ID != a.ID || got[0].Attempts != 2 {
			t.Fatalf("after the lease %+v", got)
		}
		next := at.Add(time.Hour)
		must(t, g.s.MarkMessageFailed(g.ctx, a.ID, "connection refused", &next))
		must(t, g.s.MarkMessageSent(g.ctx, b.ID, at, true))
		if got, _ := g.s.ClaimMessages(g.ctx, next.Add(-time.Second), time.Minute, 10); len(got) != 0 {
			t.Fatalf("claimed before its retry is due: %+v", got)
		}
		sent, err := g.s.Message(g.ctx, b.ID)
		must(t, err)
		if sent.Status != doorman.MessageSent || sent.SentAt == nil || !sent.SentAt.Equal(at) || sent.Text != "" {
			t.Fatalf("sent %+v", sent)
		}
		got, err = g.s.ClaimMessages(g.ctx, next, time.Minute, 10)
		must(t, err)
		if len(got) != 1 || got[0].Attempts != 3 || got[0].LastError != "connection refused" {
			t.Fatalf("retry %+v", got)
		}
		must(t, g.s.MarkMessageFailed(g.ctx, a.ID, "550 no such user", nil))
		dead, err := g.s.Message(g.ctx, a.ID)
		must(t, err)
		if dead.Status != doorman.MessageDead || dead.LastError != "550 no such user" {
			t.Fatalf("dead %+v", dead)
		}
		if got, _ := g.s.ClaimMessages(g.ctx, next.Add(24*time.Hour), time.Minute, 10); len(got) != 0 {
			t.Fatalf("a dead message claimed: %+v", got)
		}
		wantCode(t, g.s.RetryMessage(g.ctx, b.ID, next), doorman.ECONFLICT)
		wantCode(t, g.s.RetryMessage(g.ctx, doorman.NewID(doorman.PrefixMessage), next), doorman.ENOTFOUND)
		must(t, g.s.RetryMessage(g.ctx, a.ID, next))
		got, err = g.s.ClaimMessages(g.ctx, next, time.Minute, 10)
		must(t, err)
		if len(got) != 1 || got[0].ID != a.ID || got[0].Attempts != 1 {
			t.Fatalf("retried by hand %+v", got)
		}
		wantCode(t, g.s.MarkMessageFailed(g.ctx, doorman.NewID(doorman.PrefixMessage), "x", nil), doorman.ENOTFOUND)
		wantCode(t, g.s.MarkMessageSent(g.ctx, doorman.NewID(doorman.PrefixMessage), next, false), doorman.ENOTFOUND)
		_, err = g.s.ClaimMessages(g.ctx, next, 0, 10)
		wantCode(t, err, doorman.EINVALID)
	})

	t.Run("List", func(t *testing.T) {
		b := f.newBuilding(t, "List House")
		var ids []string
		for i := range 3 {
			m := mail(b.ID, fmt.Sprintf("l%d@example.com", i), "test.list", "")
			must(t, f.s.EnqueueMessage(f.ctx, m))
			ids = append(ids, m.ID)
		}
		hook := &doorman.Message{Channel: doorman.ChannelWebhook, BuildingID: b.ID, Target: "whk_1", Kind: "test.list", Payload: []byte(`{"a":1}`)}
		must(t, f.s.EnqueueMessage(f.ctx, hook))
		list, next, err := f.s.ListMessages(f.ctx, doorman.MessageFilter{BuildingID: b.ID, Channel: doorman.ChannelEmail}, doorman.Page{Limit: 2})
		must(t, err)
		if len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] || next == "" {
			t.Fatalf("first page %d %q", len(list), next)
		}
		list, next, err = f.s.ListMessages(f.ctx, doorman.MessageFilter{BuildingID: b.ID, Channel: doorman.ChannelEmail}, doorman.Page{After: next, Limit: 2})
		must(t, err)
		if len(list) != 1 || list[0].ID != ids[0] || next != "" {
			t.Fatalf("second page %+v %q", list, next)
		}
		list, _, err = f.s.ListMessages(f.ctx, doorman.MessageFilter{BuildingID: b.ID, Channel: doorman.ChannelWebhook, Status: doorman.MessageQueued}, doorman.Page{})
		must(t, err)
		if len(list) != 1 || string(list[0].Payload) != `{"a":1}` {
			t.Fatalf("webhooks %+v", list)
		}
		_, _, err = f.s.ListMessages(f.ctx, doorman.MessageFilter{}, doorman.Page{After: "bogus"})
		wantCode(t, err, doorman.EINVALID)
	})

	t.Run("ScrubBefore", func(t *testing.T) {
		b := f.newBuilding(t, "Scrub House")
		other := f.newBuilding(t, "Scrub Other")
		sent := mail(b.ID, "sent@example.com", "test.scrub", "")
		queued := mail(b.ID, "queued@example.com", "test.scrub", "")
		elsewhere := mail(other.ID, "other@example.com", "test.scrub", "")
		for _, m := range []*doorman.Message{sent, queued, elsewhere} {
			m.Subject, m.Text, m.HTML = "Hello", "text", "<p>html</p>"
			must(t, f.s.EnqueueMessage(f.ctx, m))
		}
		must(t, f.s.MarkMessageSent(f.ctx, sent.ID, time.Now(), false))
		must(t, f.s.MarkMessageSent(f.ctx, elsewhere.ID, time.Now(), false))
		n, err := f.s.ScrubMessagesBefore(f.ctx, b.ID, time.Now().Add(time.Minute))
		must(t, err)
		equal(t, "messages scrubbed", n, 1)
		got, err := f.s.Message(f.ctx, sent.ID)
		must(t, err)
		if got.Subject != "" || got.Text != "" || got.HTML != "" || got.Payload != nil || got.Status != doorman.MessageSent || got.Target != "sent@example.com" {
			t.Fatalf("scrubbed message: %+v", got)
		}
		for _, m := range []*doorman.Message{queued, elsewhere} {
			got, err := f.s.Message(f.ctx, m.ID)
			must(t, err)
			if got.Text != "text" || got.HTML != "<p>html</p>" {
				t.Fatalf("a queued message or another building's was scrubbed: %+v", got)
			}
		}
		n, err = f.s.ScrubMessagesBefore(f.ctx, b.ID, time.Now().Add(time.Minute))
		must(t, err)
		equal(t, "scrubbing again", n, 0)
		n, err = f.s.ScrubMessagesBefore(f.ctx, other.ID, time.Now().Add(-time.Hour))
		must(t, err)
		equal(t, "messages newer than the cut-off", n, 0)
	})

	t.Run("LanguageAndKey", func(t *testing.T) {
		r := &doorman.Resident{BuildingID: f.building.ID, UnitID: f.unit.ID, Name: "Lu", Email: "lu@example.com"}
		must(t, f.s.CreateResident(f.ctx, r))
		lang, err := f.s.ResidentLanguage(f.ctx, r.ID)
		must(t, err)
		if lang != doorman.LanguageDefault {
			t.Fatalf("default language %q", lang)
		}
		must(t, f.s.SetResidentLanguage(f.ctx, r.ID, "es"))
		if lang, _ = f.s.ResidentLanguage(f.ctx, r.ID); lang != "es" {
			t.Fatalf("language %q", lang)
		}
		wantCode(t, f.s.SetResidentLanguage(f.ctx, r.ID, "<script>"), doorman.EINVALID)
		wantCode(t, f.s.SetResidentLanguage(f.ctx, doorman.NewID(doorman.PrefixResident), "es"), doorman.ENOTFOUND)
		_, err = f.s.ResidentLanguage(f.ctx, doorman.NewID(doorman.PrefixResident))
		wantCode(t, err, doorman.ENOTFOUND)
		key, err := f.s.OutboxKey(f.ctx, "unsubscribe")
		must(t, err)
		if len(key) < 64 {
			t.Fatalf("unsubscribe key of %d bytes", len(key))
		}
		_, err = f.s.OutboxKey(f.ctx, "nope")
		wantCode(t, err, doorman.ENOTFOUND)
		// A resident's messages go with them.
		m := mail(f.building.ID, r.Email, "test.resident", "")
		m.ResidentID = r.ID
		must(t, f.s.EnqueueMessage(f.ctx, m))
		must(t, f.s.EraseResident(f.ctx, f.building.ID, r.ID))
		_, err = f.s.Message(f.ctx, m.ID)
		wantCode(t, err, doorman.ENOTFOUND)
		// A message to a resident who is gone: refused when direct, left
		// out when produced, and the cursor moves on all the same.
		wantCode(t, f.s.EnqueueMessage(f.ctx, m), doorman.ENOTFOUND)
		c := findChain(t, f, f.building.ID)
		gone := mail(f.building.ID, r.Email, "test.gone", doorman.NewID(doorman.PrefixAudit))
		gone.ResidentID = r.ID
		must(t, f.s.ProduceMessages(f.ctx, c.Chain, c.Cursor, c.LastSeq, []*doorman.Message{gone}))
		if gone.ID != "" || findChain(t, f, f.building.ID).Chain != "" {
			t.Fatalf("a message to a resident who is gone: %+v", gone)
		}
	})
}

// findChain returns the chain's place in OutboxChains, or a zero one when
// it is not listed (at its end).
func findChain(t *testing.T, f *fixture, chain string) doorman.OutboxChain {
	t.Helper()
	chains, err := f.s.OutboxChains(f.ctx)
	must(t, err)
	for _, c := range chains {
		if c.Chain == chain {
			return c
		}
	}
	return doorman.OutboxChain{}
}

func countTo(t *testing.T, f *fixture, buildingID, to string) int {
	t.Helper()
	list, _, err := f.s.ListMessages(f.ctx, doorman.MessageFilter{BuildingID: buildingID}, doorman.Page{Limit: 500})
	must(t, err)
	n := 0
	for _, m := range list {
		if m.Target == to {
			n++
		}
	}
	return n
}

// testOutboxClaimShared: workers claiming through two stores on one
// database (two nodes) never claim one message twice within its lease.
func testOutboxClaimShared(t *testing.T, open SharedOpener) {
	a, b, db := open(t)
	f := newFixtureOn(t, a, db)
	const total = 200
	for i := range total {
		must(t, f.s.EnqueueMessage(f.ctx, mail(f.building.ID, fmt.Sprintf("n%d@example.com", i), "test.shared", "")))
	}
	at := time.Now().Add(time.Second)
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 8 {
		s := []doorman.Store{a, b}[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimMessages(f.ctx, at, time.Hour, 7)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					claimed[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(claimed) != total {
		t.Fatalf("%d of %d messages claimed", len(claimed), total)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Fatalf("%s claimed %d times", id, n)
		}
	}
}
