package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// batching returns the store's batching hooks, or skips the test.
func batching(t *testing.T, s doorman.Store) Batching {
	b, ok := s.(Batching)
	if !ok {
		t.Skipf("%T does not offer batching hooks", s)
	}
	return b
}

// waitPending waits until n writes are queued behind a held writer. It
// waits for a state, not for a time: it gives up only after a minute.
func waitPending(t *testing.T, b Batching, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for b.PendingWrites() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", b.PendingWrites(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func testGroupCommit(t *testing.T, open Opener) {
	t.Run("SharedCommit", func(t *testing.T) {
		f := newFixture(t, open)
		b := batching(t, f.s)
		ps := f.newParcels(t, "TRK-1")
		const n = 50
		release := b.HoldWrites()
		before := b.BatchStats()
		errs := make(chan error, n)
		recs := make([]*doorman.AccessRecord, n)
		for i := range n {
			recs[i] = f.grant(ps, time.Now())
			go func() {
				_, err := f.s.RecordAccess(f.ctx, recs[i])
				errs <- err
			}()
		}
		waitPending(t, b, n)
		release()
		for range n {
			must(t, <-errs)
		}
		after := b.BatchStats()
		if w, c := after.Writes-before.Writes, after.Commits-before.Commits; w != n || c != 1 {
			t.Fatalf("%d held writes took %d writes in %d commits, want %d in 1", n, w, c, n)
		}
		for _, rec := range recs {
			_, err := f.s.Grant(f.ctx, rec.Grant.ID)
			must(t, err)
		}
		f.verifyClean(t)
	})

	t.Run("FailedWriteSparesBatch", func(t *testing.T) {
		f := newFixture(t, open)
		b := batching(t, f.s)
		const n = 10
		release := b.HoldWrites()
		before := b.BatchStats()
		errs := make(chan error, n)
		for i := range n {
			name := fmt.Sprintf("Carrier %d", i)
			if i == 4 || i == 7 {
				name = f.carrier.Name // taken: these writes fail
			}
			go func() { errs <- f.s.CreateCarrier(f.ctx, &doorman.Carrier{Name: name}) }()
		}
		waitPending(t, b, n)
		release()
		conflicts := 0
		for range n {
			err := <-errs
			if doorman.ErrorCode(err) == doorman.ECONFLICT {
				conflicts++
			} else {
				must(t, err)
			}
		}
		after := b.BatchStats()
		if conflicts != 2 || after.Writes-before.Writes != n-2 || after.Commits-before.Commits != 1 {
			t.Fatalf("%d conflicts, %d writes, %d commits; want 2, %d, 1",
				conflicts, after.Writes-before.Writes, after.Commits-before.Commits, n-2)
		}
		list, _, err := f.s.ListCarriers(f.ctx, doorman.Page{})
		must(t, err)
		equal(t, "carriers", len(list), n-1) // the fixture's and n-2 new ones
		// The failed writes appended no audit entry; the chain is whole.
		f.verifyClean(t)
		if got := len(f.audit(t, doorman.AuditFilter{Chain: doorman.PlatformChain})); got != n-1 {
			t.Fatalf("platform chain has %d entries, want %d", got, n-1)
		}
	})

	t.Run("CancelledBeforeQueued", func(t *testing.T) {
		f := newFixture(t, open)
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		err := f.s.CreateCarrier(ctx, &doorman.Carrier{Name: "Ghost"})
		if err == nil {
			t.Fatal("a write with a cancelled context succeeded")
		}
		f.wantNoCarrier(t, "Ghost")
	})

	t.Run("CancelledWhileQueued", func(t *testing.T) {
		f := newFixture(t, open)
		b := batching(t, f.s)
		ctx, cancel := context.WithCancel(f.ctx)
		release := b.HoldWrites()
		errs := make(chan error, 1)
		go func() { errs <- f.s.CreateCarrier(ctx, &doorman.Carrier{Name: "Ghost"}) }()
		waitPending(t, b, 1)
		cancel()
		err := <-errs // a queued write withdraws at once, while the writer is held
		release()
		if err == nil {
			t.Fatal("a write cancelled while queued reported success")
		}
		// Once the writer has moved on, nothing of it is there.
		must(t, f.s.CreateCarrier(f.ctx, &doorman.Carrier{Name: "Barrier"}))
		f.wantNoCarrier(t, "Ghost")
		f.verifyClean(t)
	})
}

// wantNoCarrier fails if a carrier of that name exists, or an audit entry
// mentions it.
func (f *fixture) wantNoCarrier(t *testing.T, name string) {
	t.Helper()
	list, _, err := f.s.ListCarriers(f.ctx, doorman.Page{Limit: doorman.MaxPageLimit})
	must(t, err)
	for _, c := range list {
		if c.Name == name {
			t.Fatalf("carrier %q was written", name)
		}
	}
	for _, e := range f.audit(t, doorman.AuditFilter{Chain: doorman.PlatformChain}) {
		if e.Detail == name {
			t.Fatalf("audit entry for carrier %q was written: %+v", name, e)
		}
	}
}
