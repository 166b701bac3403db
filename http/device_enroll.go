package http

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

type enrollDeviceInput struct {
	Body struct {
		Code         string `json:"code" minLength:"8" maxLength:"128" example:"7KQ2-M9XD-4HVT" doc:"The one-time enrollment code a manager created for the door. Case, dashes and spaces do not matter."`
		NKey         string `json:"nkey" minLength:"56" maxLength:"56" example:"UCQGO6UOSULZZCYSQBSNPQUTBBA5U4BBQXQTQ3IOSMGKCR7AVJAWJ5NX" doc:"The public half of the NATS user key the device generated for itself; the private half never leaves the device."`
		AgentVersion string `json:"agent_version,omitempty" maxLength:"64" doc:"The agent's version, for information."`
	}
	// clientAddr keys the guessing limit: the caller's IPv4 address or
	// IPv6 /64.
	clientAddr string
}

// Resolve implements huma.Resolver: it notes the caller's address.
func (in *enrollDeviceInput) Resolve(ctx huma.Context) []error {
	in.clientAddr = addrKey(ctx.RemoteAddr())
	return nil
}

// addrKey returns the rate-limit key of a remote address: the IPv4
// address, or the /64 of an IPv6 one (a single host usually holds a whole
// /64). The address is the TCP peer: behind a reverse proxy every caller
// shares the proxy's key, and the global limit is what remains.
func addrKey(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// errBadEnrollmentCode is the one answer to a code that cannot be used:
// unknown, used, expired or malformed alike.
func errBadEnrollmentCode() error {
	return doorman.Errorf(doorman.ENOTFOUND, "Unknown or expired enrollment code.")
}

// enrollDevice lets a device claim the door of a one-time code. The order
// keeps every failure safe:
//
//  1. Guessing is limited (per address and overall) before the code is
//     looked at, and a server without a bus ready to take devices refuses
//     before the code is used.
//  2. The store consumes the code and registers the device in one
//     transaction, revoking the door's previous devices.
//  3. The previous devices are shut out of the bus (failures are logged:
//     the store already refuses their events).
//  4. The device's bus credentials are issued and the answer is built and
//     checked. If that fails, the new device is revoked in the store and
//     on the bus and the caller is told to get a new code: a device that
//     is registered but got no credentials is never left active.
func (s *Server) enrollDevice(ctx context.Context, in *enrollDeviceInput) (*output[*wire.EnrollResponse], error) {
	now := s.now()
	if err := s.enrollAllowed(in.clientAddr, now); err != nil {
		return nil, err
	}
	req := wire.EnrollRequest{Code: in.Body.Code, NKey: in.Body.NKey, AgentVersion: in.Body.AgentVersion}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if err := s.enrollReady(); err != nil {
		return nil, err
	}
	code, valid := normalizeEnrollmentCode(req.Code)
	if !valid {
		s.enrollFailed(in.clientAddr, now)
		return nil, errBadEnrollmentCode()
	}
	d := &doorman.Device{PublicKey: req.NKey}
	replaced, err := s.store.EnrollDevice(ctx, doorman.HashToken(code), d, now)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		s.enrollFailed(in.clientAddr, now)
		return nil, errBadEnrollmentCode()
	} else if err != nil {
		return nil, err
	}

	// The code is used up: finish even if the caller goes away.
	bg := context.WithoutCancel(ctx)
	for _, old := range replaced {
		if err := s.devices.RevokeDevice(bg, old.PublicKey); err != nil {
			s.logger.Error("http: shutting a replaced device out of the bus", "device", old.ID, "door", old.DoorID, "err", err)
		}
	}
	resp, err := s.enrollResponse(bg, d)
	if err != nil {
		s.logger.Error("http: enrolled device got no credentials; revoking it", "device", d.ID, "door", d.DoorID, "err", err)
		s.abandonDevice(bg, d, now)
		return nil, problemf(doorman.EUNAVAILABLE, "The device could not be given bus credentials and was not enrolled. The code is used up: create a new one and try again.")
	}
	s.logger.Info("http: device enrolled", "device", d.ID, "door", d.DoorID, "replaced", len(replaced), "agent_version", req.AgentVersion)
	return ok(resp), nil
}

