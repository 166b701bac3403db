package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/doorman-dev/doorman"
)

const grantColumns = `id, door_id, building_id, courier_id, carrier_id, issued_at, expires_at, used_at, revoked_at`

func scanGrant(sc scanner) (*doorman.Grant, error) {
	var g doorman.Grant
	var issued, expires int64
	var used, revoked sql.NullInt64
	if err := sc.Scan(&g.ID, &g.DoorID, &g.BuildingID, &g.CourierID, &g.CarrierID, &issued, &expires, &used, &revoked); err != nil {
		return nil, err
	}
	g.IssuedAt, g.ExpiresAt = fromMicros(issued), fromMicros(expires)
	g.UsedAt, g.RevokedAt = timePtr(used), timePtr(revoked)
	return &g, nil
}

// RecordAccess commits rec.Grant (if any) and the decision's audit entry,
// in the building's chain, in one durable transaction shared with
// concurrent writes, and returns the entry written. It is the authority on
// lockdown and rate limits, both resolved inside the transaction:
//
//   - If the courier's requests (or, for a grant the door lets through,
//     the door's grants) in the window before the record reached its
//     limits, nothing is written and the error is ECONFLICT with reason
//     rate_limited and a RetryAfter until the oldest counted request
//     leaves the window: a flood of refused requests is counted, never
//     chained. The window is counted in buckets of
//     doorman.RateResolution, without reading the audit log (rate.go).
//   - If a grant's door is locked down by the time it commits, the grant
//     is not written and the entry records the denial door_locked_down
//     instead (the returned entry says so). In PostgreSQL the door row is
//     share-locked, so a concurrent lockdown either sees the grant (and
//     revokes it) or is seen by it.
//
// Returns EINVALID for a record that does not hang together and ENOTFOUND
// for an unknown door, courier, carrier or parcel.
func (s *Store) RecordAccess(ctx context.Context, rec *doorman.AccessRecord) (*doorman.AuditEntry, error) {
	if rec.BuildingID == "" || rec.DoorID == "" || rec.CourierID == "" || rec.CarrierID == "" {
		return nil, doorman.Errorf(doorman.EINVALID, "An access record names its building, door, courier and carrier.")
	} else if rec.Decision.Allowed != (rec.Grant != nil) {
		return nil, doorman.Errorf(doorman.EINVALID, "An allowed decision comes with a grant, a denial without.")
	} else if !rec.Decision.Allowed && rec.Decision.Reason == "" {
		return nil, doorman.Errorf(doorman.EINVALID, "A denial needs a reason.")
	}
	at := rec.At
	if at.IsZero() {
		at = s.clock()
	}
	e := s.entry(ctx, doorman.ActionAccessDenied, rec.BuildingID)
	e.At = exact(at)
	e.DoorID, e.CarrierID, e.CourierID = rec.DoorID, rec.CarrierID, rec.CourierID
	e.ParcelIDs = rec.ParcelIDs

	g := rec.Grant
	if g != nil {
		if err := s.prepareGrant(rec, e.At); err != nil {
			return nil, err
		}
	}
	err := s.write(ctx, "record access", e.Chain, func(tx *wtx) error {
		// fn may run again if the batch is retried: set e afresh.
		e.Action, e.GrantID = doorman.ActionAccessDenied, ""
		e.Reason, e.Detail = rec.Decision.Reason, rec.Decision.Detail
		// The locks in the order every write of the building takes them
		// (a lockdown too): the door's row (shared, by the grant insert),
		// then the chain's head. In PostgreSQL the head's lock orders this
		// write after every other write of the building, on any node,
		// before the door's rate count is read, so the door's limit holds
		// across nodes. A limit refusal rolls the grant back with the rest.
		if g != nil {
			err := s.insertGrant(tx, g)
			if doorman.ErrorReason(err) == doorman.ReasonDoorLockedDown {
				e.Reason, e.Detail = doorman.ReasonDoorLockedDown, lockedDownDetail
			} else if err != nil {
				return err
			} else {
				e.Action, e.GrantID, e.Reason, e.Detail = doorman.ActionAccessGranted, g.ID, "", ""
			}
		}
		if err := s.bumpHead(tx, e); err != nil {
			return err
		}
		// Every recorded request counts against the courier, and every
		// grant against its door, whether or not this record has limits.
		// A grant the lockdown turned into a denial is a denial: it uses
		// no door budget and is not held to the door's limit.
		if err := s.countAccess(tx, rec, e.At, e.Action == doorman.ActionAccessGranted); err != nil {
			return err
		}
		if err := s.sweepRates(tx); err != nil {
			return err
		}
		return s.insertAudit(tx, e)
	})
	if err != nil {
		return nil, err
	}
	if e.Action == doorman.ActionAccessGranted {
		s.grants.put(g.ID, grantFact{buildingID: g.BuildingID, issued: micros(g.IssuedAt)})
	}
	return e, nil
}

