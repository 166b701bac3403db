package http

import (
	"context"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

type listAuditInput struct {
	PageParams
	BuildingID string `query:"building_id" maxLength:"64" doc:"Only entries of this building."`
	Chain      string `query:"chain" maxLength:"64" doc:"Only entries of this chain: a building ID, or \"platform\"."`
	DoorID     string `query:"door_id" maxLength:"64" doc:"Only entries about this door."`
	CarrierID  string `query:"carrier_id" maxLength:"64" doc:"Only entries about this carrier."`
	CourierID  string `query:"courier_id" maxLength:"64" doc:"Only entries about this courier."`
}

func (s *Server) listAudit(ctx context.Context, in *listAuditInput) (*output[Page[*doorman.AuditEntry]], error) {
	q := app.AuditQuery{BuildingID: in.BuildingID, Chain: in.Chain, DoorID: in.DoorID, CarrierID: in.CarrierID, CourierID: in.CourierID}
	return page(s.app.Audit.List(ctx, q, in.page()))
}

// AuditVerification is the result of checking every audit chain.
type AuditVerification struct {
	Intact bool                 `json:"intact" doc:"True when every chain verifies."`
	Breaks []doorman.ChainBreak `json:"breaks" nullable:"false" doc:"The first break of each broken chain."`
}

func (s *Server) verifyAudit(ctx context.Context, _ *struct{}) (*output[AuditVerification], error) {
	breaks, err := s.app.Audit.Verify(ctx)
	if err != nil {
		return nil, err
	}
	if breaks == nil {
		breaks = []doorman.ChainBreak{}
	}
	return ok(AuditVerification{Intact: len(breaks) == 0, Breaks: breaks}), nil
}
