-- What a device may say about time, and how often it is chained (see
-- sqlstore/device_event.go). Keep in step with
-- sqlite/migration/006_device_event_limits.sql.

-- claimed_at is the device's time of an event the store did not believe
-- (the entry's at is then its receipt); event_count is how many events of
-- a device over its rate limit an entry stands for. Both are hashed
-- (doorman.AuditEntry.ComputeHash, "doorman-audit-v2") when set.
ALTER TABLE audit_entries ADD COLUMN claimed_at BIGINT;
ALTER TABLE audit_entries ADD COLUMN event_count BIGINT NOT NULL DEFAULT 0;

-- One row per device and event kind: the window its rate limit counts in.
-- opened_at is the receipt time of the event that opened the window,
-- chained how many of its events were chained one by one; counted how
-- many more were kept but not chained yet, received from first_counted_at
-- to last_counted_at. A window with a count is chained in one entry once
-- it has closed (found per building by device_event_windows_counted).
CREATE TABLE device_event_windows (
	device_id TEXT COLLATE "C" NOT NULL REFERENCES devices (id),
	kind TEXT NOT NULL,
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	door_id TEXT COLLATE "C" NOT NULL REFERENCES doors (id),
	opened_at BIGINT NOT NULL,
	chained BIGINT NOT NULL DEFAULT 0,
	counted BIGINT NOT NULL DEFAULT 0,
	first_counted_at BIGINT NOT NULL DEFAULT 0,
	last_counted_at BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (device_id, kind)
);
CREATE INDEX device_event_windows_counted ON device_event_windows (building_id, opened_at) WHERE counted > 0;

-- Events counted into a window are found by device and kind until their
-- count is chained (audit_id is empty until then).
CREATE INDEX device_events_unchained ON device_events (device_id, kind) WHERE audit_id = '';
