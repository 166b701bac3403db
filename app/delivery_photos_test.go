package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

var testPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// TestDeliveryPhoto: a courier's photo is checked by its bytes before
// anything changes; once stored, the delivery notice says a photo was
// taken and links the resident page; only the unit's residents and the
// building's managers read it; retention removes it after the building's
// period.
func TestDeliveryPhoto(t *testing.T) {
	w := newResidentWorld(t)
	ctx := context.Background()
	carrier := as(doorman.RoleCarrier, w.allowed.ID, w.allowed.ID)
	cou, err := w.store.CourierByExternalID(ctx, w.allowed.ID, "c1")
	must(t, err)
	_, err = w.app.Carriers.UploadManifest(carrier, w.allowed.ID, []doorman.ParcelInput{{TrackingNumber: "TN-P1",
		BuildingID: w.building.ID, UnitLabel: w.unit.Label, CourierExternalID: "c1", Status: doorman.ParcelOutForDelivery}})
	must(t, err)
	courier := as(doorman.RoleCourier, cou.ID, w.allowed.ID)

	_, err = w.app.Carriers.DeliverParcelWithPhoto(courier, "TN-P1", "porch", []byte("<html>not a photo</html>"))
	wantCode(t, "HTML as a photo", err, doorman.EINVALID)
	_, err = w.app.Carriers.DeliverParcelWithPhoto(courier, "TN-P1", "porch", make([]byte, doorman.MaxDeliveryPhotoBytes+1))
	wantCode(t, "a photo too large", err, doorman.EINVALID)
	p, err := w.store.ParcelByTracking(ctx, w.allowed.ID, "TN-P1")
	must(t, err)
	if p.Status != doorman.ParcelOutForDelivery {
		t.Fatal("a refused photo still delivered the parcel")
	}
	// Another courier of the same carrier: not their parcel.
	_, err = w.app.Carriers.DeliverParcelWithPhoto(as(doorman.RoleCourier, doorman.NewID(doorman.PrefixCourier), w.allowed.ID), "TN-P1", "", testPNG)
	wantCode(t, "another courier", err, doorman.ENOTFOUND)

	_, err = w.app.Carriers.DeliverParcelWithPhoto(courier, "TN-P1", "porch", testPNG)
	must(t, err)
	e := lastEntry(t, w, w.building.ID, doorman.ActionParcelDelivered)
	msgs, err := app.NewNotices(w.store, base).ProduceDeliveryNotices(w.sys, e)
	must(t, err)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "took a photo") || !strings.Contains(msgs[0].Text, strings.TrimRight(base, "/")+"/resident") ||
		!strings.Contains(msgs[0].HTML, "took a photo") || !strings.Contains(string(msgs[0].Payload), `"photo":true`) {
		t.Fatalf("delivery notice with a photo: %+v", msgs)
	}

	ph, err := w.app.Residents.DeliveryPhoto(as(doorman.RoleResident, w.ana.ID, ""), p.ID)
	must(t, err)
	if ph.ContentType != "image/png" || len(ph.Data) != len(testPNG) {
		t.Fatalf("photo %s, %d bytes", ph.ContentType, len(ph.Data))
	}
	if _, err := w.app.Carriers.DeliveryPhoto(w.sys, w.building.ID, p.ID); err != nil {
		t.Fatalf("the system as a manager: %v", err)
	}
	dan, _ := w.addResident(t, w.building, "9Z", "Dan", "dan@example.org")
	_, err = w.app.Residents.DeliveryPhoto(as(doorman.RoleResident, dan.ID, ""), p.ID)
	wantCode(t, "another unit's resident", err, doorman.ENOTFOUND)
	_, err = w.app.Carriers.DeliveryPhoto(w.sys, w.other.ID, p.ID)
	wantCode(t, "through another building", err, doorman.ENOTFOUND)
	_, err = w.app.Carriers.DeliveryPhoto(as(doorman.RoleManager, doorman.NewID(doorman.PrefixManager), ""), w.building.ID, p.ID)
	wantCode(t, "another building's manager", err, doorman.ENOTFOUND)
	_, err = w.app.Carriers.DeliveryPhoto(courier, w.building.ID, p.ID)
	wantCode(t, "a courier reads a photo", err, doorman.EFORBIDDEN)

	// Retention: the photo goes once older than the building's period.
	now := time.Now()
	must(t, w.app.Alerts.SetSettings(w.sys, w.building.ID, &doorman.AlertSettings{OfflineMinutes: 10, RetentionDays: 30}))
	counts, err := w.app.Retention.Enforce(w.sys)
	must(t, err)
	if n := counts[w.building.ID][app.RetentionDeliveryPhotos]; n != 0 {
		t.Fatalf("a fresh photo removed: %v", counts)
	}
	if _, err := w.store.DB().Exec(`UPDATE delivery_photos SET created_at = $1`, now.Add(-40*24*time.Hour).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	w.advance(2 * doorman.RetentionMinGap)
	if counts, err = w.app.Retention.Enforce(w.sys); err != nil || counts[w.building.ID][app.RetentionDeliveryPhotos] != 1 {
		t.Fatalf("retention: %v, %v", counts, err)
	}
	_, err = w.app.Residents.DeliveryPhoto(as(doorman.RoleResident, w.ana.ID, ""), p.ID)
	wantCode(t, "the photo after retention", err, doorman.ENOTFOUND)
}
