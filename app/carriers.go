package app

import (
	"context"
	"strconv"

	"github.com/doorman-dev/doorman"
)

// CarrierStore is what the Carriers service uses of the store.
type CarrierStore interface {
	scopeStore
	CreateCarrier(ctx context.Context, c *doorman.Carrier) error
	ListCarriers(ctx context.Context, p doorman.Page) ([]*doorman.Carrier, string, error)
	UpsertCourier(ctx context.Context, c *doorman.Courier) (created bool, err error)
	ListCouriers(ctx context.Context, carrierID string, p doorman.Page) ([]*doorman.Courier, string, error)

	UpsertParcels(ctx context.Context, carrierID string, items []doorman.ParcelInput) ([]doorman.ParcelResult, error)
	ParcelByTracking(ctx context.Context, carrierID, tracking string) (*doorman.Parcel, error)
	ListParcels(ctx context.Context, f doorman.ParcelFilter, p doorman.Page) ([]*doorman.Parcel, string, error)
	SetParcelStatus(ctx context.Context, carrierID, tracking, status, courierID string) (*doorman.Parcel, error)
	Unit(ctx context.Context, buildingID, id string) (*doorman.Unit, error)
	courierDoorStore
}

// Carriers runs the use cases of carriers, their couriers and their
// parcels, including what a courier does with its own parcels.
type Carriers struct {
	scope
	store CarrierStore
}

// NewCarriers returns the Carriers service over store.
func NewCarriers(store CarrierStore) *Carriers {
	return &Carriers{scope: scope{store}, store: store}
}

// CreateCarrier creates a carrier (operators only). Returns EINVALID or
// ECONFLICT (name taken).
func (s *Carriers) CreateCarrier(ctx context.Context, c *doorman.Carrier) error {
	if _, err := require(ctx, operators); err != nil {
		return err
	}
	return s.store.CreateCarrier(ctx, c)
}

// ListCarriers lists every carrier, for operators and for managers
// choosing which to allow.
func (s *Carriers) ListCarriers(ctx context.Context, page doorman.Page) ([]*doorman.Carrier, string, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, "", err
	}
	return s.store.ListCarriers(ctx, page.Normalize())
}

// Carrier returns a carrier the caller may see (a carrier sees only
// itself). Returns ENOTFOUND.
func (s *Carriers) Carrier(ctx context.Context, id string) (*doorman.Carrier, error) {
	if _, err := require(ctx, buildingReader); err != nil {
		return nil, err
	}
	return s.carrier(ctx, id)
}

// PutCourier creates the carrier's courier c (named by its external ID)
// or updates it, and reports whether it created it. Only the carrier
// itself manages its couriers. Returns ENOTFOUND or EINVALID.
func (s *Carriers) PutCourier(ctx context.Context, c *doorman.Courier) (created bool, err error) {
	if _, err := require(ctx, carriersOnly); err != nil {
		return false, err
	}
	carrier, err := s.ownCarrier(ctx, c.CarrierID)
	if err != nil {
		return false, err
	}
	c.CarrierID = carrier.ID
	if c.Status == "" {
		c.Status = doorman.CourierActive
	}
	if err := c.Validate(); err != nil {
		return false, err
	}
	return s.store.UpsertCourier(ctx, c)
}

// ListCouriers lists a carrier's couriers.
func (s *Carriers) ListCouriers(ctx context.Context, carrierID string, page doorman.Page) ([]*doorman.Courier, string, error) {
	if _, err := require(ctx, carrierOwners); err != nil {
		return nil, "", err
	}
	c, err := s.ownCarrier(ctx, carrierID)
	if err != nil {
		return nil, "", err
	}
	return s.store.ListCouriers(ctx, c.ID, page.Normalize())
}

// Courier returns a carrier's courier by its external ID. Returns
// ENOTFOUND.
func (s *Carriers) Courier(ctx context.Context, carrierID, externalID string) (*doorman.Courier, error) {
	if _, err := require(ctx, carrierOwners); err != nil {
		return nil, err
	}
	return s.courier(ctx, carrierID, externalID)
}

// ManifestResult is the outcome of an applied manifest.
type ManifestResult struct {
	Created   int                    `json:"created"`
	Updated   int                    `json:"updated"`
	Unchanged int                    `json:"unchanged"`
	Results   []doorman.ParcelResult `json:"results" nullable:"false" doc:"One result per submitted parcel, in order."`
}

