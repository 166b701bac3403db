package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// Bench measures RecordAccess committing grants one caller at a time
// (Serial: every grant waits for its own durable commit) and from many
// concurrent callers (Parallel: grants share commits), and reports grants
// per second. Each sub-benchmark gets a fresh store from open.
func Bench(b *testing.B, open func(b *testing.B) doorman.Store) {
	setup := func(b *testing.B) (doorman.Store, func() *doorman.AccessRecord) {
		s := open(b)
		f := &fixture{s: s, ctx: operator()}
		mustB := func(err error) {
			if err != nil {
				b.Fatal(err)
			}
		}
		bld := &doorman.Building{Name: "Bench", Address: "1 Bench St", Timezone: "UTC"}
		mustB(s.CreateBuilding(f.ctx, bld))
		mustB(s.CreateUnits(f.ctx, []*doorman.Unit{{BuildingID: bld.ID, Label: "1A"}}))
		door := &doorman.Door{BuildingID: bld.ID, Name: "Front"}
		mustB(s.CreateDoor(f.ctx, door))
		car := &doorman.Carrier{Name: "Bench Carrier"}
		mustB(s.CreateCarrier(f.ctx, car))
		mustB(s.AllowCarrier(f.ctx, bld.ID, car.ID))
		cou := &doorman.Courier{CarrierID: car.ID, ExternalID: "c1", Name: "C", Status: doorman.CourierActive}
		_, err := s.UpsertCourier(f.ctx, cou)
		mustB(err)
		res, err := s.UpsertParcels(f.ctx, car.ID, []doorman.ParcelInput{{TrackingNumber: "BENCH-1",
			BuildingID: bld.ID, UnitLabel: "1A", CourierExternalID: "c1", Status: doorman.ParcelOutForDelivery}})
		mustB(err)
		parcel := res[0].Parcel.ID
		return s, func() *doorman.AccessRecord {
			now := time.Now()
			return &doorman.AccessRecord{Decision: doorman.Allow(), BuildingID: bld.ID, DoorID: door.ID,
				CarrierID: car.ID, CourierID: cou.ID, ParcelIDs: []string{parcel}, At: now,
				Grant: &doorman.Grant{ParcelIDs: []string{parcel}, IssuedAt: now, ExpiresAt: now.Add(doorman.GrantTTL)}}
		}
	}
	// report gives grants per second and, for a batching store, how many
	// writes shared each commit.
	report := func(b *testing.B, s doorman.Store, before *BatchStats) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
		if bs, ok := s.(Batching); ok && before != nil {
			after := bs.BatchStats()
			if c := after.Commits - before.Commits; c > 0 {
				b.ReportMetric(float64(after.Writes-before.Writes)/float64(c), "writes/commit")
			}
		}
	}
	stats := func(s doorman.Store) *BatchStats {
		if bs, ok := s.(Batching); ok {
			st := bs.BatchStats()
			return &st
		}
		return nil
	}

	b.Run("Serial", func(b *testing.B) {
		s, rec := setup(b)
		ctx := operator()
		before := stats(s)
		for b.Loop() {
			if _, err := s.RecordAccess(ctx, rec()); err != nil {
				b.Fatal(err)
			}
		}
		report(b, s, before)
	})
	for _, par := range []int{8, 64} {
		b.Run(fmt.Sprintf("Parallel%d", par), func(b *testing.B) {
			s, rec := setup(b)
			ctx := operator()
			b.SetParallelism(par) // goroutines per GOMAXPROCS
			before := stats(s)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.RecordAccess(ctx, rec()); err != nil {
						b.Error(err)
						return
					}
				}
			})
			report(b, s, before)
		})
	}
}
