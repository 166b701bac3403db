package http

import (
	"context"

	"github.com/doorman-dev/doorman/wire"
)

// DeviceBus issues and revokes door devices' bus credentials, and tells
// enrolling devices how to reach the bus and which keys sign their
// commands. natsbus.Bus implements it; this package names only what it
// uses, so that it never imports the bus.
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
	// CommandKeys verify unlock commands and time replies.
	CommandKeys() []wire.VerifyKey
}
