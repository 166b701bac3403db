package http

import (
	"context"

	"github.com/doorman-dev/doorman"
)

type listDevicesInput struct {
	BuildingIDParam
	PageParams
}

func (s *Server) listDevices(ctx context.Context, in *listDevicesInput) (*output[Page[*doorman.Device]], error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListDevices(ctx, b.ID, in.page())
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}

type deviceIDInput struct {
	BuildingIDParam
	DeviceID string `path:"device_id" maxLength:"64" doc:"A device ID (dev_…)."`
}

// revokeDevice marks the device revoked in the store, then has the bus
// disconnect it and keep it out. If the bus fails, the answer is 503 and
// the call may simply be repeated: revoking twice is not an error.
func (s *Server) revokeDevice(ctx context.Context, in *deviceIDInput) (*noContent, error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	if !doorman.HasPrefix(in.DeviceID, doorman.PrefixDevice) {
		return nil, notFound("Device")
	}
	d, err := s.store.RevokeDevice(ctx, b.ID, in.DeviceID, s.now())
	if err != nil {
		return nil, scoped(err, "Device")
	}
	if s.devices == nil {
		return nil, nil
	}
	if err := s.devices.RevokeDevice(context.WithoutCancel(ctx), d.PublicKey); err != nil {
		s.logger.Error("http: shutting a revoked device out of the bus", "device", d.ID, "err", err)
		return nil, problemf(doorman.EUNAVAILABLE, "The device is revoked, but the bus could not shut it out yet; repeat the request.")
	}
	return nil, nil
}
