-- The notification outbox (see doorman.OutboxStore). Keep in step with
-- sqlite/migration/014_outbox.sql.
--
-- outbox holds every email and webhook call to deliver: produced from an
-- audit entry (source = the entry's ID; unique with channel, target and
-- kind, so producing an entry twice queues nothing twice) or written
-- directly (source = ''). A worker claims due queued rows by setting
-- lease_until; status goes queued → sent, or dead after its tries.
-- Times are Unix microseconds.
--
-- outbox_cursors keep, per audit chain, the seq of the last entry whose
-- messages are queued. Chains that exist now start at their end: the
-- history before this migration causes no messages.
--
-- mail_outbox (011) moves here: its mail becomes direct messages of kind
-- resident.sign_in_link; the bodies of mail already sent are dropped.
--
-- residents.language is the language of the mail a resident is sent.
CREATE TABLE outbox (
	id TEXT COLLATE "C" PRIMARY KEY,
	channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
	building_id TEXT COLLATE "C" NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',
	target TEXT NOT NULL,
	resident_id TEXT COLLATE "C" REFERENCES residents (id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	text_body TEXT NOT NULL DEFAULT '',
	html_body TEXT NOT NULL DEFAULT '',
	payload BYTEA,
	status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'dead')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL,
	lease_until BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	sent_at BIGINT
);
CREATE UNIQUE INDEX outbox_source ON outbox (source, channel, target, kind) WHERE source <> '';
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_building ON outbox (building_id, id);
CREATE INDEX outbox_resident ON outbox (resident_id);

CREATE TABLE outbox_cursors (
	chain TEXT COLLATE "C" PRIMARY KEY,
	seq BIGINT NOT NULL
);
INSERT INTO outbox_cursors (chain, seq) SELECT chain, seq FROM audit_heads;

INSERT INTO outbox (id, channel, building_id, source, target, resident_id, kind, subject, text_body,
		status, attempts, next_attempt_at, last_error, created_at, sent_at)
	SELECT 'msg' || substr(id, 4), 'email', building_id, '', to_addr, resident_id, 'resident.sign_in_link', subject,
		CASE status WHEN 'queued' THEN body ELSE '' END,
		CASE status WHEN 'failed' THEN 'dead' ELSE status END, attempts, created_at, last_error, created_at, sent_at
	FROM mail_outbox;
DROP TABLE mail_outbox;

ALTER TABLE residents ADD COLUMN language TEXT NOT NULL DEFAULT 'en' CHECK (length(language) BETWEEN 2 AND 35);

-- outbox_keys hold secrets made here, once, that every node shares: the
-- key of the signed one-click unsubscribe links.
CREATE TABLE outbox_keys (
	name TEXT COLLATE "C" PRIMARY KEY,
	secret TEXT NOT NULL CHECK (length(secret) >= 64)
);
INSERT INTO outbox_keys (name, secret) VALUES ('unsubscribe', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
