package app

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// Enrollment codes are 12 characters of Crockford's base32 (60 random
// bits), shown in groups of four: "7KQ2-M9XD-4HVT". They are typed on a
// device by hand, so reading them back forgives case, dashes, spaces and
// the letters Crockford's alphabet leaves out for looking like digits.
const (
	enrollmentCodeLen   = 12
	enrollmentCodeGroup = 4
	crockford           = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// NewEnrollmentCode returns a new random code in its display form.
func NewEnrollmentCode() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("app: no randomness: " + err.Error())
	}
	v := binary.BigEndian.Uint64(b[:])
	var sb strings.Builder
	for i := range enrollmentCodeLen {
		if i > 0 && i%enrollmentCodeGroup == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(crockford[v&31])
		v >>= 5
	}
	return sb.String()
}

// NormalizeEnrollmentCode returns the canonical form of a typed code (upper
// case, no dashes or spaces, O read as 0 and I or L as 1) and whether it can
// be a code at all. Only the hash of the canonical form is stored.
func NormalizeEnrollmentCode(typed string) (string, bool) {
	var sb strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch r {
		case '-', ' ', '\t':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(crockford, r) {
			return "", false
		}
		sb.WriteRune(r)
	}
	if sb.Len() != enrollmentCodeLen {
		return "", false
	}
	return sb.String(), true
}

// errBadEnrollmentCode is the one answer to a code that cannot be used:
// unknown, used, expired or malformed alike.
func errBadEnrollmentCode() error {
	return doorman.Errorf(doorman.ENOTFOUND, "Unknown or expired enrollment code.")
}

// Enroll lets a device claim the door of a one-time code; the caller is
// anyone holding the code, from the client address addr (AddrKey). The
// order keeps every failure safe:
//
//  1. Guessing is limited (per address and overall, counted in the store)
//     before the code is looked at, and a server without a bus ready to
//     take devices refuses before the code is used. Past the global limit
//     each address keeps one attempt per window.
//  2. The store consumes the code and registers the device in one
//     transaction, revoking the door's previous devices.
//  3. The previous devices are shut out of the bus (failures are logged:
//     the store already refuses their events).
//  4. The device's bus credentials are issued and the answer is built and
//     checked. If that fails, the new device is revoked in the store and
//     on the bus and the caller is told to get a new code: a device that
//     is registered but got no credentials is never left active.
//
// Returns EINVALID, ENOTFOUND (the code), ECONFLICT (a key registered
// before), ETOOMANYREQUEST (a *RetryError) or EUNAVAILABLE.
func (s *Devices) Enroll(ctx context.Context, req wire.EnrollRequest, addr string) (*wire.EnrollResponse, error) {
	now := s.now()
	if err := s.enrollAllowed(ctx, addr, now); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if err := s.enrollReady(); err != nil {
		return nil, err
	}
	code, valid := NormalizeEnrollmentCode(req.Code)
	if !valid {
		return nil, s.enrollFailed(ctx, addr, now)
	}
	d := &doorman.Device{PublicKey: req.NKey}
	replaced, err := s.store.EnrollDevice(ctx, doorman.HashToken(code), d, now)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, s.enrollFailed(ctx, addr, now)
	} else if err != nil {
		return nil, err
	}
	// An installer enrolling door after door from one address is not
	// guessing.
	if err := s.store.ThrottleReset(ctx, enrollByAddr.prefix+addr); err != nil {
		s.logger.Warn("app: resetting an address's enrollment attempts", "err", err)
	}

	// The code is used up: finish even if the caller goes away.
	bg := context.WithoutCancel(ctx)
	for _, old := range replaced {
		if err := s.bus.RevokeDevice(bg, old.PublicKey); err != nil {
			s.logger.Error("app: shutting a replaced device out of the bus", "device", old.ID, "door", old.DoorID, "err", err)
		}
	}
	resp, err := s.enrollResponse(bg, d)
	if err != nil {
		s.logger.Error("app: enrolled device got no credentials; revoking it", "device", d.ID, "door", d.DoorID, "err", err)
		s.abandonDevice(bg, d, now)
		return nil, doorman.Errorf(doorman.EUNAVAILABLE, "The device could not be given bus credentials and was not enrolled. The code is used up: create a new one and try again.")
	}
	s.logger.Info("app: device enrolled", "device", d.ID, "door", d.DoorID, "replaced", len(replaced), "agent_version", req.AgentVersion)
	return resp, nil
}

