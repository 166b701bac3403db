-- Door devices, their one-time enrollment codes and the events they
-- report. Keep in step with sqlite/migration/002_devices.sql.

-- An enrollment is a one-time code (only its SHA-256 is kept) with which a
-- device claims a door. used_at is set once, by a conditional UPDATE.
CREATE TABLE enrollments (
	id TEXT COLLATE "C" PRIMARY KEY,
	door_id TEXT COLLATE "C" NOT NULL REFERENCES doors (id),
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	code_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT
);
CREATE INDEX enrollments_door ON enrollments (door_id);

-- A device is the identity (a NATS user public key) one enrollment
-- registered for a door. A key is never registered twice, revoked or not,
-- and a door has at most one device that is not revoked.
CREATE TABLE devices (
	id TEXT COLLATE "C" PRIMARY KEY,
	door_id TEXT COLLATE "C" NOT NULL REFERENCES doors (id),
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	enrollment_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES enrollments (id),
	public_key TEXT NOT NULL UNIQUE,
	enrolled_at BIGINT NOT NULL,
	revoked_at BIGINT
);
CREATE INDEX devices_building ON devices (building_id, id);
CREATE UNIQUE INDEX devices_door_active ON devices (door_id) WHERE revoked_at IS NULL;

-- Device events, keyed by the device's own event ID so that recording one
-- is idempotent. at is the device's time, recorded_at the store's; audit_id
-- is the audit entry the event produced. Heartbeats are not kept here.
CREATE TABLE device_events (
	id TEXT COLLATE "C" PRIMARY KEY,
	device_id TEXT COLLATE "C" NOT NULL REFERENCES devices (id),
	door_id TEXT COLLATE "C" NOT NULL REFERENCES doors (id),
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	kind TEXT NOT NULL,
	at BIGINT NOT NULL,
	recorded_at BIGINT NOT NULL,
	grant_id TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	audit_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX device_events_device ON device_events (device_id, id);
CREATE INDEX device_events_door ON device_events (door_id, id);
