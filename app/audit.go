package app

import (
	"context"
	"slices"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/auditlog"
	"golang.org/x/mod/sumdb/note"
)

// AuditStore is what the Audit service uses of the store.
type AuditStore interface {
	scopeStore
	ListAudit(ctx context.Context, f doorman.AuditFilter, p doorman.Page) ([]*doorman.AuditEntry, string, error)
	VerifyAudit(ctx context.Context) ([]doorman.ChainBreak, error)
	Resident(ctx context.Context, id string) (*doorman.Resident, error)
	doorman.AuditLogStore
}

// Audit reads and verifies the audit log, scoped to the caller.
type Audit struct {
	scope
	store AuditStore
	// checkpoints are where and with which key this node publishes the
	// audit checkpoints; without them Verify checks the hash chains only.
	checkpoints *AuditCheckpoints
	// trees keeps chains' Merkle trees for proofs (shared with Devices).
	trees *auditlog.TreeCache
}

// AuditCheckpoints names the checkpoint files of this node and the key
// that verifies them.
type AuditCheckpoints struct {
	Dir      string
	Verifier note.Verifier
	// VKey is Verifier's key in signed-note form, which enrolling devices
	// pin to witness their building's chain; empty: devices are not made
	// witnesses.
	VKey string
}

// NewAudit returns the Audit service over store; checkpoints may be nil.
func NewAudit(store AuditStore, checkpoints *AuditCheckpoints) *Audit {
	return &Audit{scope: scope{store}, store: store, checkpoints: checkpoints, trees: auditlog.NewTreeCache(store, 0)}
}

// AuditQuery narrows a listing; empty fields match everything.
type AuditQuery struct {
	BuildingID string
	Chain      string
	DoorID     string
	CarrierID  string
	CourierID  string
}

// List lists the audit entries the caller may see, newest first:
// operators everything, managers the chains of their buildings, carriers
// their own entries and couriers theirs. Carriers and couriers are shown
// entries without their chain positions and hashes (which would tell them
// how busy another building is), and denial reasons as they were told
// them. Asking for something outside the scope is ENOTFOUND.
func (s *Audit) List(ctx context.Context, q AuditQuery, page doorman.Page) ([]*doorman.AuditEntry, string, error) {
	p, err := require(ctx, everyone)
	if err != nil {
		return nil, "", err
	}
	f := doorman.AuditFilter{Chain: q.Chain, DoorID: q.DoorID, CarrierID: q.CarrierID, CourierID: q.CourierID}
	if q.BuildingID != "" {
		f.BuildingIDs = []string{q.BuildingID}
	}
	switch p.Role {
	case doorman.RoleManager:
		ids, err := s.managedBuildingIDs(ctx)
		if err != nil {
			return nil, "", err
		}
		if q.BuildingID != "" && !slices.Contains(ids, q.BuildingID) {
			return nil, "", notFound("Building")
		}
		if q.Chain != "" && !slices.Contains(ids, q.Chain) {
			return nil, "", notFound("Building")
		}
		if q.BuildingID == "" {
			f.BuildingIDs = ids
		}
	case doorman.RoleCarrier:
		if q.CarrierID != "" && q.CarrierID != p.CarrierID {
			return nil, "", notFound("Carrier")
		}
		f.CarrierID = p.CarrierID
	case doorman.RoleCourier:
		if q.CourierID != "" && q.CourierID != p.SubjectID {
			return nil, "", notFound("Courier")
		}
		f.CarrierID, f.CourierID = p.CarrierID, p.SubjectID
	}
	items, next, err := s.store.ListAudit(ctx, f, page.Normalize())
	if err != nil {
		return nil, "", err
	}
	if p.Role == doorman.RoleCarrier || p.Role == doorman.RoleCourier {
		for _, e := range items {
			redactForCarrier(e)
		}
	}
	return items, next, nil
}

// redactForCarrier strips what a carrier or courier must not learn from
// its own entry: where the entry sits in a building's chain, and the
// precise reason of a denial it was told otherwise.
func redactForCarrier(e *doorman.AuditEntry) {
	e.Chain, e.Seq, e.PrevHash, e.Hash, e.Seal = "", 0, "", "", ""
	if e.Reason == doorman.ReasonParcelWrongCarrier {
		// Entries written before the reason was told as unknown_parcel
		// say whose parcel it was in their detail.
		e.Reason, e.Detail = doorman.ReasonUnknownParcel, "A scanned parcel is not known."
	}
}

// Verify checks every chain's hash links and, when the service was given
// the checkpoints, the chains against them (auditlog.Verify), and returns
// the first break of each broken chain, hash links first (operators
// only).
func (s *Audit) Verify(ctx context.Context) ([]doorman.ChainBreak, error) {
	if _, err := require(ctx, operators); err != nil {
		return nil, err
	}
	breaks, err := s.store.VerifyAudit(ctx)
	if err != nil || s.checkpoints == nil {
		return breaks, err
	}
	more, err := auditlog.Verify(ctx, s.store, s.checkpoints.Dir, s.checkpoints.Verifier)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, b := range breaks {
		seen[b.Chain] = true
	}
	for _, b := range more {
		if !seen[b.Chain] {
			breaks = append(breaks, b)
		}
	}
	return breaks, nil
}
