package sqlstore

import (
	"context"
	"database/sql"

	"github.com/doorman-dev/doorman"
)

const auditColumns = `id, chain, seq, at, action, actor, building_id, door_id,
	carrier_id, courier_id, grant_id, parcel_ids, reason, detail, claimed_at, event_count, prev_hash, hash, seal`

func scanAudit(sc scanner) (*doorman.AuditEntry, error) {
	var e doorman.AuditEntry
	var at int64
	var parcels string
	var claimed sql.NullInt64
	if err := sc.Scan(&e.ID, &e.Chain, &e.Seq, &at, &e.Action, &e.Actor, &e.BuildingID, &e.DoorID,
		&e.CarrierID, &e.CourierID, &e.GrantID, &parcels, &e.Reason, &e.Detail, &claimed, &e.Count,
		&e.PrevHash, &e.Hash, &e.Seal); err != nil {
		return nil, err
	}
	e.At = fromMicros(at)
	e.ClaimedAt = timePtr(claimed)
	var err error
	if e.ParcelIDs, err = decodeIDs(parcels); err != nil {
		return nil, err
	}
	return &e, nil
}

// chainOf returns the audit chain of a building, or the platform chain.
func chainOf(buildingID string) string {
	if buildingID == "" {
		return doorman.PlatformChain
	}
	return buildingID
}

// entry starts an audit entry for a write: actor from ctx, the store's
// time, and the chain of the building (the platform chain for none). It is
// called before the write is queued, while ctx is the caller's.
func (s *Store) entry(ctx context.Context, action, buildingID string) *doorman.AuditEntry {
	return &doorman.AuditEntry{
		Chain:      chainOf(buildingID),
		At:         s.clock(),
		Action:     action,
		Actor:      doorman.ActorFromContext(ctx),
		BuildingID: buildingID,
	}
}

// appendAudit appends e to its chain inside tx, setting ID, Seq, PrevHash
// and Hash: it moves the chain head on (creating it on first use), inserts
// the entry, and records its hash in the head.
func (s *Store) appendAudit(tx *wtx, e *doorman.AuditEntry) error {
	if err := s.bumpHead(tx, e); err != nil {
		return err
	}
	return s.insertAudit(tx, e)
}

// bumpHead is the first half of appendAudit: it moves e's chain head on
// and sets e.Seq and e.PrevHash. In PostgreSQL it locks the head until
// commit, so a write that must serialise with the chain's other writes
// across processes before it touches further rows calls it first, then
// insertAudit.
func (s *Store) bumpHead(tx *wtx, e *doorman.AuditEntry) error {
	return tx.QueryRow(sqlBumpHead, e.Chain).Scan(&e.Seq, &e.PrevHash)
}

