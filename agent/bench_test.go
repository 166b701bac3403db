package agent_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/doorman-dev/doorman/wire"
)

// BenchmarkUnlockRoundTrip measures one unlock end to end on loopback:
// sign → NATS request (TLS) → device verifies (with an fsynced replay
// record) → sim pulse → ack back. It reports p50 and p99 latency.
func BenchmarkUnlockRoundTrip(b *testing.B) {
	e := MustEnv(b)
	e.WaitSynced(b)
	// Warm up until the agent answers.
	if _, err := e.Unlock(b, e.Sign(b, "gnt_warm")); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		tok, _, err := e.Signer.SignUnlock(wire.Unlock{DoorID: e.DoorID, GrantID: "gnt_bench"})
		if err != nil {
			b.Fatal(err)
		}
		ack, err := e.Bus.SendUnlock(ctx, e.DoorID, tok, 0)
		if err != nil || !ack.Executed() {
			b.Fatalf("unlock %d: %+v %v", i, ack, err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
