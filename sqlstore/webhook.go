package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"time"

	"github.com/doorman-dev/doorman"
)

var _ doorman.WebhookStore = (*Store)(nil)

const webhookColumns = `id, carrier_id, building_id, url, description, event_types, enabled, disabled_reason,
	secret, previous_secret, previous_until, created_at, updated_at`

func scanWebhook(sc scanner) (*doorman.WebhookEndpoint, error) {
	var e doorman.WebhookEndpoint
	var carrier, building sql.NullString
	var types string
	var until sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&e.ID, &carrier, &building, &e.URL, &e.Description, &types, &e.Enabled, &e.DisabledReason,
		&e.Secret, &e.PreviousSecret, &until, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, internal("scan webhook", "event types: %v", err)
	}
	e.CarrierID, e.BuildingID = carrier.String, building.String
	e.PreviousUntil, e.CreatedAt, e.UpdatedAt = timePtr(until), fromMicros(created), fromMicros(updated)
	return &e, nil
}

func validWebhook(e *doorman.WebhookEndpoint) error {
	switch {
	case (e.CarrierID == "") == (e.BuildingID == ""):
		return doorman.Errorf(doorman.EINVALID, "An endpoint belongs to a carrier or to a building.")
	case e.URL == "" || len(e.URL) > 2000:
		return doorman.Errorf(doorman.EINVALID, "An endpoint needs a URL of at most 2000 characters.")
	case len(e.Description) > 500:
		return doorman.Errorf(doorman.EINVALID, "An endpoint's description is at most 500 characters.")
	case len(e.Secret) < len(doorman.WebhookSecretPrefix)+16:
		return doorman.Errorf(doorman.EINVALID, "An endpoint needs a secret.")
	}
	return nil
}

func encodeTypes(types []string) string {
	if types == nil {
		types = []string{}
	}
	b, _ := json.Marshal(types)
	return string(b)
}

// webhookKey is the batch key of writes to an endpoint: its audit chain.
func webhookKey(e *doorman.WebhookEndpoint) string {
	return chainOf(e.BuildingID)
}

// webhookEntry starts the audit entry of a change to the endpoint.
func (s *Store) webhookEntry(ctx context.Context, action string, e *doorman.WebhookEndpoint) *doorman.AuditEntry {
	a := s.entry(ctx, action, e.BuildingID)
	a.CarrierID = e.CarrierID
	return a
}

// CreateWebhookEndpoint returns EINVALID or ENOTFOUND.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e *doorman.WebhookEndpoint) error {
	if err := validWebhook(e); err != nil {
		return err
	}
	id, now := s.ids.Next(doorman.PrefixWebhook), s.clock()
	audit := s.webhookEntry(ctx, doorman.ActionWebhookCreated, e)
	audit.Detail = id + " " + e.URL
	err := s.write(ctx, "create webhook endpoint", webhookKey(e), func(tx *wtx) error {
		if e.CarrierID != "" {
			if err := s.exists(tx, `SELECT 1 FROM carriers WHERE id = $1`, e.CarrierID); err != nil {
				return notFoundIf(err, "Carrier")
			}
		} else if err := s.exists(tx, `SELECT 1 FROM buildings WHERE id = $1`, e.BuildingID); err != nil {
			return notFoundIf(err, "Building")
		}
		_, err := tx.Exec(`INSERT INTO webhook_endpoints (id, carrier_id, building_id, url, description, event_types,
			enabled, secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
			id, nullString(e.CarrierID), nullString(e.BuildingID), e.URL, e.Description, encodeTypes(e.EventTypes),
			e.Enabled, e.Secret, micros(now))
		if err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
	if err != nil {
		return err
	}
	e.ID, e.CreatedAt, e.UpdatedAt = id, now, now
	e.PreviousSecret, e.PreviousUntil, e.DisabledReason = "", nil, ""
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	return nil
}

// WebhookEndpoint returns ENOTFOUND.
func (s *Store) WebhookEndpoint(ctx context.Context, id string) (*doorman.WebhookEndpoint, error) {
	e, err := scanWebhook(s.rdb.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE id = $1`, id))
	if err != nil {
		return nil, s.translate("webhook endpoint", notFoundIf(err, "Webhook endpoint"))
	}
	return e, nil
}

// ListWebhookEndpoints lists a carrier's or a building's endpoints, at
// most MaxPageLimit.
func (s *Store) ListWebhookEndpoints(ctx context.Context, f doorman.WebhookFilter) ([]*doorman.WebhookEndpoint, error) {
	var a args
	var conds []string
	if f.CarrierID != "" {
		conds = append(conds, `carrier_id = `+a.add(f.CarrierID))
	}
	if f.BuildingID != "" {
		conds = append(conds, `building_id = `+a.add(f.BuildingID))
	}
	list, err := collect(ctx, s.rdb, `SELECT `+webhookColumns+` FROM webhook_endpoints`+where(conds)+
		` ORDER BY id LIMIT `+a.add(doorman.MaxPageLimit), a, scanWebhook)
	if err != nil {
		return nil, s.translate("webhook endpoints", err)
	}
	return list, nil
}

