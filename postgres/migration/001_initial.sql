-- Doorman schema for PostgreSQL. Times are BIGINT Unix microseconds (UTC),
-- as in SQLite, so both engines compare and order alike; JSON is TEXT; IDs
-- sort bytewise (COLLATE "C"). Keep in step with sqlite/migration: both
-- engines run the same queries.

CREATE TABLE buildings (
	id TEXT COLLATE "C" PRIMARY KEY,
	name TEXT NOT NULL,
	address TEXT NOT NULL,
	timezone TEXT NOT NULL,
	delivery_hours TEXT,
	max_distance_meters DOUBLE PRECISION NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE units (
	id TEXT COLLATE "C" PRIMARY KEY,
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	label TEXT NOT NULL,
	floor TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	UNIQUE (building_id, label)
);
CREATE INDEX units_building ON units (building_id, id);

CREATE TABLE residents (
	id TEXT COLLATE "C" PRIMARY KEY,
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	unit_id TEXT COLLATE "C" NOT NULL REFERENCES units (id),
	name TEXT NOT NULL,
	email TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX residents_building ON residents (building_id, id);
CREATE INDEX residents_unit ON residents (unit_id);

CREATE TABLE doors (
	id TEXT COLLATE "C" PRIMARY KEY,
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	name TEXT NOT NULL,
	latitude DOUBLE PRECISION,
	longitude DOUBLE PRECISION,
	pulse_millis INTEGER NOT NULL,
	locked_down BOOLEAN NOT NULL DEFAULT FALSE,
	last_seen_at BIGINT,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX doors_building ON doors (building_id, id);

CREATE TABLE carriers (
	id TEXT COLLATE "C" PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);

CREATE TABLE building_carriers (
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	carrier_id TEXT COLLATE "C" NOT NULL REFERENCES carriers (id),
	created_at BIGINT NOT NULL,
	PRIMARY KEY (building_id, carrier_id)
);
CREATE INDEX building_carriers_carrier ON building_carriers (carrier_id, building_id);

CREATE TABLE couriers (
	id TEXT COLLATE "C" PRIMARY KEY,
	carrier_id TEXT COLLATE "C" NOT NULL REFERENCES carriers (id),
	external_id TEXT COLLATE "C" NOT NULL,
	name TEXT NOT NULL,
	status TEXT NOT NULL,
	background_check_until BIGINT,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	UNIQUE (carrier_id, external_id)
);
CREATE INDEX couriers_carrier ON couriers (carrier_id, id);

CREATE TABLE parcels (
	id TEXT COLLATE "C" PRIMARY KEY,
	carrier_id TEXT COLLATE "C" NOT NULL REFERENCES carriers (id),
	tracking_number TEXT NOT NULL,
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	unit_id TEXT COLLATE "C" NOT NULL REFERENCES units (id),
	courier_id TEXT COLLATE "C" REFERENCES couriers (id),
	status TEXT NOT NULL,
	delivered_at BIGINT,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	UNIQUE (carrier_id, tracking_number)
);
CREATE INDEX parcels_tracking ON parcels (tracking_number);
CREATE INDEX parcels_carrier ON parcels (carrier_id, id);
CREATE INDEX parcels_building ON parcels (building_id, id);
CREATE INDEX parcels_courier ON parcels (courier_id, id);
CREATE INDEX parcels_unit ON parcels (unit_id);

CREATE TABLE grants (
	id TEXT COLLATE "C" PRIMARY KEY,
	door_id TEXT COLLATE "C" NOT NULL REFERENCES doors (id),
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	courier_id TEXT COLLATE "C" NOT NULL REFERENCES couriers (id),
	carrier_id TEXT COLLATE "C" NOT NULL REFERENCES carriers (id),
	issued_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT,
	revoked_at BIGINT
);
CREATE INDEX grants_door ON grants (door_id, expires_at);

CREATE TABLE grant_parcels (
	grant_id TEXT COLLATE "C" NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	parcel_id TEXT COLLATE "C" NOT NULL REFERENCES parcels (id),
	PRIMARY KEY (grant_id, position),
	UNIQUE (grant_id, parcel_id)
);
CREATE INDEX grant_parcels_parcel ON grant_parcels (parcel_id);

CREATE TABLE audit_heads (
	chain TEXT COLLATE "C" PRIMARY KEY,
	seq BIGINT NOT NULL,
	hash TEXT NOT NULL
);

CREATE TABLE audit_entries (
	id TEXT COLLATE "C" PRIMARY KEY,
	chain TEXT COLLATE "C" NOT NULL,
	seq BIGINT NOT NULL,
	at BIGINT NOT NULL,
	action TEXT NOT NULL,
	actor TEXT NOT NULL,
	building_id TEXT COLLATE "C" NOT NULL DEFAULT '',
	door_id TEXT COLLATE "C" NOT NULL DEFAULT '',
	carrier_id TEXT COLLATE "C" NOT NULL DEFAULT '',
	courier_id TEXT COLLATE "C" NOT NULL DEFAULT '',
	grant_id TEXT COLLATE "C" NOT NULL DEFAULT '',
	parcel_ids TEXT NOT NULL DEFAULT '[]',
	reason TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL,
	UNIQUE (chain, seq)
);
CREATE INDEX audit_building ON audit_entries (building_id, id);
CREATE INDEX audit_carrier ON audit_entries (carrier_id, id);
-- CountAccessRequests counts a courier's and a door's recent decisions
-- from these indexes alone (they cover the action too).
CREATE INDEX audit_courier_at ON audit_entries (courier_id, at, action);
CREATE INDEX audit_door_at ON audit_entries (door_id, at, action);

CREATE TABLE credentials (
	id TEXT COLLATE "C" PRIMARY KEY,
	role TEXT NOT NULL,
	subject_id TEXT COLLATE "C" NOT NULL DEFAULT '',
	carrier_id TEXT COLLATE "C" NOT NULL DEFAULT '',
	name TEXT NOT NULL DEFAULT '',
	prefix TEXT NOT NULL DEFAULT '',
	token_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT,
	revoked_at BIGINT
);
CREATE INDEX credentials_subject ON credentials (role, subject_id, id);

CREATE TABLE managers (
	id TEXT COLLATE "C" PRIMARY KEY,
	email TEXT NOT NULL,
	email_key TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE manager_buildings (
	manager_id TEXT COLLATE "C" NOT NULL REFERENCES managers (id),
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	created_at BIGINT NOT NULL,
	PRIMARY KEY (manager_id, building_id)
);

CREATE TABLE invites (
	id TEXT COLLATE "C" PRIMARY KEY,
	building_id TEXT COLLATE "C" NOT NULL REFERENCES buildings (id),
	email TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT
);

CREATE TABLE idempotency_keys (
	scope TEXT NOT NULL,
	idem_key TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status INTEGER NOT NULL DEFAULT 0,
	body BYTEA,
	done BOOLEAN NOT NULL DEFAULT FALSE,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (scope, idem_key)
);
