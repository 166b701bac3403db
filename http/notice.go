package http

import (
	"context"
	"time"
)

type setNoticePeriodInput struct {
	BuildingIDParam
	Body struct {
		Seconds int64 `json:"seconds" minimum:"0" maximum:"31536000" doc:"How long residents are given between a new carrier's notice and its couriers' access; 0: as soon as the notices are queued."`
	}
}

func (s *Server) setNoticePeriod(ctx context.Context, in *setNoticePeriodInput) (*noContent, error) {
	return nil, s.app.Notices.SetNoticePeriod(ctx, in.BuildingID, time.Duration(in.Body.Seconds)*time.Second)
}