// lockedDownDetail explains a grant refused at commit by a lockdown.
const lockedDownDetail = "The building manager has locked this door down."

// prepareGrant fills in and checks the grant of an allowed record.
func (s *Store) prepareGrant(rec *doorman.AccessRecord, at time.Time) error {
	g := rec.Grant
	if g.ID == "" {
		g.ID = s.ids.Next(doorman.PrefixGrant)
	} else if !doorman.HasPrefix(g.ID, doorman.PrefixGrant) {
		return doorman.Errorf(doorman.EINVALID, "Malformed grant ID.")
	}
	fill := func(field *string, v string) bool {
		if *field == "" {
			*field = v
		}
		return *field == v
	}
	if !fill(&g.DoorID, rec.DoorID) || !fill(&g.BuildingID, rec.BuildingID) ||
		!fill(&g.CourierID, rec.CourierID) || !fill(&g.CarrierID, rec.CarrierID) {
		return doorman.Errorf(doorman.EINVALID, "The grant and its access record disagree.")
	}
	if g.ParcelIDs == nil {
		g.ParcelIDs = rec.ParcelIDs
	}
	if g.IssuedAt.IsZero() {
		g.IssuedAt = at
	}
	if g.ExpiresAt.IsZero() {
		g.ExpiresAt = g.IssuedAt.Add(doorman.GrantTTL)
	}
	g.IssuedAt, g.ExpiresAt = exact(g.IssuedAt), exact(g.ExpiresAt)
	if !g.ExpiresAt.After(g.IssuedAt) {
		return doorman.Errorf(doorman.EINVALID, "A grant must expire after it is issued.")
	} else if g.UsedAt != nil || g.RevokedAt != nil {
		return doorman.Errorf(doorman.EINVALID, "A new grant is neither used nor revoked.")
	}
	return nil
}

// Statements of a grant.
const (
	// sqlInsertGrant inserts the grant only if its door is in its building
	// and not locked down; the dialect's share lock is appended, so that in
	// PostgreSQL a concurrent lockdown waits for the grant's commit (and
	// then revokes it) or the grant sees the lockdown.
	sqlInsertGrant = `INSERT INTO grants (` + grantColumns + `)
		SELECT $1, id, building_id, $2, $3, $4, $5, NULL, NULL FROM doors
		WHERE id = $6 AND building_id = $7 AND locked_down = $8`
	sqlInsertGrantParcel = `INSERT INTO grant_parcels (grant_id, position, parcel_id) VALUES ($1, $2, $3)`
)

// insertGrant inserts the grant if its door exists in its building and is
// not locked down, and its parcels.
func (s *Store) insertGrant(tx *wtx, g *doorman.Grant) error {
	res, err := tx.Exec(sqlInsertGrant+s.dialect.ShareLock, g.ID, g.CourierID, g.CarrierID,
		micros(g.IssuedAt), micros(g.ExpiresAt), g.DoorID, g.BuildingID, false)
	if err != nil {
		return grantError(s, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		var locked bool
		err := tx.QueryRow(`SELECT locked_down FROM doors WHERE id = $1 AND building_id = $2`, g.DoorID, g.BuildingID).Scan(&locked)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Door")
		} else if err != nil {
			return err
		}
		return &doorman.Error{Code: doorman.ECONFLICT, Reason: doorman.ReasonDoorLockedDown,
			Message: "The door was locked down."}
	}
	for i, p := range g.ParcelIDs {
		if _, err := tx.Exec(sqlInsertGrantParcel, g.ID, i, p); err != nil {
			return grantError(s, err)
		}
	}
	return nil
}

// grantError explains a constraint error of a grant insert.
func grantError(s *Store, err error) error {
	switch s.dialect.classify(err) {
	case ErrUnique:
		return doorman.Errorf(doorman.ECONFLICT, "The grant exists already, or names a parcel twice.")
	case ErrForeignKey:
		return doorman.Errorf(doorman.ENOTFOUND, "The grant names an unknown courier, carrier or parcel.")
	}
	return err
}

