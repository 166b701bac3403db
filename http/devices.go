package http

import (
	"context"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

type createEnrollmentInput struct {
	DoorIDInput
	IdempotencyHeader
}

func (s *Server) createEnrollment(ctx context.Context, in *createEnrollmentInput) (*output[*app.NewEnrollment], error) {
	return answer(s.app.Devices.CreateEnrollment(ctx, in.BuildingID, in.DoorID))
}

type listDevicesInput struct {
	BuildingIDParam
	PageParams
}

func (s *Server) listDevices(ctx context.Context, in *listDevicesInput) (*output[Page[*doorman.Device]], error) {
	return page(s.app.Devices.ListDevices(ctx, in.BuildingID, in.page()))
}

type deviceIDInput struct {
	BuildingIDParam
	DeviceID string `path:"device_id" maxLength:"64" doc:"A device ID (dev_…)."`
}

func (s *Server) revokeDevice(ctx context.Context, in *deviceIDInput) (*noContent, error) {
	return nil, s.app.Devices.RevokeDevice(ctx, in.BuildingID, in.DeviceID)
}
