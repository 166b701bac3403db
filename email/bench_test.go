package email_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/internal/mailpit"
	"github.com/doorman-dev/doorman/sqlite"
)

// BenchmarkOutboxDeliveryMailpit measures messages/s from the outbox on
// SQLite over real SMTP to mailpit (one connection per message, 8 at
// once). It skips without mailpit.
func BenchmarkOutboxDeliveryMailpit(b *testing.B) {
	mp := mailpit.Start(b)
	ctx := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "doorman.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	s, err := newSender(mp.SMTP)
	if err != nil {
		b.Fatal(err)
	}
	o := app.NewOutbox(store, func() time.Time { return time.Now().Add(time.Minute) }, nil)
	o.RegisterSender(s)
	for i := range b.N {
		m := &doorman.Message{Channel: doorman.ChannelEmail, Target: fmt.Sprintf("r%d@example.org", i), Kind: "bench.notice", Subject: "Hi", Text: "Body"}
		if err := store.EnqueueMessage(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	delivered := 0
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
	if delivered != b.N {
		b.Fatalf("delivered %d of %d", delivered, b.N)
	}
	b.ReportMetric(float64(delivered)/elapsed.Seconds(), "msgs/s")
}
