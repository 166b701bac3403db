package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/auditlog"
)

// AuditSearch narrows a building's audit log for its manager; empty
// fields match everything. The door and carrier are filtered by the
// store, the rest here while reading (see Search).
type AuditSearch struct {
	// BuildingID is the building whose chain is searched (required).
	BuildingID string
	DoorID     string
	CarrierID  string
	// Action is an action ("access.denied"), or a prefix ending in a dot
	// ("device.") for every action starting with it.
	Action string
	// Reason is a stable reason code, e.g. a denial reason.
	Reason string
	// Since and Until bound the entries' times: Since <= At < Until. A
	// zero time leaves that side open.
	Since, Until time.Time
}

// AuditView is a page of audit entries with the names of the doors and
// carriers they name, so that people read "Front door", not an ID.
type AuditView struct {
	Entries []*doorman.AuditEntry
	// Next is the cursor of the following page ("" on the last one).
	Next string
	// Names maps the door and carrier IDs of Entries to their names.
	Names map[string]string
}

// Search bounds: a search reads the chain newest first in batches, and
// stops after searchBudget entries even when it has not filled the page,
// returning a cursor where it stopped; entries more than sinceSlack older
// than Since end it (an entry's time and its ID's order agree within a
// device's bounded clock window, well under this).
const (
	searchBatch  = 500
	searchBudget = 5000
	sinceSlack   = time.Hour
)

// valid returns EINVALID for a search that cannot match sensibly.
func (q AuditSearch) valid() error {
	switch {
	case len(q.Action) > 64 || strings.ContainsAny(q.Action, " \t\r\n"):
		return doorman.Errorf(doorman.EINVALID, "The action filter is not an action.")
	case len(q.Reason) > 64 || strings.ContainsAny(q.Reason, " \t\r\n"):
		return doorman.Errorf(doorman.EINVALID, "The reason filter is not a reason code.")
	case !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until):
		return doorman.Errorf(doorman.EINVALID, "The date range ends before it starts.")
	}
	return nil
}

// matches reports whether e passes the filters the store does not apply.
func (q AuditSearch) matches(e *doorman.AuditEntry) bool {
	switch {
	case q.Action != "" && strings.HasSuffix(q.Action, "."):
		if !strings.HasPrefix(e.Action, q.Action) {
			return false
		}
	case q.Action != "" && e.Action != q.Action:
		return false
	}
	if q.Reason != "" && e.Reason != q.Reason {
		return false
	}
	if !q.Since.IsZero() && e.At.Before(q.Since) {
		return false
	}
	if !q.Until.IsZero() && !e.At.Before(q.Until) {
		return false
	}
	return true
}

// Search lists a building's audit entries matching q, newest first
// (operators; the building's managers: anything else is ENOTFOUND, like a
// missing building). It reads at most a few thousand entries per call: a
// page may then hold fewer than page.Limit entries and still have a Next
// cursor, where the next call goes on. Returns EINVALID for a search
// that cannot match.
func (s *Audit) Search(ctx context.Context, q AuditSearch, page doorman.Page) (*AuditView, error) {
	if err := q.valid(); err != nil {
		return nil, err
	}
	if err := s.buildingChain(ctx, q.BuildingID); err != nil {
		return nil, err
	}
	page = page.Normalize()
	view := &AuditView{Entries: []*doorman.AuditEntry{}}
	filter := buildingLog(q.BuildingID)
	filter.DoorID, filter.CarrierID = q.DoorID, q.CarrierID
	batchSize := searchBatch
	if q.Action == "" && q.Reason == "" && q.Since.IsZero() && q.Until.IsZero() {
		batchSize = page.Limit // the store filters everything: one page is one read
	}
	cursor, scanned := page.After, 0
	for {
		batch, next, err := s.store.ListAudit(ctx, filter, doorman.Page{After: cursor, Limit: batchSize})
		if err != nil {
			return nil, err
		}
		for i, e := range batch {
			scanned++
			if !q.Since.IsZero() && e.At.Before(q.Since.Add(-sinceSlack)) {
				return s.named(ctx, view)
			}
			if q.matches(e) {
				view.Entries = append(view.Entries, e)
			}
			more := i < len(batch)-1 || next != ""
			if !more {
				break
			}
			if len(view.Entries) == page.Limit || scanned >= searchBudget {
				view.Next = next
				if i < len(batch)-1 {
					// Stopped inside the batch: the store's own cursor
					// after e is that of the batch cut just after it.
					if _, view.Next, err = s.store.ListAudit(ctx, filter, doorman.Page{After: cursor, Limit: i + 1}); err != nil {
						return nil, err
					}
				}
				return s.named(ctx, view)
			}
		}
		if next == "" {
			return s.named(ctx, view)
		}
		cursor = next
	}
}