// enrollAllowed counts the attempt against the address's limit, first, so
// that parallel guesses are all counted before any is checked, and refuses
// while the address is over its limit, or everyone is over the global one
// and the address has tried before in its window: past the global limit
// each address keeps its first attempt, so a spray of bad codes from many
// addresses cannot shut a genuine installer out.
func (s *Devices) enrollAllowed(ctx context.Context, addr string, now time.Time) error {
	n, untilAddr, err := enrollByAddr.count(ctx, s.store, addr, now)
	if err != nil {
		return err
	}
	if n > enrollByAddr.max {
		return tooMany("Too many wrong enrollment codes; try again later.", now, untilAddr)
	}
	overAll, untilAll, err := enrollGlobal.over(ctx, s.store, "", now)
	if err != nil {
		return err
	}
	if overAll && n > 1 {
		return tooMany("Too many wrong enrollment codes; try again later.", now, untilAll)
	}
	return nil
}

// enrollFailed counts a wrong code against the global limit and returns
// the one answer to it.
func (s *Devices) enrollFailed(ctx context.Context, addr string, now time.Time) error {
	if n, _, err := enrollGlobal.count(ctx, s.store, "", now); err != nil {
		return err
	} else if n == enrollGlobal.max {
		s.logger.Warn("app: enrollment code guessing limit reached for everyone; each address keeps one attempt per window", "window", enrollGlobal.window)
	}
	return errBadEnrollmentCode()
}

// enrollReady refuses with EUNAVAILABLE unless there is a bus whose
// addresses, CA and command keys make a valid enrollment answer, so that
// no code is used up for an answer that cannot be given.
func (s *Devices) enrollReady() error {
	if s.bus == nil {
		return doorman.Errorf(doorman.EUNAVAILABLE, "Device enrollment is not available: this server has no device bus.")
	}
	probe := s.enrollAnswer(doorman.NewID(doorman.PrefixDevice), doorman.NewID(doorman.PrefixDoor), "probe", doorman.DefaultPulseMillis)
	if err := probe.Validate(); err != nil {
		s.logger.Error("app: the device bus cannot enroll devices", "err", err, "detail", doorman.ErrorMessage(err))
		return doorman.Errorf(doorman.EUNAVAILABLE, "Device enrollment is not available: the device bus is not set up for it.")
	}
	return nil
}

// enrollResponse issues the device's credentials and returns the checked
// answer.
func (s *Devices) enrollResponse(ctx context.Context, d *doorman.Device) (*wire.EnrollResponse, error) {
	door, err := s.store.Door(ctx, d.DoorID)
	if err != nil {
		return nil, err
	}
	userJWT, err := s.bus.IssueDeviceCredentials(d.DoorID, d.ID, d.PublicKey)
	if err != nil {
		return nil, err
	}
	resp := s.enrollAnswer(d.ID, d.DoorID, userJWT, door.PulseMillis)
	if s.auditKey != "" {
		resp.AuditKey, resp.AuditChain = s.auditKey, door.BuildingID
	}
	if err := resp.Validate(); err != nil {
		return nil, err
	}
	return resp, nil
}

// enrollAnswer assembles an enrollment answer. The door's held-open time
// is left to the device's default (0): doors have no such setting yet.
func (s *Devices) enrollAnswer(deviceID, doorID, userJWT string, pulseMillis int) *wire.EnrollResponse {
	var keys []wire.VerifyKey
	if s.keys != nil {
		keys = s.keys.VerifyKeys()
	}
	return &wire.EnrollResponse{
		DeviceID:    deviceID,
		DoorID:      doorID,
		NATSURLs:    s.bus.DeviceURLs(),
		UserJWT:     userJWT,
		CACertPEM:   string(s.bus.CACertPEM()),
		CommandKeys: keys,
		Door:        wire.DoorConfig{PulseMillis: pulseMillis},
		TLSFirst:    s.bus.TLSFirst(),
	}
}

// abandonDevice revokes a device that was registered but cannot be
// answered, in the store and on the bus. Failures are logged: the device
// holds no credentials either way.
func (s *Devices) abandonDevice(ctx context.Context, d *doorman.Device, now time.Time) {
	if _, err := s.store.RevokeDevice(ctx, d.BuildingID, d.ID, now); err != nil {
		s.logger.Error("app: revoking a device that got no credentials", "device", d.ID, "err", err)
	}
	if err := s.bus.RevokeDevice(ctx, d.PublicKey); err != nil {
		s.logger.Error("app: shutting a device that got no credentials out of the bus", "device", d.ID, "err", err)
	}
}
