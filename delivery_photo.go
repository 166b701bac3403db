package doorman

import (
	"bytes"
	"context"
	"time"
)

// MaxDeliveryPhotoBytes is the largest delivery photo kept (5 MiB).
const MaxDeliveryPhotoBytes = 5 << 20

// DeliveryPhoto is the picture a courier took of a parcel where it was
// left. Only the residents of the parcel's unit and the building's
// managers see it; retention removes it with the building's other
// personal data.
type DeliveryPhoto struct {
	ParcelID    string
	BuildingID  string
	UnitID      string
	ContentType string // image/jpeg, image/png or image/webp
	Data        []byte
	CreatedAt   time.Time
}

// SniffDeliveryPhoto returns the content type of a delivery photo from
// its bytes, never from a file name or a declared type. Returns EINVALID
// for anything but a JPEG, PNG or WebP image, or one larger than
// MaxDeliveryPhotoBytes.
func SniffDeliveryPhoto(data []byte) (string, error) {
	if len(data) == 0 {
		return "", InvalidField("photo", "The photo is empty.")
	}
	if len(data) > MaxDeliveryPhotoBytes {
		return "", InvalidField("photo", "The photo may be at most %d MiB.", MaxDeliveryPhotoBytes>>20)
	}
	// The signatures net/http's DetectContentType (the WHATWG MIME
	// sniffing standard) uses for these three types.
	switch {
	case bytes.HasPrefix(data, []byte("\xFF\xD8\xFF")):
		return "image/jpeg", nil
	case bytes.HasPrefix(data, []byte("\x89PNG\x0D\x0A\x1A\x0A")):
		return "image/png", nil
	case len(data) >= 14 && bytes.HasPrefix(data, []byte("RIFF")) && string(data[8:14]) == "WEBPVP":
		return "image/webp", nil
	}
	return "", InvalidField("photo", "The photo must be a JPEG, PNG or WebP image.")
}

// DeliveryPhotoStore keeps the photos couriers take of delivered parcels.
type DeliveryPhotoStore interface {
	// PutDeliveryPhoto stores p (sets CreatedAt), replacing the parcel's
	// photo if it had one. Returns ENOTFOUND (no such parcel in the
	// building).
	PutDeliveryPhoto(ctx context.Context, p *DeliveryPhoto) error
	// DeliveryPhoto returns the parcel's photo. Returns ENOTFOUND.
	DeliveryPhoto(ctx context.Context, parcelID string) (*DeliveryPhoto, error)
	// DeliveryPhotoParcels says which of the parcels of the building have
	// a photo.
	DeliveryPhotoParcels(ctx context.Context, buildingID string, parcelIDs []string) (map[string]bool, error)
	// DeleteDeliveryPhotosBefore removes the building's photos taken
	// before the time and returns how many it removed.
	DeleteDeliveryPhotosBefore(ctx context.Context, buildingID string, before time.Time) (int, error)
}