// Recent returns a building's entries following seq afterSeq: the next
// limit (1–500) of them, newest first, so that a live view asking again
// from the largest seq it got misses none however far behind it is
// (operators; the building's managers). afterSeq 0 gives the latest
// entries: what a live view shows first.
func (s *Audit) Recent(ctx context.Context, buildingID string, afterSeq int64, limit int) (*AuditView, error) {
	if err := s.buildingChain(ctx, buildingID); err != nil {
		return nil, err
	}
	limit = doorman.Page{Limit: limit}.Normalize().Limit
	var entries []*doorman.AuditEntry
	if afterSeq <= 0 {
		latest, _, err := s.store.ListAudit(ctx, buildingLog(buildingID), doorman.Page{Limit: limit})
		if err != nil {
			return nil, err
		}
		entries = latest
	} else {
		newer, err := s.store.AuditChain(ctx, buildingID, afterSeq, afterSeq+int64(limit))
		if err != nil {
			return nil, err
		}
		slices.Reverse(newer)
		entries = newer
	}
	if entries == nil {
		entries = []*doorman.AuditEntry{}
	}
	return s.named(ctx, &AuditView{Entries: entries})
}

// buildingLog selects a building's chain. The building is named twice:
// the chain is what is meant, and a building's chain holds exactly the
// entries with its building ID (the store derives the one from the
// other), whose index lists them newest first without sorting the chain.
func buildingLog(buildingID string) doorman.AuditFilter {
	return doorman.AuditFilter{Chain: buildingID, BuildingIDs: []string{buildingID}}
}

// buildingChain authorises reading a building's chain (s.chain), telling
// a chain outside the caller's scope as a missing building.
func (s *Audit) buildingChain(ctx context.Context, buildingID string) error {
	err := s.chain(ctx, buildingID)
	if err == nil && !doorman.HasPrefix(buildingID, doorman.PrefixBuilding) {
		err = notFound("Building") // the platform chain is no building's
	}
	return scoped(err, "Building")
}

// named fills view.Names with the doors and carriers its entries name.
// Only called once the caller may read the entries: a manager may see
// every carrier's name, and the doors named are the building's.
func (s *Audit) named(ctx context.Context, view *AuditView) (*AuditView, error) {
	view.Names = map[string]string{}
	for _, e := range view.Entries {
		if e.DoorID != "" {
			if _, ok := view.Names[e.DoorID]; !ok {
				view.Names[e.DoorID] = ""
				if d, err := s.store.Door(ctx, e.DoorID); err == nil {
					view.Names[e.DoorID] = d.Name
				} else if doorman.ErrorCode(err) != doorman.ENOTFOUND {
					return nil, err
				}
			}
		}
		if e.CarrierID != "" {
			if _, ok := view.Names[e.CarrierID]; !ok {
				view.Names[e.CarrierID] = ""
				if c, err := s.store.Carrier(ctx, e.CarrierID); err == nil {
					view.Names[e.CarrierID] = c.Name
				} else if doorman.ErrorCode(err) != doorman.ENOTFOUND {
					return nil, err
				}
			}
		}
	}
	return view, nil
}

