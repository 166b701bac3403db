package access_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman/access"
)

// BenchmarkRequestAccess measures a granted access request through the
// service, without a door link: the reads, the decision and the durable
// commit of grant and audit entry with the default rate limits checked.
// The service's clock moves 7 s per request, so the courier stays under
// its limit of 10 a minute and every request is granted.
func BenchmarkRequestAccess(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	until := time.Now().Add(100 * 365 * 24 * time.Hour) // the clock runs ahead
	f.courier.BackgroundCheckVerifiedUntil = &until
	if _, err := f.store.UpsertCourier(ctx, f.courier); err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(7 * time.Second)
		return now
	}
	svc := access.NewService(f.store, access.WithClock(clock))
	req := f.request(f.parcel)
	for b.Loop() {
		res, err := svc.RequestAccess(f.ctx(), req)
		if err != nil {
			b.Fatal(err)
		} else if !res.Decision.Allowed {
			b.Fatalf("denied: %+v", res.Decision)
		}
	}
}
