package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// Bench couriers and doors: requests are spread over them so that, with
// benchStep between requests, none reaches the default rate limits
// (one courier's requests are benchCouriers × benchStep apart, 25.6 s,
// and one door's grants benchDoors × benchStep apart, 1.6 s).
const (
	benchCouriers = 256
	benchDoors    = 16
	benchStep     = 100 * time.Millisecond
)

// Bench measures RecordAccess committing grants, with the default rate
// limits checked as access.Service asks for them, one caller at a time
// (Serial: every grant waits for its own durable commit) and from many
// concurrent callers (Parallel: grants share commits), and reports grants
// per second. The grants go round-robin to many couriers and doors at
// times benchStep apart, so every limit is checked and none is reached.
// Each sub-benchmark gets a fresh store from open.
func Bench(b *testing.B, open func(b *testing.B) doorman.Store) {
	b.Run("Serial", func(b *testing.B) {
		s, rec := benchSetup(b, open)
		before := benchStats(s)
		for b.Loop() {
			if _, err := s.RecordAccess(operator(), rec()); err != nil {
				b.Fatal(err)
			}
		}
		benchReport(b, s, before)
	})
	for _, par := range []int{8, 64} {
		b.Run(fmt.Sprintf("Parallel%d", par), func(b *testing.B) {
			s, rec := benchSetup(b, open)
			ctx := operator()
			b.SetParallelism(par) // goroutines per GOMAXPROCS
			before := benchStats(s)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.RecordAccess(ctx, rec()); err != nil {
						b.Error(err)
						return
					}
				}
			})
			benchReport(b, s, before)
		})
	}
}

// benchSetup makes a store with a building of benchDoors doors, a carrier
// with benchCouriers couriers and one parcel, and returns it with a
// function that makes the next grant's record, safe for concurrent use.
func benchSetup(b *testing.B, open func(b *testing.B) doorman.Store) (doorman.Store, func() *doorman.AccessRecord) {
	b.Helper()
	s := open(b)
	f := &fixture{s: s, ctx: operator()}
	mustB := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	bld := &doorman.Building{Name: "Bench", Address: "1 Bench St", Timezone: "UTC"}
	mustB(s.CreateBuilding(f.ctx, bld))
	mustB(s.CreateUnits(f.ctx, []*doorman.Unit{{BuildingID: bld.ID, Label: "1A"}}))
	car := &doorman.Carrier{Name: "Bench Carrier"}
	mustB(s.CreateCarrier(f.ctx, car))
	mustB(s.AllowCarrier(f.ctx, bld.ID, car.ID))

	// Created concurrently, so that the setup shares commits too.
	doors := make([]*doorman.Door, benchDoors)
	couriers := make([]*doorman.Courier, benchCouriers)
	errs := make(chan error, benchDoors+benchCouriers)
	var wg sync.WaitGroup
	for i := range doors {
		wg.Go(func() {
			doors[i] = &doorman.Door{BuildingID: bld.ID, Name: fmt.Sprintf("Door %d", i)}
			errs <- s.CreateDoor(f.ctx, doors[i])
		})
	}
	for i := range couriers {
		wg.Go(func() {
			couriers[i] = &doorman.Courier{CarrierID: car.ID, ExternalID: fmt.Sprintf("c%d", i), Name: "C", Status: doorman.CourierActive}
			_, err := s.UpsertCourier(f.ctx, couriers[i])
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		mustB(err)
	}
	res, err := s.UpsertParcels(f.ctx, car.ID, []doorman.ParcelInput{{TrackingNumber: "BENCH-1",
		BuildingID: bld.ID, UnitLabel: "1A", CourierExternalID: "c0", Status: doorman.ParcelOutForDelivery}})
	mustB(err)
	parcel := res[0].Parcel.ID

	start := time.Now()
	var seq atomic.Int64
	return s, func() *doorman.AccessRecord {
		i := seq.Add(1) - 1
		at := start.Add(time.Duration(i) * benchStep)
		door, courier := doors[i%benchDoors], couriers[i%benchCouriers]
		return &doorman.AccessRecord{Decision: doorman.Allow(), BuildingID: bld.ID, DoorID: door.ID,
			CarrierID: car.ID, CourierID: courier.ID, ParcelIDs: []string{parcel}, At: at,
			CourierLimit: doorman.CourierRateLimit, DoorLimit: doorman.DoorRateLimit,
			Grant: &doorman.Grant{ParcelIDs: []string{parcel}, IssuedAt: at, ExpiresAt: at.Add(doorman.GrantTTL)}}
	}
}

// benchStats returns a batching store's group-commit counters, or nil.
func benchStats(s doorman.Store) *BatchStats {
	if bs, ok := s.(Batching); ok {
		st := bs.BatchStats()
		return &st
	}
	return nil
}

// benchReport gives grants per second and, for a batching store, how many
// writes shared each commit.
func benchReport(b *testing.B, s doorman.Store, before *BatchStats) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
	if bs, ok := s.(Batching); ok && before != nil {
		after := bs.BatchStats()
		if c := after.Commits - before.Commits; c > 0 {
			b.ReportMetric(float64(after.Writes-before.Writes)/float64(c), "writes/commit")
		}
	}
}

// BenchReads measures the reads of one access request as access.Service
// makes them (courier, door, the carrier's allowance, building, parcels
// and returns by tracking number), and the grant's re-read before an
// unlock, from concurrent callers. Nothing is written while it runs, so
// it shows the cost of the SQL itself without the commit's fsync.
func BenchReads(b *testing.B, open func(b *testing.B) doorman.Store) {
	s, rec := benchSetup(b, open)
	ctx := operator()
	r := rec()
	if _, err := s.RecordAccess(ctx, r); err != nil {
		b.Fatal(err)
	}
	courier, err := s.Courier(ctx, r.CourierID)
	if err != nil {
		b.Fatal(err)
	}
	tracking := []string{"BENCH-1"}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := benchRead(ctx, s, r, courier, tracking); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchRead makes the reads of one access request.
func benchRead(ctx context.Context, s doorman.Store, r *doorman.AccessRecord, courier *doorman.Courier, tracking []string) error {
	if _, err := s.Courier(ctx, courier.ID); err != nil {
		return err
	}
	door, err := s.Door(ctx, r.DoorID)
	if err != nil {
		return err
	}
	if _, err := s.CarrierAllowance(ctx, door.BuildingID, courier.CarrierID); err != nil {
		return err
	}
	if _, err := s.Building(ctx, door.BuildingID); err != nil {
		return err
	}
	if ps, err := s.ParcelsByTracking(ctx, tracking); err != nil {
		return err
	} else if len(ps) != 1 {
		return fmt.Errorf("%d parcels by tracking number, want 1", len(ps))
	}
	if _, err := s.ReturnsByTracking(ctx, tracking); err != nil {
		return err
	}
	_, err = s.Grant(ctx, r.Grant.ID)
	return err
}
