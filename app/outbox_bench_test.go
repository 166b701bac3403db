package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/sqlite"
)

// nullSender takes every message at once.
type nullSender struct{}

func (nullSender) Channel() string                                    { return doorman.ChannelEmail }
func (nullSender) Send(ctx context.Context, m *doorman.Message) error { return nil }

// BenchmarkOutboxDelivery measures messages/s through the whole outbox on
// SQLite: the dispatcher producing 10 messages from each audit entry,
// then the worker claiming, "sending" (to a sender that takes them at
// once) and marking them sent.
func BenchmarkOutboxDelivery(b *testing.B) {
	ctx := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "doorman.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	building := &doorman.Building{Name: "Bench", Address: "1 Road", Timezone: "UTC"}
	if err := store.CreateBuilding(ctx, building); err != nil {
		b.Fatal(err)
	}
	const perEntry = 10
	o := app.NewOutbox(store, func() time.Time { return time.Now().Add(time.Minute) }, nil)
	o.RegisterSender(nullSender{})
	o.RegisterProducer(func(ctx context.Context, e *doorman.AuditEntry) ([]*doorman.Message, error) {
		if e.Action != doorman.ActionBuildingUpdated {
			return nil, nil
		}
		var msgs []*doorman.Message
		for i := range perEntry {
			msgs = append(msgs, &doorman.Message{Channel: doorman.ChannelEmail, Target: fmt.Sprintf("r%d@example.org", i),
				Kind: "bench.notice", Subject: "Hi", Text: "Body"})
		}
		return msgs, nil
	})
	entries := (b.N + perEntry - 1) / perEntry
	for i := range entries {
		name := fmt.Sprintf("Bench %d", i)
		if _, err := store.UpdateBuilding(ctx, building.ID, doorman.BuildingUpdate{Name: &name}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	produced, delivered := 0, 0
	for {
		n, err := o.Dispatch(ctx)
		if err != nil {
			b.Fatal(err)
		}
		produced += n
		if n == 0 {
			break
		}
	}
	for {
		n, err := o.Deliver(ctx)
		if err != nil {
			b.Fatal(err)
		}
		delivered += n
		if n == 0 {
			break
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if produced != entries*perEntry || delivered != produced {
		b.Fatalf("produced %d, delivered %d, want %d", produced, delivered, entries*perEntry)
	}
	b.ReportMetric(float64(delivered)/elapsed.Seconds(), "msgs/s")
}
