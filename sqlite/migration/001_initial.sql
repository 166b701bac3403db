-- Doorman schema for SQLite. Times are INTEGER Unix microseconds (UTC);
-- booleans are INTEGER 0/1; JSON is TEXT. Keep in step with
-- postgres/migration: both engines run the same queries.

CREATE TABLE buildings (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	address TEXT NOT NULL,
	timezone TEXT NOT NULL,
	delivery_hours TEXT,
	max_distance_meters REAL NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE units (
	id TEXT PRIMARY KEY,
	building_id TEXT NOT NULL REFERENCES buildings (id),
	label TEXT NOT NULL,
	floor TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	UNIQUE (building_id, label)
) STRICT;
CREATE INDEX units_building ON units (building_id, id);

CREATE TABLE residents (
	id TEXT PRIMARY KEY,
	building_id TEXT NOT NULL REFERENCES buildings (id),
	unit_id TEXT NOT NULL REFERENCES units (id),
	name TEXT NOT NULL,
	email TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX residents_building ON residents (building_id, id);
CREATE INDEX residents_unit ON residents (unit_id);

CREATE TABLE doors (
	id TEXT PRIMARY KEY,
	building_id TEXT NOT NULL REFERENCES buildings (id),
	name TEXT NOT NULL,
	latitude REAL,
	longitude REAL,
	pulse_millis INTEGER NOT NULL,
	locked_down INTEGER NOT NULL DEFAULT 0 CHECK (locked_down IN (0, 1)),
	last_seen_at INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX doors_building ON doors (building_id, id);

CREATE TABLE carriers (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE building_carriers (
	building_id TEXT NOT NULL REFERENCES buildings (id),
	carrier_id TEXT NOT NULL REFERENCES carriers (id),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (building_id, carrier_id)
) STRICT;
CREATE INDEX building_carriers_carrier ON building_carriers (carrier_id, building_id);

CREATE TABLE couriers (
	id TEXT PRIMARY KEY,
	carrier_id TEXT NOT NULL REFERENCES carriers (id),
	external_id TEXT NOT NULL,
	name TEXT NOT NULL,
	status TEXT NOT NULL,
	background_check_until INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (carrier_id, external_id)
) STRICT;
CREATE INDEX couriers_carrier ON couriers (carrier_id, id);

CREATE TABLE parcels (
	id TEXT PRIMARY KEY,
	carrier_id TEXT NOT NULL REFERENCES carriers (id),
	tracking_number TEXT NOT NULL,
	building_id TEXT NOT NULL REFERENCES buildings (id),
	unit_id TEXT NOT NULL REFERENCES units (id),
	courier_id TEXT REFERENCES couriers (id),
	status TEXT NOT NULL,
	delivered_at INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (carrier_id, tracking_number)
) STRICT;
CREATE INDEX parcels_tracking ON parcels (tracking_number);
CREATE INDEX parcels_carrier ON parcels (carrier_id, id);
CREATE INDEX parcels_building ON parcels (building_id, id);
CREATE INDEX parcels_courier ON parcels (courier_id, id);
CREATE INDEX parcels_unit ON parcels (unit_id);

CREATE TABLE grants (
	id TEXT PRIMARY KEY,
	door_id TEXT NOT NULL REFERENCES doors (id),
	building_id TEXT NOT NULL REFERENCES buildings (id),
	courier_id TEXT NOT NULL REFERENCES couriers (id),
	carrier_id TEXT NOT NULL REFERENCES carriers (id),
	issued_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at INTEGER,
	revoked_at INTEGER
) STRICT;
CREATE INDEX grants_door ON grants (door_id, expires_at);

CREATE TABLE grant_parcels (
	grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	parcel_id TEXT NOT NULL REFERENCES parcels (id),
	PRIMARY KEY (grant_id, position),
	UNIQUE (grant_id, parcel_id)
) STRICT;
CREATE INDEX grant_parcels_parcel ON grant_parcels (parcel_id);

CREATE TABLE audit_heads (
	chain TEXT PRIMARY KEY,
	seq INTEGER NOT NULL,
	hash TEXT NOT NULL
) STRICT;

CREATE TABLE audit_entries (
	id TEXT PRIMARY KEY,
	chain TEXT NOT NULL,
	seq INTEGER NOT NULL,
	at INTEGER NOT NULL,
	action TEXT NOT NULL,
	actor TEXT NOT NULL,
	building_id TEXT NOT NULL DEFAULT '',
	door_id TEXT NOT NULL DEFAULT '',
	carrier_id TEXT NOT NULL DEFAULT '',
	courier_id TEXT NOT NULL DEFAULT '',
	grant_id TEXT NOT NULL DEFAULT '',
	parcel_ids TEXT NOT NULL DEFAULT '[]',
	reason TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL,
	UNIQUE (chain, seq)
) STRICT;
CREATE INDEX audit_building ON audit_entries (building_id, id);
CREATE INDEX audit_carrier ON audit_entries (carrier_id, id);
-- CountAccessRequests counts a courier's and a door's recent decisions
-- from these indexes alone (they cover the action too).
CREATE INDEX audit_courier_at ON audit_entries (courier_id, at, action);
CREATE INDEX audit_door_at ON audit_entries (door_id, at, action);

CREATE TABLE credentials (
	id TEXT PRIMARY KEY,
	role TEXT NOT NULL,
	subject_id TEXT NOT NULL DEFAULT '',
	carrier_id TEXT NOT NULL DEFAULT '',
	name TEXT NOT NULL DEFAULT '',
	prefix TEXT NOT NULL DEFAULT '',
	token_hash TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	revoked_at INTEGER
) STRICT;
CREATE INDEX credentials_subject ON credentials (role, subject_id, id);

CREATE TABLE managers (
	id TEXT PRIMARY KEY,
	email TEXT NOT NULL,
	email_key TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE manager_buildings (
	manager_id TEXT NOT NULL REFERENCES managers (id),
	building_id TEXT NOT NULL REFERENCES buildings (id),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (manager_id, building_id)
) STRICT;

CREATE TABLE invites (
	id TEXT PRIMARY KEY,
	building_id TEXT NOT NULL REFERENCES buildings (id),
	email TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at INTEGER
) STRICT;

CREATE TABLE idempotency_keys (
	scope TEXT NOT NULL,
	idem_key TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status INTEGER NOT NULL DEFAULT 0,
	body BLOB,
	done INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (scope, idem_key)
) STRICT;
