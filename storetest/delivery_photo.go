package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// testDeliveryPhotos checks delivery photos: stored and replaced per
// parcel, scoped to the parcel's building, listed by parcel, and removed
// by retention only when taken before the cut-off.
func testDeliveryPhotos(t *testing.T, open Opener) {
	f := newFixture(t, open)
	parcels := f.newParcels(t, "PH-1", "PH-2")
	png := []byte("\x89PNG\r\n\x1a\nfirst")
	p := &doorman.DeliveryPhoto{ParcelID: parcels[0].ID, BuildingID: f.building.ID, UnitID: f.unit.ID, ContentType: "image/png", Data: png}
	must(t, f.s.PutDeliveryPhoto(f.ctx, p))
	if p.CreatedAt.IsZero() {
		t.Fatal("CreatedAt not set")
	}
	got, err := f.s.DeliveryPhoto(f.ctx, parcels[0].ID)
	must(t, err)
	if !bytes.Equal(got.Data, png) || got.ContentType != "image/png" || got.BuildingID != f.building.ID || got.UnitID != f.unit.ID {
		t.Fatalf("photo: %+v", got)
	}
	// A second photo replaces the first.
	jpeg := []byte("\xff\xd8\xff\xe0second")
	must(t, f.s.PutDeliveryPhoto(f.ctx, &doorman.DeliveryPhoto{ParcelID: parcels[0].ID, BuildingID: f.building.ID, UnitID: f.unit.ID, ContentType: "image/jpeg", Data: jpeg}))
	if got, err = f.s.DeliveryPhoto(f.ctx, parcels[0].ID); err != nil || !bytes.Equal(got.Data, jpeg) || got.ContentType != "image/jpeg" {
		t.Fatalf("replaced photo: %+v, %v", got, err)
	}
	if _, err := f.s.DeliveryPhoto(f.ctx, parcels[1].ID); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("DeliveryPhoto(none) = %v, want ENOTFOUND", err)
	}
	// Not a parcel of the building named.
	other := f.newBuilding(t, "Elm Court")
	err = f.s.PutDeliveryPhoto(f.ctx, &doorman.DeliveryPhoto{ParcelID: parcels[1].ID, BuildingID: other.ID, UnitID: f.unit.ID, ContentType: "image/png", Data: png})
	if doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("PutDeliveryPhoto(another building) = %v, want ENOTFOUND", err)
	}
	has, err := f.s.DeliveryPhotoParcels(f.ctx, f.building.ID, []string{parcels[0].ID, parcels[1].ID})
	must(t, err)
	if len(has) != 1 || !has[parcels[0].ID] {
		t.Fatalf("photo parcels: %v", has)
	}
	if has, err = f.s.DeliveryPhotoParcels(f.ctx, other.ID, []string{parcels[0].ID}); err != nil || len(has) != 0 {
		t.Fatalf("another building's photo parcels: %v, %v", has, err)
	}

	// Retention: nothing taken before the cut-off, nothing in another
	// building; then everything before a later cut-off.
	if n, err := f.s.DeleteDeliveryPhotosBefore(f.ctx, f.building.ID, got.CreatedAt); err != nil || n != 0 {
		t.Fatalf("delete before the photo was taken: %d, %v", n, err)
	}
	if n, err := f.s.DeleteDeliveryPhotosBefore(f.ctx, other.ID, time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("delete in another building: %d, %v", n, err)
	}
	if n, err := f.s.DeleteDeliveryPhotosBefore(f.ctx, f.building.ID, got.CreatedAt.Add(time.Microsecond)); err != nil || n != 1 {
		t.Fatalf("delete after the photo was taken: %d, %v", n, err)
	}
	if _, err := f.s.DeliveryPhoto(f.ctx, parcels[0].ID); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("photo after retention = %v, want ENOTFOUND", err)
	}
}