// UploadManifest creates or updates the carrier's parcels, all or
// nothing. A refused manifest is EINVALID with one item per bad parcel
// (by index); a parcel for a building that does not allow the carrier is
// refused exactly like one for a building that does not exist. Returns
// ETOOLARGE above doorman.MaxManifestBatch items.
func (s *Carriers) UploadManifest(ctx context.Context, carrierID string, items []doorman.ParcelInput) (*ManifestResult, error) {
	if _, err := require(ctx, carriersOnly); err != nil {
		return nil, err
	}
	c, err := s.ownCarrier(ctx, carrierID)
	if err != nil {
		return nil, err
	}
	results, err := s.store.UpsertParcels(ctx, c.ID, items)
	if doorman.ErrorCode(err) == doorman.EINVALID && len(results) > 0 {
		return nil, manifestError(err, results)
	} else if err != nil {
		return nil, err
	}
	out := &ManifestResult{Results: results}
	for _, r := range results {
		switch r.Result {
		case "created":
			out.Created++
		case "updated":
			out.Updated++
		case "unchanged":
			out.Unchanged++
		}
	}
	if out.Results == nil {
		out.Results = []doorman.ParcelResult{}
	}
	return out, nil
}

// manifestError lists each bad item of a refused manifest; nothing was
// written.
func manifestError(err error, results []doorman.ParcelResult) error {
	var items []doorman.ErrorItem
	for _, r := range results {
		if r.Result != "error" {
			continue
		}
		i := r.Index
		code := r.ErrorCode
		if code == "" {
			code = doorman.EINVALID
		}
		items = append(items, doorman.ErrorItem{
			Location: "body.parcels[" + strconv.Itoa(i) + "]",
			Index:    &i,
			Message:  r.Error,
			Code:     code,
			Value:    r.TrackingNumber,
		})
	}
	e := doorman.Errorf(doorman.EINVALID, "%d of %d parcels are not valid; nothing was written.", len(items), len(results))
	if len(items) == 0 {
		e.Message = doorman.ErrorMessage(err)
	}
	e.Items = items
	return e
}

// ParcelQuery selects a carrier's parcels; empty fields match everything.
type ParcelQuery struct {
	Status            string
	BuildingID        string
	CourierExternalID string
}

// CarrierParcels lists a carrier's parcels.
func (s *Carriers) CarrierParcels(ctx context.Context, carrierID string, q ParcelQuery, page doorman.Page) ([]*doorman.Parcel, string, error) {
	if _, err := require(ctx, carrierOwners); err != nil {
		return nil, "", err
	}
	c, err := s.ownCarrier(ctx, carrierID)
	if err != nil {
		return nil, "", err
	}
	f := doorman.ParcelFilter{CarrierID: c.ID, BuildingID: q.BuildingID, Status: q.Status}
	if q.CourierExternalID != "" {
		co, err := s.store.CourierByExternalID(ctx, c.ID, q.CourierExternalID)
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			return nil, "", nil
		} else if err != nil {
			return nil, "", err
		}
		f.CourierID = co.ID
	}
	return s.store.ListParcels(ctx, f, page.Normalize())
}

// CarrierParcel returns a carrier's parcel by tracking number. Returns
// ENOTFOUND.
func (s *Carriers) CarrierParcel(ctx context.Context, carrierID, tracking string) (*doorman.Parcel, error) {
	if _, err := require(ctx, carrierOwners); err != nil {
		return nil, err
	}
	c, err := s.ownCarrier(ctx, carrierID)
	if err != nil {
		return nil, err
	}
	p, err := s.store.ParcelByTracking(ctx, c.ID, tracking)
	return p, scoped(err, "Parcel")
}

// UpdateParcel moves the carrier's parcel to another status (transitions
// are checked; delivering a delivered parcel again is ECONFLICT with reason
// parcel_already_delivered) and/or assigns it to one of its couriers.
// Returns ENOTFOUND, EINVALID or ECONFLICT (a transition not allowed).
func (s *Carriers) UpdateParcel(ctx context.Context, carrierID, tracking, status, courierExternalID string) (*doorman.Parcel, error) {
	if _, err := require(ctx, carriersOnly); err != nil {
		return nil, err
	}
	c, err := s.ownCarrier(ctx, carrierID)
	if err != nil {
		return nil, err
	}
	if status == "" && courierExternalID == "" {
		return nil, doorman.InvalidField("body", "Give a status, a courier_external_id, or both.")
	}
	p, err := s.store.ParcelByTracking(ctx, c.ID, tracking)
	if err != nil {
		return nil, scoped(err, "Parcel")
	}
	if status == "" {
		status = p.Status
	}
	var courierID string
	if courierExternalID != "" {
		co, err := s.store.CourierByExternalID(ctx, c.ID, courierExternalID)
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			return nil, doorman.InvalidField("body.courier_external_id", "Unknown courier_external_id.")
		} else if err != nil {
			return nil, err
		}
		courierID = co.ID
	}
	// The store checks the transition in the write.
	updated, err := s.store.SetParcelStatus(ctx, c.ID, p.TrackingNumber, status, courierID)
	return updated, scoped(err, "Parcel")
}
