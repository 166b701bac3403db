package app

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/doorman-dev/doorman"
)

// RetentionStore is what the Retention service uses of the store.
type RetentionStore interface {
	doorman.AlertStore
	ListBuildings(ctx context.Context, ids []string, p doorman.Page) ([]*doorman.Building, string, error)
	AppendAudit(ctx context.Context, e *doorman.AuditEntry) error
}

// RetentionHook removes one kind of a building's personal data older than
// before and returns how many items it removed. Services that keep such
// data register one (RegisterHook): the delivery photos, the outbox's
// message bodies.
type RetentionHook func(ctx context.Context, buildingID string, before time.Time) (int, error)

// Retention keeps personal data no longer than each building's retention
// period (AlertSettings.RetentionDays): a daily job calls Enforce. It
// never touches audit entries, which stay as the record of what happened
// (they name couriers and doors by ID, never residents' contacts), so the
// chains still verify after it runs.
type Retention struct {
	store  RetentionStore
	now    func() time.Time
	logger *slog.Logger

	mu    sync.Mutex
	hooks map[string]RetentionHook
}

// NewRetention returns the Retention service over store.
func NewRetention(store RetentionStore, now func() time.Time, logger *slog.Logger) *Retention {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Retention{store: store, now: now, logger: logger, hooks: map[string]RetentionHook{}}
}

// Names of what retention removes, as the retention.enforced entry counts
// them.
const (
	RetentionDeliveryNotes  = "delivery_notes"
	RetentionDeliveryPhotos = "delivery_photos"
	RetentionMessageBodies  = "message_bodies"
)

// RegisterHook adds what removes the named kind of personal data.
//
// New registers RetentionMessageBodies (the outbox's
// ScrubMessagesBefore) and RetentionDeliveryPhotos (the store's
// DeleteDeliveryPhotosBefore).
func (s *Retention) RegisterHook(name string, h RetentionHook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks[name] = h
}

// Enforce removes, in every building, the personal data older than the
// building's retention period, and appends one retention.enforced entry
// per building saying how much of each kind went (counts only) (system
// only). A building it ran for within doorman.RetentionMinGap, on this
// node or another, is skipped. A building whose removal fails is logged and left for the next
// run; the others go on. Returns what it removed, by building.
func (s *Retention) Enforce(ctx context.Context) (map[string]doorman.RetentionCounts, error) {
	if _, err := require(ctx, []string{doorman.RoleSystem}); err != nil {
		return nil, err
	}
	s.mu.Lock()
	hooks := maps.Clone(s.hooks)
	s.mu.Unlock()
	names := slices.Sorted(maps.Keys(hooks))

	now := s.now()
	out := map[string]doorman.RetentionCounts{}
	var firstErr error
	for page := (doorman.Page{Limit: doorman.MaxPageLimit}); ; {
		buildings, next, err := s.store.ListBuildings(ctx, nil, page)
		if err != nil {
			return out, err
		}
		for _, b := range buildings {
			if ctx.Err() != nil {
				// Stopped (a shutdown): the next run takes up where this
				// one left off; one error, not one per building.
				return out, ctx.Err()
			}
			counts, err := s.enforce(ctx, b.ID, now, names, hooks)
			if err != nil && ctx.Err() != nil {
				return out, ctx.Err()
			}
			if err != nil {
				s.logger.Error("retention", "building", b.ID, "err", err)
				if firstErr == nil {
					firstErr = err
				}
			}
			if counts != nil {
				out[b.ID] = counts
			}
		}
		if next == "" {
			break
		}
		page.After = next
	}
	return out, firstErr
}

// enforce removes one building's old personal data and records it.
func (s *Retention) enforce(ctx context.Context, buildingID string, now time.Time, names []string, hooks map[string]RetentionHook) (doorman.RetentionCounts, error) {
	if ok, err := s.store.ClaimRetentionRun(ctx, buildingID, now, now.Add(-doorman.RetentionMinGap)); err != nil || !ok {
		return nil, err
	}
	st, err := s.store.AlertSettings(ctx, buildingID)
	if err != nil {
		return nil, err
	}
	before := now.Add(-time.Duration(st.RetentionDays) * 24 * time.Hour)
	counts := doorman.RetentionCounts{}
	if counts[RetentionDeliveryNotes], err = s.store.ClearDeliveryNotesBefore(ctx, buildingID, before); err != nil {
		return nil, err
	}
	var hookErr error
	for _, name := range names {
		n, err := hooks[name](ctx, buildingID, before)
		if err != nil {
			hookErr = fmt.Errorf("retention of %s: %w", name, err)
			if ctx.Err() != nil {
				return counts, hookErr // stopped: Enforce says so once
			}
			s.logger.Error("retention hook", "building", buildingID, "kind", name, "err", err)
			continue
		}
		counts[name] = n
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	e := &doorman.AuditEntry{Action: doorman.ActionRetentionEnforced, BuildingID: buildingID, At: now,
		Detail: fmt.Sprintf("Personal data older than %d days (before %s) removed: %s.",
			st.RetentionDays, before.UTC().Format(time.RFC3339), strings.Join(parts, ", "))}
	if err := s.store.AppendAudit(ctx, e); err != nil {
		return counts, err
	}
	return counts, hookErr
}