// enrollAllowed returns a 429 problem while the address or everyone is
// over the guessing limit.
func (s *Server) enrollAllowed(addr string, now time.Time) error {
	okAddr, retryAddr := s.enrollByAddr.allow(addr, now)
	okAll, retryAll := s.enrollGlobal.allow("", now)
	if okAddr && okAll {
		return nil
	}
	return problemf(doorman.ETOOMANYREQUEST, "Too many wrong enrollment codes; try again later.").
		withReason(doorman.ReasonRateLimited).withHeader("Retry-After", retryAfter(max(retryAddr, retryAll)))
}

// enrollFailed counts a wrong code.
func (s *Server) enrollFailed(addr string, now time.Time) {
	if s.enrollByAddr.fail(addr, now) {
		s.logger.Warn("http: enrollment code guessing limit reached for an address", "addr", addr)
	}
	if s.enrollGlobal.fail("", now) {
		s.logger.Warn("http: enrollment code guessing limit reached for everyone; enrollments are refused for a while", "window", enrollWindow)
	}
}

// enrollReady returns a 503 problem unless the server has a bus whose
// addresses, CA and command keys make a valid enrollment answer, so that
// no code is used up for an answer that cannot be given.
func (s *Server) enrollReady() error {
	if s.devices == nil {
		return problemf(doorman.EUNAVAILABLE, "Device enrollment is not available: this server has no device bus.")
	}
	probe := s.enrollAnswer(doorman.NewID(doorman.PrefixDevice), doorman.NewID(doorman.PrefixDoor), "probe", doorman.DefaultPulseMillis)
	if err := probe.Validate(); err != nil {
		s.logger.Error("http: the device bus cannot enroll devices", "err", err, "detail", doorman.ErrorMessage(err))
		return problemf(doorman.EUNAVAILABLE, "Device enrollment is not available: the device bus is not set up for it.")
	}
	return nil
}

// enrollResponse issues the device's credentials and returns the checked
// answer.
func (s *Server) enrollResponse(ctx context.Context, d *doorman.Device) (*wire.EnrollResponse, error) {
	door, err := s.store.Door(ctx, d.DoorID)
	if err != nil {
		return nil, err
	}
	userJWT, err := s.devices.IssueDeviceCredentials(d.DoorID, d.ID, d.PublicKey)
	if err != nil {
		return nil, err
	}
	resp := s.enrollAnswer(d.ID, d.DoorID, userJWT, door.PulseMillis)
	if err := resp.Validate(); err != nil {
		return nil, err
	}
	return resp, nil
}

// enrollAnswer assembles an enrollment answer. The door's held-open time
// is left to the device's default (0): doors have no such setting yet.
func (s *Server) enrollAnswer(deviceID, doorID, userJWT string, pulseMillis int) *wire.EnrollResponse {
	return &wire.EnrollResponse{
		DeviceID:    deviceID,
		DoorID:      doorID,
		NATSURLs:    s.devices.DeviceURLs(),
		UserJWT:     userJWT,
		CACertPEM:   string(s.devices.CACertPEM()),
		CommandKeys: s.devices.CommandKeys(),
		Door:        wire.DoorConfig{PulseMillis: pulseMillis},
	}
}

// abandonDevice revokes a device that was registered but cannot be
// answered, in the store and on the bus. Failures are logged: the device
// holds no credentials either way.
func (s *Server) abandonDevice(ctx context.Context, d *doorman.Device, now time.Time) {
	if _, err := s.store.RevokeDevice(ctx, d.BuildingID, d.ID, now); err != nil {
		s.logger.Error("http: revoking a device that got no credentials", "device", d.ID, "err", err)
	}
	if err := s.devices.RevokeDevice(ctx, d.PublicKey); err != nil {
		s.logger.Error("http: shutting a device that got no credentials out of the bus", "device", d.ID, "err", err)
	}
}
