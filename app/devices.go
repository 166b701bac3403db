package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/auditlog"
	"github.com/doorman-dev/doorman/wire"
)

// DeviceStore is what the Devices service uses of the store.
type DeviceStore interface {
	scopeStore
	ThrottleStore
	CreateEnrollment(ctx context.Context, e *doorman.Enrollment) error
	EnrollDevice(ctx context.Context, codeHash string, d *doorman.Device, now time.Time) ([]*doorman.Device, error)
	ListDevices(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Device, string, error)
	RevokeDevice(ctx context.Context, buildingID, id string, now time.Time) (*doorman.Device, error)
	Device(ctx context.Context, id string) (*doorman.Device, error)
	AppendAudit(ctx context.Context, e *doorman.AuditEntry) error
	RecordDeviceEvent(ctx context.Context, e *doorman.DeviceEvent) (bool, error)
	ChainEventCounts(ctx context.Context) (int, error)
	PruneDeviceEvents(ctx context.Context, before time.Time, limit int) (int, error)
	Grant(ctx context.Context, id string) (*doorman.Grant, error)
	MarkGrantUsed(ctx context.Context, id string, at time.Time) error
	LatestAuditCheckpoint(ctx context.Context, chain string) (*doorman.AuditCheckpoint, error)
	AuditChain(ctx context.Context, chain string, after, upTo int64) ([]*doorman.AuditEntry, error)
	AuditWitnesses(ctx context.Context, chain string) ([]*doorman.AuditWitness, error)
}

// DeviceBus issues and revokes door devices' bus credentials and tells
// enrolling devices how to reach the bus. natsbus.Bus implements it.
type DeviceBus interface {
	// IssueDeviceCredentials returns a bus user JWT for the device
	// deviceID of door doorID, whose public NATS user key is devicePub,
	// allowing only its door's subjects and, for events, subjects naming
	// the device itself. Returns EINVALID, ECONFLICT (a revoked key) or
	// EUNAVAILABLE (the bus cannot issue credentials).
	IssueDeviceCredentials(doorID, deviceID, devicePub string) (userJWT string, err error)
	// RevokeDevice disconnects the device with that key and keeps it out
	// for good. Revoking twice is not an error. Returns EINVALID or
	// EUNAVAILABLE (the bus's account is managed elsewhere).
	RevokeDevice(ctx context.Context, devicePub string) error
	// DeviceURLs are the bus URLs handed to devices.
	DeviceURLs() []string
	// CACertPEM is the CA of the bus's TLS certificate, pinned by devices.
	CACertPEM() []byte
	// TLSFirst reports whether devices must start TLS before the bus's
	// INFO line.
	TLSFirst() bool
}

// VerifyKeys gives the keys devices verify unlock commands and time
// replies with: what an enrolling device pins (the command key ring).
type VerifyKeys interface {
	VerifyKeys() []wire.VerifyKey
}

// Enrollment-code guessing limits: per client address (attempts, counted
// before the code is checked, forgotten after a success), and wrong codes
// from everyone together. Past the global limit each address keeps its
// first attempt per window, so a spray of bad codes cannot shut a genuine
// installer out, and someone holding many addresses gets one guess per
// address per window against codes of 60 random bits that live 15 minutes.
// They hold across nodes: the counts are in the store.
const (
	EnrollFailures       = 10   // attempts per address (IPv4, or IPv6 /64) without a success
	EnrollGlobalFailures = 1000 // wrong codes from everyone
	EnrollWindow         = 15 * time.Minute
	// EnrollGlobalKey is the throttle key of the global limit.
	EnrollGlobalKey = "enroll:all"
)

var (
	enrollByAddr = limit{prefix: "enroll:addr:", max: EnrollFailures, window: EnrollWindow}
	enrollGlobal = limit{prefix: EnrollGlobalKey, max: EnrollGlobalFailures, window: EnrollWindow}
)

