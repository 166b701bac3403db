package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/doorman-dev/doorman"
)

func testParcels(t *testing.T, open Opener) {
	t.Run("Lookups", func(t *testing.T) {
		f := newFixture(t, open)
		ps := f.newParcels(t, "TRK-1", "TRK-2")
		got, err := f.s.Parcel(f.ctx, ps[0].ID)
		must(t, err)
		equal(t, "Parcel", got, ps[0])
		got, err = f.s.ParcelByTracking(f.ctx, f.carrier.ID, "TRK-2")
		must(t, err)
		equal(t, "ParcelByTracking", got, ps[1])
		_, err = f.s.Parcel(f.ctx, doorman.NewID(doorman.PrefixParcel))
		wantCode(t, err, doorman.ENOTFOUND)

		// Another carrier may use the same tracking number.
		other := f.newCarrier(t, "Slowpost")
		must(t, f.s.AllowCarrier(f.ctx, f.building.ID, other.ID))
		res, err := f.s.UpsertParcels(f.ctx, other.ID, []doorman.ParcelInput{{TrackingNumber: "TRK-1",
			BuildingID: f.building.ID, UnitLabel: "4B"}})
		must(t, err)
		theirs := res[0].Parcel
		_, err = f.s.ParcelByTracking(f.ctx, other.ID, "TRK-2")
		wantCode(t, err, doorman.ENOTFOUND)

		// Tracking numbers are data, never SQL or patterns.
		odd := `x'OR'1'='1--"%_\`
		res, err = f.s.UpsertParcels(f.ctx, f.carrier.ID, []doorman.ParcelInput{{TrackingNumber: odd,
			BuildingID: f.building.ID, UnitLabel: "4B"}})
		must(t, err)
		got, err = f.s.ParcelByTracking(f.ctx, f.carrier.ID, odd)
		must(t, err)
		equal(t, "parcel with an odd tracking number", got, res[0].Parcel)
		_, err = f.s.ParcelByTracking(f.ctx, f.carrier.ID, "%")
		wantCode(t, err, doorman.ENOTFOUND)

		list, err := f.s.ParcelsByTracking(f.ctx, []string{"TRK-1", "TRK-9"})
		must(t, err)
		equal(t, "ParcelsByTracking", list, []*doorman.Parcel{ps[0], theirs})
		list, err = f.s.ParcelsByTracking(f.ctx, nil)
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("ParcelsByTracking(nil) = %d parcels", len(list))
		}

		byCarrier, _, err := f.s.ListParcels(f.ctx, doorman.ParcelFilter{CarrierID: f.carrier.ID}, doorman.Page{})
		must(t, err)
		equal(t, "ListParcels(carrier)", byCarrier, append(ps, got))
		byStatus, _, err := f.s.ListParcels(f.ctx, doorman.ParcelFilter{BuildingID: f.building.ID,
			Status: doorman.ParcelManifested}, doorman.Page{})
		must(t, err)
		equal(t, "ListParcels(building, manifested)", byStatus, []*doorman.Parcel{theirs, got})
		byCourier, _, err := f.s.ListParcels(f.ctx, doorman.ParcelFilter{CourierID: f.courier.ID}, doorman.Page{})
		must(t, err)
		equal(t, "ListParcels(courier)", byCourier, ps)
	})

	t.Run("SetStatus", func(t *testing.T) {
		f := newFixture(t, open)
		p := f.newParcels(t, "TRK-1")[0]
		second := f.newCourier(t, f.carrier.ID, "driver-2")
		other := f.newCarrier(t, "Slowpost")
		stranger := f.newCourier(t, other.ID, "driver-x")

		_, err := f.s.SetParcelStatus(f.ctx, f.carrier.ID, "TRK-1", "lost", "")
		wantCode(t, err, doorman.EINVALID)
		_, err = f.s.SetParcelStatus(f.ctx, f.carrier.ID, "TRK-404", doorman.ParcelDelivered, "")
		wantCode(t, err, doorman.ENOTFOUND)
		_, err = f.s.SetParcelStatus(f.ctx, other.ID, "TRK-1", doorman.ParcelDelivered, "")
		wantCode(t, err, doorman.ENOTFOUND) // another carrier's parcel
		_, err = f.s.SetParcelStatus(f.ctx, f.carrier.ID, "TRK-1", doorman.ParcelOutForDelivery, stranger.ID)
		wantCode(t, err, doorman.ENOTFOUND) // another carrier's courier

		up, err := f.s.SetParcelStatus(f.ctx, f.carrier.ID, "TRK-1", doorman.ParcelOutForDelivery, second.ID)
		must(t, err)
		if up.CourierID != second.ID || up.DeliveredAt != nil {
			t.Fatalf("reassigned parcel: %+v", up)
		}
		ctx := as(doorman.RoleCourier, second.ID)
		done, err := f.s.SetParcelStatus(ctx, f.carrier.ID, "TRK-1", doorman.ParcelDelivered, "")
		must(t, err)
		if done.Status != doorman.ParcelDelivered || done.DeliveredAt == nil || done.CourierID != second.ID {
			t.Fatalf("delivered parcel: %+v", done)
		}
		got, err := f.s.Parcel(f.ctx, p.ID)
		must(t, err)
		equal(t, "Parcel after delivery", got, done)
		e := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]
		if e.Action != doorman.ActionParcelDelivered || e.Actor != "courier:"+second.ID ||
			len(e.ParcelIDs) != 1 || e.ParcelIDs[0] != p.ID || e.CourierID != second.ID || e.CarrierID != f.carrier.ID {
			t.Fatalf("delivery audit entry: %+v", e)
		}

		// Delivering twice is a conflict, decided in the write, so two
		// marks at once cannot both succeed.
		var wg sync.WaitGroup
		var mu sync.Mutex
		conflicts := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.s.SetParcelStatus(ctx, f.carrier.ID, "TRK-1", doorman.ParcelDelivered, "")
				if doorman.ErrorReason(err) == doorman.ReasonParcelAlreadyDelivered {
					mu.Lock()
					conflicts++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if conflicts != 4 {
			t.Fatalf("%d of 4 repeated deliveries refused as parcel_already_delivered", conflicts)
		}

		_, err = f.s.SetParcelStatus(f.ctx, f.carrier.ID, "TRK-1", doorman.ParcelOutForDelivery, "")
		wantCode(t, err, doorman.ECONFLICT) // delivered parcels do not go back out
		got, err = f.s.Parcel(f.ctx, p.ID)
		must(t, err)
		equal(t, "Parcel after refused transition", got, done)
	})
}

func testManifest(t *testing.T, open Opener) {
	t.Run("CreateUpdateUnchanged", func(t *testing.T) {
		f := newFixture(t, open)
		f.newUnit(t, f.building.ID, "5C")
		items := []doorman.ParcelInput{
			{TrackingNumber: "TRK-1", BuildingID: f.building.ID, UnitLabel: "4B"},
			{TrackingNumber: "TRK-2", BuildingID: f.building.ID, UnitLabel: "4B", CourierExternalID: "driver-1",
				Status: doorman.ParcelOutForDelivery},
		}
		res, err := f.s.UpsertParcels(f.ctx, f.carrier.ID, items)
		must(t, err)
		for i, r := range res {
			if r.Index != i || r.Result != "created" || r.Parcel == nil || r.TrackingNumber != items[i].TrackingNumber {
				t.Fatalf("result %d: %+v", i, r)
			}
		}
		if p := res[0].Parcel; p.Status != doorman.ParcelManifested || p.CourierID != "" || p.UnitID != f.unit.ID {
			t.Fatalf("new parcel defaults: %+v", p)
		}
		if p := res[1].Parcel; p.Status != doorman.ParcelOutForDelivery || p.CourierID != f.courier.ID {
			t.Fatalf("new assigned parcel: %+v", p)
		}

		items[0].UnitLabel = "5C"
		items[1].Status = "" // keeps its status
		res2, err := f.s.UpsertParcels(f.ctx, f.carrier.ID, items)
		must(t, err)
		if res2[0].Result != "updated" || res2[0].Parcel.ID != res[0].Parcel.ID || res2[0].Parcel.UnitID == f.unit.ID {
			t.Fatalf("moved parcel: %+v", res2[0])
		}
		if res2[1].Result != "unchanged" || res2[1].Parcel.Status != doorman.ParcelOutForDelivery {
			t.Fatalf("unchanged parcel: %+v", res2[1])
		}
		got, err := f.s.Parcel(f.ctx, res2[0].Parcel.ID)
		must(t, err)
		equal(t, "moved parcel", got, res2[0].Parcel)

		// Delivery through a manifest is audited as delivery elsewhere is.
		items[1].Status = doorman.ParcelDelivered
		res3, err := f.s.UpsertParcels(f.ctx, f.carrier.ID, items[1:])
		must(t, err)
		if res3[0].Parcel.DeliveredAt == nil {
			t.Fatalf("delivered parcel without DeliveredAt: %+v", res3[0].Parcel)
		}
		if e := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]; e.Action != doorman.ActionParcelDelivered {
			t.Fatalf("newest audit entry %q, want %q", e.Action, doorman.ActionParcelDelivered)
		}
		f.verifyClean(t)
	})

	t.Run("AllOrNothing", func(t *testing.T) {
		f := newFixture(t, open)
		f.newParcels(t, "TRK-DONE")
		_, err := f.s.SetParcelStatus(f.ctx, f.carrier.ID, "TRK-DONE", doorman.ParcelDelivered, "")
		must(t, err)
		good := doorman.ParcelInput{TrackingNumber: "TRK-GOOD", BuildingID: f.building.ID, UnitLabel: "4B"}
		cases := []struct {
			name string
			bad  doorman.ParcelInput
			code string
		}{
			{"tracking number", doorman.ParcelInput{TrackingNumber: "has space", BuildingID: f.building.ID, UnitLabel: "4B"}, doorman.EINVALID},
			{"empty tracking number", doorman.ParcelInput{BuildingID: f.building.ID, UnitLabel: "4B"}, doorman.EINVALID},
			{"building", doorman.ParcelInput{TrackingNumber: "TRK-B", BuildingID: doorman.NewID(doorman.PrefixBuilding), UnitLabel: "4B"}, doorman.ENOTFOUND},
			{"unit", doorman.ParcelInput{TrackingNumber: "TRK-U", BuildingID: f.building.ID, UnitLabel: "99"}, doorman.ENOTFOUND},
			{"courier", doorman.ParcelInput{TrackingNumber: "TRK-C", BuildingID: f.building.ID, UnitLabel: "4B", CourierExternalID: "nobody"}, doorman.ENOTFOUND},
			{"status", doorman.ParcelInput{TrackingNumber: "TRK-S", BuildingID: f.building.ID, UnitLabel: "4B", Status: "lost"}, doorman.EINVALID},
			{"transition", doorman.ParcelInput{TrackingNumber: "TRK-DONE", BuildingID: f.building.ID, UnitLabel: "4B", Status: doorman.ParcelOutForDelivery}, doorman.ECONFLICT},
			{"duplicate", good, doorman.EINVALID},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				items := []doorman.ParcelInput{good, tc.bad, {TrackingNumber: "TRK-LAST", BuildingID: f.building.ID, UnitLabel: "4B"}}
				res, err := f.s.UpsertParcels(f.ctx, f.carrier.ID, items)
				wantCode(t, err, doorman.EINVALID)
				if len(res) != 3 {
					t.Fatalf("%d results for 3 items", len(res))
				}
				for i, r := range res {
					if i == 1 {
						if r.Result != "error" || r.ErrorCode != tc.code || r.Error == "" {
							t.Fatalf("bad item result: %+v, want code %q", r, tc.code)
						}
					} else if r.Result == "error" || r.Parcel != nil {
						t.Fatalf("good item %d result: %+v", i, r)
					}
				}
				for _, tn := range []string{"TRK-GOOD", "TRK-LAST"} {
					_, err := f.s.ParcelByTracking(f.ctx, f.carrier.ID, tn)
					wantCode(t, err, doorman.ENOTFOUND)
				}
			})
		}
		p, err := f.s.ParcelByTracking(f.ctx, f.carrier.ID, "TRK-DONE")
		must(t, err)
		if p.Status != doorman.ParcelDelivered {
			t.Fatalf("refused batch changed TRK-DONE to %q", p.Status)
		}
	})

	t.Run("NotAllowedBuilding", func(t *testing.T) {
		// Carrier B tries building X, which allows only carrier A. Its
		// items must be answered exactly as items for a building that
		// does not exist, so B can neither tell X from a made-up ID nor
		// probe X's unit labels or anything else, and nothing is written.
		f := newFixture(t, open)
		x := f.building
		b := f.newCarrier(t, "Slowpost")
		f.newCourier(t, b.ID, "driver-b")
		nowhere := doorman.NewID(doorman.PrefixBuilding) // same shape as x.ID
		if len(nowhere) != len(x.ID) {
			t.Fatalf("building IDs differ in length: %q, %q", nowhere, x.ID)
		}
		upload := func(buildingID string, items []doorman.ParcelInput) ([]doorman.ParcelResult, error) {
			t.Helper()
			batch := make([]doorman.ParcelInput, len(items))
			for i, in := range items {
				in.BuildingID = buildingID
				batch[i] = in
			}
			return f.s.UpsertParcels(f.ctx, b.ID, batch)
		}
		cases := []struct {
			name  string
			items []doorman.ParcelInput
		}{
			{"existing unit", []doorman.ParcelInput{{TrackingNumber: "B-1", UnitLabel: "4B"}}},
			{"unknown unit", []doorman.ParcelInput{{TrackingNumber: "B-1", UnitLabel: "99Z"}}},
			{"unknown courier", []doorman.ParcelInput{{TrackingNumber: "B-1", UnitLabel: "4B", CourierExternalID: "nobody"}}},
			{"mixed", []doorman.ParcelInput{
				{TrackingNumber: "B-1", UnitLabel: "4B", CourierExternalID: "driver-b", Status: doorman.ParcelOutForDelivery},
				{TrackingNumber: "B-2", UnitLabel: "99Z"},
				{TrackingNumber: "B-3", UnitLabel: "4B"},
			}},
		}
		// check compares B's answers for X with those for no building, and
		// that B's parcels, and X's, are exactly want.
		check := func(t *testing.T, want []*doorman.Parcel) {
			t.Helper()
			for _, tc := range cases {
				gotRes, gotErr := upload(x.ID, tc.items)
				wantRes, wantErr := upload(nowhere, tc.items)
				wantCode(t, wantErr, doorman.EINVALID)
				if doorman.ErrorCode(gotErr) != doorman.ErrorCode(wantErr) || doorman.ErrorMessage(gotErr) != doorman.ErrorMessage(wantErr) {
					t.Fatalf("%s: error for a building that does not allow the carrier %q (%v), for none %q (%v)",
						tc.name, doorman.ErrorCode(gotErr), gotErr, doorman.ErrorCode(wantErr), wantErr)
				}
				equal(t, tc.name+": results for a building that does not allow the carrier (want those for none)", gotRes, wantRes)
				for i, r := range gotRes {
					if r.Result != "error" || r.ErrorCode != doorman.ENOTFOUND {
						t.Fatalf("%s: item %d: %+v, want refused as not found", tc.name, i, r)
					}
				}
			}
			list, _, err := f.s.ListParcels(f.ctx, doorman.ParcelFilter{CarrierID: b.ID}, doorman.Page{})
			must(t, err)
			equal(t, "parcels of the carrier the building does not allow", list, want)
			list, _, err = f.s.ListParcels(f.ctx, doorman.ParcelFilter{BuildingID: x.ID}, doorman.Page{})
			must(t, err)
			equal(t, "parcels in the building", list, want)
		}
		check(t, []*doorman.Parcel{})

		// Once X allows B, the same item goes through, so it was the
		// allowance that refused it.
		must(t, f.s.AllowCarrier(f.ctx, x.ID, b.ID))
		res, err := upload(x.ID, cases[0].items)
		must(t, err)
		if res[0].Result != "created" {
			t.Fatalf("item for a building that allows the carrier: %+v", res[0])
		}
		// When X stops allowing B, B's manifests cannot reach X again, not
		// even to change B's own parcel there.
		must(t, f.s.DisallowCarrier(f.ctx, x.ID, b.ID))
		check(t, []*doorman.Parcel{res[0].Parcel})
	})

	t.Run("Limits", func(t *testing.T) {
		f := newFixture(t, open)
		items := make([]doorman.ParcelInput, doorman.MaxManifestBatch+1)
		for i := range items {
			items[i] = doorman.ParcelInput{TrackingNumber: fmt.Sprintf("TRK-%05d", i), BuildingID: f.building.ID, UnitLabel: "4B"}
		}
		_, err := f.s.UpsertParcels(f.ctx, f.carrier.ID, items)
		wantCode(t, err, doorman.ETOOLARGE)
		_, err = f.s.UpsertParcels(f.ctx, f.carrier.ID, nil)
		wantCode(t, err, doorman.EINVALID)
		_, err = f.s.UpsertParcels(f.ctx, doorman.NewID(doorman.PrefixCarrier), items[:1])
		wantCode(t, err, doorman.ENOTFOUND)

		res, err := f.s.UpsertParcels(f.ctx, f.carrier.ID, items[:doorman.MaxManifestBatch])
		must(t, err)
		if len(res) != doorman.MaxManifestBatch || res[doorman.MaxManifestBatch-1].Result != "created" {
			t.Fatalf("full batch: %d results", len(res))
		}
	})
}