// insertAudit is the second half of appendAudit: it inserts e, after
// bumpHead, and records its hash in the head.
func (s *Store) insertAudit(tx *wtx, e *doorman.AuditEntry) error {
	e.ID = s.ids.Next(doorman.PrefixAudit)
	e.At = exact(e.At)
	e.ClaimedAt = exactPtr(e.ClaimedAt)
	e.Hash = e.ComputeHash()
	if seal := s.sealer.Load(); seal != nil {
		var err error
		if e.Seal, err = (*seal)(e.Hash); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(sqlInsertAudit,
		e.ID, e.Chain, e.Seq, micros(e.At), e.Action, e.Actor, e.BuildingID, e.DoorID,
		e.CarrierID, e.CourierID, e.GrantID, encodeIDs(e.ParcelIDs), e.Reason, e.Detail,
		nullMicros(e.ClaimedAt), e.Count, e.PrevHash, e.Hash, e.Seal); err != nil {
		return err
	}
	_, err := tx.Exec(sqlSetHeadHash, e.Hash, e.Chain)
	return err
}

// Statements of an audit append.
const (
	// sqlBumpHead creates the chain's head at seq 1 or moves it on by one,
	// returning the new seq and the hash of the previous entry (the hash
	// column is not touched yet). Updating the row takes its lock until
	// commit (in PostgreSQL), so appends to one chain are serialised
	// across processes.
	sqlBumpHead = `INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 1, '')
		ON CONFLICT (chain) DO UPDATE SET seq = audit_heads.seq + 1 RETURNING seq, hash`
	sqlInsertAudit = `INSERT INTO audit_entries (` + auditColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`
	sqlSetHeadHash = `UPDATE audit_heads SET hash = $1 WHERE chain = $2`
)

// AppendAudit appends e to its chain: e.Chain if set, else the chain of
// e.BuildingID, else the platform chain. It sets ID, Seq, PrevHash and
// Hash, and Actor (from ctx) and At (now) when they are empty. Returns
// EINVALID for an entry without action or with a chain that contradicts
// its building.
func (s *Store) AppendAudit(ctx context.Context, e *doorman.AuditEntry) error {
	if e.Action == "" {
		return doorman.Errorf(doorman.EINVALID, "Audit action required.")
	}
	if e.Chain == "" {
		e.Chain = chainOf(e.BuildingID)
	} else if e.Chain != chainOf(e.BuildingID) {
		return doorman.Errorf(doorman.EINVALID, "An audit entry belongs to its building's chain.")
	}
	if e.Actor == "" {
		e.Actor = doorman.ActorFromContext(ctx)
	}
	if e.At.IsZero() {
		e.At = s.clock()
	}
	e.At = exact(e.At)
	return s.write(ctx, "append audit", e.Chain, func(tx *wtx) error {
		return s.appendAudit(tx, e)
	})
}

// ListAudit lists entries matching f, newest first.
func (s *Store) ListAudit(ctx context.Context, f doorman.AuditFilter, p doorman.Page) ([]*doorman.AuditEntry, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixAudit)
	if err != nil {
		return nil, "", err
	}
	if f.BuildingIDs != nil && len(f.BuildingIDs) == 0 {
		return []*doorman.AuditEntry{}, "", nil
	}
	var a args
	var conds []string
	if f.Chain != "" {
		conds = append(conds, "chain = "+a.add(f.Chain))
	}
	if f.BuildingIDs != nil {
		conds = append(conds, "building_id IN "+a.in(f.BuildingIDs))
	}
	if f.CarrierID != "" {
		conds = append(conds, "carrier_id = "+a.add(f.CarrierID))
	}
	if f.CourierID != "" {
		conds = append(conds, "courier_id = "+a.add(f.CourierID))
	}
	if f.DoorID != "" {
		conds = append(conds, "door_id = "+a.add(f.DoorID))
	}
	if after != "" {
		conds = append(conds, "id < "+a.add(after))
	}
	q := `SELECT ` + auditColumns + ` FROM audit_entries` + where(conds) +
		` ORDER BY id DESC LIMIT ` + a.add(limit+1)
	entries, err := collect(ctx, s.rdb, q, a, scanAudit)
	if err != nil {
		return nil, "", s.translate("list audit", err)
	}
	entries, next := trim(entries, limit, func(e *doorman.AuditEntry) string { return e.ID })
	return entries, next, nil
}

// VerifyAudit checks every chain against its recorded head, reading one
// consistent snapshot, and returns the first break of each broken chain.
// A chain whose head row is missing is reported as broken too.
func (s *Store) VerifyAudit(ctx context.Context) ([]doorman.ChainBreak, error) {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, s.translate("verify audit", err)
	}
	defer func() { _ = tx.Rollback() }()

	type head struct {
		seq   int64
		hash  string
		known bool
	}
	heads := map[string]*head{}
	var chains []string
	rows, err := tx.QueryContext(ctx, `SELECT chain, seq, hash, 1 FROM audit_heads
		UNION ALL SELECT DISTINCT chain, 0, '', 0 FROM audit_entries ORDER BY 1`)
	if err != nil {
		return nil, s.translate("verify audit", err)
	}
	for rows.Next() {
		var chain string
		var h head
		var known int
		if err := rows.Scan(&chain, &h.seq, &h.hash, &known); err != nil {
			rows.Close()
			return nil, s.translate("verify audit", err)
		}
		if heads[chain] == nil {
			heads[chain] = &head{}
			chains = append(chains, chain)
		}
		if known == 1 {
			h.known = true
			heads[chain] = &h
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.translate("verify audit", err)
	}

	breaks := []doorman.ChainBreak{}
	for _, chain := range chains {
		entries, err := collect(ctx, tx, `SELECT `+auditColumns+` FROM audit_entries WHERE chain = $1 ORDER BY seq, id`,
			[]any{chain}, scanAudit)
		if err != nil {
			return nil, s.translate("verify audit", err)
		}
		h := heads[chain]
		if !h.known {
			breaks = append(breaks, doorman.ChainBreak{Chain: chain, Seq: 1, Problem: "chain head missing"})
		} else if b := doorman.VerifyChain(chain, entries, h.seq, h.hash); b != nil {
			breaks = append(breaks, *b)
		}
	}
	// Every building starts its chain when it is created, so a building
	// without one lost its whole chain, head and all.
	missing, err := collect(ctx, tx, `SELECT id FROM buildings WHERE id NOT IN (SELECT chain FROM audit_heads) ORDER BY id`,
		nil, func(sc scanner) (string, error) {
			var id string
			return id, sc.Scan(&id)
		})
	if err != nil {
		return nil, s.translate("verify audit", err)
	}
	for _, id := range missing {
		if heads[id] == nil {
			breaks = append(breaks, doorman.ChainBreak{Chain: id, Seq: 1, Problem: "the building's whole chain is missing"})
		}
	}
	return breaks, nil
}