// ChainVerification is what verifying one building's chain found.
type ChainVerification struct {
	Chain string
	// Size and Head are the chain's head: its last seq and that entry's
	// hash.
	Size int64
	Head string
	// Checkpoint is the latest signed checkpoint (nil: none yet).
	Checkpoint *doorman.AuditCheckpoint
	// Checkpoints says whether the chain was also checked against its
	// signed checkpoints and its doors' witnessed ones (false when this
	// node has no checkpoint key: then only the hash links were).
	Checkpoints bool
	// Break is the first problem found, nil when the chain verifies.
	Break *doorman.ChainBreak
}

// VerifyBuilding checks one building's chain: its hash links against the
// recorded head and, when the service was given the checkpoints, against
// the signed checkpoints and what the building's doors witnessed
// (auditlog.Verify, over that chain alone). Operators and the building's
// managers; anything else is ENOTFOUND.
func (s *Audit) VerifyBuilding(ctx context.Context, buildingID string) (*ChainVerification, error) {
	if err := s.buildingChain(ctx, buildingID); err != nil {
		return nil, err
	}
	v := &ChainVerification{Chain: buildingID, Checkpoints: s.checkpoints != nil}
	head, err := s.head(ctx, buildingID)
	if err != nil {
		return nil, err
	}
	entries, err := s.store.AuditChain(ctx, buildingID, 0, 0)
	if err != nil {
		return nil, err
	}
	if int64(len(entries)) > head.Seq {
		// Appended between the two reads, or beyond the head: read the
		// head again, and believe only what still disagrees.
		if head, err = s.head(ctx, buildingID); err != nil {
			return nil, err
		}
	}
	v.Size, v.Head = head.Seq, head.Hash
	v.Break = doorman.VerifyChain(buildingID, entries, head.Seq, head.Hash)
	if cp, err := s.store.LatestAuditCheckpoint(ctx, buildingID); err == nil {
		v.Checkpoint = cp
	} else if doorman.ErrorCode(err) != doorman.ENOTFOUND {
		return nil, err
	}
	if v.Break != nil || s.checkpoints == nil {
		return v, nil
	}
	breaks, err := auditlog.Verify(ctx, oneChain{s.store, buildingID}, s.checkpoints.Dir, s.checkpoints.Verifier)
	if err != nil {
		return nil, err
	}
	for _, b := range breaks {
		if b.Chain == buildingID {
			v.Break = &b
			break
		}
	}
	return v, nil
}

// head returns the recorded head of chain (zero for a chain without one).
func (s *Audit) head(ctx context.Context, chain string) (doorman.AuditHead, error) {
	heads, err := s.store.AuditHeads(ctx)
	if err != nil {
		return doorman.AuditHead{}, err
	}
	for _, h := range heads {
		if h.Chain == chain {
			return h, nil
		}
	}
	return doorman.AuditHead{Chain: chain}, nil
}

// oneChain is the audit log store seen as holding a single chain, so that
// auditlog.Verify checks that chain without reading every other one.
// Chains of other buildings (named by checkpoint files) look empty; what
// Verify says of them is dropped by the caller.
type oneChain struct {
	doorman.AuditLogStore
	chain string
}

func (o oneChain) AuditHeads(ctx context.Context) ([]doorman.AuditHead, error) {
	heads, err := o.AuditLogStore.AuditHeads(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(heads, func(h doorman.AuditHead) bool { return h.Chain != o.chain }), nil
}

func (o oneChain) AuditChain(ctx context.Context, chain string, after, upTo int64) ([]*doorman.AuditEntry, error) {
	if chain != o.chain {
		return nil, nil
	}
	return o.AuditLogStore.AuditChain(ctx, chain, after, upTo)
}

func (o oneChain) AuditCheckpoints(ctx context.Context, chain string) ([]*doorman.AuditCheckpoint, error) {
	if chain != o.chain {
		return nil, nil
	}
	return o.AuditLogStore.AuditCheckpoints(ctx, chain)
}

func (o oneChain) AuditWitnesses(ctx context.Context, chain string) ([]*doorman.AuditWitness, error) {
	if chain != o.chain {
		return nil, nil
	}
	return o.AuditLogStore.AuditWitnesses(ctx, chain)
}
