-- Webhook endpoints (doorman.WebhookStore): each belongs to a carrier or
-- to a building, never both. secret signs every call; previous_secret,
-- until previous_until (Unix microseconds), signs beside it after a
-- rotation. event_types is a JSON array. webhook_deliveries records each
-- attempt to deliver a message; they go with their endpoint. Keep in step
-- with postgres/migration/015_webhooks.sql.
CREATE TABLE webhook_endpoints (
	id TEXT PRIMARY KEY,
	carrier_id TEXT REFERENCES carriers (id),
	building_id TEXT REFERENCES buildings (id),
	url TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	event_types TEXT NOT NULL,
	enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	disabled_reason TEXT NOT NULL DEFAULT '',
	secret TEXT NOT NULL,
	previous_secret TEXT NOT NULL DEFAULT '',
	previous_until INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	CHECK ((carrier_id IS NULL) <> (building_id IS NULL))
) STRICT;
CREATE INDEX webhook_endpoints_carrier ON webhook_endpoints (carrier_id) WHERE carrier_id IS NOT NULL;
CREATE INDEX webhook_endpoints_building ON webhook_endpoints (building_id) WHERE building_id IS NOT NULL;

CREATE TABLE webhook_deliveries (
	id TEXT PRIMARY KEY,
	endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	message_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	at INTEGER NOT NULL,
	status_code INTEGER NOT NULL,
	ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
	error TEXT NOT NULL DEFAULT '',
	duration_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
