-- Webhook endpoints (doorman.WebhookStore): each belongs to a carrier or
-- to a building, never both. secret signs every call; previous_secret,
-- until previous_until (Unix microseconds), signs beside it after a
-- rotation. event_types is a JSON array. webhook_deliveries records each
-- attempt to deliver a message; they go with their endpoint. Keep in step
-- with sqlite/migration/015_webhooks.sql.
CREATE TABLE webhook_endpoints (
	id TEXT COLLATE "C" PRIMARY KEY,
	carrier_id TEXT COLLATE "C" REFERENCES carriers (id),
	building_id TEXT COLLATE "C" REFERENCES buildings (id),
	url TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	event_types TEXT NOT NULL,
	enabled BOOLEAN NOT NULL DEFAULT TRUE,
	disabled_reason TEXT NOT NULL DEFAULT '',
	secret TEXT NOT NULL,
	previous_secret TEXT NOT NULL DEFAULT '',
	previous_until BIGINT,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	CHECK ((carrier_id IS NULL) <> (building_id IS NULL))
);
CREATE INDEX webhook_endpoints_carrier ON webhook_endpoints (carrier_id) WHERE carrier_id IS NOT NULL;
CREATE INDEX webhook_endpoints_building ON webhook_endpoints (building_id) WHERE building_id IS NOT NULL;

CREATE TABLE webhook_deliveries (
	id TEXT COLLATE "C" PRIMARY KEY,
	endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	message_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	at BIGINT NOT NULL,
	status_code INTEGER NOT NULL,
	ok BOOLEAN NOT NULL,
	error TEXT NOT NULL DEFAULT '',
	duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