// updateWebhook runs fn on the endpoint read inside the transaction and
// writes back what it changed.
func (s *Store) updateWebhook(ctx context.Context, op, action, id string, fn func(e *doorman.WebhookEndpoint) error) (*doorman.WebhookEndpoint, error) {
	cur, err := s.WebhookEndpoint(ctx, id) // for the batch key
	if err != nil {
		return nil, err
	}
	audit := s.webhookEntry(ctx, action, cur)
	var out *doorman.WebhookEndpoint
	now := s.clock()
	err = s.write(ctx, op, webhookKey(cur), func(tx *wtx) error {
		e, err := scanWebhook(tx.QueryRow(`SELECT `+webhookColumns+` FROM webhook_endpoints WHERE id = $1`, id))
		if err != nil {
			return notFoundIf(err, "Webhook endpoint")
		}
		if err := fn(e); err != nil {
			return err
		}
		if err := validWebhook(e); err != nil {
			return err
		}
		e.UpdatedAt = now
		_, err = tx.Exec(`UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, enabled = $4,
			disabled_reason = $5, secret = $6, previous_secret = $7, previous_until = $8, updated_at = $9 WHERE id = $10`,
			e.URL, e.Description, encodeTypes(e.EventTypes), e.Enabled, e.DisabledReason, e.Secret,
			e.PreviousSecret, nullMicros(e.PreviousUntil), micros(now), id)
		if err != nil {
			return err
		}
		out = e
		audit.Detail = e.ID + " " + e.URL
		return s.appendAudit(tx, audit)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateWebhookEndpoint returns ENOTFOUND or EINVALID.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, id string, upd doorman.WebhookEndpointUpdate) (*doorman.WebhookEndpoint, error) {
	return s.updateWebhook(ctx, "update webhook endpoint", doorman.ActionWebhookUpdated, id, func(e *doorman.WebhookEndpoint) error {
		if upd.URL != nil {
			e.URL = *upd.URL
		}
		if upd.Description != nil {
			e.Description = *upd.Description
		}
		if upd.EventTypes != nil {
			e.EventTypes = *upd.EventTypes
		}
		if upd.Enabled != nil {
			e.Enabled = *upd.Enabled
			if e.Enabled {
				e.DisabledReason = ""
			}
		}
		if upd.DisabledReason != nil {
			e.DisabledReason = *upd.DisabledReason
		}
		return nil
	})
}

// RotateWebhookSecret returns ENOTFOUND.
func (s *Store) RotateWebhookSecret(ctx context.Context, id, secret string, previousUntil time.Time) (*doorman.WebhookEndpoint, error) {
	until := exact(previousUntil)
	return s.updateWebhook(ctx, "rotate webhook secret", doorman.ActionWebhookSecretRotated, id, func(e *doorman.WebhookEndpoint) error {
		e.PreviousSecret, e.PreviousUntil, e.Secret = e.Secret, &until, secret
		return nil
	})
}

// DeleteWebhookEndpoint returns ENOTFOUND.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	cur, err := s.WebhookEndpoint(ctx, id)
	if err != nil {
		return err
	}
	audit := s.webhookEntry(ctx, doorman.ActionWebhookDeleted, cur)
	audit.Detail = cur.ID + " " + cur.URL
	return s.write(ctx, "delete webhook endpoint", webhookKey(cur), func(tx *wtx) error {
		if _, err := tx.Exec(`DELETE FROM webhook_deliveries WHERE endpoint_id = $1`, id); err != nil {
			return err
		}
		res, err := tx.Exec(`DELETE FROM webhook_endpoints WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound("Webhook endpoint")
		}
		return s.appendAudit(tx, audit)
	})
}

// RecordWebhookDelivery returns ENOTFOUND.
func (s *Store) RecordWebhookDelivery(ctx context.Context, d *doorman.WebhookDelivery) error {
	id, at := s.ids.Next(doorman.PrefixWebhookDelivery), exact(d.At)
	if d.At.IsZero() {
		at = s.clock()
	}
	if len(d.Error) > 500 {
		d.Error = d.Error[:500]
	}
	err := s.write(ctx, "record webhook delivery", d.EndpointID, func(tx *wtx) error {
		if err := s.exists(tx, `SELECT 1 FROM webhook_endpoints WHERE id = $1`, d.EndpointID); err != nil {
			return notFoundIf(err, "Webhook endpoint")
		}
		_, err := tx.Exec(`INSERT INTO webhook_deliveries (id, endpoint_id, message_id, event_type, at, status_code, ok, error, duration_ms)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			id, d.EndpointID, d.MessageID, d.EventType, micros(at), d.StatusCode, d.OK, d.Error, d.DurationMS)
		return err
	})
	if err != nil {
		return err
	}
	d.ID, d.At = id, at
	return nil
}

// WebhookDeliveries lists the newest attempts first.
func (s *Store) WebhookDeliveries(ctx context.Context, endpointID string, limit int) ([]*doorman.WebhookDelivery, error) {
	list, err := collect(ctx, s.rdb, `SELECT id, endpoint_id, message_id, event_type, at, status_code, ok, error, duration_ms
		FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2`,
		[]any{endpointID, clampLimit(limit)}, func(sc scanner) (*doorman.WebhookDelivery, error) {
			var d doorman.WebhookDelivery
			var at int64
			if err := sc.Scan(&d.ID, &d.EndpointID, &d.MessageID, &d.EventType, &at, &d.StatusCode, &d.OK, &d.Error, &d.DurationMS); err != nil {
				return nil, err
			}
			d.At = fromMicros(at)
			return &d, nil
		})
	if err != nil {
		return nil, s.translate("webhook deliveries", err)
	}
	return list, nil
}
