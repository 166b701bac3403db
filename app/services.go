package app

import (
	"log/slog"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/password"
)

// Services are every application service over one store: what the
// adapters (API, CLI, demo, bus consumer) are given.
type Services struct {
	Access      doorman.AccessService
	Buildings   *Buildings
	Carriers    *Carriers
	Credentials *Credentials
	Accounts    *Accounts
	Devices     *Devices
	Audit       *Audit
	Residents   *Residents
	Notices     *Notices

	// Transparency runs the buildings' public transparency pages.
	Transparency *Transparency
	// Outbox produces notifications and webhook calls from the audit log
	// and delivers them.
	Outbox *Outbox
}

// Config holds what the services need besides the store. Only Access is
// required.
type Config struct {
	// Access decides courier access requests (access.Service).
	Access doorman.AccessService
	// Bus issues and revokes device credentials; nil: devices cannot
	// enroll.
	Bus DeviceBus
	// Keys are the command verification keys devices are given.
	Keys VerifyKeys
	// PasswordParams are the argon2id costs of new manager passwords.
	PasswordParams password.Params
	// AuditCheckpoints are this node's audit checkpoint files and key;
	// nil: verification checks the hash chains only.
	AuditCheckpoints *AuditCheckpoints
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// New returns every service over store.
func New(store doorman.Store, cfg Config) *Services {
	creds := NewCredentials(store, cfg.Now)
	devices := NewDevices(store, cfg.Bus, cfg.Keys, cfg.Now, cfg.Logger)
	var auditKey string
	if cfg.AuditCheckpoints != nil {
		devices.auditKey = cfg.AuditCheckpoints.VKey
		auditKey = cfg.AuditCheckpoints.VKey
	}
	return &Services{
		Access:      cfg.Access,
		Buildings:   NewBuildings(store, cfg.Now),
		Carriers:    NewCarriers(store),
		Credentials: creds,
		Accounts:    NewAccounts(store, creds, cfg.PasswordParams, cfg.Now, cfg.Logger),
		Devices:     devices,
		Audit:       NewAudit(store, cfg.AuditCheckpoints),
		Residents:   NewResidents(store, creds, cfg.Now, cfg.Logger),
		Notices:     NewNotices(store, ""),

		Transparency: NewTransparency(store, auditKey),
		Outbox:       &Outbox{},
	}
}
