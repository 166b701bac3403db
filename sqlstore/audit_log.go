package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"

	"github.com/doorman-dev/doorman"
)

var _ doorman.AuditLogStore = (*Store)(nil)

// AuditHeads lists the head of every chain, by chain.
func (s *Store) AuditHeads(ctx context.Context) ([]doorman.AuditHead, error) {
	heads, err := collect(ctx, s.rdb, `SELECT chain, seq, hash FROM audit_heads ORDER BY chain`, nil,
		func(sc scanner) (doorman.AuditHead, error) {
			var h doorman.AuditHead
			err := sc.Scan(&h.Chain, &h.Seq, &h.Hash)
			return h, err
		})
	if err != nil {
		return nil, s.translate("audit heads", err)
	}
	return heads, nil
}

// AuditChain lists the entries of chain with after < seq <= upTo (upTo <=
// 0: to the end), by seq.
func (s *Store) AuditChain(ctx context.Context, chain string, after, upTo int64) ([]*doorman.AuditEntry, error) {
	q := `SELECT ` + auditColumns + ` FROM audit_entries WHERE chain = $1 AND seq > $2`
	args := []any{chain, after}
	if upTo > 0 {
		q += ` AND seq <= $3`
		args = append(args, upTo)
	}
	entries, err := collect(ctx, s.rdb, q+` ORDER BY seq, id`, args, scanAudit)
	if err != nil {
		return nil, s.translate("audit chain", err)
	}
	return entries, nil
}

// AuditEntry returns one entry. Returns ENOTFOUND if there is none.
func (s *Store) AuditEntry(ctx context.Context, id string) (*doorman.AuditEntry, error) {
	e, err := scanAudit(s.rdb.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_entries WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, doorman.Errorf(doorman.ENOTFOUND, "Audit entry not found.")
	} else if err != nil {
		return nil, s.translate("audit entry", err)
	}
	return e, nil
}

const checkpointColumns = `chain, size, note, signed_at`

func scanCheckpoint(sc scanner) (*doorman.AuditCheckpoint, error) {
	var c doorman.AuditCheckpoint
	var at int64
	if err := sc.Scan(&c.Chain, &c.Size, &c.Note, &at); err != nil {
		return nil, err
	}
	c.SignedAt = fromMicros(at)
	return &c, nil
}

// AddAuditCheckpoint stores a checkpoint; one already stored for the same
// chain and size is kept. Returns EINVALID for a checkpoint without chain,
// size or note.
func (s *Store) AddAuditCheckpoint(ctx context.Context, c *doorman.AuditCheckpoint) error {
	if c.Chain == "" || c.Size <= 0 || c.Note == "" {
		return doorman.Errorf(doorman.EINVALID, "A checkpoint has a chain, a size and a note.")
	}
	if c.SignedAt.IsZero() {
		c.SignedAt = s.clock()
	}
	c.SignedAt = exact(c.SignedAt)
	return s.write(ctx, "add audit checkpoint", "audit_checkpoints", func(tx *wtx) error {
		_, err := tx.Exec(`INSERT INTO audit_checkpoints (`+checkpointColumns+`) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, c.Chain, c.Size, c.Note, micros(c.SignedAt))
		return err
	})
}

// AuditCheckpoints lists the stored checkpoints of chain, by size.
func (s *Store) AuditCheckpoints(ctx context.Context, chain string) ([]*doorman.AuditCheckpoint, error) {
	cps, err := collect(ctx, s.rdb, `SELECT `+checkpointColumns+` FROM audit_checkpoints WHERE chain = $1 ORDER BY size`,
		[]any{chain}, scanCheckpoint)
	if err != nil {
		return nil, s.translate("audit checkpoints", err)
	}
	return cps, nil
}

// LatestAuditCheckpoint returns the largest stored checkpoint of chain.
// Returns ENOTFOUND if there is none.
func (s *Store) LatestAuditCheckpoint(ctx context.Context, chain string) (*doorman.AuditCheckpoint, error) {
	c, err := scanCheckpoint(s.rdb.QueryRowContext(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints
		WHERE chain = $1 ORDER BY size DESC LIMIT 1`, chain))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, doorman.Errorf(doorman.ENOTFOUND, "No checkpoint of this chain yet.")
	} else if err != nil {
		return nil, s.translate("latest audit checkpoint", err)
	}
	return c, nil
}

// InitAuditKey registers vkey as the deployment's checkpoint key unless
// one is registered already, and returns the registered keys, oldest
// first; like InitCommandKey, the first key takes position 0. Returns
// EINVALID for an empty, overlong or non-printable key.
func (s *Store) InitAuditKey(ctx context.Context, vkey string) ([]string, error) {
	if !validKeyID(vkey) {
		return nil, doorman.Errorf(doorman.EINVALID, "A checkpoint key is 1 to %d printable characters.", maxKeyIDLength)
	}
	now := s.clock()
	var keys []string
	err := s.write(ctx, "init audit key", "audit_keys", func(tx *wtx) error {
		if _, err := tx.Exec(`INSERT INTO audit_keys (vkey, position, registered_at) VALUES ($1, 0, $2)
			ON CONFLICT DO NOTHING`, vkey, micros(now)); err != nil {
			return err
		}
		var err error
		keys, err = auditKeys(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// AuditKeys lists the registered checkpoint verifier keys, oldest first.
func (s *Store) AuditKeys(ctx context.Context) ([]string, error) {
	keys, err := auditKeys(ctx, s.rdb)
	if err != nil {
		return nil, s.translate("audit keys", err)
	}
	return keys, nil
}

func auditKeys(ctx context.Context, q querier) ([]string, error) {
	return collect(ctx, q, `SELECT vkey FROM audit_keys ORDER BY position`, nil, func(sc scanner) (string, error) {
		var k string
		err := sc.Scan(&k)
		return k, err
	})
}

// SetAuditSealer makes the store seal every audit entry it appends from
// now on: seal returns the signature over the entry's hash (see package
// auditlog), kept in the entry's Seal. The key stays outside the store.
func (s *Store) SetAuditSealer(seal func(hash string) (string, error)) { s.sealer.Store(&seal) }

// AuditWitnesses lists the checkpoints of chain that the doors of the
// building of that ID reported witnessing, by door.
func (s *Store) AuditWitnesses(ctx context.Context, chain string) ([]*doorman.AuditWitness, error) {
	ws, err := collect(ctx, s.rdb, `SELECT id, audit_witness_device, audit_witness_size, audit_witness_root, audit_witness_at
		FROM doors WHERE building_id = $1 AND audit_witness_size IS NOT NULL ORDER BY id`, []any{chain},
		func(sc scanner) (*doorman.AuditWitness, error) {
			w := &doorman.AuditWitness{Chain: chain}
			var root string
			var at int64
			if err := sc.Scan(&w.DoorID, &w.DeviceID, &w.Size, &root, &at); err != nil {
				return nil, err
			}
			w.At = fromMicros(at)
			// A root that does not decode stays nil, which matches no tree.
			if root != "" {
				w.Root, _ = base64.StdEncoding.DecodeString(root)
			}
			return w, nil
		})
	if err != nil {
		return nil, s.translate("audit witnesses", err)
	}
	return ws, nil
}
