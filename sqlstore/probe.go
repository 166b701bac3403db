package sqlstore

import (
	"context"
)

// probeKey sorts the readiness probe after every other write of a batch.
const probeKey = "~probe"

// ProbeWrite implements doorman.ProbeStore: it records the time of the
// probe in the one row of readiness_probe, through the batcher, so it
// commits (and syncs) the way a grant does, and shares a commit with the
// writes queued beside it.
func (s *Store) ProbeWrite(ctx context.Context) error {
	return s.write(ctx, "probe write", probeKey, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO readiness_probe (id, probed_at) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at`, s.clock().UnixMicro())
		return err
	})
}