// Grant returns ENOTFOUND.
func (s *Store) Grant(ctx context.Context, id string) (*doorman.Grant, error) {
	g, err := scanGrant(s.rdb.QueryRowContext(ctx, `SELECT `+grantColumns+` FROM grants WHERE id = $1`, id))
	if err != nil {
		return nil, s.translate("grant", notFoundIf(err, "Grant"))
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT parcel_id FROM grant_parcels WHERE grant_id = $1 ORDER BY position`, id)
	if err != nil {
		return nil, s.translate("grant", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, s.translate("grant", err)
		}
		g.ParcelIDs = append(g.ParcelIDs, p)
	}
	if err := rows.Err(); err != nil {
		return nil, s.translate("grant", err)
	}
	return g, nil
}

// MarkGrantUsed records that the door executed the grant at the given
// time, and appends a grant.used entry to the building's audit chain in
// the same transaction (Detail: the execution time), so that the outcome
// of every grant is in the log. A grant a lockdown revoked after that time
// was in fact used before the lockdown reached it: it is marked used and no
// longer revoked, so the log never reads as if a door that opened stayed
// shut. at is the device's word, so it is held within the grant's life so
// far: never before the grant was issued, never after now. Returns
// ENOTFOUND, or ECONFLICT if it was already used, revoked before at, or had
// expired.
func (s *Store) MarkGrantUsed(ctx context.Context, id string, at time.Time) error {
	return s.markGrantUsed(ctx, id, at, false)
}

// MarkGrantAcked is MarkGrantUsed for the door's ack of the command that
// carried the grant: it keeps the grant.used entry's ID in the grant's
// use_audit_id, for the door's unlock_executed event of the grant to be
// kept beside it (see RecordDeviceEvent). An offline use (MarkGrantUsed)
// does not, so an online event of the same grant is chained as itself.
func (s *Store) MarkGrantAcked(ctx context.Context, id string, at time.Time) error {
	return s.markGrantUsed(ctx, id, at, true)
}

func (s *Store) markGrantUsed(ctx context.Context, id string, at time.Time, acked bool) error {
	fact, ok := s.grants.get(id)
	if !ok {
		err := s.rdb.QueryRowContext(ctx, `SELECT building_id, issued_at FROM grants WHERE id = $1`, id).Scan(&fact.buildingID, &fact.issued)
		if err != nil {
			return s.translate("mark grant used", notFoundIf(err, "Grant"))
		}
	}
	buildingID, issued := fact.buildingID, fact.issued
	at = clampUse(at, issued, s.clock())
	e := s.entry(ctx, doorman.ActionGrantUsed, "")
	// The write is keyed by the chain it appends to, like every append.
	// A grant marked already (the door's ack and its event both mark it)
	// changes nothing, so that write succeeds and says so in marked rather
	// than failing, which would roll back and rerun the whole batch.
	var marked bool
	err := s.write(ctx, "mark grant used", chainOf(buildingID), func(tx *wtx) error {
		var err error
		marked, err = s.markUsed(tx, id, at, e, acked)
		return err
	})
	if err != nil || marked {
		if marked {
			s.grants.forget(id)
		}
		return err
	}
	return doorman.Errorf(doorman.ECONFLICT, "The grant was already used, revoked or has expired.")
}

// clampUse holds at, a device's word of when it executed a grant issued at
// issued (µs), within the grant's life so far: never before it was issued,
// never after now.
func clampUse(at time.Time, issued int64, now time.Time) time.Time {
	if at.After(now) {
		at = now
	}
	if from := fromMicros(issued); at.Before(from) {
		at = from
	}
	return exact(at)
}

// markUsed marks grant id used at at inside tx, if it was neither used, nor
// revoked before at, nor expired by then, and appends e (a grant.used
// entry; its chain, IDs and detail are filled in here). With awaitEvent
// it keeps e's ID in the grant's use_audit_id for the door's
// unlock_executed event to find (see RecordDeviceEvent). Reports whether
// it marked the grant.
func (s *Store) markUsed(tx *wtx, id string, at time.Time, e *doorman.AuditEntry, awaitEvent bool) (bool, error) {
	err := tx.QueryRow(`UPDATE grants SET used_at = $1, revoked_at = NULL
		WHERE id = $2 AND used_at IS NULL AND (revoked_at IS NULL OR revoked_at > $1) AND expires_at > $1
		RETURNING building_id, door_id, carrier_id, courier_id`, micros(at), id).
		Scan(&e.BuildingID, &e.DoorID, &e.CarrierID, &e.CourierID)
	if err == sql.ErrNoRows {
		return false, nil
	} else if err != nil {
		return false, err
	}
	e.Chain, e.GrantID = chainOf(e.BuildingID), id
	e.Detail = "executed at " + at.UTC().Format(time.RFC3339Nano)
	if err := s.appendAudit(tx, e); err != nil {
		return false, err
	}
	if !awaitEvent {
		return true, nil
	}
	_, err = tx.Exec(`UPDATE grants SET use_audit_id = $1 WHERE id = $2`, e.ID, id)
	return err == nil, err
}