// Devices runs the use cases of door devices: enrollment codes,
// enrollment, listing, revocation, and what their events mean.
type Devices struct {
	scope
	store DeviceStore
	bus   DeviceBus // nil: devices cannot enroll
	keys  VerifyKeys
	// commandKeys sends devices whose heartbeat reports an old key set
	// the current one; nil: none is sent.
	commandKeys *CommandKeys
	// auditKey is the audit checkpoint verifier key (signed-note form)
	// enrolling devices pin to witness their building's chain; empty:
	// devices are not made witnesses.
	auditKey string
	// trees keeps chains' Merkle trees for the witnesses' proofs (shared
	// with Audit).
	trees  *auditlog.TreeCache
	now    func() time.Time
	logger *slog.Logger
	// deviceKeys caches each device's public key (see deviceKey).
	deviceKeys deviceKeyCache
	// pushes paces checkpoints pushed to witnesses (PublishCheckpoint);
	// doorSends remembers what each door was sent and last reported, and
	// paces answers to heartbeats (sendCheckpoint).
	pushes    witnessPushes
	doorSends witnessSends
}

// NewDevices returns the Devices service. Without a bus, devices cannot
// enroll (EUNAVAILABLE) and revoking only marks the device in the store.
func NewDevices(store DeviceStore, bus DeviceBus, keys VerifyKeys, now func() time.Time, logger *slog.Logger) *Devices {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Devices{scope: scope{store}, store: store, bus: bus, keys: keys, trees: auditlog.NewTreeCache(store, 0), now: now, logger: logger}
}

// NewEnrollment is an enrollment code just created, shown once.
type NewEnrollment struct {
	ID        string    `json:"id" doc:"The enrollment's ID (enr_…)."`
	DoorID    string    `json:"door_id" doc:"The door the code enrolls a device for."`
	Code      string    `json:"code" example:"7KQ2-M9XD-4HVT" doc:"The one-time code to give the device (doorman-agent enroll). It is shown only here; Doorman keeps its hash."`
	ExpiresAt time.Time `json:"expires_at" doc:"The code works once, until this time (15 minutes after it was made)."`
}

// enrollmentAttempts bounds retries when a new code's hash is taken (with
// 60 random bits that does not happen, but the store would say so).
const enrollmentAttempts = 3

// CreateEnrollment makes a one-time code with which a device claims a door
// of a building the caller manages. Returns ENOTFOUND.
func (s *Devices) CreateEnrollment(ctx context.Context, buildingID, doorID string) (*NewEnrollment, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, err
	}
	d, err := s.door(ctx, buildingID, doorID, manageBuilding)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		code := NewEnrollmentCode()
		canonical, _ := NormalizeEnrollmentCode(code)
		e := &doorman.Enrollment{
			DoorID:     d.ID,
			BuildingID: d.BuildingID,
			CodeHash:   doorman.HashToken(canonical),
			ExpiresAt:  s.now().Add(doorman.EnrollmentTTL),
		}
		err := s.store.CreateEnrollment(ctx, e)
		if doorman.ErrorCode(err) == doorman.ECONFLICT && attempt < enrollmentAttempts {
			continue
		} else if err != nil {
			return nil, scoped(err, "Door")
		}
		return &NewEnrollment{ID: e.ID, DoorID: e.DoorID, Code: code, ExpiresAt: e.ExpiresAt}, nil
	}
}

// ListDevices lists a building's devices, revoked ones included.
func (s *Devices) ListDevices(ctx context.Context, buildingID string, page doorman.Page) ([]*doorman.Device, string, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, "", err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, "", err
	}
	return s.store.ListDevices(ctx, b.ID, page.Normalize())
}

// RevokeDevice marks a device of a building the caller manages revoked,
// then has the bus disconnect it and keep it out. If the bus fails the
// answer is EUNAVAILABLE and the call may simply be repeated: revoking
// twice is not an error. Returns ENOTFOUND.
func (s *Devices) RevokeDevice(ctx context.Context, buildingID, deviceID string) error {
	if _, err := require(ctx, managers); err != nil {
		return err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return err
	}
	if !doorman.HasPrefix(deviceID, doorman.PrefixDevice) {
		return notFound("Device")
	}
	d, err := s.store.RevokeDevice(ctx, b.ID, deviceID, s.now())
	if err != nil {
		return scoped(err, "Device")
	}
	if s.bus == nil {
		return nil
	}
	if err := s.bus.RevokeDevice(context.WithoutCancel(ctx), d.PublicKey); err != nil {
		s.logger.Error("app: shutting a revoked device out of the bus", "device", d.ID, "err", err)
		return doorman.Errorf(doorman.EUNAVAILABLE, "The device is revoked, but the bus could not shut it out yet; repeat the request.")
	}
	return nil
}
