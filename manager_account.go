package doorman

import (
	"context"
	"time"
)

// ManagerTOTP is a manager's second sign-in factor: a TOTP secret (RFC
// 6238: SHA-1, 6 digits, 30-second steps), pending until the manager
// confirms it with a code, then required at every sign-in.
type ManagerTOTP struct {
	// Secret is the base32 shared secret ("" when the manager has none).
	Secret string
	// EnabledAt is when the manager confirmed the secret; nil while it is
	// pending (or there is none).
	EnabledAt *time.Time
	// LastStep is the last 30-second step whose code was accepted; a code
	// of that step or an earlier one is refused, so a code works once.
	LastStep int64
}

// Enabled reports whether sign-ins need a code.
func (t *ManagerTOTP) Enabled() bool { return t != nil && t.Secret != "" && t.EnabledAt != nil }

// ManagerAccountStore keeps what a manager changes about their own
// account: the TOTP factor and revoking every session at once.
type ManagerAccountStore interface {
	// Manager returns ENOTFOUND.
	Manager(ctx context.Context, id string) (*Manager, error)
	// ManagerTOTP returns the manager's TOTP factor (a zero one when there
	// is none). Returns ENOTFOUND for an unknown manager.
	ManagerTOTP(ctx context.Context, managerID string) (*ManagerTOTP, error)
	// SetManagerTOTP replaces the manager's TOTP factor; a zero one
	// removes it. Returns ENOTFOUND.
	SetManagerTOTP(ctx context.Context, managerID string, t *ManagerTOTP) error
	// UseManagerTOTPStep records step as the manager's last accepted step
	// if it is later than the one recorded, and reports whether it was:
	// of two sign-ins with the same code, one wins. Returns ENOTFOUND.
	UseManagerTOTPStep(ctx context.Context, managerID string, step int64) (bool, error)
	// RevokeCredentials revokes every credential of the role and subject
	// not revoked yet, and returns how many it revoked.
	RevokeCredentials(ctx context.Context, role, subjectID string) (int, error)
}
