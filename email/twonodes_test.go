package email_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/email"
	"github.com/doorman-dev/doorman/internal/mailpit"
	"github.com/doorman-dev/doorman/internal/pgtest"
	"github.com/doorman-dev/doorman/postgres"
)

// counting counts what one node sent.
type counting struct {
	*email.Sender
	n atomic.Int64
}

func (c *counting) Send(ctx context.Context, m *doorman.Message) error {
	err := c.Sender.Send(ctx, m)
	if err == nil {
		c.n.Add(1)
	}
	return err
}

// TestTwoNodesOnPostgreSQL: two outbox workers over two stores on one
// PostgreSQL database (two control-plane nodes) deliver each message
// once: the receiver counts one email per message.
func TestTwoNodesOnPostgreSQL(t *testing.T) {
	dsn := pgtest.Schema(t)
	mp := mailpit.Start(t)
	var stores []*postgres.Store
	for range 2 {
		s, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	const total = 200
	for i := range total {
		m := &doorman.Message{Channel: doorman.ChannelEmail, Target: fmt.Sprintf("n%d@example.org", i), Kind: "test.nodes", Subject: "Hi", Text: "Body"}
		if err := stores[i%2].EnqueueMessage(sys, m); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(sys)
	var wg sync.WaitGroup
	var senders []*counting
	for _, s := range stores {
		o := app.NewOutbox(s, nil, nil)
		o.Configure(app.OutboxSettings{Interval: 20 * time.Millisecond, Batch: 10}, nil)
		c := &counting{Sender: sender(t, mp.SMTP, "en")}
		senders = append(senders, c)
		o.RegisterSender(c)
		wg.Add(1)
		go func() { defer wg.Done(); o.Run(ctx) }()
	}
	waitFor(t, mp, total)
	time.Sleep(500 * time.Millisecond) // a second send of any message would land by now
	cancel()
	wg.Wait()
	list, err := mp.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, m := range list {
		seen[m.MessageID]++
	}
	if len(list) != total || len(seen) != total {
		t.Fatalf("the receiver got %d emails for %d messages (%d distinct)", len(list), total, len(seen))
	}
	a, b := senders[0].n.Load(), senders[1].n.Load()
	t.Logf("node A sent %d, node B %d", a, b)
	if a+b != total {
		t.Errorf("nodes sent %d and %d of %d", a, b, total)
	}
}
