package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"time"

	"github.com/doorman-dev/doorman"
)

var _ doorman.OutboxStore = (*Store)(nil)

const messageColumns = `id, channel, building_id, source, target, resident_id, kind, subject, text_body, html_body,
	payload, status, attempts, next_attempt_at, last_error, created_at, sent_at`

func scanMessage(sc scanner) (*doorman.Message, error) {
	var m doorman.Message
	var resident sql.NullString
	var next, created int64
	var sent sql.NullInt64
	if err := sc.Scan(&m.ID, &m.Channel, &m.BuildingID, &m.Source, &m.Target, &resident, &m.Kind, &m.Subject,
		&m.Text, &m.HTML, &m.Payload, &m.Status, &m.Attempts, &next, &m.LastError, &created, &sent); err != nil {
		return nil, err
	}
	m.ResidentID, m.NextAttemptAt, m.CreatedAt, m.SentAt = resident.String, fromMicros(next), fromMicros(created), timePtr(sent)
	if len(m.Payload) == 0 {
		m.Payload = nil
	}
	return &m, nil
}

func validMessage(m *doorman.Message) error { return m.Validate() }

// errResidentGone is insertMessage's answer for a message to a resident
// who is no longer there.
var errResidentGone = errors.New("resident gone")

// insertMessage inserts m as queued and due at now, unless a message with
// its key (Source, Channel, Target, Kind; Source not empty) exists: then
// it reports false. A message to a resident who is gone is
// errResidentGone.
func insertMessage(tx *wtx, id string, m *doorman.Message, now time.Time) (bool, error) {
	if m.ResidentID != "" {
		var one int
		err := tx.QueryRow(`SELECT 1 FROM residents WHERE id = $1`, m.ResidentID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return false, errResidentGone
		} else if err != nil {
			return false, err
		}
	}
	var payload any
	if len(m.Payload) > 0 {
		payload = m.Payload
	}
	res, err := tx.Exec(`INSERT INTO outbox (id, channel, building_id, source, target, resident_id, kind, subject,
			text_body, html_body, payload, status, attempts, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $13)
		ON CONFLICT DO NOTHING`,
		id, m.Channel, m.BuildingID, m.Source, m.Target, nullString(m.ResidentID), m.Kind, m.Subject,
		m.Text, m.HTML, payload, doorman.MessageQueued, micros(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// queuedAs sets what queuing sets on m.
func queuedAs(m *doorman.Message, id string, now time.Time) {
	m.ID, m.Status, m.Attempts, m.NextAttemptAt, m.CreatedAt, m.SentAt, m.LastError = id, doorman.MessageQueued, 0, now, now, nil, ""
}

// EnqueueMessage adds a message unless its key is queued already.
// Returns EINVALID.
func (s *Store) EnqueueMessage(ctx context.Context, m *doorman.Message) error {
	if err := validMessage(m); err != nil {
		return err
	}
	id, now := s.ids.Next(doorman.PrefixMessage), s.clock()
	err := s.write(ctx, "enqueue message", m.BuildingID, func(tx *wtx) error {
		added, err := insertMessage(tx, id, m, now)
		if errors.Is(err, errResidentGone) {
			return notFound("Resident")
		} else if err != nil || added {
			return err
		}
		return tx.QueryRow(`SELECT id FROM outbox WHERE source = $1 AND channel = $2 AND target = $3 AND kind = $4`,
			m.Source, m.Channel, m.Target, m.Kind).Scan(&id)
	})
	if err != nil {
		return err
	}
	queuedAs(m, id, now)
	return nil
}

// OutboxChains lists the chains with entries past their cursor.
func (s *Store) OutboxChains(ctx context.Context) ([]doorman.OutboxChain, error) {
	list, err := collect(ctx, s.rdb, `SELECT h.chain, COALESCE(c.seq, 0), h.seq
		FROM audit_heads h LEFT JOIN outbox_cursors c ON c.chain = h.chain
		WHERE h.seq > COALESCE(c.seq, 0) ORDER BY h.chain`, nil,
		func(sc scanner) (doorman.OutboxChain, error) {
			var c doorman.OutboxChain
			err := sc.Scan(&c.Chain, &c.Cursor, &c.LastSeq)
			return c, err
		})
	if err != nil {
		return nil, s.translate("outbox chains", err)
	}
	return list, nil
}

// EntriesAfter lists entries of the chain after seq, in order.
func (s *Store) EntriesAfter(ctx context.Context, chain string, after int64, limit int) ([]*doorman.AuditEntry, error) {
	list, err := collect(ctx, s.rdb, `SELECT `+auditColumns+` FROM audit_entries WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		[]any{chain, after, clampLimit(limit)}, scanAudit)
	if err != nil {
		return nil, s.translate("entries after", err)
	}
	return list, nil
}

// ProduceMessages queues msgs and moves the chain's cursor from from to
// to, in one transaction. Returns ECONFLICT or EINVALID.
func (s *Store) ProduceMessages(ctx context.Context, chain string, from, to int64, msgs []*doorman.Message) error {
	if to < from {
		return doorman.Errorf(doorman.EINVALID, "A cursor moves forward.")
	}
	for _, m := range msgs {
		if err := validMessage(m); err != nil {
			return err
		}
	}
	ids := make([]string, len(msgs))
	for i := range ids {
		ids[i] = s.ids.Next(doorman.PrefixMessage)
	}
	now := s.clock()
	added := make([]bool, len(msgs))
	err := s.write(ctx, "produce messages", chain, func(tx *wtx) error {
		res, err := tx.Exec(`UPDATE outbox_cursors SET seq = $1 WHERE chain = $2 AND seq = $3`, to, chain, from)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 && from == 0 {
			if res, err = tx.Exec(`INSERT INTO outbox_cursors (chain, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING`, chain, to); err != nil {
				return err
			} else if n, err = res.RowsAffected(); err != nil {
				return err
			}
		}
		if n == 0 {
			return doorman.Errorf(doorman.ECONFLICT, "The chain's cursor moved.")
		}
		for i, m := range msgs {
			// A resident gone since the producer read them is sent nothing.
			if added[i], err = insertMessage(tx, ids[i], m, now); err != nil && !errors.Is(err, errResidentGone) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, m := range msgs {
		if added[i] {
			queuedAs(m, ids[i], now)
		}
	}
	return nil
}

// ClaimMessages leases due queued messages until now+lease.
func (s *Store) ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*doorman.Message, error) {
	if lease <= 0 {
		return nil, doorman.Errorf(doorman.EINVALID, "A lease lasts a while.")
	}
	at := micros(exact(now))
	var list []*doorman.Message
	err := s.write(ctx, "claim messages", "outbox", func(tx *wtx) error {
		rows, err := tx.Query(`UPDATE outbox SET lease_until = $1, attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE status = $2 AND next_attempt_at <= $3 AND lease_until <= $3
				ORDER BY next_attempt_at, id LIMIT $4`+s.dialect.SkipLocked+`)
			RETURNING `+messageColumns,
			at+lease.Microseconds(), doorman.MessageQueued, at, clampLimit(limit))
		if err != nil {
			return err
		}
		defer rows.Close()
		list = list[:0]
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return err
			}
			list = append(list, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].NextAttemptAt.Equal(list[j].NextAttemptAt) {
			return list[i].NextAttemptAt.Before(list[j].NextAttemptAt)
		}
		return list[i].ID < list[j].ID
	})
	return list, nil
}

// MarkMessageSent marks a message sent. Returns ENOTFOUND.
func (s *Store) MarkMessageSent(ctx context.Context, id string, at time.Time, clearBody bool) error {
	q := `UPDATE outbox SET status = $1, sent_at = $2, lease_until = 0, last_error = ''`
	if clearBody {
		q += `, text_body = '', html_body = '', payload = NULL`
	}
	return s.updateMessage(ctx, "mark message sent", id, q+` WHERE id = $3`, doorman.MessageSent, micros(exact(at)), id)
}

// MarkMessageFailed queues a message again for next, or makes it dead.
// Returns ENOTFOUND.
func (s *Store) MarkMessageFailed(ctx context.Context, id, lastError string, next *time.Time) error {
	if len(lastError) > doorman.MaxMessageError {
		lastError = lastError[:doorman.MaxMessageError]
	}
	if next == nil {
		return s.updateMessage(ctx, "mark message dead", id, `UPDATE outbox SET status = $1, lease_until = 0, last_error = $2
			WHERE id = $3 AND status = $4`, doorman.MessageDead, lastError, id, doorman.MessageQueued)
	}
	return s.updateMessage(ctx, "mark message failed", id, `UPDATE outbox SET next_attempt_at = $1, lease_until = 0, last_error = $2
		WHERE id = $3 AND status = $4`, micros(exact(*next)), lastError, id, doorman.MessageQueued)
}

// RetryMessage queues a dead message again. Returns ENOTFOUND or
// ECONFLICT.
func (s *Store) RetryMessage(ctx context.Context, id string, now time.Time) error {
	return s.write(ctx, "retry message", id, func(tx *wtx) error {
		var status string
		err := tx.QueryRow(`SELECT status FROM outbox WHERE id = $1`, id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Message")
		} else if err != nil {
			return err
		} else if status != doorman.MessageDead {
			return doorman.Errorf(doorman.ECONFLICT, "Only a dead message is retried by hand; this one is %s.", status)
		}
		_, err = tx.Exec(`UPDATE outbox SET status = $1, attempts = 0, next_attempt_at = $2, lease_until = 0 WHERE id = $3`,
			doorman.MessageQueued, micros(exact(now)), id)
		return err
	})
}

// updateMessage runs an UPDATE of one message; no row is ENOTFOUND
// (a sent or dead message a late worker marks again is not found).
func (s *Store) updateMessage(ctx context.Context, op, id, q string, args ...any) error {
	return s.write(ctx, op, id, func(tx *wtx) error {
		res, err := tx.Exec(q, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound("Message")
		}
		return nil
	})
}

// Message returns ENOTFOUND.
func (s *Store) Message(ctx context.Context, id string) (*doorman.Message, error) {
	m, err := scanMessage(s.rdb.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM outbox WHERE id = $1`, id))
	if err != nil {
		return nil, s.translate("message", notFoundIf(err, "Message"))
	}
	return m, nil
}

// ListMessages lists messages newest first.
func (s *Store) ListMessages(ctx context.Context, f doorman.MessageFilter, p doorman.Page) ([]*doorman.Message, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixMessage)
	if err != nil {
		return nil, "", err
	}
	var a args
	var conds []string
	if f.BuildingID != "" {
		conds = append(conds, `building_id = `+a.add(f.BuildingID))
	}
	if f.Channel != "" {
		conds = append(conds, `channel = `+a.add(f.Channel))
	}
	if f.Status != "" {
		conds = append(conds, `status = `+a.add(f.Status))
	}
	if after != "" {
		conds = append(conds, `id < `+a.add(after))
	}
	q := `SELECT ` + messageColumns + ` FROM outbox` + where(conds) + ` ORDER BY id DESC LIMIT ` + a.add(limit+1)
	list, err := collect(ctx, s.rdb, q, a, scanMessage)
	if err != nil {
		return nil, "", s.translate("list messages", err)
	}
	list, next := trim(list, limit, func(m *doorman.Message) string { return m.ID })
	return list, next, nil
}

// ResidentLanguage returns ENOTFOUND.
func (s *Store) ResidentLanguage(ctx context.Context, residentID string) (string, error) {
	var lang string
	err := s.rdb.QueryRowContext(ctx, `SELECT language FROM residents WHERE id = $1`, residentID).Scan(&lang)
	if err != nil {
		return "", s.translate("resident language", notFoundIf(err, "Resident"))
	}
	return lang, nil
}

// SetResidentLanguage returns ENOTFOUND or EINVALID.
func (s *Store) SetResidentLanguage(ctx context.Context, residentID, language string) error {
	if !doorman.ValidLanguage(language) {
		return doorman.Errorf(doorman.EINVALID, "A language is a tag such as en or es.")
	}
	return s.updateMessage(ctx, "set resident language", residentID, `UPDATE residents SET language = $1 WHERE id = $2`, language, residentID)
}

// OutboxKey returns ENOTFOUND.
func (s *Store) OutboxKey(ctx context.Context, name string) ([]byte, error) {
	var secret string
	err := s.rdb.QueryRowContext(ctx, `SELECT secret FROM outbox_keys WHERE name = $1`, name).Scan(&secret)
	if err != nil {
		return nil, s.translate("outbox key", notFoundIf(err, "Key"))
	}
	return []byte(secret), nil
}
