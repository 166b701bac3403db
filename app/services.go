package app

import (
	"cmp"
	"log/slog"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/password"
	"github.com/doorman-dev/doorman/webhook"
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
	Returns     *Returns

	// Transparency runs the buildings' public transparency pages.
	Transparency *Transparency
	// Webhooks manages webhook endpoints and produces their messages.
	Webhooks *Webhooks
	// Outbox produces notifications and webhook calls from the audit log
	// and delivers them.
	Outbox *Outbox
	// Alerts tells managers when a door or the audit log needs them.
	Alerts *Alerts
	// Retention removes personal data older than each building allows.
	Retention *Retention
	// CommandKeys rotates and revokes command keys; nil without a
	// KeyRing.
	CommandKeys *CommandKeys
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
	// KeyRing is the command key ring to rotate (usually Keys as well);
	// nil: no CommandKeys service. When Bus is a KeyBus too, key changes
	// and heartbeats that report an old key set send doors key updates.
	KeyRing KeyRing
	// PasswordParams are the argon2id costs of new manager passwords.
	PasswordParams password.Params
	// AuditCheckpoints are this node's audit checkpoint files and key;
	// nil: verification checks the hash chains only.
	AuditCheckpoints *AuditCheckpoints
	// WebhookURLs admits webhook endpoint URLs (a production
	// *webhook.Guard when nil).
	WebhookURLs URLChecker
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
	audit := NewAudit(store, cfg.AuditCheckpoints)
	devices.trees = audit.trees // one cache of the chains' trees for every proof
	retention := NewRetention(store, cfg.Now, cfg.Logger)
	// Sent messages keep who was told what and when; their bodies (names,
	// addresses, notes) go with the building's retention period.
	retention.RegisterHook(RetentionMessageBodies, store.ScrubMessagesBefore)
	// Delivery photos show where a parcel was left at a resident's door.
	retention.RegisterHook(RetentionDeliveryPhotos, store.DeleteDeliveryPhotosBefore)
	var commandKeys *CommandKeys
	if cfg.KeyRing != nil {
		kb, _ := cfg.Bus.(KeyBus)
		commandKeys = NewCommandKeys(cfg.KeyRing, store, kb, cfg.Logger)
		devices.commandKeys = commandKeys
	}
	return &Services{
		CommandKeys: commandKeys,
		Access:      cfg.Access,
		Buildings:   NewBuildings(store, cfg.Now),
		Carriers:    NewCarriers(store),
		Credentials: creds,
		Accounts:    NewAccounts(store, creds, cfg.PasswordParams, cfg.Now, cfg.Logger),
		Devices:     devices,
		Audit:       audit,
		Residents:   NewResidents(store, creds, cfg.Now, cfg.Logger),
		Notices:     NewNotices(store, ""),
		Returns:     NewReturns(store, "", cfg.Now, cfg.Logger),

		Transparency: NewTransparency(store, auditKey),
		Outbox:       NewOutbox(store, cfg.Now, cfg.Logger),
		Alerts:       NewAlerts(store, audit, cfg.Now, cfg.Logger),
		Retention:    retention,
		Webhooks:     NewWebhooks(store, cmp.Or[URLChecker](cfg.WebhookURLs, &webhook.Guard{}), cfg.Now),
	}
}
