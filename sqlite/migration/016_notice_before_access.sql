-- Notice before access (issue 9): a building's notice period (Unix
-- microseconds; new buildings wait DefaultNoticePeriod, 7 days), and per
-- allowed carrier the carrier.allowed audit entry its residents' notices
-- are produced from. Allowances made before this migration keep
-- notice_source '' and stay active as they were. Keep in step with
-- postgres/migration/016_notice_before_access.sql.
ALTER TABLE buildings ADD COLUMN notice_period INTEGER NOT NULL DEFAULT 604800000000 CHECK (notice_period >= 0);
ALTER TABLE building_carriers ADD COLUMN notice_source TEXT NOT NULL DEFAULT '';

-- The outbox core (issue 9 item 1) owns this table; it is created here
-- only if it does not exist yet, with the columns notice-before-access
-- reads (messages by source and kind).
CREATE TABLE IF NOT EXISTS outbox (
	id TEXT PRIMARY KEY,
	channel TEXT NOT NULL,
	building_id TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',
	target TEXT NOT NULL,
	resident_id TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	text TEXT NOT NULL DEFAULT '',
	html TEXT NOT NULL DEFAULT '',
	payload BLOB,
	status TEXT NOT NULL DEFAULT 'queued',
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	sent_at INTEGER,
	UNIQUE (source, channel, target, kind)
) STRICT;
CREATE INDEX IF NOT EXISTS outbox_source_kind ON outbox (source, kind);
