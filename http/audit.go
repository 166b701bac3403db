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

type auditChainInput struct {
	Chain string `path:"chain" maxLength:"64" doc:"A building ID, or \"platform\"."`
}

// AuditCheckpoint is a chain's latest signed checkpoint.
type AuditCheckpoint = doorman.AuditCheckpoint

func (s *Server) getAuditCheckpoint(ctx context.Context, in *auditChainInput) (*output[*AuditCheckpoint], error) {
	cp, err := s.app.Audit.Checkpoint(ctx, in.Chain)
	if err != nil {
		return nil, err
	}
	return ok(cp), nil
}

type auditInclusionInput struct {
	EntryID string `path:"entry_id" maxLength:"64"`
	Size    uint64 `query:"size" doc:"The size of the tree to prove inclusion in; 0 or absent: the latest checkpoint's."`
}

func (s *Server) getAuditInclusion(ctx context.Context, in *auditInclusionInput) (*output[*app.InclusionProof], error) {
	p, err := s.app.Audit.InclusionProof(ctx, in.EntryID, in.Size)
	if err != nil {
		return nil, err
	}
	return ok(p), nil
}

type auditConsistencyInput struct {
	Chain string `path:"chain" maxLength:"64" doc:"A building ID, or \"platform\"."`
	From  uint64 `query:"from" required:"true" minimum:"1" doc:"The smaller tree size."`
	To    uint64 `query:"to" doc:"The larger tree size; 0 or absent: the latest checkpoint's."`
}

func (s *Server) getAuditConsistency(ctx context.Context, in *auditConsistencyInput) (*output[*app.ConsistencyProof], error) {
	p, err := s.app.Audit.ConsistencyProof(ctx, in.Chain, in.From, in.To)
	if err != nil {
		return nil, err
	}
	return ok(p), nil
}
