-- A building's alert preferences and retention period (a row only once
-- its managers change them: doorman.DefaultAlertSettings until then),
-- whether its audit chain is marked broken (one audit.chain_broken entry
-- per break) and when the retention job last ran for it (once a day,
-- whichever node runs it); and the last report of a door the alert sweep
-- marked offline (one door.offline entry per outage). Keep in step with
-- sqlite/migration/017_alerts_retention.sql.
CREATE TABLE building_alert_settings (
	building_id TEXT PRIMARY KEY REFERENCES buildings (id),
	disabled TEXT NOT NULL DEFAULT '',
	offline_minutes BIGINT NOT NULL DEFAULT 10 CHECK (offline_minutes > 0),
	retention_days BIGINT NOT NULL DEFAULT 90 CHECK (retention_days > 0),
	chain_broken_at BIGINT,
	retention_run_at BIGINT,
	updated_at BIGINT NOT NULL
);
ALTER TABLE doors ADD COLUMN offline_since BIGINT;
CREATE INDEX parcels_delivered_note ON parcels (building_id, delivered_at) WHERE delivery_note IS NOT NULL;
