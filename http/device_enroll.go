package http

import (
	"context"

	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/wire"
)

type enrollDeviceInput struct {
	Body struct {
		Code         string `json:"code" minLength:"8" maxLength:"128" example:"7KQ2-M9XD-4HVT" doc:"The one-time enrollment code a manager created for the door. Case, dashes and spaces do not matter."`
		NKey         string `json:"nkey" minLength:"56" maxLength:"56" example:"UCQGO6UOSULZZCYSQBSNPQUTBBA5U4BBQXQTQ3IOSMGKCR7AVJAWJ5NX" doc:"The public half of the NATS user key the device generated for itself; the private half never leaves the device."`
		AgentVersion string `json:"agent_version,omitempty" maxLength:"64" doc:"The agent's version, for information."`
	}
}

func (s *Server) enrollDevice(ctx context.Context, in *enrollDeviceInput) (*output[*wire.EnrollResponse], error) {
	req := wire.EnrollRequest{Code: in.Body.Code, NKey: in.Body.NKey, AgentVersion: in.Body.AgentVersion}
	return answer(s.app.Devices.Enroll(ctx, req, app.AddrKey(requestAddr(ctx))))
}
