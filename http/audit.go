package http

import (
	"context"
	"slices"

	"github.com/doorman-dev/doorman"
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
	f, err := s.auditScope(ctx, in)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListAudit(ctx, f, in.page())
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}

// auditScope narrows the requested filter to what the caller may see:
// operators everything, managers their buildings, carriers their own
// entries, couriers theirs. Asking for something outside the scope is
// answered like asking for something that does not exist.
func (s *Server) auditScope(ctx context.Context, in *listAuditInput) (doorman.AuditFilter, error) {
	f := doorman.AuditFilter{Chain: in.Chain, DoorID: in.DoorID, CarrierID: in.CarrierID, CourierID: in.CourierID}
	if in.BuildingID != "" {
		f.BuildingIDs = []string{in.BuildingID}
	}
	p := caller(ctx)
	switch p.Role {
	case doorman.RoleOperator:
	case doorman.RoleManager:
		ids, err := s.managedBuildingIDs(ctx)
		if err != nil {
			return f, err
		}
		if in.BuildingID != "" && !slices.Contains(ids, in.BuildingID) {
			return f, notFound("Building")
		}
		if in.Chain != "" && !slices.Contains(ids, in.Chain) {
			return f, notFound("Building")
		}
		if in.BuildingID == "" {
			f.BuildingIDs = ids
		}
	case doorman.RoleCarrier:
		if in.CarrierID != "" && in.CarrierID != p.CarrierID {
			return f, notFound("Carrier")
		}
		f.CarrierID = p.CarrierID
	case doorman.RoleCourier:
		if in.CourierID != "" && in.CourierID != p.SubjectID {
			return f, notFound("Courier")
		}
		f.CarrierID, f.CourierID = p.CarrierID, p.SubjectID
	default:
		return f, notFound("Audit log")
	}
	return f, nil
}

// AuditVerification is the result of checking every audit chain.
type AuditVerification struct {
	Intact bool                 `json:"intact" doc:"True when every chain verifies."`
	Breaks []doorman.ChainBreak `json:"breaks" nullable:"false" doc:"The first break of each broken chain."`
}

func (s *Server) verifyAudit(ctx context.Context, _ *struct{}) (*output[AuditVerification], error) {
	breaks, err := s.store.VerifyAudit(ctx)
	if err != nil {
		return nil, err
	}
	if breaks == nil {
		breaks = []doorman.ChainBreak{}
	}
	return ok(AuditVerification{Intact: len(breaks) == 0, Breaks: breaks}), nil
}
